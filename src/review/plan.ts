// `mhc plan OLD NEW` (pure): what bringing a running cluster from OLD's bundles to NEW's takes,
// node by node in the order to run it. Each changed file's service and change action come from
// NEW's manifest (OLD's for a file NEW drops), which the service's descriptor wrote; a file whose
// settings change apart (60-galera.cnf, an instance's redis.conf) is decided per changed setting
// from the descriptor's settings(). A file or setting with no rule is a restart of its service,
// and the plan says so. Values are never shown: embedded secrets are masked first, and a setting
// appears by its name only.
import { referencesFor } from './compare.js';
import { diffSides, type FileChange } from './diff.js';
import { maskSecrets } from './mask.js';
import type { Bundle, ManifestEntry, Side } from './side.js';
import { CHANGE_ACTIONS, type ChangeAction, type SettingRule } from '../emitters/service.js';
import { services } from '../emitters/services.js';

export type Verb = 'nothing' | 'live change' | 'reload' | 'restart' | 'membership';
const VERB: Record<ChangeAction, Verb> = { none: 'nothing', runtime: 'live change', reload: 'reload', restart: 'restart' };

/** One reason for a step: a file, or one setting of it, and the rule that decides it. */
export interface PlanReason {
  /** "files/etc/slurm/slurm.conf", or "files/etc/mysql/mariadb.conf.d/60-galera.cnf: wsrep_slave_threads" */
  readonly what: string;
  /** the bundle path of the file ("files/etc/…"); '' for nodes added or removed */
  readonly path: string;
  /** the setting, when the file is decided per setting */
  readonly setting?: string;
  readonly action: ChangeAction;
  readonly rule: string;
}

export interface PlanStep {
  /** the service's key; "mhc" for the scripts and files only mhc reads */
  readonly service: string;
  readonly verb: Verb;
  readonly reasons: readonly PlanReason[];
  readonly disruption: string;
  /** what must hold before the step starts (and again after it, before the next node) */
  readonly gates: readonly string[];
}

export interface PlanNode {
  readonly bundle: string;
  readonly role: 'controller' | 'compute';
  readonly steps: readonly PlanStep[];
}

/** A node added or removed: a controller (its bundle) or a compute node (by hostname, from cluster.json). */
export interface Membership {
  readonly node: string;
  readonly role: 'controller' | 'compute';
  readonly change: 'added' | 'removed';
}

export interface Plan {
  readonly from: string;
  readonly to: string;
  /**
   * the nodes with a step, in the order to run them: compute nodes first (last when compute nodes
   * are added or removed), then the controllers, the first-ranked (VIP owner, primary slurmctld) last
   */
  readonly nodes: readonly PlanNode[];
  /** controllers (bundles only one side has) and compute nodes added or removed */
  readonly membership: readonly Membership[];
  /** anything to do at all: a step that is not "nothing", or a membership change */
  readonly changes: boolean;
  readonly notes: readonly string[];
}

const MHC_RULE = "mhc: a script or a file only mhc's scripts read; the next run reads it afresh";
const NO_RULE = 'mhc: no rule for this change (a tree built by an older mhc records none): treated as a restart of its service';
const NO_SETTING_RULE = 'mhc: no rule for this setting: treated as a restart of its service';

const strongest = (as: readonly ChangeAction[]): ChangeAction => as.reduce((a, b) => (CHANGE_ACTIONS.indexOf(b) > CHANGE_ACTIONS.indexOf(a) ? b : a), 'none');

/**
 * `key value` or `key = value` lines of a config file (comments, sections and blank lines left
 * out): key → value. A key on several lines (slurm.conf's NodeName, PartitionName) is one setting
 * per line, named by the key and the value's first word: "NodeName=cn[01-04]".
 */
export function settingsOf(text: string): Map<string, string> {
  const lines: [string, string][] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#') || t.startsWith(';') || t.startsWith('[')) continue;
    const m = /^([^\s=]+)\s*(?:=\s*|\s+)?(.*)$/.exec(t);
    if (m) lines.push([m[1]!, m[2]!]);
  }
  const count = new Map<string, number>();
  for (const [k] of lines) count.set(k, (count.get(k) ?? 0) + 1);
  return new Map(lines.map(([k, v]) => [count.get(k)! > 1 ? `${k}=${v.split(/\s/)[0]}` : k, v]));
}

/** The rule of a setting named by settingsOf: its key's ("NodeName=cn1" is NodeName's), else the file's "*" (every key alike). */
const ruleOf = (rules: Readonly<Record<string, SettingRule>>, k: string): SettingRule | undefined => rules[k] ?? rules[k.split('=')[0]!] ?? rules['*'];

