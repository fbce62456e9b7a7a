// Diagnostics: every problem mhc reports about an input, with its place in the file.
// Pure: formatting takes the source text as an argument and never reads the disk.
import { CODES, type Code } from './codes.js';
import type { SourceText } from './source.js';

export type Severity = 'error' | 'warning';

export interface Span {
  /** 0-based offset of the first character */
  readonly start: number;
  /** 0-based offset one past the last character (>= start) */
  readonly end: number;
}

export interface Diagnostic {
  readonly code: Code;
  readonly severity: Severity;
  readonly message: string;
  readonly hint?: string;
  /** where in the source; absent only for problems that have no place (e.g. an unreadable file) */
  readonly span?: Span;
}

export function diag(code: Code, message: string, span?: Span, hint?: string): Diagnostic {
  const severity: Severity = CODES[code].severity;
  const d: { -readonly [K in keyof Diagnostic]: Diagnostic[K] } = { code, severity, message };
  if (span) d.span = span;
  if (hint) d.hint = hint;
  return d;
}

export const hasErrors = (ds: readonly Diagnostic[]): boolean => ds.some((d) => d.severity === 'error');

/** Stable order: by position, then errors before warnings, then code, then message. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  return [...ds].sort(
    (a, b) =>
      (a.span?.start ?? -1) - (b.span?.start ?? -1) ||
      (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1) ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
}

/** Removes exact duplicates (same code, place and message), which aliases can produce. */
export function dedupe(ds: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.code}\0${d.span?.start}\0${d.span?.end}\0${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export interface Located {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly endLine: number;
  readonly endCol: number;
  readonly severity: Severity;
  readonly code: Code;
  readonly message: string;
  readonly hint?: string;
}

export function locate(file: string, src: SourceText | undefined, d: Diagnostic): Located {
  const start = src && d.span ? src.position(d.span.start) : { line: 1, col: 1 };
  const end = src && d.span ? src.position(Math.max(d.span.start, d.span.end)) : start;
  const out: Located = {
    file,
    line: start.line,
    col: start.col,
    endLine: end.line,
    endCol: end.col,
    severity: d.severity,
    code: d.code,
    message: d.message,
    ...(d.hint ? { hint: d.hint } : {}),
  };
  return out;
}

/** What JSON.stringify leaves raw of UNSAFE_CHARS: DEL, C1 controls and the bidi characters. */
const BEYOND_C0 = '\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069';
/**
 * Characters a terminal (or a reader) must never receive raw from a file, a tree or a YAML: C0
 * controls (ESC, CR, BEL, newline, …), DEL, C1 controls (U+0080–U+009F: 8-bit CSI, OSC, …) and the
 * bidirectional formatting characters (LRM/RLM, U+202A–U+202E embeddings and overrides, U+2066–
 * U+2069 isolates, ALM), which make text read differently than it is ("Trojan Source").
 */
export const UNSAFE_CHARS = new RegExp(`[\\u0000-\\u001f${BEYOND_C0}]`, 'g');

/**
 * Printable form of one line of text from a file, a tree or a YAML: every UNSAFE_CHARS character
 * shown as U+FFFD (one column, so a caret below still lines up); a tab becomes a space unless
 * `keepTabs` (a diff shows a file's tabs as they are). The one function every text output uses.
 */
export function printable(line: string, keepTabs = false): string {
  return line.replace(UNSAFE_CHARS, (c) => (c === '\t' ? (keepTabs ? c : ' ') : '\uFFFD'));
}

/**
 * JSON.stringify's output with DEL, C1 controls and bidi characters written as \uXXXX escapes
 * (JSON.stringify escapes only U+0000–U+001F, so those would reach a terminal raw). Lossless:
 * they occur only inside strings, and each escape parses back to the same character.
 */
export function jsonSafe(json: string): string {
  return json.replace(new RegExp(`[${BEYOND_C0}]`, 'g'), (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * rustc-like text form:
 *   FILE:LINE:COL: error[E201]: message
 *      3 |   - hostnme: server1
 *        |     ^^^^^^^
 *   hint: did you mean "hostname"?
 */
export function formatText(file: string, src: SourceText | undefined, ds: readonly Diagnostic[]): string {
  let out = '';
  for (const d of ds) {
    const l = locate(file, src, d);
    out += `${l.file}:${l.line}:${l.col}: ${l.severity}[${l.code}]: ${d.message}\n`;
    if (src && d.span) {
      const raw = src.lineText(l.line);
      const text = printable(raw);
      const chars = [...text];
      const width = String(l.line).length;
      const pad = ' '.repeat(width);
      const caretStart = Math.min(l.col - 1, chars.length);
      const caretEnd = l.endLine === l.line ? Math.max(l.endCol - 1, caretStart + 1) : chars.length;
      const len = Math.max(1, Math.min(caretEnd, Math.max(chars.length, caretStart + 1)) - caretStart);
      out += ` ${l.line} | ${text}\n`;
      out += ` ${pad} | ${' '.repeat(caretStart)}${'^'.repeat(len)}\n`;
    }
    if (d.hint) out += `hint: ${d.hint}\n`;
  }
  return out;
}

/** What `mhc validate` prints on stderr: every problem, then a summary line when one is an error. */
export function formatProblems(file: string, src: SourceText | undefined, ds: readonly Diagnostic[]): string {
  return (ds.length ? formatText(file, src, ds) : '') + (hasErrors(ds) ? `mhc: ${file} is not valid: ${summaryLine(ds)}\n` : '');
}

export function summaryLine(ds: readonly Diagnostic[]): string {
  const e = ds.filter((d) => d.severity === 'error').length;
  const w = ds.length - e;
  const plural = (n: number, s: string) => `${n} ${s}${n === 1 ? '' : 's'}`;
  return `${plural(e, 'error')}, ${plural(w, 'warning')}`;
}

export function formatJson(file: string, src: SourceText | undefined, ds: readonly Diagnostic[]): string {
  const located = ds.map((d) => locate(file, src, d));
  return (
    JSON.stringify(
      {
        file,
        valid: !hasErrors(ds),
        errors: ds.filter((d) => d.severity === 'error').length,
        warnings: ds.filter((d) => d.severity === 'warning').length,
        diagnostics: located,
      },
      null,
      2,
    ) + '\n'
  );
}
