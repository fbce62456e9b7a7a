// `mhc init`: options → a commented starting my_multihead_cluster.yaml in the canonical shape.
// Pure. Every value written is a default of normalize.ts (DEFAULTS and the derived defaults), a
// secret reference by SECRET_SLOTS' name, or an example address; every explanation is the
// schema's (.describe). The result is compiled before it is returned: options that give a cluster
// mhc refuses are reported as problems, never written.
import { Document, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { compile } from './compile.js';
import { formatIPv4, parseIPv4 } from './net.js';
import { expand, HostlistError } from './hostlist.js';
import { isHostname, isSafeName } from './formats.js';
import type { ServiceKey } from './model.js';
import {
  DEFAULT_PARTITION,
  DEFAULT_WEB_SERVICES,
  DEFAULTS,
  PARTITION_DEFAULTS,
  SECRET_SLOTS,
  defaultAccounting,
  defaultPriority,
  defaultReplicaCount,
  deriveRouterId,
  type SecretSlot,
} from './normalize.js';
import type { Path } from './locate.js';
import { canonicalize } from './canonical.js';
import { NODE_SPELLINGS } from './fold.js';
import { describeKey, MAX_PRIORITY, shapesAt } from './schema.js';
import { printYaml, takeAllComments } from './yaml-print.js';
import { TARGET_OSES } from './targets.js';

export interface InitOptions {
  readonly name?: string;
  /** how many controllers (1–MAX_PRIORITY) */
  readonly controllers?: number;
  /** a hostlist expression; false for none (the default is DEFAULT_COMPUTE_NODES when Slurm runs) */
  readonly computeNodes?: string | false;
  /** services on or off (the others as DEFAULT_SERVICES) */
  readonly services?: Partial<Record<ServiceKey, boolean>>;
  /** what the yaml-language-server line points at */
  readonly schema?: string;
  /** the nodes' OS release (target.os; default DEFAULTS.target.os) */
  readonly target?: string;
}

/** The file, with the warnings validate gives it (two Galera nodes, …); or why the options give none. */
export type InitResult = { readonly text: string; readonly warnings: readonly string[] } | { readonly problems: readonly string[] };

export const DEFAULT_NAME = 'my-cluster';
export const DEFAULT_CONTROLLERS = 3;
export const DEFAULT_COMPUTE_NODES = 'node[001-004]';
export const DEFAULT_SCHEMA = 'my_multihead_cluster.schema.json';
/** A starting file stays far below the loader's 16 MiB (about 40 bytes a node). */
export const MAX_INIT_COMPUTE_NODES = 100_000;
/** Every service but web: its applications' code must be on the nodes before the web phase runs (README, Deploy). */
export const DEFAULT_SERVICES: Readonly<Record<ServiceKey, boolean>> = { glusterfs: true, mariadb: true, redis: true, slurm: true, keepalived: true, web: false };

/** The example address plan: 10.10.0.0/16, the VIP at .10, controllers after it, compute nodes from the next /24 on. */
const PLAN = { vip: '10.10.0.10', prefix: 16 } as const;

export function init(o: InitOptions = {}): InitResult {
  const services = { ...DEFAULT_SERVICES, ...o.services };
  const name = o.name ?? DEFAULT_NAME;
  const count = o.controllers ?? DEFAULT_CONTROLLERS;
  const problems: string[] = [];
  if (!isSafeName(name)) problems.push(`--name ${JSON.stringify(name)}: letters, digits, ".", "_" and "-" (1–63, starting with a letter or digit)`);
  if (!Number.isInteger(count) || count < 1 || count > MAX_PRIORITY)
    problems.push(`--controllers must be a whole number from 1 to ${MAX_PRIORITY}${Number.isNaN(count) ? '' : `, not ${count}`} (keepalived priorities are 1–${MAX_PRIORITY}, one per controller)`);
  const target = o.target ?? DEFAULTS.target.os;
  if (!(TARGET_OSES as readonly string[]).includes(target)) problems.push(`--target ${JSON.stringify(target)}: one of ${TARGET_OSES.join(', ')}`);
  if (o.schema !== undefined && !/^[^\s]+$/.test(o.schema)) problems.push(`--schema ${JSON.stringify(o.schema)}: a path or URL without spaces or line breaks`);
  const compute = computeNames(o.computeNodes, services.slurm, problems);
  if (problems.length) return { problems };
  const text = render({ name, count, compute, services, schema: o.schema ?? DEFAULT_SCHEMA, target });
  const c = compile('mhc init', Buffer.from(text, 'utf8'));
  const errors = c.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) return { problems: errors.map((d) => `the options give a cluster mhc refuses: ${d.message}`) };
  return { text, warnings: c.diagnostics.map((d) => `${d.message}${d.hint ? ` (${d.hint})` : ''}`) };
}

