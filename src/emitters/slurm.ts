// Slurm: slurm.conf (byte-identical on every node that gets it), slurmdbd.conf, cgroup.conf,
// gres.conf, the slurmctld drop-in that waits for the shared state mount, the munge key, and the
// compute bundle's bin/start_compute.sh. Controllers that do not run Slurm get none of it.
import { compress, naturalCompare } from '../compiler/hostlist.js';
import { runs, type Compute, type Controller, type Model } from '../compiler/model.js';
import { render } from '../compiler/render.js';
import { placeholder } from '../compiler/secrets.js';
import { CompilerBug, type EmittedFile } from '../compiler/bundle.js';
import type { Emitter } from './emitter.js';
import { addresses as ips, isUnitFile, service, UNIT_RULE, type ChangeRule, type Check, type PortRule, type SettingRule } from './service.js';
import { CHECK_SCRIPT, SLURMCTLD_PING_CONF } from './paths.js';

export const SLURM_CONF = 'files/etc/slurm/slurm.conf';
export const SLURMDBD_CONF = 'files/etc/slurm/slurmdbd.conf';
export const CGROUP_CONF = 'files/etc/slurm/cgroup.conf';
export const GRES_CONF = 'files/etc/slurm/gres.conf';
export const SLURMCTLD_DROPIN = 'files/etc/systemd/system/slurmctld.service.d/10-mhc.conf';
export const SLURMDBD_DROPIN = 'files/etc/systemd/system/slurmdbd.service.d/10-mhc.conf';
export const MUNGE_KEY_B64 = 'files/etc/munge/munge.key.b64';
/** Debian's slurmd.service reads SLURMD_OPTIONS from here (EnvironmentFile=-/etc/default/slurmd) */
export const SLURMD_DEFAULTS = 'files/etc/default/slurmd';
/**
 * A configless compute node's slurmd drop-in: Debian 12's slurmd.service has
 * ConditionPathExists=/etc/slurm/slurm.conf, so without the file systemd skips slurmd (and
 * `systemctl restart` still succeeds); the drop-in resets the unit's conditions (Debian 13's unit
 * has none: the drop-in changes nothing there).
 */
export const SLURMD_DROPIN = 'files/etc/systemd/system/slurmd.service.d/10-mhc.conf';
/** what configless Slurm serves compute nodes from slurmctld: never in their bundle */
export const CONFIGLESS_SERVED = [SLURM_CONF, CGROUP_CONF, GRES_CONF] as const;

export const SLURMCTLD_PORT = 6817;
/** MaxNodeCount when the YAML lists no compute node (slurmctld does not start with none). */
export const MAX_DYNAMIC_NODES = 1024;
export const SLURMD_PORT = 6818;
/** Debian's paths: its units expect these pid files; the package creates these directories. */
export const PATHS = {
  slurmctldPid: '/run/slurmctld.pid',
  slurmdPid: '/run/slurmd.pid',
  slurmdbdPid: '/run/slurmdbd.pid',
  slurmdSpool: '/var/lib/slurm/slurmd',
  logDir: '/var/log/slurm',
  mungeKey: '/etc/munge/munge.key',
  mungeKeyB64: '/etc/munge/munge.key.b64',
} as const;

const yesNo = (b: boolean): string => (b ? 'YES' : 'NO');

/**
 * A Slurm hostlist naming exactly `names`. Slurm 22.05 rejects text after a [range]
 * ("n[01-02]-ib" is an invalid hostlist), so names that end in a non-digit after a digit stay
 * whole; the others collapse into ranges with compress().
 */
export function slurmHostlist(names: readonly string[]): string {
  const whole = (n: string) => /\d\D+$/.test(n);
  const ranged = compress(names.filter((n) => !whole(n)));
  const rest = [...new Set(names.filter(whole))].sort(naturalCompare);
  return [...(ranged ? [ranged] : []), ...rest].join(',');
}

/** The hardware part of a NodeName line; nodes with equal text share one line. */
export function nodeAttributes(c: Compute): string {
  const h = c.hardware;
  const a = [`CPUs=${h.cpus}`];
  if (h.sockets !== undefined) a.push(`Sockets=${h.sockets}`);
  if (h.coresPerSocket !== undefined) a.push(`CoresPerSocket=${h.coresPerSocket}`);
  if (h.threadsPerCore !== undefined) a.push(`ThreadsPerCore=${h.threadsPerCore}`);
  if (h.realMemory !== undefined) a.push(`RealMemory=${h.realMemory}`);
  if (h.tmpDisk !== undefined) a.push(`TmpDisk=${h.tmpDisk}`);
  if (h.gpus.count > 0) a.push(`Gres=${gresSpec(c)}`);
  if (h.features.length) a.push(`Feature=${h.features.join(',')}`);
  if (h.weight !== undefined) a.push(`Weight=${h.weight}`);
  a.push('State=UNKNOWN');
  return a.join(' ');
}