/** The keys whose values differ, in NEW's order then OLD's (a key dropped counts). */
function changedKeys(a: string, b: string): string[] {
  const x = settingsOf(a);
  const y = settingsOf(b);
  return [...new Set([...y.keys(), ...x.keys()])].filter((k) => x.get(k) !== y.get(k));
}

const entryOf = (b: Bundle | undefined, path: string): ManifestEntry | undefined => b?.manifest?.files?.find((f) => f.path === path);

/** The reasons one changed file gives its service on one node. */
function reasonsFor(c: FileChange, a: Side, b: Side): { service: string; reasons: PlanReason[] } {
  const oldB = a.bundles.get(c.bundle);
  const newB = b.bundles.get(c.bundle);
  const e = entryOf(newB, c.path) ?? entryOf(oldB, c.path);
  if (!c.path.startsWith('files/') || !e) return { service: 'mhc', reasons: [{ what: c.path, path: c.path, action: 'none', rule: MHC_RULE }] };
  const service = e.service ?? 'mhc';
  const d = services().find((s) => s.key === service);
  const rules = e.dest && d ? d.settings(e.dest) : undefined;
  if (rules && c.status === 'changed' && c.meta.length === 0) {
    const keys = changedKeys(oldB?.files.get(c.path)?.content ?? '', newB?.files.get(c.path)?.content ?? '');
    if (!keys.length) return { service, reasons: [{ what: c.path, path: c.path, action: 'none', rule: 'mhc: only comments changed' }] };
    return {
      service,
      reasons: keys.map((k) => {
        const r = ruleOf(rules, k);
        return { what: `${c.path}: ${k}`, path: c.path, setting: k, action: r?.action ?? 'restart', rule: r?.rule ?? NO_SETTING_RULE };
      }),
    };
  }
  if (!e.change || !(CHANGE_ACTIONS as readonly string[]).includes(e.change)) return { service, reasons: [{ what: c.path, path: c.path, action: 'restart', rule: NO_RULE }] };
  return { service, reasons: [{ what: c.path, path: c.path, action: e.change as ChangeAction, rule: e.change_rule ?? NO_RULE }] };
}

/** What a step disrupts when its service's descriptor does not say (mhc's own files, a service without day2). */
const FALLBACK_DISRUPTION: Record<ChangeAction, (service: string) => string> = {
  none: () => 'none',
  runtime: () => 'none: applied to the running node',
  reload: (s) => `${s}'s units reload on this node`,
  restart: (s) => `${s}'s units restart on this node`,
};

function stepOf(service: string, reasons: readonly PlanReason[]): PlanStep {
  const action = strongest(reasons.map((r) => r.action));
  const d = services().find((s) => s.key === service);
  const day2 = d?.day2;
  return {
    service,
    verb: VERB[action],
    reasons,
    disruption: day2?.disruption[action] ?? FALLBACK_DISRUPTION[action](service),
    gates: action === 'none' ? [] : (day2?.gates ?? []),
  };
}

/**
 * The order to run the nodes in: compute bundles first, then the controllers from the last-ranked
 * to the first. `computeLast`: compute nodes added or removed: the compute bundles after the
 * controllers (a configless slurmd fetches the node list from slurmctld when it restarts).
 */
function nodeOrder(a: Side, b: Side, bundles: readonly string[], computeLast: boolean): string[] {
  const ranked = ((b.clusterJson ?? a.clusterJson) as { rankedControllers?: unknown } | undefined)?.rankedControllers;
  const rank = new Map((Array.isArray(ranked) ? (ranked as unknown[]) : []).map((h, i) => [String(h), i]));
  const role = (x: string) => (b.bundles.get(x) ?? a.bundles.get(x))?.role;
  // compute first (or last), the controllers both sides have, then the controllers joining
  const group = (x: string) => (role(x) === 'compute' ? (computeLast ? 3 : 0) : a.bundles.has(x) ? 1 : 2);
  const key = (x: string): [number, number, string] => [group(x), -(rank.get(x) ?? Number.MAX_SAFE_INTEGER), x];
  return [...bundles].sort((x, y) => {
    const [p, q] = [key(x), key(y)];
    return p[0] - q[0] || p[1] - q[1] || (p[2] < q[2] ? -1 : p[2] > q[2] ? 1 : 0);
  });
}

/** The compute nodes' hostnames in a side's cluster.json; undefined when it has none to read. */
function computeNames(s: Side): string[] | undefined {
  const c = (s.clusterJson as { computeNodes?: unknown } | undefined)?.computeNodes;
  return Array.isArray(c) ? c.map((n) => String((n as { hostname?: unknown }).hostname)) : undefined;
}

