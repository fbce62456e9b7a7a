// Secrets never appear in review output, even when a tree was built with --embed-secrets.
//
// A file the manifest (or the placeholder version of the same file) says holds a secret, but
// whose content lacks that secret's placeholder, holds the value itself ("embedded"). For each
// such file we take reference versions of the same path that carry placeholders (this mhc's
// rebuild of the tree's own cluster.json, and the other side of the diff), and read it line by
// line:
//   - a line identical to a placeholder-free reference line is ordinary text: kept;
//   - a line matching a reference line with placeholders (literal text around `(.*?)`) is
//     replaced by that reference line, so the output shows `@@MHC_SECRET:NAME@@`; the captured
//     text is remembered as an encoded value of NAME;
//   - any other line is replaced as a whole by a mask (it may hold a value in a form we do not
//     know). So a file with embedded secrets shows only lines mhc itself would write.
// Then every remembered value, in every encoding mhc uses, is replaced by its placeholder in
// every file of both sides (defence in depth: a value copied anywhere else is masked too). Pure.
import { PLACEHOLDER, placeholder, sentinelCredential, slurmConfValue, type SecretEncoding } from '../compiler/secrets.js';
import { dqEscape } from '../compiler/quote.js';
import { placeholdersIn, type Bundle, type Side, type SideFile } from './side.js';
import { splitLines } from './unified.js';

export const maskLine = (names: readonly string[]): string => `@@MHC_SECRET_MASKED@@ (line hidden: this file holds embedded secrets${names.length ? ` ${names.join(', ')}` : ''})`;

/** Placeholder versions of a bundle file (contents), for `bundle/rel`. */
export type References = (bundle: string, rel: string) => readonly string[];