const gresSpec = (c: Compute): string => ['gpu', ...(c.hardware.gpus.type ? [c.hardware.gpus.type] : []), String(c.hardware.gpus.count)].join(':');

/** Groups of nodes with identical attribute text, each as one hostlist, in natural order of first node. */
export function groupBy<T>(nodes: readonly Compute[], key: (c: Compute) => string | undefined, make: (hostlist: string, first: Compute) => T): T[] {
  const groups = new Map<string, { first: Compute; names: string[] }>();
  for (const c of nodes) {
    const k = key(c);
    if (k === undefined) continue;
    const g = groups.get(k);
    if (g) g.names.push(c.hostname);
    else groups.set(k, { first: c, names: [c.hostname] });
  }
  return [...groups.values()].map((g) => make(slurmHostlist(g.names), g.first));
}

export function nodeLines(model: Model): string[] {
  return groupBy(model.computeNodes, nodeAttributes, (names, first) => `NodeName=${names} ${nodeAttributes(first)}`);
}

/** Without a partition slurmctld stops ("No PartitionName information available"): an empty one then. */
export const EMPTY_PARTITION = 'PartitionName=debug Default=YES MaxTime=INFINITE State=UP';

export function partitionLines(model: Model): string[] {
  const parts = model.slurm?.partitions ?? [];
  if (!parts.length) return [EMPTY_PARTITION];
  return parts.map((p) => {
    const a = [`PartitionName=${p.name}`];
    if (p.nodes.length === 1 && p.nodes[0] === 'ALL') a.push('Nodes=ALL');
    else if (p.nodes.length) a.push(`Nodes=${slurmHostlist(p.nodes)}`);
    a.push(`Default=${yesNo(p.default)}`, `MaxTime=${p.maxTime}`, `State=${p.state}`);
    return a.join(' ');
  });
}

/** gres.conf lines: one per group of nodes with the same GPUs. */
export function gresLines(model: Model): string[] {
  return groupBy(
    model.computeNodes,
    (c) => (c.hardware.gpus.count > 0 ? gresSpec(c) : undefined),
    (names, first) => {
      const g = first.hardware.gpus;
      return [`NodeName=${names}`, 'Name=gpu', ...(g.type ? [`Type=${g.type}`] : []), `Count=${g.count}`].join(' ');
    },
  );
}

/** The whole slurm.conf: it depends on the Model only, never on the bundle it goes into (Slurm requires one file). */
export function slurmConf(model: Model): string {
  const s = model.slurm!;
  const nodes = model.computeNodes;
  return render('slurm/etc/slurm/slurm.conf', {
    clusterName: s.clusterName,
    controllers: s.controllers,
    slurmUser: s.slurmUser,
    stateSaveLocation: s.stateSaveLocation,
    paths: PATHS,
    slurmctldPort: SLURMCTLD_PORT,
    slurmdPort: SLURMD_PORT,
    slurmctldTimeout: s.slurmctldTimeout,
    schedulerType: s.schedulerType,
    configless: s.configless,
    // memory is a consumable only when every node declares it (RealMemory defaults to 1 MiB)
    selectTypeParameters: nodes.length && nodes.every((c) => c.hardware.realMemory !== undefined) ? 'CR_Core_Memory' : 'CR_Core',
    accounting: s.accounting ? { host: s.accounting.host, port: s.accounting.port } : false,
    gpus: nodes.some((c) => c.hardware.gpus.count > 0),
    nodeLines: nodeLines(model),
    partitionLines: partitionLines(model),
    emptyPartition: !s.partitions.length,
    maxDynamicNodes: MAX_DYNAMIC_NODES,
  });
}

/**
 * The files every Slurm node gets, identical on all of them. Computed once per Model (it is
 * deeply readonly): with 10,000 compute nodes the hostlists of slurm.conf and gres.conf are the
 * costly part of a build, and every Slurm bundle would otherwise compress them again.
 */
const commonFiles = new WeakMap<Model, readonly EmittedFile[]>();
function common(model: Model): EmittedFile[] {
  let files = commonFiles.get(model);
  if (!files) {
    files = commonUncached(model);
    commonFiles.set(model, files);
  }
  return [...files];
}

