// Two sides of `mhc report OLD NEW` item by item: every keyed fact (report-facts.ts) is the
// same, added, removed or changed, and the summary says what the change adds, removes and moves.
// The file-level changes are mhc diff's own (a TreeDiff from compareSides), per bundle. With one
// side every item is "same": the one renderer draws both. Pure.
import { compress } from '../compiler/hostlist.js';
import { SERVICES } from '../compiler/model.js';
import type { TreeDiff } from './diff.js';
import { anchor } from './html.js';
import { SERVICE_LABEL, type Cell, type ComputeGroup, type ControllerFacts, type Facts, type FindingFacts, type PortsFacts, type Row, type Table } from './report-facts.js';
import type { Section } from './report-sections.js';

export type Status = 'same' | 'added' | 'removed' | 'changed';

export interface Merged<T> {
  readonly key: string;
  readonly status: Status;
  /** absent when removed */
  readonly now?: T;
  /** absent when added, and with one side */
  readonly was?: T;
}

export const current = <T>(m: Merged<T>): T => (m.now ?? m.was)!;
export const cellText = (c: Cell | undefined): string => (c === undefined ? '' : typeof c === 'string' ? c : c.text);

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Items of both lists by key, in the new order, each removed item right after the item that
 * preceded it in the old list. Without `was` (one side) every item is "same".
 */
export function mergeKeyed<T extends { readonly key: string }>(was: readonly T[] | undefined, now: readonly T[]): Merged<T>[] {
  if (!was) return now.map((n) => ({ key: n.key, status: 'same', now: n }));
  const oldIndex = new Map(was.map((w, i) => [w.key, i]));
  const kept = new Set(now.map((n) => n.key));
  const out: Merged<T>[] = [];
  let i = 0;
  const flushRemoved = (upTo: number) => {
    for (; i < upTo; i++) if (!kept.has(was[i]!.key)) out.push({ key: was[i]!.key, status: 'removed', was: was[i]! });
  };
  for (const n of now) {
    const j = oldIndex.get(n.key);
    if (j === undefined) {
      out.push({ key: n.key, status: 'added', now: n });
      continue;
    }
    if (j >= i) {
      flushRemoved(j);
      i = j + 1;
    }
    out.push({ key: n.key, status: sameJson(was[j], n) ? 'same' : 'changed', was: was[j]!, now: n });
  }
  flushRemoved(was.length);
  return out;
}

/** The children of a merged item, merged in turn (all added / removed when the parent is). */
function children<P, C extends { readonly key: string }>(m: Merged<P>, two: boolean, get: (p: P) => readonly C[]): Merged<C>[] {
  return mergeKeyed(two ? (m.was ? get(m.was) : []) : undefined, m.now ? get(m.now) : []);
}

export interface MergedTable {
  readonly key: string;
  readonly status: Status;
  readonly title: string;
  readonly settings: boolean;
  readonly columns: readonly string[];
  readonly rows: readonly Merged<Row>[];
}

export interface MergedSection {
  readonly key: string;
  readonly status: Status;
  readonly title: string;
  readonly tables: readonly MergedTable[];
}

export interface FileStats {
  readonly files: number;
  readonly added: number;
  readonly removed: number;
}

export interface MergedController extends Merged<ControllerFacts> {
  readonly services: readonly Merged<ControllerFacts['services'][number]>[];
  readonly roles: readonly Merged<Row>[];
  /** mhc diff's changes in this node's bundle */
  readonly files?: FileStats;
}

export interface MergedPorts extends Merged<PortsFacts> {
  readonly rows: readonly Merged<Row>[];
}

export interface Change {
  readonly status: 'added' | 'removed' | 'changed' | 'moved';
  readonly text: string;
  /** a #fragment of the report */
  readonly href?: string;
}

export interface MergedFacts {
  /** two sides compared */
  readonly two: boolean;
  readonly now: Facts;
  readonly was?: Facts;
  readonly controllers: readonly MergedController[];
  readonly arbitrator: readonly Merged<NonNullable<Facts['arbitrator']>>[];
  readonly compute: readonly Merged<ComputeGroup>[];
  readonly computeFiles?: FileStats;
  readonly services: MergedTable;
  readonly sections: readonly MergedSection[];
  readonly ports: readonly MergedPorts[];
  readonly findings: readonly Merged<FindingFacts>[];
  readonly changes: readonly Change[];
  readonly diff?: TreeDiff;
}

