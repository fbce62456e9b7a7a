// The facts `mhc report` shows about one side (a cluster YAML or a built tree), as keyed rows:
// what runs where, the roles each controller holds, compute nodes folded into groups, the ports
// and the audit findings. Keys let two sides be compared item by item (report-merge.ts). Pure:
// everything comes from the Model, the emitters' own helpers (who is a brick, which instance
// backs which master, SlurmctldHost order) and the audit report (findings, the port table).
import { count } from '../compiler/hostlist.js';
import { descriptor } from '../emitters/services.js';
import { runs, SERVICES, type Compute, type Controller, type Model, type ServiceKey } from '../compiler/model.js';
import { mountsGluster, replicaSets } from '../emitters/glusterfs.js';
import { clusterPairs, initialMaster } from '../emitters/redis.js';
import { groupBy, nodeAttributes } from '../emitters/slurm.js';
import type { AuditReport, Finding } from './audit.js';
import { locationText } from './audit-format.js';
import type { NodePorts, PortRule } from './ports.js';
import { haSections, type Section } from './report-sections.js';

/** A table cell: text, or text linking to the node (bundle) it names. */
export type Cell = string | { readonly text: string; readonly node: string };

export interface Row {
  readonly key: string;
  readonly cells: readonly Cell[];
  /** a change of this row moves a role from one node to another (the VIP owner, the primary slurmctld) */
  readonly move?: boolean;
}

export interface Table {
  readonly key: string;
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly Row[];
  /** two columns, setting and value */
  readonly settings?: boolean;
}

export interface ControllerFacts {
  readonly key: string;
  readonly hostname: string;
  readonly ip: string;
  /** the services it runs, each with a short tag of its role ("#1 VIP", "ctld #2", "brick") */
  readonly services: readonly { readonly key: ServiceKey; readonly tag: string }[];
  /** [service, what this node is for it] */
  readonly roles: readonly Row[];
}

export interface ComputeGroup {
  readonly key: string;
  readonly hostlist: string;
  readonly count: number;
  readonly partitions: readonly string[];
  readonly hardware: string;
}

export interface PortsFacts {
  readonly key: string;
  /** hostname, or "compute (hostlist)" */
  readonly node: string;
  /** the bundle, when the node has one (a link target) */
  readonly bundle?: string;
  readonly address?: string;
  readonly rows: readonly Row[];
}

export interface FindingFacts {
  readonly key: string;
  readonly severity: Finding['severity'];
  readonly code: string;
  readonly title: string;
  readonly message: string;
  readonly why: string;
  readonly fix: string;
  /** the bundle it concerns, when the rule names one */
  readonly node?: string;
  /** file:line:col in the YAML, or node:path in the tree */
  readonly where: string;
}

export interface Facts {
  readonly label: string;
  readonly kind: 'config' | 'tree';
  readonly cluster: string;
  readonly controllers: readonly ControllerFacts[];
  readonly arbitrator?: { readonly key: string; readonly hostname: string; readonly ip: string };
  readonly vip?: { readonly address: string; readonly owner?: string; readonly order: readonly string[] };
  readonly compute: readonly ComputeGroup[];
  readonly computeNodes: readonly string[];
  /** which services run where: one row per controller */
  readonly services: Table;
  readonly sections: readonly Section[];
  readonly ports: readonly PortsFacts[];
  readonly findings: readonly FindingFacts[];
}

/** Each service's label: its descriptor's, as the scripts print it. */
export const SERVICE_LABEL: Readonly<Record<ServiceKey, string>> = Object.fromEntries(SERVICES.map((s) => [s, descriptor(s).label])) as Record<ServiceKey, string>;

const role = (service: ServiceKey, sub: string, text: string): Row => ({ key: `${service}:${sub}`, cells: [SERVICE_LABEL[service], text] });

/** What a controller is for one service: a short tag (the topology's boxes) and the rows of its card. */
interface Part {
  readonly service: ServiceKey;
  readonly tag: string;
  readonly rows: readonly Row[];
}

function keepalivedPart(m: Model, c: Controller): Part | undefined {
  const i = m.keepalived.nodes.findIndex((n) => n.hostname === c.hostname);
  if (!m.network.vip || i < 0) return undefined;
  const what = i === 0 ? `holds the VIP ${m.network.vip.address} (failover #1)` : `VIP backup, failover #${i + 1}`;
  return { service: 'keepalived', tag: i === 0 ? '#1 VIP' : `#${i + 1}`, rows: [role('keepalived', 'vrrp', `${what}, priority ${c.priority ?? '?'}`)] };
}

