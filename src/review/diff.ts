// The structured diff of two sides (pure): bundles added and removed, and per bundle file the
// change (added / removed / changed content / changed mode or owner) with unified hunks.
// Identical changes on several bundles are grouped, so a slurm.conf change on every node is
// shown once with the node list. manifest.json, SHA256SUMS and cluster.json are bookkeeping
// (hashes and the input's sha256 move on every change); they are not diffed line by line.
import { modeString } from '../compiler/bundle.js';
import { bundleLabel, type Bundle, type Side, type SideFile } from './side.js';
import { hunks, splitLines, type Hunk } from './unified.js';

export type Status = 'added' | 'removed' | 'changed';

export interface MetaChange {
  readonly field: 'mode' | 'owner' | 'group';
  readonly from: string;
  readonly to: string;
}

export interface FileChange {
  readonly bundle: string;
  /** bundle-relative path, e.g. files/etc/slurm/slurm.conf */
  readonly path: string;
  readonly status: Status;
  readonly meta: readonly MetaChange[];
  readonly hunks: readonly Hunk[];
  readonly added: number;
  readonly removed: number;
}

export interface NodeRef {
  readonly bundle: string;
  /** "server1" or "compute (node[001-004])" */
  readonly label: string;
}

/** One change shared by several bundles (same path, same status, same hunks, same meta). */
export interface ChangeGroup {
  readonly path: string;
  readonly status: Status;
  readonly bundles: readonly NodeRef[];
  readonly meta: readonly MetaChange[];
  readonly hunks: readonly Hunk[];
  readonly added: number;
  readonly removed: number;
}

export interface SideInfo {
  readonly label: string;
  readonly kind: 'yaml' | 'tree';
  readonly cluster?: string;
  readonly mhcVersion?: string;
  readonly secretsEmbedded: boolean;
}

export interface TreeDiff {
  readonly a: SideInfo;
  readonly b: SideInfo;
  readonly identical: boolean;
  readonly bundlesAdded: readonly NodeRef[];
  readonly bundlesRemoved: readonly NodeRef[];
  /** bundles with at least one change, in bundle order */
  readonly bundlesChanged: readonly NodeRef[];
  readonly files: readonly FileChange[];
  readonly groups: readonly ChangeGroup[];
  readonly stats: {
    readonly filesAdded: number;
    readonly filesRemoved: number;
    readonly filesChanged: number;
    readonly linesAdded: number;
    readonly linesRemoved: number;
  };
  /** notes for the header: version differences, masked secrets */
  readonly notes: readonly string[];
}

const byName = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

function info(s: Side): SideInfo {
  return {
    label: s.label,
    kind: s.kind,
    ...(s.cluster ? { cluster: s.cluster } : {}),
    ...(s.mhcVersion ? { mhcVersion: s.mhcVersion } : {}),
    secretsEmbedded: s.secretsEmbedded,
  };
}

function metaChanges(x: SideFile, y: SideFile): MetaChange[] {
  const out: MetaChange[] = [];
  if (x.mode !== y.mode)
    out.push({
      field: 'mode',
      from: modeString(x.mode),
      to: modeString(y.mode),
    });
  if (x.owner !== y.owner) out.push({ field: 'owner', from: x.owner, to: y.owner });
  if (x.group !== y.group) out.push({ field: 'group', from: x.group, to: y.group });
  return out;
}

function count(hs: readonly Hunk[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const h of hs)
    for (const l of h.lines)
      if (l.kind === '+') added++;
      else if (l.kind === '-') removed++;
  return { added, removed };
}

function fileChange(bundle: string, path: string, x: SideFile | undefined, y: SideFile | undefined, context: number): FileChange | undefined {
  const status: Status = !x ? 'added' : !y ? 'removed' : 'changed';
  const hs = hunks(x ? splitLines(x.content) : [], y ? splitLines(y.content) : [], context);
  const meta = x && y ? metaChanges(x, y) : [];
  if (status === 'changed' && !hs.length && !meta.length) return undefined;
  return { bundle, path, status, meta, hunks: hs, ...count(hs) };
}

