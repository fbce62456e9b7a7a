// The lifecycle scripts of a controller bundle: lib/common.sh (shared bash helpers, also in the
// compute bundle, where bin/start_compute.sh uses it), lib/facts.sh (what this node and its
// cluster are, as read-only bash variables), bin/start_multihead.sh and bin/stop_multihead.sh.
// Runs after every service emitter: `sofar` holds every file of the node's bundle.
import { render } from '../compiler/render.js';
import { naturalCompare } from '../compiler/hostlist.js';
import { SERVICES, runs, type Controller, type Model } from '../compiler/model.js';
import type { BundleFile, EmittedFile } from '../compiler/bundle.js';
import type { Emitter } from './emitter.js';
import { MHC_HOME } from './systemd.js';
import { CLUSTER_PLAN, INSTANCES, SEED_SUFFIX, instances, SENTINEL_INSTANCE, sentinelRuntimePath, sentinelStaticPath } from './redis.js';
import { FSTAB_ENTRY, VOLUME_PLAN, mountsGluster } from './glusterfs.js';
import { WEB_USER, unitName } from './web.js';
import { PATHS } from './slurm.js';
import { NODE_RULES } from '../compiler/node-rules.js';

export const COMMON_SH = 'lib/common.sh';
export const FACTS_SH = 'lib/facts.sh';
export const START_SH = 'bin/start_multihead.sh';
export const STOP_SH = 'bin/stop_multihead.sh';
/** Marks of the block the start script keeps in /etc/hosts (and start_compute.sh too). */
export const HOSTS_BEGIN = '# BEGIN mhc cluster hosts (managed by mhc: do not edit inside this block)';
export const HOSTS_END = '# END mhc cluster hosts';
export const SETUP_LOG = '/var/log/cluster_multihead_setup.log';
export const STOP_LOG = '/var/log/cluster_multihead_stop.log';
/** Lock files live here (under MHC_ROOT). */
export const LOCK_DIR = '/run/mhc';
export const SECRETS_ENV = '/etc/mhc/secrets.env';
/** Files the start script replaces are kept here, one directory per run. */
export const FILE_BACKUPS = '/var/backups/mhc/files';
/** Per service, a marker that its files changed and its daemons still need a reload/restart. */
export const CHANGED_DIR = '/var/lib/mhc/changed';
export const GRASTATE = '/var/lib/mysql/grastate.dat';
/** keepalived's health check (the health-check emitter writes it). */
export const CHECK_SCRIPT = '/usr/local/sbin/check_all_services.sh';
const dest = (bundlePath: string): string => bundlePath.slice('files'.length);

/** Controllers, ranked: VIP owner first, then keepalived priority (highest first), then hostname (as normalize.ts). */
export function rankedControllers(model: Model): readonly Controller[] {
  return [...model.controllers].sort((a, b) => Number(b.vipOwner) - Number(a.vipOwner) || (b.priority ?? 0) - (a.priority ?? 0) || naturalCompare(a.hostname, b.hostname));
}

/** This node's services in start (phase) order. */
export const orderedServices = (node: Controller): string[] => SERVICES.filter((s) => runs(node, s));

const names = (ms: readonly { hostname: string }[] | undefined): string[] => (ms ?? []).map((m) => m.hostname);