const mergeTable = (m: Merged<Table>, two: boolean): MergedTable => ({
  key: m.key,
  status: m.status,
  title: current(m).title,
  settings: !!current(m).settings,
  columns: current(m).columns,
  rows: children(m, two, (t) => t.rows),
});

function mergeSections(was: readonly Section[] | undefined, now: readonly Section[], two: boolean): MergedSection[] {
  return mergeKeyed(was, now).map((s) => ({
    key: s.key,
    status: s.status,
    title: current(s).title,
    tables: children(s, two, (x) => x.tables).map((t) => mergeTable(t, two)),
  }));
}

function fileStats(diff: TreeDiff | undefined): Map<string, FileStats> {
  const out = new Map<string, FileStats>();
  for (const f of diff?.files ?? []) {
    const s = out.get(f.bundle) ?? { files: 0, added: 0, removed: 0 };
    out.set(f.bundle, { files: s.files + 1, added: s.added + f.added, removed: s.removed + f.removed });
  }
  return out;
}

function mergeControllers(was: Facts | undefined, now: Facts, files: Map<string, FileStats>): MergedController[] {
  const two = !!was;
  return mergeKeyed(was?.controllers, now.controllers).map((c) => {
    const f = files.get(c.key);
    return {
      ...c,
      status: c.status === 'same' && f ? 'changed' : c.status,
      services: children(c, two, (x) => x.services),
      roles: children(c, two, (x) => x.roles),
      ...(f ? { files: f } : {}),
    };
  });
}

export function mergeFacts(now: Facts, was?: Facts, diff?: TreeDiff): MergedFacts {
  const two = !!was;
  const files = fileStats(diff);
  const computeFiles = files.get('compute');
  const merged = {
    two,
    now,
    ...(was ? { was } : {}),
    controllers: mergeControllers(was, now, files),
    arbitrator: mergeKeyed(was ? (was.arbitrator ? [was.arbitrator] : []) : undefined, now.arbitrator ? [now.arbitrator] : []),
    compute: mergeKeyed(was?.compute, now.compute),
    ...(computeFiles ? { computeFiles } : {}),
    services: mergeTable(mergeKeyed(was ? [was.services] : undefined, [now.services])[0]!, two),
    sections: mergeSections(was?.sections, now.sections, two),
    ports: mergeKeyed(was?.ports, now.ports).map((p) => ({ ...p, rows: children(p, two, (x) => x.rows) })),
    findings: mergeKeyed(was?.findings, now.findings),
    ...(diff ? { diff } : {}),
  };
  return { ...merged, changes: was ? summarize(was, now, merged, diff) : [] };
}

// --- the summary: what the change adds, removes and moves -------------------------------------

const list = (xs: readonly string[]) => xs.join(', ');
const minus = (a: readonly string[], b: readonly string[]) => {
  const s = new Set(b);
  return a.filter((x) => !s.has(x));
};
/** the ids of a node's card and of its ports table (the renderer uses the same functions) */
export const nodeAnchor = (bundle: string): string => anchor('node', bundle);
export const portsAnchor = (key: string): string => anchor('ports', key);
const nodeHref = (h: string) => `#${nodeAnchor(h)}`;

function nodeChanges(was: Facts, now: Facts, m: Pick<MergedFacts, 'controllers' | 'arbitrator'>): Change[] {
  const out: Change[] = [];
  const nodes = [...m.controllers.map((c) => ['controller', c] as const), ...m.arbitrator.map((a) => ['Galera arbitrator', a] as const)];
  for (const [what, c] of nodes) {
    if (c.status === 'added') out.push({ status: 'added', text: `${what} ${c.key} added (${c.now!.ip})`, href: nodeHref(c.key) });
    if (c.status === 'removed') out.push({ status: 'removed', text: `${what} ${c.key} removed`, href: nodeHref(c.key) });
  }
  const added = minus(now.computeNodes, was.computeNodes);
  const removed = minus(was.computeNodes, now.computeNodes);
  if (added.length) out.push({ status: 'added', text: `${added.length} compute node${added.length === 1 ? '' : 's'} added: ${compress(added)}`, href: '#compute' });
  if (removed.length) out.push({ status: 'removed', text: `${removed.length} compute node${removed.length === 1 ? '' : 's'} removed: ${compress(removed)}`, href: '#compute' });
  return out;
}