function galeraPart(m: Model, c: Controller): Part | undefined {
  const g = m.galera;
  if (!g?.members.some((x) => x.hostname === c.hostname)) return undefined;
  return { service: 'mariadb', tag: 'Galera', rows: [role('mariadb', 'galera', `Galera member of ${g.clusterName} (${g.members.length} nodes${g.arbitrator ? ' + garbd' : ''})`)] };
}

function redisPart(m: Model, c: Controller): Part | undefined {
  const r = m.redis;
  if (!r?.members.some((x) => x.hostname === c.hostname)) return undefined;
  if (r.mode === 'sentinel') {
    const master = initialMaster(r).hostname;
    const own = master === c.hostname;
    return {
      service: 'redis',
      tag: own ? 'master' : 'replica',
      rows: [
        role('redis', `${r.port}`, own ? `master :${r.port} (initial; Sentinel may move it)` : `replica :${r.port} of ${master}`),
        role('redis', `${r.sentinel.port}`, `Sentinel :${r.sentinel.port}`),
      ],
    };
  }
  const backs = clusterPairs(r).filter((p) => p.replica.member.hostname === c.hostname);
  return {
    service: 'redis',
    tag: backs.length ? `master + ${backs.length} replica${backs.length === 1 ? '' : 's'}` : 'master',
    rows: [role('redis', `${r.port}`, `Cluster master :${r.port}`), ...backs.map((p) => role('redis', `${p.replica.port}`, `replica :${p.replica.port} of ${p.master.hostname}'s master`))],
  };
}

function glusterPart(m: Model, c: Controller): Part | undefined {
  const g = m.gluster;
  if (!g) return undefined;
  const rows: Row[] = [];
  let tag = 'client';
  if (g.members.some((x) => x.hostname === c.hostname)) {
    const sets = replicaSets(g);
    const k = sets.findIndex((s) => s.some((b) => b.host.hostname === c.hostname));
    const brick = sets[k]?.find((b) => b.host.hostname === c.hostname);
    tag = brick ? (brick.arbiter ? 'arbiter' : 'brick') : 'peer';
    rows.push(role('glusterfs', 'brick', brick ? `${brick.arbiter ? 'arbiter brick (metadata only)' : 'brick'} of ${g.volumeName}, replica set ${k + 1}` : `peer of ${g.volumeName}, no brick`));
  }
  if (mountsGluster(m, c)) rows.push(role('glusterfs', 'mount', `mounts ${g.volumeName} on ${g.mountPoint}`));
  return rows.length ? { service: 'glusterfs', tag, rows } : undefined;
}

function slurmPart(m: Model, c: Controller): Part | undefined {
  const s = m.slurm;
  const i = s ? s.controllers.findIndex((x) => x.hostname === c.hostname) : -1;
  if (!s || i < 0) return undefined;
  const rows = [role('slurm', 'slurmctld', `slurmctld #${i + 1} (${i === 0 ? 'primary' : 'backup'})`)];
  if (s.accounting) rows.push(role('slurm', 'slurmdbd', `slurmdbd :${s.accounting.port}`));
  return { service: 'slurm', tag: `ctld #${i + 1}${s.accounting ? ' + dbd' : ''}`, rows };
}

function webPart(m: Model, c: Controller): Part | undefined {
  const w = m.web;
  if (!w || !runs(c, 'web')) return undefined;
  const apps = `${w.services.length} backend${w.services.length === 1 ? '' : 's'}`;
  return { service: 'web', tag: apps, rows: [role('web', 'nginx', `nginx :80${w.ssl.mode === 'off' ? '' : ', :443'}, ${apps}`)] };
}

const PARTS = [keepalivedPart, galeraPart, redisPart, glusterPart, slurmPart, webPart];

function controllerFacts(m: Model, c: Controller): ControllerFacts {
  const parts = PARTS.map((f) => f(m, c)).filter((p): p is Part => !!p);
  return {
    key: c.hostname,
    hostname: c.hostname,
    ip: c.ip,
    services: SERVICES.filter((s) => runs(c, s)).map((key) => ({ key, tag: parts.find((p) => p.service === key)?.tag ?? '' })),
    roles: parts.flatMap((p) => p.rows),
  };
}

const servicesTable = (m: Model): Table => ({
  key: 'services',
  title: 'Services per controller',
  columns: ['controller', ...SERVICES.map((s) => SERVICE_LABEL[s])],
  rows: m.controllers.map((c) => ({ key: c.hostname, cells: [{ text: c.hostname, node: c.hostname }, ...SERVICES.map((s) => (runs(c, s) ? '●' : ''))] })),
});

// --- compute nodes: folded by partition and hardware ----------------------------------------

