// pack: one bundle directory → a reproducible .tar.gz (sorted entries, uid/gid 0, fixed mtime,
// modes from the manifest, gzip header mtime 0). archiver is loaded only when --tar is given.
import type { BundleFile } from './bundle.js';

export async function packBundle(bundle: string, files: readonly BundleFile[], mtimeSeconds: number): Promise<Buffer> {
  const { default: archiver } = await import('archiver');
  const date = new Date(mtimeSeconds * 1000);
  const archive = archiver('tar', { gzip: true, gzipOptions: { level: 6 } });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    archive.on('data', (c: Buffer) => chunks.push(c));
    archive.on('end', () => resolve(Buffer.concat(chunks)));
    archive.on('error', reject);
    archive.on('warning', reject);
  });
  const owner = { uid: 0, gid: 0, uname: 'root', gname: 'root' };
  // directories first in sorted order, each before its children
  const mine = files.filter((f) => f.path.startsWith(`${bundle}/`)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const dirs = new Set<string>();
  for (const f of mine) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const entries: { path: string; dir: boolean; file?: BundleFile }[] = [
    ...[...dirs].map((d) => ({ path: `${d}/`, dir: true })),
    ...mine.map((f) => ({ path: f.path, dir: false, file: f })),
  ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const e of entries) {
    if (e.dir) archive.append(Buffer.alloc(0), { name: e.path, type: 'directory', mode: 0o755, date, ...owner } as never);
    else archive.append(Buffer.from(e.file!.content, 'utf8'), { name: e.path, mode: e.file!.mode, date, ...owner } as never);
  }
  await archive.finalize();
  return done;
}