const ref = (b: Bundle): NodeRef => ({ bundle: b.name, label: bundleLabel(b) });

export interface DiffOptions {
  /** lines of context around each change (default 3) */
  readonly context?: number;
  /** extra notes for the header (e.g. masked secrets) */
  readonly notes?: readonly string[];
}

export function diffSides(a: Side, b: Side, opts: DiffOptions = {}): TreeDiff {
  const context = opts.context ?? 3;
  // controllers first (by name), then the compute bundle
  const isCompute = (n: string) => (a.bundles.get(n) ?? b.bundles.get(n))!.role === 'compute';
  const names = [...new Set([...a.bundles.keys(), ...b.bundles.keys()])].sort((x, y) => Number(isCompute(x)) - Number(isCompute(y)) || byName(x, y));
  const files: FileChange[] = [];
  const added: NodeRef[] = [];
  const removed: NodeRef[] = [];
  const changed: NodeRef[] = [];
  for (const n of names) {
    const x = a.bundles.get(n);
    const y = b.bundles.get(n);
    if (!x) added.push(ref(y!));
    if (!y) removed.push(ref(x!));
    const paths = [...new Set([...(x?.files.keys() ?? []), ...(y?.files.keys() ?? [])])].sort(byName);
    let any = false;
    for (const p of paths) {
      const c = fileChange(n, p, x?.files.get(p), y?.files.get(p), context);
      if (c) {
        files.push(c);
        any = true;
      }
    }
    if (any) changed.push(ref((y ?? x)!));
  }
  // group identical changes: same path, status, meta and hunks
  const groups = new Map<string, { first: FileChange; bundles: NodeRef[] }>();
  const labels = new Map(changed.map((r) => [r.bundle, r]));
  for (const c of files) {
    const key = JSON.stringify([c.path, c.status, c.meta, c.hunks]);
    const g = groups.get(key);
    if (g) g.bundles.push(labels.get(c.bundle)!);
    else groups.set(key, { first: c, bundles: [labels.get(c.bundle)!] });
  }
  const grouped: ChangeGroup[] = [...groups.values()].map(({ first, bundles }) => ({
    path: first.path,
    status: first.status,
    bundles,
    meta: first.meta,
    hunks: first.hunks,
    added: first.added,
    removed: first.removed,
  }));
  // order: groups touching more bundles first (what every node gets), then by first bundle, then path
  const order = new Map(names.map((n, i) => [n, i]));
  grouped.sort((p, q) => q.bundles.length - p.bundles.length || order.get(p.bundles[0]!.bundle)! - order.get(q.bundles[0]!.bundle)! || byName(p.path, q.path));

  const notes: string[] = [...(opts.notes ?? [])];
  if (a.mhcVersion && b.mhcVersion && a.mhcVersion !== b.mhcVersion) notes.push(`built by different mhc versions: ${a.mhcVersion} (a) and ${b.mhcVersion} (b)`);
  if (a.cluster && b.cluster && a.cluster !== b.cluster) notes.push(`different clusters: ${a.cluster} (a) and ${b.cluster} (b)`);
  const stats = {
    filesAdded: files.filter((f) => f.status === 'added').length,
    filesRemoved: files.filter((f) => f.status === 'removed').length,
    filesChanged: files.filter((f) => f.status === 'changed').length,
    linesAdded: files.reduce((s, f) => s + f.added, 0),
    linesRemoved: files.reduce((s, f) => s + f.removed, 0),
  };
  return {
    a: info(a),
    b: info(b),
    identical: files.length === 0 && added.length === 0 && removed.length === 0,
    bundlesAdded: added,
    bundlesRemoved: removed,
    bundlesChanged: changed,
    files,
    groups: grouped,
    stats,
    notes,
  };
}
