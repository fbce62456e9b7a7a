// The lifecycle scripts of a controller bundle: lib/common.sh (shared bash helpers, also in the
// compute bundle, where bin/start_compute.sh uses it), lib/facts.sh (what this node and its
// cluster are, as read-only bash variables), bin/start_multihead.sh and bin/stop_multihead.sh.
// What the scripts know of the services (phases, units, packages, labels) comes from the
// service registry (services.ts) through lib/facts.sh; which service reads each installed file,
// from manifest.json (each file's provenance): the scripts carry no table of their own.
import { render } from '../compiler/render.js';
import { SERVICES, runs, type Controller, type Model } from '../compiler/model.js';
import { CompilerBug, type EmittedFile } from '../compiler/bundle.js';
import type { Emitter } from './emitter.js';
import { CHECK_SCRIPT, HOSTS_FILE, LOCK_DIR, MHC_HOME, SECRETS_ENV, SETUP_LOG, SLURMCTLD_HOLD } from './paths.js';
import { CLUSTER_PLAN, INSTANCES, SEED_SUFFIX, SENTINEL_USER, STATIC_DIR, instances, sentinelRuntimePath, sentinelStaticPath } from './redis.js';
import { FSTAB_ENTRY, VOLUME_OPTIONS, VOLUME_PLAN, mountsGluster } from './glusterfs.js';
import { WEB_USER, unitName } from './web.js';
import { PATHS, computePackages } from './slurm.js';
import { GALERA_GROUP_PORT } from './mariadb.js';
import { NODE_RULES } from '../compiler/node-rules.js';
import { APPLY_JOURNAL, APPLY_SH, INSTALLED_MARK, ROTATE_SH, applyPlanFile } from './day2.js';
import { packagesOf, phases, selectable, services, servicesHere } from './services.js';

export const COMMON_SH = 'lib/common.sh';
export const FACTS_SH = 'lib/facts.sh';
export const START_SH = 'bin/start_multihead.sh';
export const STOP_SH = 'bin/stop_multihead.sh';
export const START_COMPUTE = 'bin/start_compute.sh';
/** Marks of the block the start script keeps in /etc/hosts (and start_compute.sh too). */
export const HOSTS_BEGIN = '# BEGIN mhc cluster hosts (managed by mhc: do not edit inside this block)';
export const HOSTS_END = '# END mhc cluster hosts';
export const STOP_LOG = '/var/log/cluster_multihead_stop.log';
export const APPLY_LOG = '/var/log/cluster_multihead_apply.log';
/** Files the start script replaces are kept here, one directory per run. */
export const FILE_BACKUPS = '/var/backups/mhc/files';
/** Per service, a marker that its files changed and its daemons still need a reload/restart. */
export const CHANGED_DIR = '/var/lib/mhc/changed';
export const GRASTATE = '/var/lib/mysql/grastate.dat';
const dest = (bundlePath: string): string => bundlePath.slice('files'.length);

/** Controllers, ranked (Model.rankedControllers): VIP owner first, then keepalived priority, then hostname. */
export function rankedControllers(model: Model): readonly Controller[] {
  return model.rankedControllers.map((h) => model.controllers.find((c) => c.hostname === h) ?? bug(h));
}
const bug = (h: string): never => {
  throw new CompilerBug(`ranked controller ${h} is no controller`);
};

/** This node's services in start (phase) order. */
export const orderedServices = (node: Controller): string[] => SERVICES.filter((s) => runs(node, s));

const names = (ms: readonly { hostname: string }[] | undefined): string[] => (ms ?? []).map((m) => m.hostname);

