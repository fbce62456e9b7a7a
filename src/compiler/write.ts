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

export function writeTree(outDir: string, cluster: string, files: readonly BundleFile[]): Written {
  const final = join(outDir, cluster);
  let tmp: string | undefined;
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
    let bytes = 0;
    for (const f of files) {
      const buf = Buffer.from(f.content, 'utf8');
      bytes += buf.length;
      writeFileSync(join(tmp, f.path), buf, { mode: f.mode, flag: 'wx' });
    }
    const previous = existsSync(final) ? readdirSync(final, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : [];
    const now = new Set(files.map((f) => f.path.split('/')[0]!));
    if (existsSync(final)) {
      const old = `${tmp}.old`;
      renameSync(final, old);
      renameSync(tmp, final);
      tmp = undefined;
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, final);
      tmp = undefined;
    }
    return { dir: final, files: files.length, bytes, removedBundles: previous.filter((p) => !now.has(p)) };
  } catch (e) {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    const err = e as NodeJS.ErrnoException;
    throw new WriteError(`cannot write ${final}: ${err.code ?? ''} ${err.message}`.trim());
  } finally {
    process.umask(umask);
  }
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