/** Compute nodes only one side has (both sides must name theirs). */
function computeMembership(a: Side, b: Side): Membership[] {
  const [x, y] = [computeNames(a), computeNames(b)];
  if (!x || !y) return [];
  return [
    ...y.filter((n) => !x.includes(n)).map((node) => ({ node, role: 'compute' as const, change: 'added' as const })),
    ...x.filter((n) => !y.includes(n)).map((node) => ({ node, role: 'compute' as const, change: 'removed' as const })),
  ];
}

const listed = (ms: readonly Membership[]) => ms.map((m) => `${m.node} ${m.change}`).join(', ');

/**
 * With compute nodes or controllers added or removed, Slurm's steps follow its procedure (the slurm
 * descriptor's computeMembership): on a controller a membership step, on a compute bundle a
 * restart of slurmd.
 */
function withSlurmMembership(node: PlanNode, cm: readonly Membership[], ctl: readonly Membership[]): PlanNode {
  const d = services().find((s) => s.key === 'slurm')?.day2;
  const rule = d?.computeMembership;
  if ((!cm.length && !ctl.length) || !rule) return node;
  const why: PlanReason[] = [
    ...(cm.length ? [{ what: `compute nodes: ${listed(cm)}`, path: '', action: 'restart' as const, rule: rule.rule }] : []),
    ...(ctl.length && d.controllerMembership ? [{ what: `controllers: ${listed(ctl)}`, path: '', action: 'restart' as const, rule: d.controllerMembership.rule }] : []),
  ];
  const old = node.steps.find((s) => s.service === 'slurm');
  if (!old && node.role === 'controller') return node; // a controller without Slurm
  const step: PlanStep =
    node.role === 'controller'
      ? { service: 'slurm', verb: 'membership', reasons: [...why, ...old!.reasons], disruption: rule.controller, gates: rule.gates }
      : { service: 'slurm', verb: 'restart', reasons: [...why, ...(old?.reasons ?? [])], disruption: rule.compute, gates: rule.gates.slice(0, 1) };
  const steps = old ? node.steps.map((s) => (s === old ? step : s)) : [step, ...node.steps];
  return { ...node, steps };
}

/** The steps of a controller joining: every service of its bundle joins, in phase order (one start_multihead.sh run). */
function joinSteps(b: Bundle, node: string): PlanStep[] {
  const have = new Set((b.manifest?.files ?? []).map((f) => f.service));
  return services()
    .filter((s) => have.has(s.key))
    .map((s) => {
      const m = s.day2?.controllerMembership;
      return {
        service: s.key,
        verb: 'membership' as const,
        reasons: [{ what: `${node} added`, path: '', action: 'restart' as const, rule: m?.rule ?? `mhc: ${s.label} starts as on day 1 (start_multihead.sh phase ${s.phase})` }],
        disruption: m?.join ?? `${s.label} starts on the new node; the others are not touched`,
        gates: s.day2?.gates ?? [],
      };
    });
}

/**
 * The last controller both sides have, when controllers are removed: the GlusterFS and Redis steps
 * take the nodes leaving out of the volume and the cluster (membership), and a last step stops the
 * nodes leaving (stop_multihead.sh --disable there, over ssh).
 */
function withLeaving(node: PlanNode, removed: readonly Membership[]): PlanNode {
  if (!removed.length) return node;
  const what = `controllers: ${listed(removed)}`;
  const steps = [...node.steps];
  for (const d of services()) {
    const m = d.day2?.controllerMembership;
    if (!m?.reconciles) continue;
    const i = steps.findIndex((s) => s.service === d.key);
    if (i < 0) continue; // a service this node does not run
    const old = steps[i]!;
    steps[i] = { ...old, verb: 'membership', reasons: [{ what, path: '', action: 'restart', rule: m.rule }, ...old.reasons], disruption: m.leave ?? old.disruption, gates: d.day2?.gates ?? [] };
  }
  const galera = services().find((s) => s.key === 'mariadb')?.day2?.controllerMembership?.leave;
  steps.push({
    service: 'mhc',
    verb: 'membership',
    reasons: [
      { what, path: '', action: 'restart', rule: 'mhc: a node removed stops every service and disables its units (stop_multihead.sh --disable there, over ssh), once the cluster no longer needs it' },
    ],
    disruption: `every service still running on ${removed.map((m) => m.node).join(' and ')} stops, its units disabled${galera ? `; Galera: ${galera}` : ''}; the VIP stays where it is (a BACKUP stops)`,
    gates: ['every controller healthy (status_multihead.sh --all-nodes)'],
  });
  return { ...node, steps };
}