function commonUncached(model: Model): EmittedFile[] {
  const files: EmittedFile[] = [
    { path: SLURM_CONF, content: slurmConf(model) },
    { path: CGROUP_CONF, content: render('slurm/etc/slurm/cgroup.conf', {}) },
    // base64 text; the start script decodes it into /etc/munge/munge.key (no comment: base64 -d reads it)
    {
      path: MUNGE_KEY_B64,
      content: placeholder(model.slurm!.mungeKey.name),
      mode: 0o400,
      owner: 'munge',
      group: 'munge',
    },
  ];
  const gres = gresLines(model);
  if (gres.length)
    files.push({
      path: GRES_CONF,
      content: render('slurm/etc/slurm/gres.conf', { lines: gres }),
    });
  return files;
}

/**
 * A configless compute node's bundle: the munge key, slurmd's options and its drop-in only. slurmd asks the
 * controllers, in SlurmctldHost order, for slurm.conf (and gres.conf, cgroup.conf), so a later
 * Slurm change touches the controllers only (then `scontrol reconfigure`).
 */
function configlessFiles(model: Model): EmittedFile[] {
  const s = model.slurm!;
  const servers = s.controllers.map((c) => `${c.hostname}:${SLURMCTLD_PORT}`).join(',');
  return [
    ...common(model).filter((f) => f.path === MUNGE_KEY_B64),
    { path: SLURMD_DEFAULTS, content: render('slurm/etc/default/slurmd', { servers }) },
    { path: SLURMD_DROPIN, content: render('slurm/etc/systemd/system/slurmd.service.d/10-mhc.conf', {}) },
  ];
}

/**
 * slurm.conf with this node as its only SlurmctldHost, for the health check's `SLURM_CONF=…
 * scontrol ping` (the plain one asks every controller in turn, and waits out a dead peer's connect
 * timeout first): every other setting (port, auth) stays as the daemons read it.
 */
export function slurmctldPingConf(model: Model, node: Controller): string {
  const conf = common(model).find((f) => f.path === SLURM_CONF)!.content;
  const body = conf.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const first = body.findIndex((l) => l.startsWith('SlurmctldHost='));
  if (first < 0) throw new CompilerBug('slurm.conf without SlurmctldHost');
  const rest = body.filter((l) => !l.startsWith('SlurmctldHost='));
  rest.splice(first, 0, `SlurmctldHost=${node.hostname}(${node.ip})`);
  return [
    '# Generated by mhc from the cluster YAML; do not edit by hand.',
    `# Only for ${CHECK_SCRIPT}: /etc/slurm/slurm.conf with ${node.hostname} as the only SlurmctldHost,`,
    "# so `SLURM_CONF=<this file> scontrol ping` asks this node's slurmctld alone. Never start a daemon with it.",
    ...rest,
  ].join('\n');
}

/** Debian packages a compute node needs before bin/start_compute.sh runs (it installs none itself). */
export function computePackages(model: Model): string[] {
  return model.slurm ? ['munge', 'slurmd', 'slurm-client'] : [];
}

const RECONFIGURE = 'slurm.conf(5), Slurm 22.05: `scontrol reconfigure` makes slurmctld and every slurmd re-read it';
const RESTART_CTLD = 'slurm.conf(5), Slurm 22.05: "A restart of slurmctld is required for changes to this parameter to take effect"; backup controllers first, the primary last';
const RESTART_ALL = 'slurm.conf(5), Slurm 22.05: a restart of slurmctld and every slurmd is required (backup controllers first, the primary last, then the compute nodes)';
const reconf: SettingRule = { action: 'runtime', dynamic: true, rule: RECONFIGURE };
const ctld: SettingRule = { action: 'restart', dynamic: false, rule: RESTART_CTLD };
const all: SettingRule = { action: 'restart', dynamic: false, rule: RESTART_ALL };
// slurm.conf(5)'s general rule makes these reconfigurable (dynamic); mhc restarts instead, and says why
const atStart = (what: string): SettingRule => ({ action: 'restart', dynamic: true, rule: `mhc: ${what} is read when the daemon starts (slurm.conf(5) states no exception for it): a restart` });
/**
 * What a change to each setting of slurm.conf needs, from slurm.conf(5) of Slurm 22.05 (Debian 12's
 * 22.05.8; test/daemons/slurm-settings.test.ts reads the installed man page, parameter by parameter): the
 * man page's rule is `scontrol reconfigure` unless a parameter says otherwise. NodeName and
 * PartitionName are one setting per line (NodeName=cn[01-04]).
 */