/** The context of templates/lifecycle/facts.sh.hbs. */
export function factsContext(model: Model, node: Controller): Record<string, unknown> {
  const ranked = rankedControllers(model);
  const vip = model.network.vip;
  const g = model.galera;
  const r = model.redis;
  const s = model.slurm;
  const gl = model.gluster;
  const w = model.web;
  const redisHere = r && runs(node, 'redis') ? instances(r, node) : [];
  return {
    cluster: model.cluster.name,
    domain: model.cluster.domain ?? '',
    node: node.hostname,
    ip: node.ip,
    services: orderedServices(node),
    controllers: ranked.map((c) => ({ hostname: c.hostname, ip: c.ip, services: SERVICES.filter((x) => runs(c, x)).join(' ') })),
    peers: ranked.filter((c) => c.hostname !== node.hostname).map((c) => c.hostname),
    home: MHC_HOME,
    vip: {
      address: vip?.address ?? '',
      prefix: vip ? String(vip.prefix) : '',
      iface: vip ? node.interface : '',
      owner: vip ? (model.vipOwner ?? '') : '',
    },
    keepalivedMembers: names(model.keepalived.nodes),
    galera: {
      members: names(g?.members),
      clusterName: g?.clusterName ?? '',
      port: g ? String(g.port) : '',
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
      units: [...redisHere.map((i) => `redis-server@${i.name}.service`), ...(r?.mode === 'sentinel' && redisHere.length ? [`redis-sentinel@${SENTINEL_INSTANCE}.service`] : [])],
      sentinelPort: r?.mode === 'sentinel' ? String(r.sentinel.port) : '',
      sentinelMaster: r?.mode === 'sentinel' ? r.sentinel.masterName : '',
      secret: r?.password.name ?? '',
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
  const f = facts as { galera: { sstSecret: string; rootSecret: string }; redis: { secret: string }; slurm: { mungeSecret: string; storageSecret: string } };
  return [f.galera.sstSecret, f.galera.rootSecret, f.redis.secret, f.slurm.mungeSecret, f.slurm.storageSecret].filter((n) => n !== '');
}

/** The context of templates/lifecycle/common.sh.hbs (identical for every bundle of a cluster). */
export function commonContext(): Record<string, unknown> {
  return {
    hostsBegin: HOSTS_BEGIN,
    hostsEnd: HOSTS_END,
    lockDir: LOCK_DIR,
    secretsEnv: SECRETS_ENV,
    ...NODE_RULES,
  };
}

/** lib/common.sh: every bundle that has a script gets it (controllers; compute when Slurm is on). */
export function commonFile(): EmittedFile {
  return { path: COMMON_SH, content: render('lifecycle/common.sh', commonContext()), mode: 0o644 };
}

/** Debian packages each service needs on this node (`mount`: the gluster client on a node that only mounts). */
export function packages(model: Model, node: Controller): { service: string; list: string }[] {
  const out: { service: string; list: string }[] = [];
  const add = (service: string, list: string[]) => out.push({ service, list: list.join(' ') });
  if (runs(node, 'glusterfs') && model.gluster) add('glusterfs', ['glusterfs-server']);
  else if (mountsGluster(model, node)) add('mount', ['glusterfs-client']);
  const g = model.galera;
  if (g && runs(node, 'mariadb')) add('mariadb', ['mariadb-server', 'mariadb-client', 'galera-4', g.sstMethod === 'mariabackup' ? 'mariadb-backup' : 'rsync']);
  const r = model.redis;
  if (r && runs(node, 'redis')) add('redis', ['redis-server', 'redis-tools', ...(r.mode === 'sentinel' ? ['redis-sentinel'] : [])]);
  const s = model.slurm;
  if (s && runs(node, 'slurm')) add('slurm', ['munge', 'slurmctld', 'slurm-client', ...(s.accounting ? ['slurmdbd'] : [])]);
  if (model.network.vip && runs(node, 'keepalived')) add('keepalived', ['keepalived']);
  if (model.web && runs(node, 'web')) add('web', ['nginx', 'openssl']);
  return out;
}

/** Debian packages a compute node needs before bin/start_compute.sh runs (it installs none itself). */
export function computePackages(model: Model): string[] {
  return model.slurm ? ['munge', 'slurmd', 'slurm-client'] : [];
}

/** The service whose daemons read an installed file (a change there marks it for reload/restart). */
export function fileService(path: string): string | undefined {
  const rules: [RegExp, string][] = [
    [/^\/etc\/mhc\/(glusterfs|fstab\.d)\//, 'glusterfs'],
    [/^\/etc\/mysql\//, 'mariadb'],
    [/^\/etc\/mhc\/garbd\//, 'mariadb'],
    [/^\/etc\/(redis|mhc\/redis)\//, 'redis'],
    [/^\/etc\/systemd\/system\/redis-(server|sentinel)@/, 'redis'],
    [/^\/etc\/(slurm|munge)\//, 'slurm'],
    [/^\/etc\/systemd\/system\/(slurm|munge)/, 'slurm'],
    [/^\/etc\/keepalived\//, 'keepalived'],
    [/^\/usr\/local\/sbin\/(check_all_services|mhc-keepalived)/, 'keepalived'],
    [/^\/etc\/(nginx|mhc\/web|mhc\/tls)\//, 'web'],
    [/^\/etc\/systemd\/system\/mhc-web-/, 'web'],
    [/^\/etc\/systemd\/system\/mhc-(backup|status-monitor)/, 'backup'],
  ];
  return rules.find(([re]) => re.test(path))?.[1];
}

export function startContext(model: Model, node: Controller, sofar: readonly BundleFile[], prefix: string): Record<string, unknown> {
  const files = sofar.filter((f) => f.dest).map((f) => ({ path: f.path.slice(prefix.length), dest: f.dest! }));
  return {
    node: node.hostname,
    setupLog: SETUP_LOG,
    secretsEnv: SECRETS_ENV,
    fileBackups: FILE_BACKUPS,
    changedDir: CHANGED_DIR,
    seedSuffix: SEED_SUFFIX,
    grastate: GRASTATE,
    mungeKey: PATHS.mungeKey,
    mungeKeyB64: PATHS.mungeKeyB64,
    hostsFile: '/etc/mhc/hosts',
    volumePlan: dest(VOLUME_PLAN),
    fstabEntry: dest(FSTAB_ENTRY),
    redisInstances: dest(INSTANCES),
    redisClusterPlan: dest(CLUSTER_PLAN),
    sentinelStatic: sentinelStaticPath,
    sentinelRuntime: sentinelRuntimePath,
    checkScript: CHECK_SCRIPT,
    packages: packages(model, node),
    fileServices: files.flatMap((f) => {
      const service = fileService(f.dest.endsWith(SEED_SUFFIX) ? f.dest.slice(0, -SEED_SUFFIX.length) : f.dest);
      return service ? [{ dest: f.dest, service }] : [];
    }),
  };
}

export const lifecycle: Emitter = {
  name: 'lifecycle',
  emit(model, target, sofar: readonly BundleFile[]) {
    if (target.kind === 'compute') return model.slurm ? [commonFile()] : [];
    const node = target.node;
    const facts = factsContext(model, node);
    return [
      commonFile(),
      { path: FACTS_SH, content: render('lifecycle/facts.sh', facts), mode: 0o644, runtimeSecrets: factsSecrets(facts) },
      { path: START_SH, content: render('lifecycle/start_multihead.sh', startContext(model, node, sofar, `${target.name}/`)) },
      { path: STOP_SH, content: render('lifecycle/stop_multihead.sh', { node: node.hostname, stopLog: STOP_LOG }) },
    ];
  },
};
