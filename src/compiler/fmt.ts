// `mhc fmt`: source text → the same cluster in mhc's layout (yaml-print.ts) and, with canonical,
// in the canonical shape (canonical.ts). Pure; the CLI reads and writes the file.
//
// Only a file that compiles is formatted (anything else gets compile's diagnostics), and the
// result is compiled again before it is returned: it must give the same Model and the same
// literal secret values (so the same bundles), and without canonical the same data as well. A
// result that would not is never returned (an internal error instead): fmt cannot change what a
// file builds.
import { compile, type Compiled } from './compile.js';
import { canonicalize } from './canonical.js';
import { diag, type Diagnostic } from './diagnostics.js';
import type { SourceText } from './source.js';
import { attachComments, printYaml, sourceSpellings } from './yaml-print.js';

export interface FmtOptions {
  /** rewrite into the canonical shape, not only the layout */
  readonly canonical?: boolean;
}

export interface FmtResult {
  /** the formatted text; absent when the input has errors */
  readonly text?: string;
  /** whether text differs from the input's bytes */
  readonly changed: boolean;
  /** the errors that kept the file from being formatted (warnings are validate's business) */
  readonly diagnostics: readonly Diagnostic[];
  /** the input's text, for showing the diagnostics */
  readonly source?: SourceText;
}

export function fmt(name: string, bytes: Uint8Array, o: FmtOptions = {}): FmtResult {
  const before = compile(name, bytes);
  const source = before.loaded.source;
  const errors = before.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length || !before.model || !before.loaded.doc || !source) return { changed: false, diagnostics: errors, ...(source ? { source } : {}) };
  let text: string;
  try {
    const doc = before.loaded.doc;
    const spellings = sourceSpellings(doc, source.text);
    attachComments(doc, source.text);
    if (o.canonical) canonicalize(doc);
    text = printYaml(doc, spellings);
  } catch (e) {
    return refused(`${e instanceof Error ? e.message : String(e)}`, source);
  }
  const why = changesMeaning(before, compile(name, Buffer.from(text, 'utf8')), !o.canonical);
  if (why) return refused(why, source);
  return { text, changed: text !== Buffer.from(bytes).toString('utf8'), diagnostics: [], source };
}

/** Why `after` would not build what `before` builds (or, with sameData, does not hold the same data), or undefined. */
function changesMeaning(before: Compiled, after: Compiled, sameData: boolean): string | undefined {
  if (!after.model) return `the result does not compile: ${after.diagnostics.find((d) => d.severity === 'error')?.message ?? ''}`;
  if (JSON.stringify(after.model) !== JSON.stringify(before.model)) return 'the result describes another cluster';
  const literals = (c: Compiled) => JSON.stringify([...(c.literals ?? [])].sort());
  if (literals(after) !== literals(before)) return 'the result holds other secret values';
  if (sameData && JSON.stringify(after.loaded.value) !== JSON.stringify(before.loaded.value)) return 'the result holds other data';
  return undefined;
}

function refused(why: string, source: SourceText): FmtResult {
  // a bug in mhc fmt (E900; the CLI exits 4), never the input's fault: that one compiled
  return { changed: false, source, diagnostics: [diag('E900', `mhc fmt: ${why}; the file was left as it is`)] };
}