export const SLURM_SETTINGS: Readonly<Record<string, SettingRule>> = {
  ClusterName: { action: 'restart', dynamic: true, rule: 'mhc: slurmctld refuses a state saved under another ClusterName (StateSaveLocation/clustername): a new name is a new cluster' },
  SlurmctldHost: { ...ctld, rule: `${RESTART_CTLD}; a controller added or removed (README "Day 2": membership)` },
  SlurmctldTimeout: reconf,
  SlurmctldParameters: ctld,
  SlurmdTimeout: reconf,
  SlurmctldPort: ctld,
  SlurmdPort: { ...all, rule: `${RESTART_ALL}: the port every slurmd listens on` },
  SlurmUser: atStart('the user slurmctld runs as'),
  AuthType: { action: 'restart', dynamic: false, rule: 'slurm.conf(5), Slurm 22.05: every daemon and command stopped before AuthType changes, then restarted' },
  CredType: ctld,
  StateSaveLocation: { ...ctld, rule: `${RESTART_CTLD}; the state moves with it (stop, move, start)` },
  SlurmdSpoolDir: atStart('the spool directory of slurmd'),
  SlurmctldPidFile: atStart('the pid file'),
  SlurmdPidFile: atStart('the pid file'),
  ReturnToService: reconf,
  ProctrackType: ctld,
  TaskPlugin: atStart('the task plugin of slurmd'),
  SchedulerType: ctld,
  SelectType: all,
  SelectTypeParameters: ctld,
  AccountingStorageType: atStart('the accounting plugin'),
  AccountingStorageHost: reconf,
  AccountingStoragePort: reconf,
  JobAcctGatherType: reconf,
  JobAcctGatherFrequency: reconf,
  JobCompType: reconf,
  SlurmctldDebug: reconf,
  SlurmctldLogFile: reconf,
  SlurmdDebug: reconf,
  SlurmdLogFile: reconf,
  GresTypes: all,
  MaxNodeCount: ctld,
  NodeName: { ...all, rule: 'slurm.conf(5), Slurm 22.05, NODE CONFIGURATION: adding nodes or changing their configuration requires restarting slurmctld and every slurmd' },
  PartitionName: reconf,
};

const f = (p: string): string => p.slice('files'.length);
const CHANGES: Readonly<Record<string, ChangeRule>> = {
  // the strictest of its settings' (a plan reads each setting's own)
  [f(SLURM_CONF)]: {
    action: 'restart',
    rule: 'slurm.conf(5), Slurm 22.05: `scontrol reconfigure` for most settings; SlurmctldHost, the ports, AuthType, SelectType, the node lines and others need the daemons restarted',
  },
  [f(CGROUP_CONF)]: { action: 'restart', rule: 'cgroup.conf(5): read by slurmd when it starts' },
  [f(GRES_CONF)]: { action: 'restart', rule: 'gres.conf(5): read by slurmd when it starts (then `scontrol reconfigure` for slurmctld)' },
  [f(SLURMDBD_CONF)]: { action: 'restart', rule: 'slurmdbd.conf(5): read when slurmdbd starts' },
  [f(MUNGE_KEY_B64)]: { action: 'restart', rule: 'munged(8): reads its key when it starts; every node needs the same key (restart munge everywhere, then the Slurm daemons)' },
  [f(SLURMD_DEFAULTS)]: { action: 'restart', rule: 'slurmd.service reads SLURMD_OPTIONS from it (EnvironmentFile) when slurmd starts' },
};

