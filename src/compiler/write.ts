// write: the Bundle → out/<cluster>/, atomically. Everything is written into a temporary
// sibling directory first and renamed into place, so a failed build leaves the old tree
// untouched and a successful one replaces it whole (never merged).
//
// Rebuilds are made cheap on purpose: creating and freeing inodes is the slowest part of a build
// on ext4 (worst on a file system without a journal right after many deletions, i.e. every
// rebuild; perf showed ~45% of a rebuild in inode allocation). So an unchanged file is a hard
// link to the old tree's file, and the old tree's directories, emptied, are kept as
// `.<cluster>.spare` beside the tree and become the next build's staging directory. The spare
// holds empty directories and its marker only and is safe to delete at any time.
//
// mhc replaces, empties or deletes only what it made: every tree it writes carries a marker file,
// `.mhc-tree` (see TREE_MARKER), and the spare keeps it. A `<cluster>` or `.<cluster>.spare` that
// is a symbolic link, not a directory, another user's, or a directory without the marker (and not
// a tree of an earlier mhc, see isLegacyTree) is refused, never emptied; a link is never followed.
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  linkSync,
  openSync,
  readSync,
  lstatSync,
  mkdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  readdirSync,
  realpathSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { bytesOf, type BundleFile } from './bundle.js';

export class WriteError extends Error {}

/** The marker file at the top of every tree mhc writes (and of its spare). */
export const TREE_MARKER = '.mhc-tree';

/** What the marker holds: it names mhc and the cluster, so no file of the user's can pass for it. */
export const treeMarker = (cluster: string): string => `mhc output tree of cluster ${cluster}: \`mhc build\` replaces this directory whole on every build; keep nothing of your own in it\n`;

const errText = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}${err.syscall ? ` (${err.syscall})` : ''}` : String(err.message ?? e);
};

const lstatOrUndefined = (p: string): Stats | undefined => {
  try {
    return lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
};

const kindOf = (st: Stats): string =>
  st.isSymbolicLink() ? 'a symbolic link' : st.isFile() ? 'a file' : st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a device';

/**
 * Creates a directory and its missing parents, each with `mode`, walking up to the first one that
 * exists (not mkdir's recursive mode, which spins forever in Node 20 on some file systems, e.g.
 * under /proc). A link to a directory counts as a directory. Throws WriteError naming the path.
 */
export function makeDirs(dir: string, mode = 0o755): void {
  const missing: string[] = [];
  for (let d = resolve(dir); ;) {
    let st: Stats | undefined;
    try {
      st = statSync(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new WriteError(`cannot create ${dir}: ${d}: ${errText(e)}`); // ENOTDIR: a parent is not a directory (found further up)
    }
    if (st) {
      if (!st.isDirectory()) throw new WriteError(`cannot create ${dir}: ${d} is ${kindOf(st)}, not a directory`);
      break;
    }
    missing.push(d);
    const parent = dirname(d);
    if (parent === d) throw new WriteError(`cannot create ${dir}: ${d} does not exist`);
    d = parent;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, mode);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(d).isDirectory()) continue; // made meanwhile
      throw new WriteError(`cannot create directory ${d}: ${errText(e)}`);
    }
  }
}

/** Whether dir holds the marker of this cluster's tree (a regular file with exactly that text). */
function hasMarker(dir: string, cluster: string): boolean {
  const want = Buffer.from(treeMarker(cluster), 'utf8');
  const st = lstatOrUndefined(join(dir, TREE_MARKER));
  return !!st && st.isFile() && st.size === want.length && holds(join(dir, TREE_MARKER), want);
}

/**
 * A tree written by mhc before trees carried the marker: SHA256SUMS and cluster.json as regular
 * files, and nothing else at the top but directories that each hold a regular manifest.json.
 */
function isLegacyTree(dir: string): boolean {
  const names = readdirSync(dir);
  if (!names.includes('SHA256SUMS') || !names.includes('cluster.json')) return false;
  return names.every((n) => {
    const st = lstatSync(join(dir, n));
    if (n === 'SHA256SUMS' || n === 'cluster.json') return st.isFile();
    return st.isDirectory() && !!lstatOrUndefined(join(dir, n, 'manifest.json'))?.isFile();
  });
}

/** A spare left by an mhc from before the marker: a directory holding directories only. */
function isLegacySpare(dir: string): boolean {
  return readdirSync(dir, { withFileTypes: true }).every((e) => e.isDirectory() && isLegacySpare(join(dir, e.name)));
}

/**
 * Whether `path` may be replaced as this cluster's tree (or, with `spare`, taken over as its
 * spare): false when absent; true for a directory of ours carrying the marker (or a tree or spare
 * of an earlier mhc); a WriteError for anything else, which mhc then leaves exactly as it is.
 */
function ours(path: string, cluster: string, spare: boolean): boolean {
  let st: Stats | undefined;
  try {
    st = lstatOrUndefined(path);
    if (!st) return false;
    if (st.isDirectory() && st.uid === process.getuid?.() && (hasMarker(path, cluster) || (spare ? isLegacySpare(path) : isLegacyTree(path)))) return true;
  } catch (e) {
    throw new WriteError(`cannot write ${path}: ${errText(e)}`);
  }
  const what = !st.isDirectory() ? kindOf(st) : st.uid !== process.getuid?.() ? "another user's directory" : `a directory without mhc's marker (${TREE_MARKER})`;
  throw new WriteError(
    `refusing to replace ${path}: it is ${what}, not ${spare ? 'the spare of a tree' : 'a tree'} mhc built; nothing was written (move it away, or build with -o into another directory)`,
  );
}