function computeNames(expr: string | false | undefined, slurm: boolean, problems: string[]): string[] {
  if (expr === false || (expr === undefined && !slurm)) return [];
  if (!slurm) {
    problems.push('--compute-nodes: compute nodes run slurmd, which needs Slurm on the controllers (drop --no-slurm, or give --no-compute-nodes)');
    return [];
  }
  try {
    const names = expand(expr ?? DEFAULT_COMPUTE_NODES, MAX_INIT_COMPUTE_NODES);
    const bad = names.find((n) => !isHostname(n));
    if (bad !== undefined) problems.push(`--compute-nodes ${expr}: ${JSON.stringify(bad)} is not a valid hostname (RFC 1123 label: letters, digits and "-")`);
    return names;
  } catch (e) {
    if (!(e instanceof HostlistError)) throw e;
    problems.push(`--compute-nodes ${expr}: ${e.message} (a hostlist such as cn[001-064] or cn[01-16],gpu[1-4])`);
    return [];
  }
}

// ---------------------------------------------------------------------------------------- text

interface Plan {
  readonly name: string;
  readonly count: number;
  readonly compute: readonly string[];
  readonly services: Readonly<Record<ServiceKey, boolean>>;
  readonly schema: string;
  readonly target: string;
}

type Value = string | number | boolean | readonly Value[] | { readonly [key: string]: Value };
type Values = { readonly [key: string]: Value };

/** A top-level section; `off` (why it is off) writes it as a comment. */
interface Section {
  readonly key: string;
  readonly value: unknown;
  readonly off?: string;
}

const ref = (slot: SecretSlot): string => `\${${SECRET_SLOTS[slot].name}}`;

/** `count` addresses from `from` on, skipping those ending in .0 and .255. */
function addresses(from: number, count: number): number[] {
  const out: number[] = [];
  for (let a = from; out.length < count; a++) if (a % 256 !== 0 && a % 256 !== 255) out.push(a);
  return out;
}

function render(p: Plan): string {
  const doc = new Document();
  const on = p.services;
  const off = (s: ServiceKey) => (on[s] ? undefined : `off: to turn it on, set ${s}: true in the controllers' services and uncomment it`);
  const vip = parseIPv4(PLAN.vip)!;
  const ctlIps = addresses(vip + 1, p.count);
  const computeIps = addresses((Math.floor(ctlIps[ctlIps.length - 1]! / 256) + 1) * 256, p.compute.length);
  const sections: Section[] = [
    { key: 'cluster', value: block(doc, ['cluster'], { name: p.name }) },
    { key: 'target', value: block(doc, ['target'], { os: p.target }) },
    { key: 'environment', value: doc.createNode({}), off: 'off: secrets.env holds the values' },
    { key: 'network', value: block(doc, ['network'], on.keepalived ? { vip: vipSettings(p.name) } : { interface: DEFAULTS.network.vip.interface }) },
    { key: 'controllers', value: controllers(doc, p, ctlIps) },
    {
      key: 'compute_nodes',
      value: explainItems(
        flowList(
          doc,
          p.compute.map((hostname, i) => ({ hostname, ip: formatIPv4(computeIps[i]!) })),
        ),
        ['compute_nodes'],
      ),
    },
    { key: 'storage', value: block(doc, ['storage'], { gluster: { ...DEFAULTS.storage.gluster, replica_count: defaultReplicaCount(p.count) } }), off: off('glusterfs') },
    { key: 'database', value: block(doc, ['database'], { password: ref('dbRoot'), ...DEFAULTS.database }), off: off('mariadb') },
    { key: 'redis', value: block(doc, ['redis'], { password: ref('redis'), ...DEFAULTS.redis }), off: off('redis') },
    { key: 'slurm', value: slurmSection(doc, p), off: off('slurm') },
    { key: 'deploy', value: block(doc, ['deploy'], DEFAULTS.deploy) },
    { key: 'web', value: block(doc, ['web'], { session_secret: ref('session'), jwt_secret: ref('jwt'), ...DEFAULTS.web, services: DEFAULT_WEB_SERVICES.map((s) => s.name) }), off: off('web') },
    { key: 'backup', value: block(doc, ['backup'], DEFAULTS.backup) },
  ];
  doc.commentBefore = header(p);
  doc.contents = topLevel(doc, sections);
  canonicalize(doc); // the schema's key order
  return printYaml(doc);
}

