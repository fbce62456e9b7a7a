// load: bytes → YAML document with positions → plain JS value.
// `readInput` is the one function here that touches the disk; `parseSource` is pure.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { diag, type Diagnostic } from './diagnostics.js';
import { SourceText } from './source.js';

/**
 * Files larger than this are refused: a cluster description is kilobytes, not megabytes (the
 * largest sites, ~100,000 nodes written one per line, stay under 10 MiB).
 */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;
/** Alias expansions allowed in one document (the YAML library's own guard against alias bombs). */
export const MAX_ALIAS_COUNT = 100;

export interface Loaded {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly source?: SourceText;
  readonly doc?: Document.Parsed;
  /** the document as plain data; undefined when loading failed */
  readonly value?: unknown;
  readonly diagnostics: readonly Diagnostic[];
}

export class InputReadError extends Error {}

const MIB = 1024 * 1024;

/**
 * Reads a file the user named (the cluster YAML, a secrets.env); throws InputReadError (exit code
 * 3 in the CLI) when it cannot be read. Only a regular file is read, and at most `limit` bytes of
 * it: it is opened without blocking (a FIFO nobody writes to does not hang), checked on the open
 * descriptor (a device such as /dev/zero, a FIFO or a socket is refused), and read with a cap (a
 * file that grows while it is read is refused too).
 */
