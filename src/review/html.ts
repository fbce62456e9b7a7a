// HTML for `mhc report`, built with one tagged template: every value interpolated into `markup`
// is escaped by `esc` unless it is itself Html made by this module, so no string from a YAML, a
// tree or a finding can open a tag, close an attribute or reach the page as a control or bidi
// character. (The tag is not called `html`: prettier reformats templates with that tag, which
// would change the page's bytes.) Pure.
import { printable } from '../compiler/diagnostics.js';

/** Markup known to be safe: made only by `markup`, `raw` (constant markup) and `join`. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type Value = string | number | Html | readonly Value[] | undefined | null | false;

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * The one escaping function: control and bidi characters shown as U+FFFD (printable(), the policy
 * of every text output), then the five characters HTML gives a meaning in text and in quoted
 * attribute values.
 */
export function esc(s: string): string {
  return printable(s).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

function piece(v: Value): string {
  if (v === undefined || v === null || v === false) return '';
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return (v as readonly Value[]).map(piece).join('');
  return esc(String(v));
}

/** The template tag: literal parts are markup, interpolated values are escaped (Html kept as is). */
export function markup(strings: TemplateStringsArray, ...values: readonly Value[]): Html {
  let s = strings[0]!;
  for (let i = 0; i < values.length; i++) s += piece(values[i]!) + strings[i + 1]!;
  return new Html(s);
}

/** Constant markup written in this program (CSS, a fixed tag): never a value from the input. */
export const raw = (text: string): Html => new Html(text);

export const join = (parts: readonly Value[], sep = ''): Html => new Html(parts.map(piece).join(esc(sep)));

/**
 * An id (and #fragment) for a name from the input: letters, digits and '-' kept, every other
 * character written as _hex_, so two names never share an id and nothing needs escaping.
 */
export function anchor(kind: string, name: string): string {
  let s = '';
  for (const ch of name) s += /[A-Za-z0-9-]/.test(ch) ? ch : `_${ch.codePointAt(0)!.toString(16)}_`;
  return `${kind}-${s}`;
}