export function planSides(a: Side, b: Side, mhcVersion: string): Plan {
  const m = maskSecrets(a, b, referencesFor(a, mhcVersion), referencesFor(b, mhcVersion));
  const d = diffSides(m.a, m.b, { context: 0 });
  const per = new Map<string, Map<string, PlanReason[]>>();
  for (const c of d.files) {
    if (!m.a.bundles.has(c.bundle) || !m.b.bundles.has(c.bundle)) continue; // membership, below
    const { service, reasons } = reasonsFor(c, m.a, m.b);
    const node = per.get(c.bundle) ?? new Map<string, PlanReason[]>();
    node.set(service, [...(node.get(service) ?? []), ...reasons]);
    per.set(c.bundle, node);
  }
  // a node's steps in phase order; mhc's own files last
  const phase = (k: string) => {
    const i = services().findIndex((s) => s.key === k);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  const cm = computeMembership(m.a, m.b);
  const bundles: Membership[] = [
    ...d.bundlesAdded.map((n) => ({ node: n.bundle, role: m.b.bundles.get(n.bundle)!.role, change: 'added' as const })),
    ...d.bundlesRemoved.map((n) => ({ node: n.bundle, role: m.a.bundles.get(n.bundle)!.role, change: 'removed' as const })),
  ];
  const ctl = bundles.filter((x) => x.role === 'controller');
  const joining = ctl.filter((x) => x.change === 'added').map((x) => x.node);
  const removed = ctl.filter((x) => x.change === 'removed');
  // every compute bundle both sides have restarts its slurmd when nodes come or go, changed files or not
  if (cm.length || ctl.length) for (const [bundle, x] of m.b.bundles) if (x.role === 'compute' && m.a.bundles.has(bundle) && !per.has(bundle)) per.set(bundle, new Map());
  for (const j of joining) per.set(j, new Map());
  const order = nodeOrder(m.a, m.b, [...per.keys()], cm.length + ctl.length > 0);
  const lastKept = order.filter((x) => m.b.bundles.get(x)!.role === 'controller' && !joining.includes(x)).at(-1);
  const nodes: PlanNode[] = order.map((bundle) => {
    const role = m.b.bundles.get(bundle)!.role;
    if (joining.includes(bundle)) return { bundle, role, steps: joinSteps(m.b.bundles.get(bundle)!, bundle) };
    const node = withSlurmMembership({ bundle, role, steps: [...per.get(bundle)!.entries()].sort(([x], [y]) => phase(x) - phase(y)).map(([service, reasons]) => stepOf(service, reasons)) }, cm, ctl);
    return bundle === lastKept ? withLeaving(node, removed) : node;
  });
  const membership = [...bundles, ...cm];
  const notes = [...d.notes];
  if (joining.length)
    notes.push(
      `a controller added (${joining.join(', ')}) joins last of the controllers, by its own apply_multihead.sh (one start_multihead.sh --membership run: a member probes it into the GlusterFS pool, Galera sends it a full state transfer, its Redis instances join the cluster and take their share of the slots); it needs its secrets and root ssh to and from the other controllers first (README "Deploy", steps 1 and 3)`,
    );
  if (joining.length && removed.length)
    notes.push("controllers added and removed in one plan: apply_multihead.sh refuses it (the replica counts in between would be neither side's): add in one plan, remove in the next");
  if (removed.length)
    notes.push(
      `a controller removed (${removed.map((x) => x.node).join(', ')}) is taken out by the last controller's steps (${lastKept ?? 'none'}): its brick and its Redis instances first, its slurmctld before the others restart, then stop_multihead.sh --disable there over ssh (it must answer ssh until then)`,
    );
  if (cm.some((x) => x.change === 'added'))
    notes.push(
      `a compute node added (${cm
        .filter((x) => x.change === 'added')
        .map((x) => x.node)
        .join(', ')}) is set up with start_compute.sh of the new compute bundle once the controllers are done`,
    );
  if (cm.some((x) => x.change === 'removed'))
    notes.push(
      `a compute node removed (${cm
        .filter((x) => x.change === 'removed')
        .map((x) => x.node)
        .join(', ')}) is drained by the last controller's step; once the controllers are done, stop it: systemctl disable --now slurmd munge`,
    );
  notes.push('secret rotations are not in the bundles (they hold names; the values are in secrets.env): the plan does not see them');
  return {
    from: a.label,
    to: b.label,
    nodes,
    membership,
    changes: membership.length > 0 || nodes.some((n) => n.steps.some((s) => s.verb !== 'nothing')),
    notes,
  };
}
