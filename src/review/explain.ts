// `mhc explain CONFIG KEY.PATH`: which files and lines on which nodes a YAML key controls.
// Computed, never guessed: the value is changed in the text (a deterministic mutation that still
// validates: a number +1, a boolean flipped, a string altered within its format, a list element
// changed), the changed file is built, and the two builds are diffed. Pure.
import { isCollection, isMap, isScalar, isSeq, type Node } from 'yaml';
import { compile } from '../compiler/compile.js';
import { hasErrors, jsonSafe, printable } from '../compiler/diagnostics.js';
import { didYouMean } from '../compiler/did-you-mean.js';
import { parseSource } from '../compiler/load.js';
import type { Path } from '../compiler/locate.js';
import { parseIPv4, formatIPv4 } from '../compiler/net.js';
import { ReviewError, sideFromYaml } from './build-side.js';
import { compareSides } from './compare.js';
import type { ChangeGroup, NodeRef, TreeDiff } from './diff.js';
import type { Side } from './side.js';

/** Most leaves explained under one key (each costs a build). */
export const MAX_LEAVES = 60;

export interface ExplainedLine {
  /** 1-based line in the file as built from CONFIG; for an inserted line, the line it gets in the changed build */
  readonly line: number;
  readonly kind: 'changed' | 'inserted';
  readonly text: string;
}

export interface ExplainedFile {
  readonly path: string;
  readonly nodes: readonly NodeRef[];
  readonly status: 'changed' | 'appears' | 'disappears';
  readonly meta: readonly string[];
  readonly lines: readonly ExplainedLine[];
}

export interface ExplainedLeaf {
  /** the key, e.g. network.vip.virtual_router_id or controllers[0].priority */
  readonly key: string;
  /** file:line:col of the value in CONFIG */
  readonly where: { readonly line: number; readonly col: number };
  readonly value: string;
  /** the value it was built with for the comparison; absent when no valid change exists */
  readonly changedTo?: string;
  /** why no comparison was possible */
  readonly noMutation?: string;
  readonly files: readonly ExplainedFile[];
  readonly nodesAdded: readonly NodeRef[];
  readonly nodesRemoved: readonly NodeRef[];
}

export interface ExplainResult {
  readonly config: string;
  readonly key: string;
  readonly leaves: readonly ExplainedLeaf[];
  /** leaves left out beyond MAX_LEAVES */
  readonly omitted: number;
}

/** `a.b[0].c`, `a.b.0.c` → ['a', 'b', 0, 'c']. */
export function parseKey(key: string): Path {
  const out: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]/g;
  let m: RegExpExecArray | null;
  const cleaned = key.trim();
  if (!cleaned) throw new ReviewError('KEY.PATH is empty: write e.g. network.vip.virtual_router_id or controllers[0].priority');
  while ((m = re.exec(cleaned))) {
    if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(/^\d+$/.test(m[1]!) ? Number(m[1]) : m[1]!);
  }
  return out;
}

export function keyText(p: Path): string {
  let s = '';
  for (const seg of p) s += typeof seg === 'number' ? `[${seg}]` : s ? `.${seg}` : seg;
  return s;
}

/** Alternatives for values of the schema's enumerations. */
const ENUMS: readonly (readonly string[])[] = [
  ['auto', 'sentinel', 'cluster'],
  ['mariabackup', 'rsync'],
  ['slurmdbd', 'none'],
  ['accounting_storage/slurmdbd', 'accounting_storage/none'],
  ['UP', 'DOWN', 'DRAIN', 'INACTIVE'],
  ['INFINITE', 'UNLIMITED', '60'],
  ['frontend', 'backend', 'websocket'],
];

/** Candidate replacement values, in order of preference. */
export function candidates(v: unknown): unknown[] {
  if (typeof v === 'boolean') return [!v];
  if (typeof v === 'number') return Number.isInteger(v) ? [v + 1, v - 1, v + 2, v * 2, 1] : [v + 1, v / 2];
  if (v === null) return [];
  if (typeof v !== 'string') return [];
  const out: unknown[] = [];
  const ip = parseIPv4(v);
  if (ip !== undefined) {
    const last = ip % 256;
    out.push(formatIPv4(last < 254 ? ip + 1 : ip - 1), formatIPv4(last > 1 ? ip - 1 : ip + 2));
  }
  for (const e of ENUMS) if (e.includes(v)) out.push(...e.filter((x) => x !== v));
  const ref = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(v);
  if (ref) out.push(`\${${ref[1]}_X}`);
  // the last number in the string, +1 (sizes, hostlists, times, names like node001)
  const num = /(\d+)(?!.*\d)/.exec(v);
  if (num) {
    const n = String(Number(num[1]) + 1).padStart(num[1]!.length, '0');
    out.push(v.slice(0, num.index) + n + v.slice(num.index + num[1]!.length));
  }
  if (v.startsWith('/')) out.push(`${v.replace(/\/$/, '')}/x`);
  out.push(`${v}x`, `${v}-x`, `x${v}`);
  if (/^[A-Za-z]/.test(v)) out.push(v.toUpperCase() === v ? v.toLowerCase() : v.toUpperCase());
  return [...new Set(out.map((x) => JSON.stringify(x)))].map((x) => JSON.parse(x) as unknown);
}