export interface Written {
  readonly dir: string;
  readonly files: number;
  readonly bytes: number;
  /** bundle directories that the previous tree had and this one does not */
  readonly removedBundles: readonly string[];
}

/**
 * A tree written into its temporary sibling, not yet in place: commit() renames it into place
 * (replacing an older tree whole), discard() removes it. Between the two the caller may finish
 * other work (the CLI waits for its tarballs) without risking a half-written tree.
 */
export interface StagedTree {
  commit(): Written;
  discard(): void;
}

export function stageTree(outDir: string, cluster: string, files: readonly BundleFile[]): StagedTree {
  const final = join(outDir, cluster);
  const spare = join(outDir, `.${cluster}.spare`); // see the top of this file
  const fail = (e: unknown): WriteError => {
    const err = e as NodeJS.ErrnoException;
    return new WriteError(`cannot write ${final}: ${err.code ?? ''} ${err.message}`.trim());
  };
  const tmp = join(outDir, `.${cluster}.tmp-${randomBytes(6).toString('hex')}`);
  let bytes = 0;
  makeDirs(outDir);
  // before anything is written: the tree and the spare, when there, are ours
  const reuse = ours(final, cluster, false);
  const spareThere = ours(spare, cluster, true);
  // umask 0 while writing: every file and directory gets exactly the manifest's mode from its
  // creating call, so no chmod per file is needed (the umask is restored before returning).
  const umask = process.umask(0);
  try {
    // every directory once, parents first (a parent sorts before its children)
    const dirs = new Set<string>();
    for (const f of files) for (let d = dirname(f.path); d !== '.' && !dirs.has(d); d = dirname(d)) dirs.add(d);
    const present = spareThere ? adoptSpare(spare, tmp) : undefined;
    if (!present) mkdirSync(tmp, 0o755);
    for (const d of [...(present ?? [])].filter((d) => !dirs.has(d)).reverse()) rmdirSync(join(tmp, d)); // children first
    for (const d of [...dirs].sort()) if (!present?.has(d)) mkdirSync(join(tmp, d), 0o755);
    const marker = Buffer.from(treeMarker(cluster), 'utf8');
    if (!(reuse && linkUnchanged(join(final, TREE_MARKER), join(tmp, TREE_MARKER), marker, 0o644))) writeFileSync(join(tmp, TREE_MARKER), marker, { mode: 0o644, flag: 'wx' });
    for (const f of files) {
      const buf = bytesOf(f);
      bytes += buf.length;
      const dest = join(tmp, f.path);
      if (!(reuse && linkUnchanged(join(final, f.path), dest, buf, f.mode))) writeFileSync(dest, buf, { mode: f.mode, flag: 'wx' });
    }
  } catch (e) {
    try {
      rmSync(tmp, { recursive: true, force: true });
    } catch {
      // reported below; the old tree is untouched either way
    }
    throw fail(e);
  } finally {
    process.umask(umask);
  }
  const discard = () => rmSync(tmp, { recursive: true, force: true });
  return {
    discard,
    commit(): Written {
      try {
        const replacing = ours(final, cluster, false); // still ours: checked again right before the swap
        const previous = replacing
          ? readdirSync(final, { withFileTypes: true })
              .filter((e) => e.isDirectory())
              .map((e) => e.name)
          : [];
        const now = new Set(files.map((f) => f.path.split('/')[0]!));
        if (replacing) {
          const old = `${tmp}.old`;
          renameSync(final, old);
          try {
            renameSync(tmp, final);
          } catch (e) {
            renameSync(old, final); // the old tree back in place, whole
            throw e;
          }
          keepAsSpare(old, spare);
        } else {
          renameSync(tmp, final);
        }
        return { dir: final, files: files.length, bytes, removedBundles: previous.filter((p) => !now.has(p)) };
      } catch (e) {
        if (lstatOrUndefined(tmp)) discard();
        throw e instanceof WriteError ? e : fail(e);
      }
    },
  };
}