/** The context of templates/lifecycle/lib/facts.sh.hbs. */
export function factsContext(model: Model, node: Controller): Record<string, unknown> {
  const ranked = rankedControllers(model);
  const vip = model.network.vip;
  const g = model.galera;
  const r = model.redis;
  const s = model.slurm;
  const gl = model.gluster;
  const w = model.web;
  const redisHere = r && runs(node, 'redis') ? instances(r, node) : [];
  const here = servicesHere(model, node);
  const hereKeys = new Set(here.map((d) => d.key));
  return {
    cluster: model.cluster.name,
    domain: model.cluster.domain ?? '',
    node: node.hostname,
    ip: node.ip,
    services: orderedServices(node),
    allServices: selectable().map((d) => d.key),
    labels: services().map((d) => ({ key: d.key, label: d.label })),
    aliases: services().flatMap((d) => d.aliases.map((alias) => ({ alias, key: d.key }))),
    units: here.map((d) => ({ key: d.key, units: d.units(model, node).join(' ') })),
    reloadUnits: here.map((d) => ({ key: d.key, units: d.reloadUnits(model, node).join(' ') })),
    keepsVip: here.filter((d) => d.day2?.keepsVip).map((d) => d.key),
    validators: here.flatMap((d) => d.validate.map((v) => ({ service: d.key, argv: v.argv.join(' '), dest: v.dest ?? '' }))),
    phases: phases().map((p) => ({ ...p, here: p.key === '' || hereKeys.has(p.key) ? '1' : '0' })),
    packages: packagesOf(model, node),
    controllers: ranked.map((c) => ({ hostname: c.hostname, ip: c.ip, services: SERVICES.filter((x) => runs(c, x)).join(' ') })),
    peers: ranked.filter((c) => c.hostname !== node.hostname).map((c) => c.hostname),
    home: MHC_HOME,
    vip: {
      address: vip?.address ?? '',
      prefix: vip ? String(vip.prefix) : '',
      iface: vip ? node.interface : '',
      owner: vip ? (model.vipOwner ?? '') : '',
      // keepalived's auth_pass, where this node runs keepalived (rotate_secret.sh)
      secret: vip && runs(node, 'keepalived') ? vip.authPass.name : '',
    },
    keepalivedMembers: names(model.keepalived.nodes),
    galera: {
      members: names(g?.members),
      clusterName: g?.clusterName ?? '',
      port: g ? String(g.port) : '',
      groupPort: g ? String(GALERA_GROUP_PORT) : '',
      sstUser: g?.sstUser ?? '',
      sstMethod: g?.sstMethod ?? '',
      adminUser: g?.adminUser ?? '',
      databases: g?.databases ?? [],
      arbitrator: g?.arbitrator?.hostname ?? '',
      arbitratorIp: g?.arbitrator?.ip ?? '',
      sstSecret: g?.sstPassword.name ?? '',
      rootSecret: g?.rootPassword.name ?? '',
    },
    redis: {
      mode: r?.mode ?? '',
      members: names(r?.members),
      port: r ? String(r.port) : '',
      ports: redisHere.map((i) => String(i.port)),
      sentinelPort: r?.mode === 'sentinel' ? String(r.sentinel.port) : '',
      sentinelMaster: r?.mode === 'sentinel' ? r.sentinel.masterName : '',
      secret: r?.password.name ?? '',
      sentinelUser: r?.mode === 'sentinel' ? SENTINEL_USER : '',
      sentinelSecret: r?.mode === 'sentinel' ? (r.sentinel.password?.name ?? '') : '',
    },
    slurm: {
      clusterName: s?.clusterName ?? '',
      controllers: names(s?.controllers),
      stateDir: s?.stateSaveLocation ?? '',
      user: s?.slurmUser ?? '',
      accounting: s?.accounting ? '1' : '0',
      dbdPort: s?.accounting ? String(s.accounting.port) : '',
      dbdHost: s?.accounting?.host ?? '',
      mungeSecret: s?.mungeKey.name ?? '',
      storageHost: s?.accounting?.storageHost ?? '',
      storagePort: s?.accounting ? String(s.accounting.storagePort) : '',
      storageUser: s?.accounting?.storageUser ?? '',
      storageLoc: s?.accounting?.storageLoc ?? '',
      storageSecret: s?.accounting?.storagePass.name ?? '',
    },
    gluster: {
      volume: gl?.volumeName ?? '',
      mount: gl?.mountPoint ?? '',
      members: names(gl?.members),
      mounts: mountsGluster(model, node) ? '1' : '0',
    },
    web: {
      domain: w?.domain ?? '',
      members: names(w?.members),
      sslMode: w?.ssl.mode ?? '',
      sslCert: w && w.ssl.mode !== 'off' ? w.ssl.certificate : '',
      sslKey: w && w.ssl.mode !== 'off' ? w.ssl.certificateKey : '',
      user: w ? WEB_USER : '',
      services: (w?.services ?? []).map((x) => ({ name: x.name, port: String(x.port), health: x.healthPath, unit: unitName(x) })),
    },
    backup: {
      dir: model.backup.dir,
      retentionDays: String(model.backup.retentionDays),
      items: model.backup.items,
    },
  };
}

/** The secret names lib/facts.sh declares (MHC_*_SECRET): the scripts read their values from secrets.env. */
export function factsSecrets(facts: Record<string, unknown>): string[] {
  const f = facts as {
    vip: { secret: string };
    galera: { sstSecret: string; rootSecret: string };
    redis: { secret: string; sentinelSecret: string };
    slurm: { mungeSecret: string; storageSecret: string };
  };
  return [f.vip.secret, f.galera.sstSecret, f.galera.rootSecret, f.redis.secret, f.redis.sentinelSecret, f.slurm.mungeSecret, f.slurm.storageSecret].filter((n) => n !== '');
}

