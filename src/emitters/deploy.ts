// deploy/: what the fan-out engines HPC sites already run need to push and apply the bundles
// (mhc has no fan-out engine of its own): a ClusterShell configuration (groups, clush.conf,
// topology.conf for tree mode), an Ansible inventory and playbook, a genders file, and deploy.sh,
// the bash + clush driver that reports per node. One cluster-level directory, beside SHA256SUMS.
// Every group comes from deployFacts (src/compiler/groups.ts), computed once.
import { compress } from '../compiler/hostlist.js';
import { DEPLOY_DIR, type Model } from '../compiler/model.js';
import { deployFacts, type DeployFacts } from '../compiler/groups.js';
import { render } from '../compiler/render.js';
import { secretsOf, type BundleFile, type EmittedFile } from '../compiler/bundle.js';
import type { ClusterEmitter } from './emitter.js';

export const CLUSH_DIR = `${DEPLOY_DIR}/clustershell`;
export const ANSIBLE_DIR = `${DEPLOY_DIR}/ansible`;
/** the ClusterShell group source holding mhc's groups (`@compute` = `@mhc:compute`) */
export const GROUP_SOURCE = 'mhc';
/** where a node keeps the bundle deploy.sh pushed (under $MHC_ROOT) */
export const NODE_BUNDLE_DIR = '/opt/mhc/bundle';
/** the word that starts the one status line node.sh prints on every node, whatever happens */
export const MHC_STATUS = 'MHC-STATUS';

/** Ansible's host patterns take one range per bracket, written [lo:hi]: "n[01-03,07]" → "n[01:03]", "n07". */
export function ansiblePatterns(names: readonly string[]): string[] {
  const out: string[] = [];
  for (const part of compress(names).split(/,(?![^[]*\])/)) {
    const m = /^([^[]*)\[([^\]]+)\](.*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    const [, pre, ranges, suf] = m as unknown as [string, string, string, string];
    for (const r of ranges.split(',')) {
      const [lo, hi] = r.split('-');
      out.push(hi === undefined ? `${pre}${lo}${suf}` : `${pre}[${lo}:${hi}]${suf}`);
    }
  }
  return out;
}

/** Genders lines: nodes with the same attributes share one line (a folded hostlist). */
function gendersLines(facts: DeployFacts): { nodes: string; attrs: string }[] {
  const byAttrs = new Map<string, string[]>();
  for (const [node, groups] of facts.groupsOf) {
    const t = facts.targets.find((x) => x.nodes.includes(node));
    const attrs = [...groups, ...(t ? [`mhc_bundle=${t.bundle}`] : [])].join(',');
    (byAttrs.get(attrs) ?? byAttrs.set(attrs, []).get(attrs)!).push(node);
  }
  return [...byAttrs].map(([attrs, nodes]) => ({ nodes: compress(nodes), attrs }));
}

function targetsWithSecrets(facts: DeployFacts, files: readonly BundleFile[]) {
  return facts.targets.map((t) => ({
    ...t,
    nodeset: compress(t.nodes),
    secrets: secretsOf(files.filter((f) => f.path.startsWith(`${t.bundle}/`))),
  }));
}

function clustershell(model: Model, facts: DeployFacts): EmittedFile[] {
  const d = model.deploy;
  const files: EmittedFile[] = [
    { path: `${CLUSH_DIR}/clush.conf`, content: render('deploy/clustershell/clush.conf', d) },
    { path: `${CLUSH_DIR}/groups.conf`, content: render('deploy/clustershell/groups.conf', { source: GROUP_SOURCE }) },
    {
      path: `${CLUSH_DIR}/groups.d/${GROUP_SOURCE}.yaml`,
      content: render('deploy/clustershell/groups.d/SOURCE.yaml', { source: GROUP_SOURCE, groups: facts.groups.map((g) => ({ name: g.name, about: g.about, nodeset: compress(g.nodes) })) }),
    },
  ];
  if (d.gateways.length && d.adminHost) {
    const routed = facts.groups.find((g) => g.name === 'all')!.nodes.filter((n) => !d.gateways.includes(n));
    files.push({ path: `${CLUSH_DIR}/topology.conf`, content: render('deploy/clustershell/topology.conf', { root: d.adminHost, gateways: compress(d.gateways), nodes: compress(routed) }) });
  }
  return files;
}

function ansible(model: Model, facts: DeployFacts, targets: ReturnType<typeof targetsWithSecrets>): EmittedFile[] {
  const controllers = targets.filter((t) => t.role === 'controller');
  const compute = targets.find((t) => t.role === 'compute');
  const others = facts.groups.filter((g) => !['all', 'controllers', 'compute'].includes(g.name)).map((g) => ({ name: g.name, about: g.about, patterns: ansiblePatterns(g.nodes) }));
  return [
    {
      path: `${ANSIBLE_DIR}/inventory.yml`,
      content: render('deploy/ansible/inventory.yml', { controllers, compute: compute ? { ...compute, patterns: ansiblePatterns(compute.nodes) } : false, others }),
    },
    { path: `${ANSIBLE_DIR}/site.yml`, content: render('deploy/ansible/site.yml', model.deploy) },
    { path: `${ANSIBLE_DIR}/ansible.cfg`, content: render('deploy/ansible/ansible.cfg', model.deploy) },
    { path: `${ANSIBLE_DIR}/node-tasks.yml`, content: render('deploy/ansible/node-tasks.yml', { ...model.deploy, status: MHC_STATUS }) },
  ];
}

export const deploy: ClusterEmitter = {
  name: 'deploy',
  emit(model, files) {
    const facts = deployFacts(model);
    // a build of some bundles only (--node) is for looking at them: no deploy/ that names the others
    const built = new Set(files.filter((f) => f.path.endsWith('/manifest.json')).map((f) => f.path.slice(0, f.path.indexOf('/'))));
    if (!facts.targets.every((t) => built.has(t.bundle))) return [];
    const targets = targetsWithSecrets(facts, files);
    return [
      ...clustershell(model, facts),
      ...ansible(model, facts, targets),
      { path: `${DEPLOY_DIR}/genders`, content: render('deploy/genders', { lines: gendersLines(facts) }) },
      { path: `${DEPLOY_DIR}/targets.tsv`, content: render('deploy/targets.tsv', { targets }) },
      { path: `${DEPLOY_DIR}/node.sh`, content: render('deploy/node.sh', { bundleDir: NODE_BUNDLE_DIR, status: MHC_STATUS }), mode: 0o755 },
      {
        path: `${DEPLOY_DIR}/deploy.sh`,
        content: render('deploy/deploy.sh', {
          ...model.deploy,
          adminHost: model.deploy.adminHost ?? '',
          gateways: compress(model.deploy.gateways),
          cluster: model.cluster.name,
          source: GROUP_SOURCE,
          status: MHC_STATUS,
        }),
        mode: 0o755,
      },
    ];
  },
};
