// The node groups of the fan-out files (out/<cluster>/deploy/): computed once per Model and read
// by the ClusterShell groups file, the Ansible inventory, the genders file and deploy.sh alike, so
// no template or script derives a group itself. Group names are one safe word for every tool:
// letters, digits and "_" (Ansible warns about anything else, genders takes no "," or "="), made
// from YAML names that formats.ts already limits to letters, digits, ".", "_" and "-".
import { naturalCompare } from './hostlist.js';
import { COMPUTE_BUNDLE, SERVICES, runs, type Model } from './model.js';

export interface NodeGroup {
  /** letters, digits and "_" */
  readonly name: string;
  /** hostnames, natural order (controllers: start order) */
  readonly nodes: readonly string[];
  /** what the group is, for the files' comments */
  readonly about: string;
}

/** One bundle and the nodes it goes to, in the order deploy.sh applies them. */
export interface DeployTarget {
  readonly bundle: string;
  readonly role: 'controller' | 'compute';
  readonly nodes: readonly string[];
}

export interface DeployFacts {
  /** controllers in the order the start scripts require: the VIP owner first, then by priority, then by name */
  readonly startOrder: readonly string[];
  readonly targets: readonly DeployTarget[];
  readonly groups: readonly NodeGroup[];
  /** every node's groups (all, controllers|compute, …), for genders */
  readonly groupsOf: ReadonlyMap<string, readonly string[]>;
}

const WORD = /[^A-Za-z0-9_]/g;

/** A group name from a kind and a YAML name: "partition" + "gpu.big" → "partition_gpu_big". */
export const groupWord = (kind: string, name: string): string => `${kind}_${name.replace(WORD, '_')}`;

/** Controllers in start order (README "Deploy": the VIP owner first, the others after it). */
export function startOrder(model: Model): string[] {
  const byPriority = model.keepalived.nodes.map((m) => m.hostname);
  const rest = model.controllers.map((c) => c.hostname);
  return [...new Set([...(model.vipOwner ? [model.vipOwner] : []), ...byPriority, ...rest])];
}

function partitionGroups(model: Model): NodeGroup[] {
  const all = model.computeNodes.map((c) => c.hostname);
  return (model.slurm?.partitions ?? []).map((p) => ({
    name: groupWord('partition', p.name),
    nodes: p.nodes.length === 1 && p.nodes[0] === 'ALL' ? all : [...p.nodes].sort(naturalCompare),
    about: `Slurm partition ${p.name}`,
  }));
}

function gpuGroups(model: Model): NodeGroup[] {
  const gpu = model.computeNodes.filter((c) => c.hardware.gpus.count > 0);
  if (!gpu.length) return [];
  const types = [...new Set(gpu.flatMap((c) => (c.hardware.gpus.type ? [c.hardware.gpus.type] : [])))].sort();
  return [
    { name: 'gpu', nodes: gpu.map((c) => c.hostname), about: 'compute nodes with GPUs' },
    ...types.map((t) => ({ name: groupWord('gpu', t), nodes: gpu.filter((c) => c.hardware.gpus.type === t).map((c) => c.hostname), about: `GPU type ${t}` })),
  ];
}

/** Two YAML names that become one word ("a.b", "a-b") keep apart with a numeric suffix. */
function unique(groups: readonly NodeGroup[]): NodeGroup[] {
  const seen = new Set<string>();
  return groups.map((g) => {
    let name = g.name;
    for (let i = 2; seen.has(name); i++) name = `${g.name}_${i}`;
    seen.add(name);
    return name === g.name ? g : { ...g, name };
  });
}

function factsUncached(model: Model): DeployFacts {
  const order = startOrder(model);
  const compute = model.computeNodes.map((c) => c.hostname);
  const services = SERVICES.map((s) => ({
    name: groupWord('svc', s),
    nodes: order.filter((h) =>
      runs(
        model.controllers.find((c) => c.hostname === h)!,
        s,
      ),
    ),
    about: `controllers running ${s}`,
  }));
  const groups = unique(
    [
      { name: 'all', nodes: [...order, ...compute], about: 'every node' },
      { name: 'controllers', nodes: order, about: 'controllers, in start order' },
      { name: 'compute', nodes: compute, about: 'compute nodes' },
      ...(model.deploy.gateways.length ? [{ name: 'gateways', nodes: model.deploy.gateways, about: 'ClusterShell gateways (tree mode)' }] : []),
      ...services,
      ...partitionGroups(model),
      ...gpuGroups(model),
    ].filter((g) => g.nodes.length),
  );
  const groupsOf = new Map<string, string[]>();
  for (const g of groups) for (const n of g.nodes) (groupsOf.get(n) ?? groupsOf.set(n, []).get(n)!).push(g.name);
  const targets: DeployTarget[] = [
    ...order.map((h) => ({ bundle: h, role: 'controller' as const, nodes: [h] })),
    ...(compute.length ? [{ bundle: COMPUTE_BUNDLE, role: 'compute' as const, nodes: compute }] : []),
  ];
  return { startOrder: order, targets, groups, groupsOf };
}

const memo = new WeakMap<Model, DeployFacts>();

/** The deploy facts of a Model, computed once (10,000 nodes: every file of deploy/ reads them). */
export function deployFacts(model: Model): DeployFacts {
  let f = memo.get(model);
  if (!f) memo.set(model, (f = factsUncached(model)));
  return f;
}
