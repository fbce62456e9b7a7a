// pack: one bundle → a reproducible .tar.gz, written by archiver (tar format, gzip): entries
// appended sorted with every directory before its children, uid/gid 0 and owner names root, one
// fixed mtime, modes from the manifest, and a gzip header with mtime 0 and no file name (zlib's
// gzip stream writes no other header fields).
//
// archiver (and the stream modules under it) is imported on the first call only: `mhc build`
// without --tar never loads it.
import type { ZlibOptions } from 'node:zlib';
import { bytesOf, type BundleFile } from './bundle.js';

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

interface Entry {
  readonly name: string;
  readonly mode: number;
  /** undefined for a directory (its name ends with "/") */
  readonly data?: Buffer;
}

/** The entries of one bundle's tarball, in archive order: sorted, so every directory precedes its children. */
export function tarEntries(bundle: string, files: readonly BundleFile[]): Entry[] {
  const mine = files.filter((f) => f.path.startsWith(`${bundle}/`));
  const dirs = new Set<string>();
  for (const f of mine) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(`${parts.slice(0, i).join('/')}/`);
  }
  return [...[...dirs].map((d) => ({ name: d, mode: 0o755 })), ...mine.map((f) => ({ name: f.path, mode: f.mode, data: bytesOf(f) }))].sort(byName);
}

/**
 * The mode of a bundle's tarball: 0600 when a file inside holds a secret value (built with
 * --embed-secrets; those files are 0600 themselves), else 0644.
 */
export function tarballMode(bundle: string, files: readonly BundleFile[], secretsEmbedded: boolean): number {
  return secretsEmbedded && files.some((f) => f.secrets.length > 0 && f.path.startsWith(`${bundle}/`)) ? 0o600 : 0o644;
}

/**
 * The gzipped tar of one bundle. Compression runs on libuv's thread pool, so the CLI stages the
 * tree while the tarballs are being made.
 */
export async function packBundle(bundle: string, files: readonly BundleFile[], mtimeSeconds: number): Promise<Buffer> {
  const { TarArchive } = await import('archiver');
  const entries = tarEntries(bundle, files);
  const size = entries.reduce((n, e) => n + 512 + (e.data ? e.data.length + 511 : 0), 1024);
  // one output chunk for the whole tarball where it fits: few round trips to the main thread
  const gzipOptions: ZlibOptions = { level: 6, chunkSize: Math.max(64 * 1024, Math.min(size, 16 * 1024 * 1024)) };
  const archive = new TarArchive({ gzip: true, gzipOptions });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    archive.on('data', (c: Buffer) => chunks.push(c));
    archive.on('end', () => resolve(Buffer.concat(chunks)));
    archive.on('error', reject);
    archive.on('warning', reject);
  });
  const date = new Date(mtimeSeconds * 1000);
  const owner = { uid: 0, gid: 0, uname: 'root', gname: 'root' };
  for (const e of entries) {
    archive.append(e.data ?? null, { name: e.name, type: e.data ? 'file' : 'directory', mode: e.mode, date, ...owner });
  }
  const [, gz] = await Promise.all([archive.finalize(), done]);
  return gz;
}
