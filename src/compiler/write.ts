// write: the Bundle → out/<cluster>/, atomically. Everything is written into a temporary
// sibling directory first and renamed into place, so a failed build leaves the old tree
// untouched and a successful one replaces it whole (never merged).
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
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
    for (const f of files) {
      const buf = Buffer.from(f.content, 'utf8');
      bytes += buf.length;
      writeFileSync(join(tmp, f.path), buf, { mode: f.mode, flag: 'wx' });
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
          renameSync(staged, final);
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

/** Writes one file atomically (temporary sibling + rename) with an exact mode. */
export function writeFileAtomic(path: string, data: Uint8Array | string, mode: number, overwrite: boolean): void {
  if (!overwrite && existsSync(path)) throw new WriteError(`${path} exists; pass --force to replace it`);
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