export const slurmService = service({
  key: 'slurm',
  label: 'Slurm',
  phase: 'slurm',
  day2: {
    disruption: {
      restart: 'slurmctld here is unavailable up to SlurmctldTimeout (the other controller answers); slurmd restarts keep running jobs',
      runtime: 'none: scontrol reconfigure',
    },
    gates: ['Slurm: scontrol ping reports every slurmctld UP'],
    computeMembership: {
      rule: 'slurm.conf(5), Slurm 22.05, NODE CONFIGURATION: adding or removing nodes requires restarting slurmctld and every slurmd (every slurmd must know each node to forward messages): every slurmctld stops, slurm.conf is updated on all nodes, slurmctld starts, every slurmd restarts',
      controller:
        'the controllers before the last only install slurm.conf (their slurmctld keeps the old node list); the last drains the nodes leaving (their jobs end first), stops every slurmctld (the others first, so none takes over) and starts them with the new list: no slurmctld answers for a few seconds (clients retry up to MessageTimeout); running jobs keep running',
      compute:
        'slurmd restarts on each compute node (start_compute.sh of the new bundle, after the controllers: a configless slurmd fetches the new node list from slurmctld); running jobs keep running',
      gates: ['Slurm: scontrol ping reports every slurmctld UP', 'Slurm: a node leaving runs no job (drained first)'],
    },
    controllerMembership: {
      rule: 'slurm.conf(5), Slurm 22.05: SlurmctldHost: "A restart of slurmctld is required for changes to this parameter to take effect"; every daemon must have the same list, so every slurmctld stops and starts with the new one (as for nodes added or removed)',
      join: 'slurmctld starts as the last backup (the others run the new SlurmctldHost list already); munge and slurmdbd as on every controller',
      leave:
        'its slurmctld stops (before the others restart, so it never takes over with the old list), then every slurmctld restarts with the new SlurmctldHost list: no slurmctld answers for a few seconds',
    },
  },
  here: (_model, node) => runs(node, 'slurm'),
  packages: (model) => (model.slurm ? ['munge', 'slurmctld', 'slurm-client', ...(model.slurm.accounting ? ['slurmdbd'] : [])] : []),
  units: (model) => ['munge.service', ...(model.slurm?.accounting ? ['slurmdbd.service'] : []), 'slurmctld.service'],
  configDirs: ['/etc/slurm', '/etc/munge'],
  ports(model, node): PortRule[] {
    const s = model.slurm;
    if (!s || !runs(node, 'slurm')) return [];
    const all = `${model.controllers.length} controllers${model.computeNodes.length ? ` and ${model.computeNodes.length} compute nodes` : ''}`;
    return [
      { proto: 'tcp', ports: `${SLURMCTLD_PORT}`, service: 'slurmctld', from: all },
      ...(s.accounting ? [{ proto: 'tcp' as const, ports: `${s.accounting.port}`, service: 'slurmdbd', from: ips(s.controllers) }] : []),
    ];
  },
  checks(model, node): Check[] {
    const s = model.slurm;
    if (!s || !runs(node, 'slurm')) return [];
    const out: Check[] = [{ name: 'slurm:slurmctld', service: 'slurm', fn: 'check_slurmctld', args: [node.hostname, SLURMCTLD_PING_CONF] }];
    // the state directory's mount, when this node mounts the volume without serving it
    if (s.stateMount && !runs(node, 'glusterfs')) out.push({ name: 'slurm:state-mount', service: 'slurm', fn: 'check_mount', args: [s.stateMount] });
    return out;
  },
  backupItems: [{ name: 'slurm_state', here: (model, node) => runs(node, 'slurm') && !!model.slurm?.stateSaveLocation }],
  settings: (dest) => (dest === f(SLURM_CONF) ? SLURM_SETTINGS : undefined),
  change(dest) {
    if (isUnitFile(dest)) return UNIT_RULE;
    if (dest === SLURMCTLD_PING_CONF) return { action: 'none', rule: 'mhc: only the health check reads it, afresh at each check' };
    const rule = CHANGES[dest];
    if (!rule) throw new CompilerBug(`slurm: no change rule for ${dest}`);
    return rule;
  },
});

export const slurm: Emitter = {
  name: 'slurm',
  service: slurmService,
  emit(model, target) {
    const s = model.slurm;
    if (!s) return [];
    if (target.kind === 'compute') return s.configless ? configlessFiles(model) : common(model);
    const node = target.node;
    if (!runs(node, 'slurm')) return [];
    const files = common(model);
    files.push({ path: `files${SLURMCTLD_PING_CONF}`, content: slurmctldPingConf(model, node), mode: 0o644, owner: 'root', group: 'root' });
    const a = s.accounting;
    if (a) {
      files.push({
        path: SLURMDBD_CONF,
        content: render('slurm/etc/slurm/slurmdbd.conf', {
          dbdHost: node.hostname,
          dbdPort: a.port,
          slurmUser: s.slurmUser,
          paths: PATHS,
          storageHost: a.storageHost,
          storagePort: a.storagePort,
          storageUser: a.storageUser,
          storageLoc: a.storageLoc,
          storagePass: a.storagePass,
        }),
        mode: 0o600,
        owner: s.slurmUser,
        group: s.slurmUser,
      });
      files.push({ path: SLURMDBD_DROPIN, content: render('slurm/etc/systemd/system/slurmdbd.service.d/10-mhc.conf', {}) });
    }
    const mount = s.stateMount;
    if (mount || a) {
      files.push({
        path: SLURMCTLD_DROPIN,
        content: render('slurm/etc/systemd/system/slurmctld.service.d/10-mhc.conf', {
          mount: mount ?? false,
          slurmdbd: !!a,
        }),
      });
    }
    return files;
  },
};