export function readInput(path: string, limit = MAX_INPUT_BYTES): Uint8Array {
  const fail = (why: string) => new InputReadError(`cannot read ${path}: ${why}`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw fail(err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : (err.code ?? err.message));
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      const kind = st.isDirectory()
        ? 'a directory'
        : st.isFIFO()
          ? 'a FIFO (named pipe)'
          : st.isSocket()
            ? 'a socket'
            : st.isCharacterDevice()
              ? 'a character device'
              : st.isBlockDevice()
                ? 'a block device'
                : 'not a file';
      throw fail(`it is ${kind}; mhc reads only regular files`);
    }
    const tooLarge = (size: string) => fail(`it is ${size}; mhc reads at most ${limit >= MIB ? `${limit / MIB} MiB` : `${limit} bytes`}`);
    if (st.size > limit) throw tooLarge(`${st.size} bytes`);
    // one read for the whole file (asking for one byte more than fstat said); a file that grew
    // since is read on in small pieces, never past the cap
    const chunks: Buffer[] = [];
    let total = 0;
    for (let size = st.size + 1; ; size = 64 * 1024) {
      const chunk = Buffer.allocUnsafe(size);
      let got: number;
      try {
        got = readSync(fd, chunk, 0, size, null);
      } catch (e) {
        throw fail((e as NodeJS.ErrnoException).code ?? String(e));
      }
      if (got === 0) break;
      chunks.push(chunk.subarray(0, got));
      total += got;
      if (total > limit) throw tooLarge('larger than that (it grew while it was read)');
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

function firstBadUtf8(bytes: Uint8Array): number {
  // returns the byte offset of the first invalid UTF-8 sequence, or -1
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let n = 0;
    if (b < 0x80) n = 0;
    else if (b >= 0xc2 && b <= 0xdf) n = 1;
    else if (b >= 0xe0 && b <= 0xef) n = 2;
    else if (b >= 0xf0 && b <= 0xf4) n = 3;
    else return i;
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    i += n + 1;
  }
  return -1;
}

export function parseSource(name: string, bytes: Uint8Array): Loaded {
  const fail = (d: Diagnostic, source?: SourceText): Loaded => ({ name, bytes, source, diagnostics: [d] });
  if (bytes.length > MAX_INPUT_BYTES) {
    return fail(diag('E108', `input is ${bytes.length} bytes; the limit is ${MAX_INPUT_BYTES}`));
  }
  // Binary input: a NUL byte never occurs in a text file.
  const nul = bytes.indexOf(0);
  const bad = firstBadUtf8(bytes);
  if (nul >= 0 || bad >= 0) {
    const at = nul >= 0 && (bad < 0 || nul < bad) ? nul : bad;
    // Show the valid text before the bad byte so the position is meaningful.
    const prefix = new TextDecoder('utf-8').decode(bytes.subarray(0, at));
    const source = new SourceText(prefix);
    const what = at === nul ? 'a NUL byte (this looks like a binary file)' : `a byte that is not valid UTF-8 (0x${bytes[at]!.toString(16).padStart(2, '0')})`;
    return fail(diag('E101', `input contains ${what} at byte ${at}`, { start: prefix.length, end: prefix.length }, 'save the file as UTF-8 text'), source);
  }
  let text = new TextDecoder('utf-8').decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // BOM
  const source = new SourceText(text);
  if (text.replace(/#[^\n]*/g, '').trim() === '' || /^\s*(---\s*)?(\.\.\.\s*)?$/.test(text.replace(/#[^\n]*/g, ''))) {
    return fail(diag('E100', 'the file is empty: expected a cluster description (a mapping with cluster:, controllers:, …)', { start: 0, end: 0 }), source);
  }

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true, strict: true });
  const ds: Diagnostic[] = [];
  for (const e of doc.errors) {
    const span = { start: e.pos[0], end: Math.max(e.pos[1], e.pos[0] + 1) };
    const msg = e.message.split('\n')[0]!.replace(/; please use YAML\.parseAllDocuments\(\)/, '');
    switch (e.code) {
      case 'TAB_AS_INDENT':
        ds.push(diag('E103', 'a tab is used for indentation; YAML allows only spaces', span, 'replace the tab with spaces'));
        break;
      case 'DUPLICATE_KEY': {
        const key = /^[^:\n]*/
          .exec(text.slice(e.pos[0]))![0]
          .trim()
          .replace(/^["']|["']$/g, '');
        const keySpan = { start: e.pos[0], end: e.pos[0] + Math.max(1, /^[^:\n]*/.exec(text.slice(e.pos[0]))![0].trimEnd().length) };
        ds.push(diag('E104', `duplicate key "${key}": a later value would silently replace an earlier one`, keySpan, 'remove or rename one of the two keys'));
        break;
      }
      case 'MULTIPLE_DOCS':
        ds.push(diag('E107', 'the file holds more than one YAML document (---); mhc reads exactly one', span));
        break;
      default: {
        const line = source.lineText(source.position(e.pos[0]).line);
        const hint = /\{[^}]*\$\{/.test(line) ? 'inside { … } write a secret reference in quotes: "${NAME}"' : undefined;
        ds.push(diag('E102', `YAML syntax error: ${msg.charAt(0).toLowerCase()}${msg.slice(1)}`, span, hint));
      }
    }
  }
  for (const w of doc.warnings) {
    if (w.code === 'TAG_RESOLVE_FAILED') {
      ds.push(diag('E109', `${w.message.split('\n')[0]}: custom YAML tags are not supported`, { start: w.pos[0], end: Math.max(w.pos[1], w.pos[0] + 1) }));
    }
  }
  if (ds.length) {
    // one syntax mistake makes the YAML parser report a cascade on the same line: keep the first
    const lines = new Set<number>();
    const firsts = ds.filter((d) => {
      if (d.code !== 'E102' || !d.span) return true;
      const l = source.position(d.span.start).line;
      if (lines.has(l)) return false;
      lines.add(l);
      return true;
    });
    return { name, bytes, source, doc, diagnostics: firsts };
  }

  // Unresolvable aliases and non-plain tags are found by walking the document once.
  visit(doc, {
    Alias(_, node) {
      if (!node.resolve(doc)) {
        const r = node.range ?? [0, 0];
        ds.push(diag('E102', `YAML syntax error: alias *${node.source} refers to no anchor`, { start: r[0], end: Math.max(r[1], r[0] + 1) }));
      }
    },
    Scalar(_, node) {
      if (node.tag === 'tag:yaml.org,2002:binary') {
        const r = node.range ?? [0, 0];
        ds.push(diag('E109', '!!binary values are not supported', { start: r[0], end: r[1] }));
      }
    },
  });
  if (ds.length) return { name, bytes, source, doc, diagnostics: ds };

  if (!isMap(doc.contents)) {
    const r = doc.contents?.range ?? [0, text.length];
    const what = isSeq(doc.contents) ? 'a list' : isScalar(doc.contents) ? 'a single value' : isAlias(doc.contents) ? 'an alias' : 'nothing';
    return fail(diag('E106', `the top level of the file is ${what}; expected a mapping (cluster:, controllers:, …)`, { start: r[0], end: r[1] }), source);
  }

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (e instanceof ReferenceError && /alias count/i.test(e.message)) {
      // point at the first alias: that is where the expansion starts
      let first: [number, number] = [0, 0];
      visit(doc, {
        Alias(_, node) {
          first = [node.range?.[0] ?? 0, node.range?.[1] ?? 0];
          return visit.BREAK;
        },
      });
      return fail(
        diag('E105', `aliases expand to too many nodes (limit ${MAX_ALIAS_COUNT} alias uses); refusing to expand (this is how "billion laughs" attacks look)`, { start: first[0], end: first[1] }),
        source,
      );
    }
    const msg = e instanceof Error ? e.message : String(e);
    return fail(diag('E102', `YAML error: ${msg}`, { start: 0, end: 0 }), source);
  }
  return { name, bytes, source, doc, value, diagnostics: [] };
}
