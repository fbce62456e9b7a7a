// tar: an in-memory POSIX ustar writer for bundles. The bundle already lives in memory as a
// handful of small buffers, so a streaming archiver (which loads dozens of modules and pumps
// every entry through streams) costs more than the whole rest of `mhc build --tar`; this
// writer is a pure function of its entries, which is also what reproducibility needs.
// Names longer than ustar's name/prefix fields get a PAX `path` record (POSIX.1-2001).

export interface TarEntry {
  /** relative path; directories end with "/" */
  readonly path: string;
  readonly mode: number;
  /** omitted for directories */
  readonly data?: Uint8Array;
}

export interface TarOptions {
  /** seconds since the epoch for every entry */
  readonly mtime: number;
}

const BLOCK = 512;
const enc = new TextEncoder();

/** `value` as a NUL-terminated octal field of `width` bytes. */
function octal(value: number, width: number): string {
  const s = value.toString(8);
  if (s.length > width - 1) throw new RangeError(`tar: ${value} does not fit a ${width}-byte field`);
  return s.padStart(width - 1, '0') + '\0';
}

function put(block: Uint8Array, offset: number, width: number, text: string | Uint8Array): void {
  const bytes = typeof text === 'string' ? enc.encode(text) : text;
  if (bytes.length > width) throw new RangeError(`tar: field of ${width} bytes cannot hold ${bytes.length}`);
  block.set(bytes, offset);
}

/** Splits a path into ustar (prefix, name) when it fits, else undefined. */
function ustarName(path: Uint8Array): { prefix: Uint8Array; name: Uint8Array } | undefined {
  if (path.length <= 100) return { prefix: new Uint8Array(0), name: path };
  // split at a "/" so that name ≤ 100 and prefix ≤ 155
  for (let i = Math.max(0, path.length - 101); i < path.length && i <= 155; i++) {
    if (path[i] === 0x2f && path.length - i - 1 <= 100 && path.length - i - 1 > 0) {
      return { prefix: path.subarray(0, i), name: path.subarray(i + 1) };
    }
  }
  return undefined;
}

function header(name: { prefix: Uint8Array; name: Uint8Array }, mode: number, size: number, type: string, mtime: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  put(h, 0, 100, name.name);
  put(h, 100, 8, octal(mode & 0o7777, 8));
  put(h, 108, 8, octal(0, 8)); // uid
  put(h, 116, 8, octal(0, 8)); // gid
  put(h, 124, 12, octal(size, 12));
  put(h, 136, 12, octal(mtime, 12));
  put(h, 148, 8, '        '); // checksum counted as spaces
  put(h, 156, 1, type);
  put(h, 257, 6, 'ustar\0');
  put(h, 263, 2, '00');
  put(h, 265, 32, 'root');
  put(h, 297, 32, 'root');
  put(h, 329, 8, octal(0, 8)); // devmajor
  put(h, 337, 8, octal(0, 8)); // devminor
  put(h, 345, 155, name.prefix);
  let sum = 0;
  for (const b of h) sum += b;
  put(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** A PAX record "<len> path=<value>\n", where <len> counts the whole record. */
function paxPath(path: Uint8Array): Uint8Array {
  const body = enc.encode(' path=').length + path.length + 1;
  let len = body + 1;
  while (String(len).length + body !== len) len = String(len).length + body;
  const rec = new Uint8Array(len);
  rec.set(enc.encode(`${len} path=`));
  rec.set(path, len - path.length - 1);
  rec[len - 1] = 0x0a;
  return rec;
}

const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

/** The tar archive of `entries`, in the order given, ended by two zero blocks. */
export function tar(entries: readonly TarEntry[], options: TarOptions): Buffer {
  const parts: Uint8Array[] = [];
  let total = 0;
  const push = (b: Uint8Array) => {
    parts.push(b);
    total += b.length;
  };
  const pad = (size: number) => {
    const n = padding(size);
    if (n) push(new Uint8Array(n));
  };
  for (const e of entries) {
    const dir = e.path.endsWith('/');
    const data = dir ? new Uint8Array(0) : (e.data ?? new Uint8Array(0));
    const path = enc.encode(e.path);
    let name = ustarName(path);
    if (!name) {
      const rec = paxPath(path);
      push(header({ prefix: new Uint8Array(0), name: enc.encode('PaxHeader') }, 0o644, rec.length, 'x', options.mtime));
      push(rec);
      pad(rec.length);
      name = { prefix: new Uint8Array(0), name: path.subarray(Math.max(0, path.length - 100)) };
    }
    push(header(name, e.mode, data.length, dir ? '5' : '0', options.mtime));
    if (data.length) {
      push(data);
      pad(data.length);
    }
  }
  push(new Uint8Array(BLOCK * 2));
  return Buffer.concat(parts, total);
}