/**
 * The old tree, already out of place, becomes the spare: every file name in it but the marker is
 * dropped (an unchanged file lives on as the new tree's hard link, so this frees no inode) and its
 * emptied directories are kept. When anything goes wrong, or a spare is already there, it is removed.
 */
function keepAsSpare(old: string, spare: string): void {
  try {
    emptyDirs(old, false, TREE_MARKER); // checked when the next build takes it over
    renameSync(old, spare);
  } catch {
    rmSync(old, { recursive: true, force: true });
  }
}

/**
 * Takes the spare over as the staging directory `tmp` (a rename, so two builds never share it)
 * and empties it again (it may have been touched since). Returns its directories, or undefined
 * when there was no usable spare (then nothing of it remains).
 */
function adoptSpare(spare: string, tmp: string): Set<string> | undefined {
  try {
    renameSync(spare, tmp);
  } catch {
    return undefined; // no spare (or another build took it)
  }
  try {
    return emptyDirs(tmp, true);
  } catch {
    // not usable: removed, or (when even that fails) handed back as it was
    try {
      rmSync(tmp, { recursive: true, force: true });
    } catch {
      try {
        renameSync(tmp, spare);
      } catch {
        // mkdir of the staging directory will report it
      }
    }
    return undefined;
  }
}

/**
 * Unlinks everything under root that is not a directory (a link is removed, never followed), but
 * `keep` at the top. Every directory is checked to be a real directory (lstat) right before it is
 * read, so a link swapped in is never walked into. With `check`, also makes sure root and every
 * directory in it are directories of ours with mode 0755 (fixing the mode; throwing when another
 * user owns one). Returns the directories, relative to root, sorted (parents before children).
 */
function emptyDirs(root: string, check: boolean, keep?: string): Set<string> {
  const uid = process.getuid?.();
  const dir = (p: string) => {
    const st = lstatSync(p);
    if (!st.isDirectory() || (check && st.uid !== uid)) throw new Error(`${p} is not a directory of ours`);
    if (check && (st.mode & 0o7777) !== 0o755) chmodSync(p, 0o755);
  };
  const dirs: string[] = [];
  const walk = (rel: string): void => {
    const abs = rel ? join(root, rel) : root;
    dir(abs);
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (!e.isDirectory()) {
        if (r !== keep) unlinkSync(join(root, r));
        continue;
      }
      dirs.push(r);
      walk(r);
    }
  };
  walk('');
  return new Set(dirs.sort());
}

/**
 * A rebuild keeps the inode of every file it would write unchanged: when the old tree's file is
 * a regular file of ours with exactly these bytes and this mode, the staged tree gets a hard link
 * to it instead of a new file. The old tree itself is not touched (it is renamed away and removed
 * at commit, which then only drops a name). Creating inodes is the slowest part of a build on
 * ext4, worst right after many deletions (every rebuild), so an unchanged rebuild creates
 * directories only. Anything unexpected (missing, a link, another owner or mode, other bytes, a
 * file system refusing hard links) simply means a fresh file.
 */
function linkUnchanged(old: string, dest: string, content: Buffer, mode: number): boolean {
  try {
    const st = lstatSync(old);
    if (!st.isFile() || (st.mode & 0o7777) !== mode || st.uid !== process.getuid?.() || st.size !== content.length) return false;
    if (!holds(old, content)) return false;
    linkSync(old, dest);
    return true;
  } catch {
    return false;
  }
}