/** The YAML text of a scalar value (JSON strings are valid YAML double-quoted scalars). */
const literal = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

interface Leaf {
  readonly path: Path;
  readonly node: Node;
  readonly value: unknown;
  /** replace text[start, end) */
  readonly start: number;
  readonly end: number;
}

function leavesUnder(node: Node, path: Path, out: Leaf[]): void {
  if (isScalar(node)) {
    const r = node.range;
    if (r) out.push({ path, node, value: node.value, start: r[0], end: r[1] });
  } else if (isMap(node)) {
    for (const p of node.items) {
      const k = isScalar(p.key) ? String(p.key.value) : undefined;
      if (k === undefined || k.startsWith('x-') || !p.value) continue;
      leavesUnder(p.value as Node, [...path, k], out);
    }
  } else if (isSeq(node)) {
    // a list of scalars: one representative change (its first element) explains the list
    if (node.items.length && node.items.every((i) => isScalar(i))) leavesUnder(node.items[0] as Node, [...path, 0], out);
    else node.items.forEach((it, i) => leavesUnder(it as Node, [...path, i], out));
  }
}

function linesOf(g: ChangeGroup): ExplainedLine[] {
  const out: ExplainedLine[] = [];
  for (const h of g.hunks) {
    let o = h.oldStart;
    let n = h.newStart;
    let i = 0;
    while (i < h.lines.length) {
      if (h.lines[i]!.kind === ' ') {
        o++;
        n++;
        i++;
        continue;
      }
      // a run of changes: removed lines are reported where they stand in CONFIG's build; a run
      // with no removed line is an insertion, reported at its line in the changed build
      let j = i;
      while (j < h.lines.length && h.lines[j]!.kind !== ' ') j++;
      const run = h.lines.slice(i, j);
      const pure = run.every((l) => l.kind === '+');
      for (const l of run) {
        if (l.kind === '-') out.push({ line: o++, kind: 'changed', text: l.text });
        else {
          if (pure) out.push({ line: n, kind: 'inserted', text: l.text });
          n++;
        }
      }
      i = j;
    }
  }
  return out;
}

function summarize(d: TreeDiff): Pick<ExplainedLeaf, 'files' | 'nodesAdded' | 'nodesRemoved'> {
  // the diff groups by whole hunks (context included); here only the controlled lines count
  const merged = new Map<string, { file: ExplainedFile; nodes: NodeRef[] }>();
  for (const g of d.groups) {
    const file: ExplainedFile = {
      path: g.path,
      nodes: [],
      status: g.status === 'added' ? 'appears' : g.status === 'removed' ? 'disappears' : 'changed',
      meta: g.meta.map((m) => `${m.field} ${m.from} → ${m.to}`),
      lines: g.status === 'changed' ? linesOf(g) : [],
    };
    const k = JSON.stringify([file.path, file.status, file.meta, file.lines]);
    const e = merged.get(k);
    if (e) e.nodes.push(...g.bundles);
    else merged.set(k, { file, nodes: [...g.bundles] });
  }
  const order = (r: NodeRef) => `${r.bundle === 'compute' ? 1 : 0}${r.bundle}`;
  const files = [...merged.values()].map(({ file, nodes }) => ({
    ...file,
    nodes: nodes.sort((x, y) => (order(x) < order(y) ? -1 : 1)),
  }));
  return { files, nodesAdded: d.bundlesAdded, nodesRemoved: d.bundlesRemoved };
}

