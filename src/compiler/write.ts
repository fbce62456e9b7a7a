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
  try {
    mkdirSync(outDir, { recursive: true });
    tmp = mkdtempSync(join(outDir, `.${cluster}.tmp-`));
    chmodSync(tmp, 0o755);
    const made = new Set<string>();
    let bytes = 0;
    for (const f of files) {
      const p = join(tmp, f.path);
      const d = dirname(p);
      if (!made.has(d)) {
        mkdirSync(d, { recursive: true, mode: 0o755 });
        made.add(d);
      }
      const buf = Buffer.from(f.content, 'utf8');
      bytes += buf.length;
      writeFileSync(p, buf, { mode: f.mode });
      chmodSync(p, f.mode); // the umask must not change what the manifest says
    }
    for (const d of made) chmodSync(d, 0o755);
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