function header(p: Plan): string {
  const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
  return [
    ` yaml-language-server: $schema=${p.schema}`,
    ` The cluster ${p.name} (${n(p.count, 'controller')}, ${n(p.compute.length, 'compute node')}), written by \`mhc init\`: every section with its defaults.`,
    ` The addresses are examples in ${formatIPv4(parseIPv4(PLAN.vip)! - 10)}/${PLAN.prefix} (the VIP, the controllers, then the compute nodes): put yours.`,
    ' Secrets are ${NAME} references: `mhc secrets init` writes their values into secrets.env, never into this file.',
    ` \`mhc schema > ${DEFAULT_SCHEMA}\` writes the schema for editors; \`mhc validate\` checks this file, \`mhc build\` compiles it.`,
  ].join('\n');
}

/** The top-level mapping: each section after a blank line and its explanation; a section that is off is written as a comment. */
function topLevel(doc: Document, sections: readonly Section[]): YAMLMap {
  const map = new YAMLMap();
  let pending: string[] = [];
  for (const { key, value, off } of sections) {
    const text = ` ${describeKey([key])}`;
    if (off) {
      takeAllComments(value);
      const alone = new Document({ [key]: value });
      canonicalize(alone);
      const body = printYaml(alone).trimEnd().split('\n');
      pending.push(`${text} (${off})`, ...body.map((l) => ` ${l}`), '');
      continue;
    }
    const k = new Scalar(key);
    k.commentBefore = [...pending, text].join('\n');
    k.spaceBefore = map.items.length > 0;
    pending = [];
    map.items.push(new Pair(k, value));
  }
  if (pending.length) doc.comment = pending.slice(0, -1).join('\n');
  return map;
}

/** A block mapping of `values` at `path`, each key after its explanation; nested objects are block mappings, lists flow lists. */
function block(doc: Document, path: Path, values: Values): YAMLMap {
  const map = new YAMLMap();
  for (const [k, v] of Object.entries(values)) {
    const key = new Scalar(k);
    const d = describeKey([...path, k]);
    if (d) key.commentBefore = ` ${d}`;
    const nested = typeof v === 'object' && !Array.isArray(v);
    map.items.push(new Pair(key, nested ? block(doc, [...path, k], v as Values) : doc.createNode(v, { flow: true })));
  }
  return map;
}

/** A block list of flow mappings, one per line (compute nodes, partitions). */
function flowList(doc: Document, items: readonly Values[]): YAMLSeq {
  const seq = doc.createNode(items) as unknown as YAMLSeq<YAMLMap>;
  for (const m of seq.items) m.flow = true;
  return seq;
}

function vipSettings(name: string): Values {
  const d = DEFAULTS.network.vip;
  return { address: PLAN.vip, prefix: PLAN.prefix, interface: d.interface, virtual_router_id: deriveRouterId(name), advert_int: d.advert_int, preempt: d.preempt, auth_pass: ref('keepalived') };
}

/**
 * The list's explanation: one line per key its entries may have (the canonical spellings), above
 * the first entry.
 */
function explainItems(seq: YAMLSeq, path: Path): YAMLSeq {
  const others = new Set(Object.values(NODE_SPELLINGS).map((s) => s.other.join('.')));
  const keys = shapesAt([...path, 0]).flatMap((shape) => Object.keys(shape).filter((k) => !others.has(k)));
  seq.commentBefore = keys.map((k) => ` ${k}: ${describeKey([...path, 0, k]) ?? ''}`).join('\n');
  return seq;
}

/** The controllers: block mappings, services a flow mapping. */
function controllers(doc: Document, p: Plan, ips: readonly number[]): YAMLSeq {
  const seq = new YAMLSeq();
  for (let i = 0; i < p.count; i++) {
    const vrrp = p.services.keepalived ? { ...(i === 0 ? { vip_owner: true } : {}), priority: defaultPriority(i, p.count) } : {};
    const m = block(doc, ['controllers', i], { hostname: `ctl${i + 1}`, ip: formatIPv4(ips[i]!), services: { ...p.services }, ...vrrp });
    takeAllComments(m);
    (m.get('services', true) as unknown as YAMLMap).flow = true;
    seq.items.push(m);
  }
  return explainItems(seq, ['controllers']);
}

function slurmSection(doc: Document, p: Plan): YAMLMap {
  const map = block(doc, ['slurm'], { accounting_storage_type: defaultAccounting(p.services.mariadb), ...DEFAULTS.slurm });
  if (p.compute.length) {
    const key = new Scalar('partitions');
    key.commentBefore = ` ${describeKey(['slurm', 'partitions'])}`;
    map.items.push(new Pair(key, flowList(doc, [{ ...DEFAULT_PARTITION, ...PARTITION_DEFAULTS } as Values])));
  }
  return map;
}