interface Pattern {
  readonly re: RegExp;
  readonly line: string;
  readonly groups: readonly { name: string; enc: SecretEncoding }[];
  readonly literal: number;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function patternOf(line: string): Pattern | undefined {
  const groups: { name: string; enc: SecretEncoding }[] = [];
  let re = '^';
  let last = 0;
  let literal = 0;
  for (const m of line.matchAll(PLACEHOLDER)) {
    const lit = line.slice(last, m.index);
    re += `${escapeRe(lit)}(.*?)`;
    literal += lit.length;
    groups.push({
      name: m[1]!,
      enc: (m[2] as SecretEncoding | undefined) ?? 'raw',
    });
    last = m.index! + m[0].length;
  }
  if (!groups.length) return undefined;
  const tail = line.slice(last);
  literal += tail.length;
  return {
    re: new RegExp(`${re}${escapeRe(tail)}$`, 's'),
    line,
    groups,
    literal,
  };
}

/** The raw value behind an encoded one, when the encoding can be undone. */
function decode(text: string, enc: SecretEncoding): string | undefined {
  if (enc === 'raw') return text;
  if (enc === 'dq') return text.replace(/\\(.)/gs, '$1');
  if (enc === 'slurm') return (text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text).replace(/\\(.)/gs, '$1');
  return undefined; // sentinel: a one-way hash
}

/** Every form in which `value` of `name` may appear in a file, longest first. */
function forms(name: string, value: string): [string, string][] {
  const out = new Map<string, string>();
  out.set(value, placeholder(name));
  out.set(dqEscape(value), placeholder(name, 'dq'));
  const s = slurmConfValue(value);
  if (s !== undefined) out.set(s, placeholder(name, 'slurm'));
  out.set(sentinelCredential(value), placeholder(name, 'sentinel'));
  return [...out];
}

/** Values shorter than this are not replaced everywhere (a 2-character value would shred the text). */
const MIN_GLOBAL = 4;

function isEmbedded(f: SideFile, need: ReadonlySet<string>): boolean {
  if (!need.size) return false;
  const have = placeholdersIn(f.content);
  return [...need].some((n) => !have.has(n));
}

export interface MaskResult {
  readonly a: Side;
  readonly b: Side;
  /** bundle/rel paths (per side) whose embedded secrets were masked */
  readonly masked: {
    readonly a: readonly string[];
    readonly b: readonly string[];
  };
}

/**
 * Masks embedded secrets in both sides. `refsA` / `refsB` give placeholder versions of a path for
 * each side (typically the side's own rebuild); the other side's file at the same path is added.
 */
export function maskSecrets(a: Side, b: Side, refsA: References, refsB: References): MaskResult {
  const replacements = new Map<string, string>();
  const remember = (name: string, enc: SecretEncoding, text: string) => {
    if (!text) return;
    const raw = decode(text, enc);
    if (raw !== undefined && raw !== '') for (const [form, ph] of forms(name, raw)) replacements.set(form, ph);
    replacements.set(text, placeholder(name, enc));
  };

  const refsFor = (side: 'a' | 'b', bundle: string, rel: string): string[] => {
    const own = side === 'a' ? refsA(bundle, rel) : refsB(bundle, rel);
    const other = side === 'a' ? b : a;
    const o = other.bundles.get(bundle)?.files.get(rel);
    const more = o && placeholdersIn(o.content).size ? [o.content] : [];
    // the same file of other bundles (slurm.conf, munge key: identical on every node)
    const others = [...other.bundles.values()]
      .map((x) => x.files.get(rel))
      .filter((f): f is SideFile => !!f && placeholdersIn(f.content).size > 0)
      .map((f) => f.content);
    return [...own, ...more, ...others.slice(0, 2)];
  };

  // pass 1: which files are embedded, how their lines map to references, and the values
  type Plan = {
    side: 'a' | 'b';
    bundle: string;
    rel: string;
    lines: (string | { mask: true })[];
    need: string[];
  };
  const plans: Plan[] = [];
  for (const [sideName, side] of [
    ['a', a],
    ['b', b],
  ] as const) {
    for (const [bn, bundle] of side.bundles) {
      for (const [rel, f] of bundle.files) {
        const refs = refsFor(sideName, bn, rel);
        const need = new Set([...f.secrets, ...refs.flatMap((r) => [...placeholdersIn(r)])]);
        if (!isEmbedded(f, need)) continue;
        const exact = new Set<string>();
        const patterns: Pattern[] = [];
        for (const r of refs) {
          const rl = splitLines(r);
          for (const l of rl) {
            const p = patternOf(l);
            if (!p) exact.add(l);
            // a line that is nothing but a placeholder matches anything: only in a one-line file
            else if (p.literal > 0 || rl.length === 1) patterns.push(p);
          }
        }
        patterns.sort((x, y) => y.literal - x.literal);
        const out: (string | { mask: true })[] = [];
        for (const line of splitLines(f.content)) {
          if (exact.has(line)) {
            out.push(line);
            continue;
          }
          const p = patterns.find((q) => q.re.test(line));
          if (p) {
            const m = p.re.exec(line)!;
            p.groups.forEach((g, i) => remember(g.name, g.enc, m[i + 1] ?? ''));
            out.push(p.line);
          } else out.push({ mask: true });
        }
        plans.push({
          side: sideName,
          bundle: bn,
          rel,
          lines: out,
          need: [...need].sort(),
        });
      }
    }
  }

  const ordered = [...replacements].filter(([k]) => k.length >= MIN_GLOBAL).sort((x, y) => y[0].length - x[0].length || (x[0] < y[0] ? -1 : 1));
  const redact = (text: string): string => {
    let t = text;
    for (const [form, ph] of ordered) if (t.includes(form)) t = t.split(form).join(ph);
    return t;
  };

  const apply = (sideName: 'a' | 'b', side: Side): { side: Side; masked: string[] } => {
    const masked: string[] = [];
    const bundles = new Map<string, Bundle>();
    for (const [bn, bundle] of side.bundles) {
      const files = new Map<string, SideFile>();
      for (const [rel, f] of bundle.files) {
        const plan = plans.find((p) => p.side === sideName && p.bundle === bn && p.rel === rel);
        let content: string;
        if (plan) {
          masked.push(`${bn}/${rel}`);
          content = plan.lines.map((l) => (typeof l === 'string' ? redact(l) : maskLine(plan.need))).join('\n') + '\n';
        } else content = ordered.length ? redact(f.content) : f.content;
        files.set(rel, content === f.content ? f : { ...f, content });
      }
      bundles.set(bn, { ...bundle, files });
    }
    return { side: { ...side, bundles }, masked };
  };
  const ra = apply('a', a);
  const rb = apply('b', b);
  return { a: ra.side, b: rb.side, masked: { a: ra.masked, b: rb.masked } };
}

/** Replaces every occurrence of known secret values (any encoding) in a text: for explain and audit messages. */
export function redactValues(text: string, values: ReadonlyMap<string, string>): string {
  const pairs: [string, string][] = [];
  for (const [name, v] of values) if (v.length >= MIN_GLOBAL) pairs.push(...forms(name, v));
  pairs.sort((x, y) => y[0].length - x[0].length);
  let t = text;
  for (const [form, ph] of pairs) if (t.includes(form)) t = t.split(form).join(ph);
  return t;
}
