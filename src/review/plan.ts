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
  /** the bundle path of the file ("files/etc/…") */
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

export interface Plan {
  readonly from: string;
  readonly to: string;
  /** the nodes with a step, in the order to run them: compute nodes first, then the controllers, the first-ranked (VIP owner, primary slurmctld) last */
  readonly nodes: readonly PlanNode[];
  /** bundles only one side has: a node added or removed */
  readonly membership: readonly { readonly bundle: string; readonly change: 'added' | 'removed' }[];
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

/** The rule of a setting named by settingsOf: its key's ("NodeName=cn1" is NodeName's). */
const ruleOf = (rules: Readonly<Record<string, SettingRule>>, k: string): SettingRule | undefined => rules[k] ?? rules[k.split('=')[0]!];

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

/** The order to run the nodes in: compute bundles first, then the controllers from the last-ranked to the first. */
function nodeOrder(a: Side, b: Side, bundles: readonly string[]): string[] {
  const ranked = ((b.clusterJson ?? a.clusterJson) as { rankedControllers?: unknown } | undefined)?.rankedControllers;
  const rank = new Map((Array.isArray(ranked) ? (ranked as unknown[]) : []).map((h, i) => [String(h), i]));
  const role = (x: string) => (b.bundles.get(x) ?? a.bundles.get(x))?.role;
  const key = (x: string): [number, number, string] => [role(x) === 'compute' ? 0 : 1, -(rank.get(x) ?? Number.MAX_SAFE_INTEGER), x];
  return [...bundles].sort((x, y) => {
    const [p, q] = [key(x), key(y)];
    return p[0] - q[0] || p[1] - q[1] || (p[2] < q[2] ? -1 : p[2] > q[2] ? 1 : 0);
  });
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
  const nodes: PlanNode[] = nodeOrder(m.a, m.b, [...per.keys()]).map((bundle) => ({
    bundle,
    role: m.b.bundles.get(bundle)!.role,
    steps: [...per.get(bundle)!.entries()].sort(([x], [y]) => phase(x) - phase(y)).map(([service, reasons]) => stepOf(service, reasons)),
  }));
  const membership = [...d.bundlesAdded.map((n) => ({ bundle: n.bundle, change: 'added' as const })), ...d.bundlesRemoved.map((n) => ({ bundle: n.bundle, change: 'removed' as const }))];
  const notes = [...d.notes];
  if (membership.length)
    notes.push(
      'a node added or removed is a membership change (GlusterFS bricks, Galera, Redis, keepalived peers, SlurmctldHost or slurm.conf nodes): this plan lists it, it does not order its steps yet',
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