const mib = (n: number): string => (n % 1024 === 0 ? `${n / 1024} GiB` : `${n} MiB`);

export function hardwareText(c: Compute): string {
  const h = c.hardware;
  const parts = [`${h.cpus} CPUs`];
  if (h.sockets !== undefined && h.coresPerSocket !== undefined) parts.push(`${h.sockets}×${h.coresPerSocket}×${h.threadsPerCore ?? 1}`);
  if (h.realMemory !== undefined) parts.push(mib(h.realMemory));
  if (h.gpus.count) parts.push(`${h.gpus.count}× GPU${h.gpus.type ? ` ${h.gpus.type}` : ''}`);
  if (h.tmpDisk !== undefined) parts.push(`tmp ${mib(h.tmpDisk)}`);
  if (h.features.length) parts.push(h.features.join(','));
  if (h.weight !== undefined) parts.push(`weight ${h.weight}`);
  return parts.join(' · ');
}

/** hostname → the partitions naming it (ALL included), in the partitions' order. */
function partitionsOf(m: Model): (hostname: string) => readonly string[] {
  const parts = m.slurm?.partitions ?? [];
  const all = parts.filter((p) => p.nodes.length === 1 && p.nodes[0] === 'ALL').map((p) => p.name);
  const named = new Map<string, string[]>();
  for (const p of parts) {
    if (all.includes(p.name)) continue;
    for (const n of p.nodes) named.set(n, [...(named.get(n) ?? []), p.name]);
  }
  const order = new Map(parts.map((p, i) => [p.name, i]));
  return (h) => [...(named.get(h) ?? []), ...all].sort((a, b) => order.get(a)! - order.get(b)!);
}

/**
 * Compute nodes with the same partitions and the same slurm.conf NodeName attributes, as one
 * hostlist each (the grouping slurm.conf itself uses, refined by partition): never a box per node.
 */
export function computeGroups(m: Model): ComputeGroup[] {
  const parts = partitionsOf(m);
  const key = (c: Compute) => `${parts(c.hostname).join(',')} ${nodeAttributes(c)}`;
  return groupBy(m.computeNodes, key, (hostlist, first) => ({
    key: key(first),
    hostlist,
    count: Number(count(hostlist)),
    partitions: parts(first.hostname),
    hardware: hardwareText(first),
  }));
}

// --- ports and findings, from the audit ------------------------------------------------------

const portRow = (r: PortRule): Row => ({
  key: `${r.proto} ${r.ports} ${r.service}`,
  cells: r.proto === 'vrrp' ? ['VRRP', 'IP protocol 112', r.service, r.from] : [r.proto, r.ports, r.service, r.from],
});

const portsFacts = (n: NodePorts): PortsFacts => ({
  key: n.bundle ?? n.node,
  node: n.node,
  ...(n.bundle ? { bundle: n.bundle } : {}),
  ...(n.address ? { address: n.address } : {}),
  rows: n.rules.map(portRow),
});

function findingFacts(f: Finding): FindingFacts {
  const node = f.location.node;
  return {
    // not the YAML line: an edit above it moves every line, and the finding is still the same one
    key: `${f.code}\u0000${node ?? ''}\u0000${f.message}`,
    severity: f.severity,
    code: f.code,
    title: f.title,
    message: f.message,
    why: f.why,
    fix: f.fix,
    ...(node ? { node } : {}),
    where: locationText(f.location),
  };
}

/** The A601 findings are the port table itself, shown as such. */
const shownFindings = (a: AuditReport) => a.findings.filter((f) => f.code !== 'A601').map(findingFacts);

export interface SideInput {
  /** as given on the command line */
  readonly label: string;
  readonly model: Model;
  readonly audit: AuditReport;
}

export function factsOf(s: SideInput): Facts {
  const m = s.model;
  const a = m.galera?.arbitrator;
  const vip = m.network.vip;
  return {
    label: s.label,
    kind: s.audit.kind,
    cluster: m.cluster.name,
    controllers: m.controllers.map((c) => controllerFacts(m, c)),
    ...(a ? { arbitrator: { key: a.hostname, hostname: a.hostname, ip: a.ip } } : {}),
    ...(vip ? { vip: { address: `${vip.address}/${vip.prefix}`, ...(m.vipOwner ? { owner: m.vipOwner } : {}), order: m.keepalived.nodes.map((n) => n.hostname) } } : {}),
    compute: computeGroups(m),
    computeNodes: m.computeNodes.map((c) => c.hostname),
    services: servicesTable(m),
    sections: haSections(m),
    ports: s.audit.network.map(portsFacts),
    findings: shownFindings(s.audit),
  };
}
