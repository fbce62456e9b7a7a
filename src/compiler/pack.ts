// pack: one bundle directory → a reproducible .tar.gz: entries sorted with every directory
// before its children, uid/gid 0 (root), one fixed mtime, modes from the manifest, and a gzip
// header with mtime 0 (zlib's default) and no file name.
import { gzip, type ZlibOptions } from 'node:zlib';
import { bytesOf, type BundleFile } from './bundle.js';
import { tar, type TarEntry } from './tar.js';

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** The uncompressed tar of one bundle. */
function tarBundle(bundle: string, files: readonly BundleFile[], mtimeSeconds: number): Buffer {
  const mine = files.filter((f) => f.path.startsWith(`${bundle}/`));
  const dirs = new Set<string>();
  for (const f of mine) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(`${parts.slice(0, i).join('/')}/`);
  }
  const entries: TarEntry[] = [
    ...[...dirs].map((d) => ({ path: d, mode: 0o755 })),
    ...mine.map((f) => ({ path: f.path, mode: f.mode, data: bytesOf(f) })),
  ].sort(byPath);
  return tar(entries, { mtime: mtimeSeconds });
}

/**
 * Compressed on libuv's thread pool (in parallel, one bundle per thread), so the CLI writes the
 * tree while the tarballs are being compressed.
 */
export function packBundle(bundle: string, files: readonly BundleFile[], mtimeSeconds: number): Promise<Buffer> {
  const raw = tarBundle(bundle, files, mtimeSeconds);
  // one output chunk for the whole tarball: one round trip to the main thread, not one per 16 KiB
  const opts: ZlibOptions = { level: 6, chunkSize: Math.max(64 * 1024, raw.length) };
  return new Promise((resolve, reject) => gzip(raw, opts, (e, out) => (e ? reject(e) : resolve(out))));
}
