// write: the Bundle → out/<cluster>/, atomically. Everything is written into a temporary
// sibling directory first and renamed into place, so a failed build leaves the old tree
// untouched and a successful one replaces it whole (never merged).
//
// Rebuilds are made cheap on purpose: creating and freeing inodes is the slowest part of a build
// on ext4 (worst on a file system without a journal right after many deletions, i.e. every
// rebuild; perf showed ~45% of a rebuild in inode allocation). So an unchanged file is a hard
// link to the old tree's file, and the old tree's directories, emptied, are kept as
// `.<cluster>.spare` beside the tree and become the next build's staging directory. The spare
// holds empty directories only and is safe to delete at any time.
import { chmodSync, closeSync, constants, linkSync, openSync, readSync, lstatSync, mkdirSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { bytesOf, type BundleFile } from './bundle.js';

export class WriteError extends Error {}

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
  // umask 0 while writing: every file and directory gets exactly the manifest's mode from its
  // creating call, so no chmod per file is needed (the umask is restored before returning).
  const umask = process.umask(0);
  try {
    mkdirSync(outDir, { recursive: true, mode: 0o755 });
    // every directory once, parents first (a parent sorts before its children)
    const dirs = new Set<string>();
    for (const f of files) for (let d = dirname(f.path); d !== '.' && !dirs.has(d); d = dirname(d)) dirs.add(d);
    const present = adoptSpare(spare, tmp);
    if (!present) mkdirSync(tmp, 0o755);
    for (const d of [...(present ?? [])].filter((d) => !dirs.has(d)).reverse()) rmdirSync(join(tmp, d)); // children first
    for (const d of [...dirs].sort()) if (!present?.has(d)) mkdirSync(join(tmp, d), 0o755);
    const reuse = existsSync(final);
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
        const replacing = existsSync(final);
        const previous = replacing ? readdirSync(final, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : [];
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
        if (existsSync(tmp)) discard();
        throw fail(e);
      }
    },
  };
}

/**
 * The old tree, already out of place, becomes the spare: every file name in it is dropped (an
 * unchanged file lives on as the new tree's hard link, so this frees no inode) and its emptied
 * directories are kept. When anything goes wrong, or a spare is already there, it is removed.
 */
function keepAsSpare(old: string, spare: string): void {
  try {
    emptyDirs(old, false); // checked when the next build takes it over
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
 * Unlinks everything under root that is not a directory (a link is removed, never followed).
 * With `check`, also makes sure root and every directory in it are directories of ours with mode
 * 0755 (fixing the mode; throwing when another user owns one). Returns the directories, relative
 * to root, sorted (parents before children).
 */
function emptyDirs(root: string, check: boolean): Set<string> {
  const uid = process.getuid?.();
  const own = (p: string) => {
    const st = lstatSync(p);
    if (!st.isDirectory() || st.uid !== uid) throw new Error(`${p} is not a directory of ours`);
    if ((st.mode & 0o7777) !== 0o755) chmodSync(p, 0o755);
  };
  const dirs: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(rel ? join(root, rel) : root, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (!e.isDirectory()) {
        unlinkSync(join(root, r));
        continue;
      }
      if (check) own(join(root, r));
      dirs.push(r);
      walk(r);
    }
  };
  if (check) own(root);
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
 * Writes one file atomically (temporary sibling + rename) with an exact mode. With keepSame, a
 * file already holding exactly these bytes with this mode is left as it is (a rebuild's tarball).
 */
export function writeFileAtomic(path: string, data: Uint8Array | string, mode: number, overwrite: boolean, keepSame = false): void {
  if (!overwrite && existsSync(path)) throw new WriteError(`${path} exists; pass --force to replace it`);
  if (keepSame) {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    try {
      const st = lstatSync(path);
      if (st.isFile() && (st.mode & 0o7777) === mode && st.size === buf.length && holds(path, buf)) return;
    } catch {
      // absent or unreadable: written below
    }
  }
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, data, { mode });
    chmodSync(tmp, mode);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (e instanceof WriteError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new WriteError(`cannot write ${path}: ${err.code ?? err.message}`);
  }
}