/** The context of templates/lifecycle/lib/common.sh.hbs (identical for every bundle of a cluster). */
export function commonContext(): Record<string, unknown> {
  return {
    hostsBegin: HOSTS_BEGIN,
    hostsEnd: HOSTS_END,
    lockDir: LOCK_DIR,
    secretsEnv: SECRETS_ENV,
    hostsFile: HOSTS_FILE,
    mungeKey: PATHS.mungeKey,
    mungeKeyB64: PATHS.mungeKeyB64,
    seedSuffix: SEED_SUFFIX,
    installedMark: INSTALLED_MARK,
    journalRoot: APPLY_JOURNAL,
    ...NODE_RULES,
  };
}

/** lib/common.sh: every bundle that has a script gets it (controllers; compute when Slurm is on). */
export function commonFile(): EmittedFile {
  return { path: COMMON_SH, content: render('lifecycle/lib/common.sh', commonContext()), mode: 0o644 };
}

/** bin/start_compute.sh: installs a compute node's packages and files, then starts munge and slurmd. */
function startCompute(model: Model): EmittedFile {
  return { path: START_COMPUTE, content: render('lifecycle/bin/start_compute.sh', { paths: PATHS, packages: computePackages(model) }) };
}

/** stop_multihead.sh --help's list of services, in stop order: "web, keepalived (or vip), …". */
export const serviceHelp = (): string =>
  [...selectable()]
    .reverse()
    .map((d) => (d.aliases.length ? `${d.key} (or ${d.aliases.join(', ')})` : d.key))
    .join(', ');

/** start_multihead.sh's phases in one line: "0 infrastructure, 1 storage, …". */
export const phaseList = (): string =>
  phases()
    .map((p) => `${p.number} ${p.name}`)
    .join(', ');

export function startContext(node: Controller): Record<string, unknown> {
  return {
    phaseList: phaseList(),
    node: node.hostname,
    setupLog: SETUP_LOG,
    secretsEnv: SECRETS_ENV,
    fileBackups: FILE_BACKUPS,
    changedDir: CHANGED_DIR,
    grastate: GRASTATE,
    volumePlan: dest(VOLUME_PLAN),
    volumeOptions: dest(VOLUME_OPTIONS),
    fstabEntry: dest(FSTAB_ENTRY),
    redisInstances: dest(INSTANCES),
    redisClusterPlan: dest(CLUSTER_PLAN),
    sentinelStatic: sentinelStaticPath,
    sentinelRuntime: sentinelRuntimePath,
    checkScript: CHECK_SCRIPT,
  };
}

export function applyContext(node: Controller): Record<string, unknown> {
  return {
    node: node.hostname,
    ctldHold: SLURMCTLD_HOLD,
    applyLog: APPLY_LOG,
    journal: APPLY_JOURNAL,
    changedDir: CHANGED_DIR,
    fileBackups: FILE_BACKUPS,
    secretsEnv: SECRETS_ENV,
    redisStatic: STATIC_DIR,
    redisClusterPlan: dest(CLUSTER_PLAN),
    sentinelStatic: sentinelStaticPath,
    sentinelSeed: sentinelRuntimePath + SEED_SUFFIX,
  };
}

export const lifecycle: Emitter = {
  name: 'lifecycle',
  emit(model, target, _sofar, info) {
    // a compute node's bundle: start_compute.sh, the twin of start_multihead.sh (when Slurm is on)
    if (target.kind === 'compute') return model.slurm ? [commonFile(), startCompute(model)] : [];
    const node = target.node;
    const facts = factsContext(model, node);
    const plan = info.applyPlans?.get(target.name);
    return [
      commonFile(),
      { path: FACTS_SH, content: render('lifecycle/lib/facts.sh', facts), mode: 0o644, runtimeSecrets: factsSecrets(facts) },
      { path: START_SH, content: render('lifecycle/bin/start_multihead.sh', startContext(node)) },
      { path: STOP_SH, content: render('lifecycle/bin/stop_multihead.sh', { node: node.hostname, stopLog: STOP_LOG, serviceHelp: serviceHelp() }) },
      { path: APPLY_SH, content: render('lifecycle/bin/apply_multihead.sh', applyContext(node)) },
      { path: ROTATE_SH, content: render('lifecycle/bin/rotate_secret.sh', applyContext(node)) },
      ...(plan ? [applyPlanFile(plan, target.name)] : []),
    ];
  },
};
