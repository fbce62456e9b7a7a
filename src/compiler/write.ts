// write: the Bundle → out/<cluster>/, atomically. Everything is written into a temporary
// sibling directory first and renamed into place, so a failed build leaves the old tree
// untouched and a successful one replaces it whole (never merged).
import { chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BundleFile } from './bundle.js';

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
  const fail = (e: unknown): WriteError => {
    const err = e as NodeJS.ErrnoException;
    return new WriteError(`cannot write ${final}: ${err.code ?? ''} ${err.message}`.trim());
  };
  let tmp: string | undefined;
  let bytes = 0;
  // umask 0 while writing: every file and directory gets exactly the manifest's mode from its
  // creating call, so no chmod per file is needed (the umask is restored before returning).
  const umask = process.umask(0);
  try {
    mkdirSync(outDir, { recursive: true, mode: 0o755 });
    tmp = mkdtempSync(join(outDir, `.${cluster}.tmp-`));
    chmodSync(tmp, 0o755);
    // every directory once, parents first (a parent sorts before its children)
    const dirs = new Set<string>();
    for (const f of files) for (let d = dirname(f.path); d !== '.' && !dirs.has(d); d = dirname(d)) dirs.add(d);
    for (const d of [...dirs].sort()) mkdirSync(join(tmp, d), 0o755);
    const reuse = existsSync(final);
    for (const f of files) {
      const buf = Buffer.from(f.content, 'utf8');
      bytes += buf.length;
      const dest = join(tmp, f.path);
      if (!(reuse && linkUnchanged(join(final, f.path), dest, buf, f.mode))) writeFileSync(dest, buf, { mode: f.mode, flag: 'wx' });
    }
  } catch (e) {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    throw fail(e);
  } finally {
    process.umask(umask);
  }
  const staged = tmp;
  const discard = () => rmSync(staged, { recursive: true, force: true });
  return {
    discard,
    commit(): Written {
      try {
        const replacing = existsSync(final);
        const previous = replacing ? readdirSync(final, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : [];
        const now = new Set(files.map((f) => f.path.split('/')[0]!));
        if (replacing) {
          const old = `${staged}.old`;
          renameSync(final, old);
          try {
            renameSync(staged, final);
          } catch (e) {
            renameSync(old, final); // the old tree back in place, whole
            throw e;
          }
          rmSync(old, { recursive: true, force: true });
        } else {
          renameSync(staged, final);
        }
        return { dir: final, files: files.length, bytes, removedBundles: previous.filter((p) => !now.has(p)) };
      } catch (e) {
        if (existsSync(staged)) discard();
        throw fail(e);
      }
    },
  };
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
    if (!readFileSync(old).equals(content)) return false;
    linkSync(old, dest);
    return true;
  } catch {
    return false;
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
      if (st.isFile() && (st.mode & 0o7777) === mode && st.size === buf.length && readFileSync(path).equals(buf)) return;
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