function serviceChanges(was: Facts, now: Facts): Change[] {
  const hosts = (f: Facts, s: string) => f.controllers.filter((c) => c.services.some((x) => x.key === s)).map((c) => c.hostname);
  const out: Change[] = [];
  for (const s of SERVICES) {
    const gained = minus(hosts(now, s), hosts(was, s));
    const lost = minus(hosts(was, s), hosts(now, s));
    const name = SERVICE_LABEL[s];
    if (gained.length && lost.length) out.push({ status: 'moved', text: `${name} moved from ${list(lost)} to ${list(gained)}`, href: '#services' });
    else if (gained.length) out.push({ status: 'added', text: `${name} added on ${list(gained)}`, href: '#services' });
    else if (lost.length) out.push({ status: 'removed', text: `${name} removed from ${list(lost)}`, href: '#services' });
  }
  return out;
}

function rowChange(where: string, columns: readonly string[], r: Merged<Row>, settings: boolean, href: string): Change | undefined {
  if (r.status === 'same') return undefined;
  if (r.status !== 'changed') return { status: r.status, text: `${where}: ${r.key} ${r.status}`, href };
  const cells = r.now!.cells.map((c, i) => [columns[i] ?? '', cellText(r.was!.cells[i]), cellText(c)] as const).filter(([, a, b]) => a !== b);
  const what = settings ? cells.map(([, a, b]) => `${a} → ${b}`) : cells.map(([col, a, b]) => `${col} ${a || '(none)'} → ${b || '(none)'}`);
  return { status: r.now!.move ? 'moved' : 'changed', text: `${where}: ${r.key}: ${what.join('; ')}`, href };
}

function sectionChanges(sections: readonly MergedSection[]): Change[] {
  const out: Change[] = [];
  for (const s of sections) {
    const href = `#ha-${s.key}`;
    if (s.status === 'added' || s.status === 'removed') {
      out.push({ status: s.status, text: `${s.title} ${s.status}`, href });
      continue;
    }
    for (const t of s.tables) {
      const where = t.settings ? s.title : `${s.title}, ${t.title}`;
      for (const r of t.rows) {
        const c = rowChange(where, t.columns, r, t.settings, href);
        if (c) out.push(c);
      }
    }
  }
  return out;
}

function portChanges(ports: readonly MergedPorts[]): Change[] {
  const out: Change[] = [];
  const rule = (r: Row) => `${cellText(r.cells[0])} ${cellText(r.cells[1])}`;
  // a node added or removed whole is one change of its own (nodeChanges)
  for (const p of ports.filter((x) => x.status === 'same' || x.status === 'changed')) {
    const opened = p.rows.filter((r) => r.status === 'added').map((r) => rule(r.now!));
    const closed = p.rows.filter((r) => r.status === 'removed').map((r) => rule(r.was!));
    const peers = p.rows.filter((r) => r.status === 'changed').length;
    const what = [opened.length && `opens ${list(opened)}`, closed.length && `closes ${list(closed)}`, peers && `${peers} rule${peers === 1 ? '' : 's'} with other peers`].filter(Boolean);
    if (what.length)
      out.push({
        status: opened.length && !closed.length ? 'added' : closed.length && !opened.length ? 'removed' : 'changed',
        text: `firewall of ${p.key}: ${what.join('; ')}`,
        href: `#${portsAnchor(p.key)}`,
      });
  }
  return out;
}

function findingChanges(findings: readonly Merged<FindingFacts>[]): Change[] {
  return findings
    .filter((f) => f.status === 'added' || f.status === 'removed')
    .map((f) => {
      const x = current(f);
      return { status: f.status === 'added' ? 'added' : 'removed', text: `${f.status === 'added' ? 'new' : 'resolved'} ${x.severity} ${x.code}: ${x.message}`, href: '#findings' } as const;
    });
}

function fileChanges(diff: TreeDiff | undefined): Change[] {
  if (!diff) return [];
  if (diff.identical) return [];
  const s = diff.stats;
  const n = diff.bundlesChanged.length + diff.bundlesAdded.length + diff.bundlesRemoved.length;
  return [
    {
      status: 'changed',
      text: `files: ${s.filesChanged} changed, ${s.filesAdded} added, ${s.filesRemoved} removed in ${n} bundle${n === 1 ? '' : 's'} (+${s.linesAdded} −${s.linesRemoved} lines)`,
      href: '#files',
    },
  ];
}

function summarize(was: Facts, now: Facts, m: Omit<MergedFacts, 'changes'>, diff: TreeDiff | undefined): Change[] {
  return [...nodeChanges(was, now, m), ...serviceChanges(was, now), ...sectionChanges(m.sections), ...portChanges(m.ports), ...findingChanges(m.findings), ...fileChanges(diff)];
}
