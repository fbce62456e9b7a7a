// A small reader for the tarballs `mhc build --tar` writes (src/compiler/tar.ts: POSIX ustar, PAX
// `path` records for long names) and for ordinary ustar/GNU archives: enough for `mhc audit` to
// look inside out/<cluster>-<bundle>.tar.gz. Pure: bytes in, entries out; throws TarError on
// anything it cannot read (a truncated archive, a bad checksum, an oversized one).
import { gunzipSync } from 'node:zlib';

export class TarError extends Error {}

export interface TarFile {
  readonly path: string;
  readonly mode: number;
  /** '0' regular file, '5' directory, '2' symlink, … (ustar typeflag; '\0' read as '0') */
  readonly type: string;
  readonly data: Buffer;
}

const BLOCK = 512;
/** The largest archive (uncompressed) audited: bundles hold config files and scripts. */
export const MAX_TAR_BYTES = 256 * 1024 * 1024;

const text = (b: Buffer, off: number, len: number): string => {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return (z < 0 ? s : s.subarray(0, z)).toString('utf8');
};
const octal = (b: Buffer, off: number, len: number, what: string): number => {
  const s = text(b, off, len).trim();
  if (!/^[0-7]*$/.test(s)) throw new TarError(`bad ${what} field ${JSON.stringify(s)}`);
  return s ? parseInt(s, 8) : 0;
};

/** PAX extended header records: "<len> key=value\n". */
function pax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) throw new TarError('bad PAX record');
    const len = Number(data.subarray(i, sp).toString('latin1'));
    if (!Number.isInteger(len) || len <= sp - i || i + len > data.length) throw new TarError('bad PAX record length');
    const rec = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

/** The entries of an uncompressed tar archive, in archive order. */
export function readTar(buf: Buffer): TarFile[] {
  const out: TarFile[] = [];
  let off = 0;
  let nextPath: string | undefined;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((x) => x === 0)) return out; // end of archive
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (sum !== octal(h, 148, 8, 'checksum')) throw new TarError(`bad header checksum at byte ${off}`);
    const size = octal(h, 124, 12, 'size');
    const type = text(h, 156, 1) || '0';
    const start = off + BLOCK;
    const end = start + size;
    if (end > buf.length) throw new TarError('truncated archive');
    const data = buf.subarray(start, end);
    off = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      nextPath = pax(data).get('path') ?? nextPath;
      continue;
    }
    if (type === 'L') {
      nextPath = text(data, 0, data.length);
      continue;
    }
    if (type === 'g' || type === 'K') continue;
    const ustar = text(h, 257, 6).startsWith('ustar');
    const prefix = ustar ? text(h, 345, 155) : '';
    const name = text(h, 0, 100);
    out.push({ path: nextPath ?? (prefix ? `${prefix}/${name}` : name), mode: octal(h, 100, 8, 'mode') & 0o7777, type, data });
    nextPath = undefined;
  }
  throw new TarError('archive without its end-of-archive blocks (truncated)');
}

/** The entries of a .tar.gz. */
export function readTarGz(gz: Buffer): TarFile[] {
  let raw: Buffer;
  try {
    raw = gunzipSync(gz, { maxOutputLength: MAX_TAR_BYTES });
  } catch (e) {
    throw new TarError(`not a readable gzip file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return readTar(raw);
}
