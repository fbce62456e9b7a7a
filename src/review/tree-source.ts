// The loading layer of `mhc diff`, `mhc audit` and `mhc explain`: the only review code that
// touches the disk or spawns a process (`git show`). A side is one of
//   - a cluster YAML file (compiled and built in memory),
//   - a built tree on disk (out/<cluster>, or out/ holding exactly one cluster),
//   - git:REF:PATH, a YAML file at a git revision (`git show REF:PATH`, run in the current directory).
import { createRequire } from 'node:module';
import { InputReadError, readInput } from '../compiler/load.js';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ReviewError, sideFromYaml } from './build-side.js';
import { sideFromFiles, type RawFile, type Side, type Tarball } from './side.js';

export { ReviewError };

/** Largest file read from a tree: bundles hold config files and scripts, not data. */
const MAX_TREE_FILE = 16 * 1024 * 1024;
const MAX_TREE_FILES = 100_000;

export type SourceSpec = { kind: 'git'; ref: string; path: string; label: string } | { kind: 'tree'; dir: string; label: string } | { kind: 'yaml'; file: string; label: string };

export function parseSpec(arg: string): SourceSpec {
  if (arg.startsWith('git:')) {
    const rest = arg.slice(4);
    const i = rest.indexOf(':');
    if (i <= 0 || i === rest.length - 1) throw new ReviewError(`${arg}: write git:REF:PATH, e.g. git:origin/main:my_multihead_cluster.yaml`);
    return {
      kind: 'git',
      ref: rest.slice(0, i),
      path: rest.slice(i + 1),
      label: arg,
    };
  }
  let st;
  try {
    st = statSync(arg);
  } catch (e) {
    throw new ReviewError(`cannot read ${arg}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as NodeJS.ErrnoException).code}`);
  }
  return st.isDirectory() ? { kind: 'tree', dir: arg, label: arg } : { kind: 'yaml', file: arg, label: arg };
}

/** The bytes of a YAML side (a file, or a file at a git revision). */
export function readYamlBytes(spec: SourceSpec): Uint8Array {
  if (spec.kind === 'yaml') {
    try {
      return readInput(spec.file); // regular files only, never blocking, capped (as mhc build reads)
    } catch (e) {
      throw new ReviewError(e instanceof InputReadError ? e.message : `cannot read ${spec.file}: ${String(e)}`);
    }
  }
  if (spec.kind === 'git') return gitShow(spec.ref, spec.path);
  throw new ReviewError(`${spec.label} is a directory, not a YAML file`);
}

/** `git show REF:PATH`; PATH is relative to the repository root, or to the current directory when it starts with ./ */
export function gitShow(ref: string, path: string, cwd = process.cwd()): Uint8Array {
  if (ref.startsWith('-')) throw new ReviewError(`git:${ref}:${path}: a revision cannot start with "-"`);
  try {
    // child_process (and net, which it loads) only when a git: side is read: `mhc build` never needs it
    const { execFileSync } = createRequire(join(cwd, 'mhc'))('node:child_process') as typeof import('node:child_process');
    return execFileSync('git', ['show', `${ref}:${path}`], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60_000,
    });
  } catch (e) {
    const err = e as { stderr?: Buffer; code?: string; message?: string };
    if (err.code === 'ENOENT') throw new ReviewError('git:REF:PATH needs git, which is not installed (or not on PATH)');
    const why = err.stderr?.toString('utf8').trim().split('\n')[0] || err.message || 'failed';
    throw new ReviewError(`git show ${ref}:${path}: ${why}`);
  }
}

const isTreeRoot = (dir: string): boolean => existsSync(join(dir, 'cluster.json')) || existsSync(join(dir, 'SHA256SUMS'));

/** out/<cluster> as given, or the one cluster inside out/. */
export function findTreeRoot(dir: string): string {
  if (isTreeRoot(dir)) return dir;
  let subs: string[] = [];
  try {
    subs = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && isTreeRoot(join(dir, e.name)))
      .map((e) => e.name);
  } catch (e) {
    throw new ReviewError(`cannot read ${dir}: ${(e as NodeJS.ErrnoException).code}`);
  }
  if (subs.length === 1) return join(dir, subs[0]!);
  if (subs.length > 1) throw new ReviewError(`${dir} holds ${subs.length} clusters (${subs.sort().join(', ')}): name one, e.g. ${join(dir, subs[0]!)}`);
  throw new ReviewError(`${dir} is not a tree built by mhc (no cluster.json or SHA256SUMS in it or in one directory below it)`);
}

export interface TreeRead {
  readonly root: string;
  readonly files: RawFile[];
  /** paths (relative to root) that are symbolic links or other non-regular files: never followed */
  readonly irregular: string[];
}

/** Every regular file under a built tree, with its mode on disk. Symbolic links are not followed. */
export function readTree(dir: string): TreeRead {
  const root = findTreeRoot(dir);
  const files: RawFile[] = [];
  const irregular: string[] = [];
  const walk = (rel: string) => {
    const abs = rel ? join(root, rel) : root;
    let names: string[];
    try {
      names = readdirSync(abs).sort();
    } catch (e) {
      throw new ReviewError(`cannot read ${abs}: ${(e as NodeJS.ErrnoException).code}`);
    }
    for (const n of names) {
      if (!rel && n.startsWith('.')) continue; // a build's temporary directory
      const r = rel ? `${rel}/${n}` : n;
      const st = lstatSync(join(root, r));
      if (st.isDirectory()) walk(r);
      else if (st.isFile()) {
        if (files.length >= MAX_TREE_FILES) throw new ReviewError(`${root} holds more than ${MAX_TREE_FILES} files: not a tree built by mhc`);
        if (st.size > MAX_TREE_FILE) throw new ReviewError(`${join(root, r)} is ${st.size} bytes: not a file mhc writes`);
        files.push({
          path: r,
          content: readFileSync(join(root, r), 'utf8'),
          mode: st.mode & 0o7777,
        });
      } else {
        irregular.push(st.isSymbolicLink() ? `${r} -> ${readlinkSync(join(root, r))}` : r);
      }
    }
  };
  walk('');
  return { root, files, irregular };
}

/** Largest tarball read (compressed). */
const MAX_TARBALL = 256 * 1024 * 1024;

/**
 * The tarballs `mhc build --tar` writes beside a tree: <parent>/<cluster>-*.tar.gz, where the tree
 * is <parent>/<cluster>. Regular files only (a link is not followed); bytes and mode on disk.
 */
export function readTarballs(root: string): Tarball[] {
  const dir = dirname(root);
  const prefix = `${basename(root)}-`;
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  const out: Tarball[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tar.gz')) continue;
    const p = join(dir, name);
    const st = lstatSync(p);
    if (!st.isFile()) continue;
    let bytes: Tarball['bytes'];
    if (st.size > MAX_TARBALL) bytes = { error: `${st.size} bytes, more than a bundle's tarball` };
    else {
      try {
        bytes = readFileSync(p);
      } catch (e) {
        bytes = { error: `cannot read it: ${(e as NodeJS.ErrnoException).code}` };
      }
    }
    out.push({ name, mode: st.mode & 0o7777, bytes });
  }
  return out;
}

/** Loads one side of a diff. */
export function loadSide(arg: string, mhcVersion: string): Side {
  const spec = parseSpec(arg);
  if (spec.kind === 'tree') {
    const t = readTree(spec.dir);
    return sideFromFiles(spec.label, 'tree', t.files);
  }
  return sideFromYaml(spec.label, readYamlBytes(spec), mhcVersion);
}