let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * Whether the file holds exactly these bytes: read into one reused buffer, asking for one byte
 * more, so a file that grew since its lstat never passes.
 */
function holds(path: string, content: Uint8Array): boolean {
  if (scratch.length <= content.length) scratch = Buffer.allocUnsafe(content.length + 1);
  // never through a link, never blocking on a FIFO swapped in since the lstat
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const n = readSync(fd, scratch, 0, content.length + 1, 0);
    return n === content.length && scratch.subarray(0, n).equals(content);
  } finally {
    closeSync(fd);
  }
}

/**
 * A file written beside its final place, not yet in place: commit() renames it there (with
 * replace false, it is linked there instead, which fails when a file is there), discard() removes it.
 */
export interface StagedFile {
  readonly path: string;
  commit(replace?: boolean): void;
  discard(): void;
}

/**
 * Writes `data` into a fresh temporary sibling of `path`: a random name created exclusively (never
 * through a link or into a file someone planted there) with `mode` from its creating call, and
 * exactly `mode` whatever the umask. Refuses when `path` is there and not a regular file or link.
 * With keepSame, a file already holding exactly these bytes with this mode is left as it is (a
 * rebuild's tarball): nothing is staged and commit() does nothing.
 */
export function stageFile(path: string, data: Uint8Array | string, mode: number, keepSame = false): StagedFile {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let st: Stats | undefined;
  try {
    st = lstatOrUndefined(path);
  } catch (e) {
    throw new WriteError(`cannot write ${path}: ${errText(e)}`);
  }
  if (st && !st.isFile() && !st.isSymbolicLink()) throw new WriteError(`refusing to replace ${path}: it is ${kindOf(st)}, not a file mhc wrote`);
  if (keepSame && st?.isFile() && (st.mode & 0o7777) === mode && st.size === buf.length) {
    try {
      if (holds(path, buf)) return { path, commit: () => undefined, discard: () => undefined };
    } catch {
      // unreadable: written below
    }
  }
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${randomBytes(8).toString('hex')}`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
    fchmodSync(fd, mode); // the umask may have taken bits away
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
    closeSync(fd);
    fd = undefined;
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    if (fd !== undefined || (e as NodeJS.ErrnoException).code !== 'EEXIST') rmSync(tmp, { force: true });
    throw new WriteError(`cannot write ${path}: ${errText(e)}`);
  }
  return {
    path,
    commit(replace = true) {
      try {
        if (replace) renameSync(tmp, path);
        else linkSync(tmp, path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new WriteError(`${path} exists; pass --force to replace it`);
        throw new WriteError(`cannot write ${path}: ${errText(e)}`);
      } finally {
        rmSync(tmp, { force: true });
      }
    },
    discard: () => rmSync(tmp, { force: true }),
  };
}

/**
 * Writes one file atomically (an exclusive temporary sibling, see stageFile, then a rename) with
 * an exact mode; its directory is created when missing. Without overwrite an existing file is an
 * error, also one made meanwhile (the file is put in place by a hard link, which never replaces).
 */
export function writeFileAtomic(path: string, data: Uint8Array | string, mode: number, overwrite: boolean, keepSame = false): void {
  if (!overwrite && lstatOrUndefined(path)) throw new WriteError(`${path} exists; pass --force to replace it`);
  makeDirs(dirname(path));
  stageFile(path, data, mode, keepSame).commit(overwrite);
}

/**
 * Replaces the content of an existing file atomically (a temporary sibling, see stageFile, then a
 * rename), keeping its mode. A symbolic link is followed: the file it names is replaced, the link
 * stays. The new file belongs to the user running mhc.
 */
export function replaceFile(path: string, data: Uint8Array | string): void {
  let target: string;
  let mode: number;
  try {
    target = realpathSync(path);
    mode = statSync(target).mode & 0o7777;
  } catch (e) {
    throw new WriteError(`cannot write ${path}: ${errText(e)}`);
  }
  stageFile(target, data, mode).commit(true);
}

/** Removes a file mhc wrote earlier (a tarball of a bundle no longer built); anything but a file or link is left alone. */
export function removeFile(path: string): void {
  try {
    const st = lstatOrUndefined(path);
    if (st && (st.isFile() || st.isSymbolicLink())) unlinkSync(path);
  } catch (e) {
    throw new WriteError(`cannot remove ${path}: ${errText(e)}`);
  }
}