export function explain(name: string, bytes: Uint8Array, key: string, mhcVersion: string): ExplainResult {
  const path = parseKey(key);
  const loaded = parseSource(name, bytes);
  if (!loaded.doc || !loaded.source) throw new ReviewError(`${name} cannot be read as YAML; run mhc validate ${name}`);
  const base: Side = sideFromYaml(name, bytes, mhcVersion);
  const text = loaded.source.text;
  const node = loaded.doc.getIn(path, true) as Node | undefined;
  if (!node || (!isScalar(node) && !isCollection(node))) {
    // the deepest existing prefix, for a useful message
    let i = path.length;
    while (i > 0 && loaded.doc.getIn(path.slice(0, i - 1), true) === undefined) i--;
    const parent = i > 1 ? (loaded.doc.getIn(path.slice(0, i - 1), true) as Node | undefined) : (loaded.doc.contents as Node | undefined);
    const keys = parent && isMap(parent) ? parent.items.map((p) => (isScalar(p.key) ? String(p.key.value) : '')).filter(Boolean) : [];
    const miss = path[i - 1];
    const guess = typeof miss === 'string' ? didYouMean(miss, keys) : undefined;
    throw new ReviewError(
      `${keyText(path)} is not written in ${name}${guess ? ` (did you mean ${keyText([...path.slice(0, i - 1), guess])}?)` : keys.length ? ` (keys there: ${keys.join(', ')})` : ''}; explain changes a value the file holds — write the key with its default first`,
    );
  }
  const leaves: Leaf[] = [];
  leavesUnder(node, path, leaves);
  const shown = leaves.slice(0, MAX_LEAVES);
  const out: ExplainedLeaf[] = [];
  for (const leaf of shown) {
    const pos = loaded.source.position(leaf.start);
    const info = {
      key: keyText(leaf.path),
      where: { line: pos.line, col: pos.col },
      value: text.slice(leaf.start, leaf.end),
    };
    const tried: string[] = [];
    let done = false;
    for (const c of candidates(leaf.value)) {
      const mutated = text.slice(0, leaf.start) + literal(c) + text.slice(leaf.end);
      const mb = Buffer.from(mutated, 'utf8');
      const comp = compile(name, mb);
      tried.push(literal(c));
      if (!comp.model || hasErrors(comp.diagnostics)) continue;
      let other: Side;
      try {
        other = sideFromYaml(name, mb, mhcVersion);
      } catch {
        continue;
      }
      const d = compareSides(base, other, mhcVersion);
      out.push({ ...info, changedTo: literal(c), ...summarize(d) });
      done = true;
      break;
    }
    if (!done) {
      out.push({
        ...info,
        noMutation: tried.length
          ? `no valid change found (tried ${tried.slice(0, 6).join(', ')}${tried.length > 6 ? ', …' : ''}: each made the file invalid)`
          : 'no valid change exists for this kind of value',
        files: [],
        nodesAdded: [],
        nodesRemoved: [],
      });
    }
  }
  return {
    config: name,
    key: keyText(path),
    leaves: out,
    omitted: leaves.length - shown.length,
  };
}

/** "3,7-9" */
function lineRanges(ls: readonly number[]): string {
  const xs = [...new Set(ls)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
    out.push(i === j ? `${xs[i]}` : `${xs[i]}-${xs[j]}`);
    i = j;
  }
  return out.join(',');
}

export function formatExplainText(r: ExplainResult): string {
  let s = '';
  for (const l of r.leaves) {
    s += `${l.key} (${r.config}:${l.where.line}:${l.where.col}) = ${l.value}\n`;
    if (l.noMutation) {
      s += `  cannot tell: ${l.noMutation}\n\n`;
      continue;
    }
    if (!l.files.length && !l.nodesAdded.length && !l.nodesRemoved.length) {
      s += `  controls no generated file (built with ${l.changedTo}: every node's files identical)\n\n`;
      continue;
    }
    s += `  built with ${l.changedTo} instead, these change:\n`;
    if (l.nodesAdded.length) s += `  nodes that appear: ${l.nodesAdded.map((n) => n.label).join(', ')}\n`;
    if (l.nodesRemoved.length) s += `  nodes that disappear: ${l.nodesRemoved.map((n) => n.label).join(', ')}\n`;
    for (const f of l.files) {
      const where = f.status === 'changed' && f.lines.length ? `${f.path}:${lineRanges(f.lines.map((x) => x.line))}` : f.path;
      s += `  ${where}${f.status !== 'changed' ? ` (the file ${f.status})` : ''}${f.meta.length ? ` (${f.meta.join(', ')})` : ''} — on ${f.nodes.map((n) => n.label).join(', ')}\n`;
      for (const x of f.lines.slice(0, 12)) s += `      ${String(x.line).padStart(4)}${x.kind === 'inserted' ? '+' : ' '} ${x.text}\n`;
      if (f.lines.length > 12) s += `      … ${f.lines.length - 12} more lines\n`;
    }
    s += '\n';
  }
  if (r.omitted) s += `(${r.omitted} more keys under ${r.key} not explained; name one of them)\n`;
  // text from the YAML and the generated files: nothing raw reaches the terminal (our text has no control character but \n)
  return s
    .split('\n')
    .map((l) => printable(l))
    .join('\n');
}

export function formatExplainJson(r: ExplainResult): string {
  return `${jsonSafe(JSON.stringify(r, null, 2))}\n`;
}
