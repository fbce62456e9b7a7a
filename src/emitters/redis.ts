// Redis on every controller running redis, in one of two shapes:
// - cluster (≥ 3 nodes): each node runs a master instance on port P and `replicas` replica
//   instances on P+1…, each replicating the master of another node (cluster-plan says which);
// - sentinel: one instance per node (the VIP owner's is the initial master, the others
//   `replicaof` it) and a Sentinel per node.
// Every instance and Sentinel has two files: static settings under /etc/redis/mhc/ (never
// written by the daemon) and a run-time file the daemon rewrites, which includes them. Run-time
// files are shipped as seeds (`<path>.seed`): installed without the suffix, only when absent.
// Run-time files collect every setting, passwords included, on each CONFIG REWRITE, and Redis
// 7.0 re-creates them with mode 0644 & ~umask: the seeds are 0600 and every unit gets a drop-in
// with UMask=0077 (Debian's units set 007, which would leave a rewritten file group-readable).
//
// Sentinel requires a password (requirepass; `sentinel sentinel-pass` for the other Sentinels):
// an anonymous client could otherwise SENTINEL SET/REMOVE/MONITOR, e.g. point the master at its
// own address so that clients send it REDIS_PASSWORD. It is its own secret,
// REDIS_SENTINEL_PASSWORD, not the Redis password: Sentinel's run-time file (rewritten by
// Sentinel, so it cannot be kept in a file Sentinel never writes) then never holds the data
// password, and either can be rotated alone. The web apps need both (they find the master through
// Sentinel), so a compromised web app still holds both. What Sentinel checks is the credential
// derived from it (lowercase hex SHA-256, the `sentinel` placeholder encoding): Sentinel 7.0's
// config rewrite writes `sentinel sentinel-pass` unquoted, so a value with a space or a quote
// would break sentinel.conf after the first rewrite; 64 hex digits survive it.
import { render } from '../compiler/render.js';
import { placeholder } from '../compiler/secrets.js';
import { runs, type Controller, type Member, type Model } from '../compiler/model.js';
import type { EmittedFile } from '../compiler/bundle.js';
import type { Emitter } from './emitter.js';
import { addresses as ips, isUnitFile, service, UNIT_RULE, type Check, type PortRule, type SettingRule } from './service.js';

type Redis = NonNullable<Model['redis']>;

/** Suffix of run-time files: install without it, only when the target does not exist. */
export const SEED_SUFFIX = '.seed';
export const STATIC_DIR = '/etc/redis/mhc';
export const INSTANCES = 'files/etc/mhc/redis/instances';
export const CLUSTER_PLAN = 'files/etc/mhc/redis/cluster-plan';
/** The ACL user Sentinel logs in to the instances as. */
export const SENTINEL_USER = 'mhc-sentinel';
/** The user Debian's redis units run as. */
export const REDIS_USER = 'redis';
export const DATA_DIR = '/var/lib/redis';
export const CLUSTER_NODE_TIMEOUT = 5000;
/** The umask of every Redis and Sentinel unit (drop-in): rewritten run-time files stay 0600. */
export const UNIT_UMASK = '0077';
export const UMASK_DROPIN = 'mhc-umask.conf';
/** The drop-in of a unit, e.g. /etc/systemd/system/redis-server@mhc.service.d/mhc-umask.conf */
export const unitDropin = (unit: string): string => `/etc/systemd/system/${unit}.d/${UMASK_DROPIN}`;

export interface Instance {
  /** instance name of Debian's redis-server@.service (config /etc/redis/redis-NAME.conf) */
  name: string;
  port: number;
  /** static settings, included by the run-time file */
  staticPath: string;
  /** the file redis-server is started with; Redis rewrites it */
  runtimePath: string;
  pidfile: string;
  dbfilename: string;
  /** what this instance is when the cluster is first built */
  role: string;
  /** sentinel mode, not on the initial master: `ip port` of the master */
  replicaof?: string;
}

/** Replica instances per master that fit on other hosts (at most one per host). */
export const replicasPerMaster = (r: Redis): number => Math.max(0, Math.min(r.replicas, r.members.length - 1));

export interface ClusterPair {
  replica: { member: Member; port: number };
  master: Member;
}

/**
 * Cluster mode: the k-th replica (k = 1…R) of the master on node j (ranked order) is the
 * instance on port P+k of node (j+k) mod n. R ≤ n−1, so no master shares a host with any of
 * its replicas, and no two replicas of one master share a host: one node's loss leaves every
 * slot with a live copy. Listed by master, then k.
 */
export function clusterPairs(r: Redis): ClusterPair[] {
  const n = r.members.length;
  const out: ClusterPair[] = [];
  r.members.forEach((master, j) => {
    for (let k = 1; k <= replicasPerMaster(r); k++)
      out.push({
        replica: { member: r.members[(j + k) % n]!, port: r.port + k },
        master,
      });
  });
  return out;
}

/** The cluster plan's prose about replica placement. */
function placementText(r: Redis): { replicaText: string; placement: string } {
  const k = replicasPerMaster(r);
  const ports = Array.from({ length: k }, (_, i) => r.port + 1 + i);
  if (k === 1) {
    return {
      replicaText: `one replica instance on port ${ports[0]}`,
      placement: `the replica of node i's master is the instance on port ${ports[0]} of node i+1`,
    };
  }
  return {
    replicaText: `${k} replica instances on ports ${ports.join(', ')}`,
    placement: `the k-th replica of node i's master is the instance on port ${r.port}+k of node i+k`,
  };
}

export const addr = (m: Member, port: number): string => `${m.ip}:${port}`;

/** Sentinel mode: the instance that is master when the cluster is first started (the first ranked member: the VIP owner). */
export const initialMaster = (r: Redis): Member => r.members[0]!;

/** The Redis instances of one node. */
export function instances(r: Redis, node: Member): Instance[] {
  const inst = (name: string, port: number, staticName: string, role: string, replicaof?: string): Instance => ({
    name,
    port,
    staticPath: `${STATIC_DIR}/${staticName}`,
    runtimePath: `/etc/redis/redis-${name}.conf`,
    pidfile: `/run/redis-${name}/redis-server.pid`,
    dbfilename: `dump-${port}.rdb`,
    role,
    ...(replicaof ? { replicaof } : {}),
  });
  if (r.mode === 'sentinel') {
    const master = initialMaster(r);
    return master.hostname === node.hostname
      ? [inst('mhc', r.port, 'redis.conf', `the initial master (Sentinel "${r.sentinel.masterName}" may move that role)`)]
      : [inst('mhc', r.port, 'redis.conf', `initially a replica of ${master.hostname} (Sentinel "${r.sentinel.masterName}" may move that role)`, `${master.ip} ${r.port}`)];
  }
  const out = [inst(`mhc-${r.port}`, r.port, `redis-${r.port}.conf`, 'a Redis Cluster master when the cluster is built')];
  for (const p of clusterPairs(r)) {
    if (p.replica.member.hostname !== node.hostname) continue;
    out.push(inst(`mhc-${p.replica.port}`, p.replica.port, `redis-${p.replica.port}.conf`, `when the cluster is built, a replica of the master ${addr(p.master, r.port)} (${p.master.hostname})`));
  }
  return out;
}

export const SENTINEL_INSTANCE = 'mhc';
export const sentinelRuntimePath = `/etc/redis/sentinel-${SENTINEL_INSTANCE}.conf`;
export const sentinelStaticPath = `${STATIC_DIR}/sentinel.conf`;

const files = (p: string): string => `files${p}`;

export function redisFiles(r: Redis, node: Controller): EmittedFile[] {
  const password = placeholder(r.password.name, 'dq');
  const sentinelPassword = placeholder(r.password.name, 'sentinel');
  // what clients (web apps, health checks, the other Sentinels) give Sentinel: derived from its own secret
  const sentinelAuth = r.sentinel.password ? placeholder(r.sentinel.password.name, 'sentinel') : '';
  const own = { owner: REDIS_USER, group: REDIS_USER };
  const list = instances(r, node);
  const out: EmittedFile[] = [];
  for (const i of list) {
    out.push({
      path: files(i.staticPath),
      content: render('redis/etc/redis/mhc/redis-PORT.conf', {
        instance: i.name,
        hostname: node.hostname,
        role: i.role,
        runtime: i.runtimePath,
        ip: node.ip,
        port: i.port,
        password,
        cluster: r.mode === 'cluster',
        nodesFile: `nodes-${i.port}.conf`,
        nodeTimeout: CLUSTER_NODE_TIMEOUT,
        maxmemory: r.maxmemory ?? '',
        maxmemoryPolicy: r.maxmemoryPolicy ?? '',
        ioThreads: r.ioThreads ?? '',
        dir: DATA_DIR,
        dbfilename: i.dbfilename,
        pidfile: i.pidfile,
      }),
      mode: 0o600,
      ...own,
    });
    out.push({
      path: files(i.runtimePath) + SEED_SUFFIX,
      content: render('redis/etc/redis/redis-mhc-PORT.conf.seed', {
        runtime: i.runtimePath,
        instance: i.name,
        static: i.staticPath,
        sentinelUser: r.mode === 'sentinel' ? SENTINEL_USER : '',
        sentinelPassword,
        replicaof: i.replicaof ?? '',
      }),
      // Redis replaces it on CONFIG REWRITE (as its owner) and copies requirepass/masterauth into it
      mode: 0o600,
      ...own,
    });
  }
  const master = initialMaster(r);
  if (r.mode === 'sentinel') {
    out.push({
      path: files(sentinelStaticPath),
      content: render('redis/etc/redis/mhc/sentinel.conf', {
        hostname: node.hostname,
        masterName: r.sentinel.masterName,
        runtime: sentinelRuntimePath,
        instance: SENTINEL_INSTANCE,
        port: r.sentinel.port,
        ip: node.ip,
        sentinelUser: SENTINEL_USER,
        sentinelPassword,
        sentinelAuth,
        downAfter: r.sentinel.downAfterMs,
        failoverTimeout: r.sentinel.failoverTimeoutMs,
        dir: DATA_DIR,
        pidfile: `/run/sentinel-${SENTINEL_INSTANCE}/redis-sentinel.pid`,
      }),
      mode: 0o600,
      ...own,
    });
    out.push({
      path: files(sentinelRuntimePath) + SEED_SUFFIX,
      content: render('redis/etc/redis/sentinel-mhc.conf.seed', {
        runtime: sentinelRuntimePath,
        instance: SENTINEL_INSTANCE,
        static: sentinelStaticPath,
        masterName: r.sentinel.masterName,
        masterIp: master.ip,
        masterPort: r.port,
        quorum: r.sentinel.quorum,
      }),
      // Sentinel writes it (it refuses to start otherwise) and copies requirepass/auth-pass into it
      mode: 0o600,
      ...own,
    });
  }
  const units = redisUnits(r, node);
  for (const unit of units) {
    out.push({
      path: files(unitDropin(unit)),
      content: render('redis/etc/systemd/system/redis-server@mhc-PORT.service.d/mhc-umask.conf', { unit, umask: UNIT_UMASK }),
    });
  }
  out.push({
    path: INSTANCES,
    content: render('redis/etc/mhc/redis/instances', {
      hostname: node.hostname,
      mode: r.mode,
      units,
      ports: list.map((i) => i.port),
      rdbFiles: list.map((i) => `${DATA_DIR}/${i.dbfilename}`),
      sentinel:
        r.mode === 'sentinel'
          ? {
              port: r.sentinel.port,
              masterName: r.sentinel.masterName,
              initialMaster: addr(master, r.port),
            }
          : false,
    }),
  });
  if (r.mode === 'cluster') {
    out.push({
      path: CLUSTER_PLAN,
      content: render('redis/etc/mhc/redis/cluster-plan', {
        port: r.port,
        replicas: replicasPerMaster(r),
        ...placementText(r),
        nodeTimeout: CLUSTER_NODE_TIMEOUT,
        masters: r.members.map((m) => addr(m, r.port)),
        pairs: clusterPairs(r).map((p) => `${addr(p.replica.member, p.replica.port)}=${addr(p.master, r.port)}`),
      }),
    });
  }
  return out;
}

/** This node's Redis units in start order: the instances, then Sentinel. */
export function redisUnits(r: Redis, node: Member): string[] {
  return [...instances(r, node).map((i) => `redis-server@${i.name}.service`), ...(r.mode === 'sentinel' ? [`redis-sentinel@${SENTINEL_INSTANCE}.service`] : [])];
}

const range = (a: number, b: number): string => (a === b ? `${a}` : `${a}-${b}`);

function redisPorts(r: Redis, model: Model, node: Controller): PortRule[] {
  const ctl = ips(model.controllers);
  if (r.mode === 'sentinel')
    return [
      { proto: 'tcp', ports: `${r.port}`, service: 'Redis (clients and replication)', from: ctl },
      { proto: 'tcp', ports: `${r.sentinel.port}`, service: 'Redis Sentinel', from: ctl },
    ];
  return [
    { proto: 'tcp', ports: range(r.port, r.port + r.replicas), service: `Redis Cluster instances (master${r.replicas ? ` + ${r.replicas} replica${r.replicas > 1 ? 's' : ''}` : ''})`, from: ctl },
    { proto: 'tcp', ports: range(r.port + 10000, r.port + r.replicas + 10000), service: 'Redis Cluster bus (port + 10000)', from: ips(r.members.filter((m) => m.hostname !== node.hostname)) },
  ];
}

function redisChecks(r: Redis, node: Controller): Check[] {
  const out: Check[] = instances(r, node).map((i) => ({ name: `redis:${i.port}`, service: 'redis', fn: 'check_redis', args: [node.ip, String(i.port), i.staticPath] }));
  if (r.mode === 'sentinel') out.push({ name: `redis:sentinel:${r.sentinel.port}`, service: 'redis', fn: 'check_redis', args: [node.ip, String(r.sentinel.port), sentinelStaticPath] });
  return out;
}

const here = (model: Model, node: Controller): Redis | undefined => (model.redis && runs(node, 'redis') ? model.redis : undefined);

const CONFIG_SET = 'redis.conf: CONFIG SET on the running instance (read back with CONFIG GET) as well as the file, no restart';
const IMMUTABLE = 'redis.conf: CONFIG SET refuses it (immutable): a restart, one instance at a time, a master after its replica took over';
const PROTECTED = 'redis.conf: a protected config (enable-protected-configs is off): CONFIG SET refuses it; a restart, one instance at a time';
/**
 * What a change to each setting mhc writes in an instance's static redis.conf needs. `dynamic`: the
 * running redis-server takes `CONFIG SET` for it (test/daemons/redis.test.ts asks Debian 12's 7.0);
 * where mhc is stricter, the rule says why.
 */
export const REDIS_SETTINGS: Readonly<Record<string, SettingRule>> = {
  bind: { action: 'runtime', dynamic: true, rule: CONFIG_SET },
  port: { action: 'restart', dynamic: true, rule: 'mhc: the port names the instance (redis-server@mhc-PORT, its cluster node, its Sentinel entry): a new port is a new instance' },
  'protected-mode': { action: 'runtime', dynamic: true, rule: CONFIG_SET },
  requirepass: { action: 'runtime', dynamic: true, rule: `${CONFIG_SET}; its consumers (masterauth, Sentinel, the web apps) switch in the same step` },
  masterauth: { action: 'runtime', dynamic: true, rule: CONFIG_SET },
  'replica-announce-ip': { action: 'runtime', dynamic: true, rule: CONFIG_SET },
  'cluster-enabled': { action: 'restart', dynamic: false, rule: `${IMMUTABLE}; a mode change is a new cluster (its data moved by backup and restore)` },
  'cluster-config-file': { action: 'restart', dynamic: false, rule: IMMUTABLE },
  'cluster-node-timeout': { action: 'runtime', dynamic: true, rule: CONFIG_SET },
  'cluster-announce-ip': { action: 'runtime', dynamic: true, rule: CONFIG_SET },
  dir: { action: 'restart', dynamic: false, rule: `${PROTECTED}; the data set moves with it (stop, move, start)` },
  dbfilename: { action: 'restart', dynamic: false, rule: PROTECTED },
  save: { action: 'runtime', dynamic: true, rule: CONFIG_SET },
  maxmemory: { action: 'runtime', dynamic: true, rule: CONFIG_SET },
  'maxmemory-policy': { action: 'runtime', dynamic: true, rule: CONFIG_SET },
  'io-threads': { action: 'restart', dynamic: false, rule: IMMUTABLE },
  pidfile: { action: 'restart', dynamic: false, rule: IMMUTABLE },
  logfile: { action: 'restart', dynamic: false, rule: IMMUTABLE },
};

const SENTINEL_SET =
  "sentinel.conf: SENTINEL SET on the running Sentinel (read back with SENTINEL MASTER; it rewrites its run-time file) as well as the file, no restart; every Sentinel in its node's step";
const SENTINEL_START = 'sentinel.conf: read when Sentinel starts (SENTINEL SET refuses it); a restart of Sentinel (the instances keep serving)';
/**
 * What a change to each setting of Sentinel's static file needs (settingsOf names a `sentinel OPTION
 * …` line "sentinel=OPTION"). `dynamic`: the running Sentinel takes SENTINEL SET for it
 * (test/daemons/redis.test.ts asks Debian 12's 7.0, and that it refuses the others); where mhc is
 * stricter, the rule says why.
 */
export const SENTINEL_SETTINGS: Readonly<Record<string, SettingRule>> = {
  'sentinel=down-after-milliseconds': { action: 'runtime', dynamic: true, rule: SENTINEL_SET },
  'sentinel=failover-timeout': { action: 'runtime', dynamic: true, rule: SENTINEL_SET },
  'sentinel=parallel-syncs': { action: 'runtime', dynamic: true, rule: SENTINEL_SET },
  'sentinel=auth-user': { action: 'restart', dynamic: true, rule: "mhc: the instances' ACL user Sentinel logs in as changes with it (their run-time files): a restart of Sentinel and the instances" },
  'sentinel=auth-pass': { action: 'restart', dynamic: true, rule: 'mhc: derived from the Redis password, a secret: it changes by a rotation, not a plan (in Sentinel mode not supported yet)' },
  'sentinel=sentinel-pass': { action: 'restart', dynamic: false, rule: `${SENTINEL_START}; derived from Sentinel's own secret` },
  'sentinel=announce-ip': { action: 'restart', dynamic: false, rule: SENTINEL_START },
  'sentinel=resolve-hostnames': { action: 'restart', dynamic: false, rule: SENTINEL_START },
  'sentinel=deny-scripts-reconfig': { action: 'restart', dynamic: false, rule: SENTINEL_START },
  port: { action: 'restart', dynamic: false, rule: SENTINEL_START },
  bind: { action: 'restart', dynamic: false, rule: SENTINEL_START },
  'protected-mode': { action: 'restart', dynamic: false, rule: SENTINEL_START },
  requirepass: { action: 'restart', dynamic: false, rule: `${SENTINEL_START}; derived from Sentinel's own secret` },
  dir: { action: 'restart', dynamic: false, rule: SENTINEL_START },
  pidfile: { action: 'restart', dynamic: false, rule: SENTINEL_START },
  logfile: { action: 'restart', dynamic: false, rule: SENTINEL_START },
};
/**
 * The seed of Sentinel's run-time file (installed only when that file is absent): the `sentinel
 * monitor` line's quorum is SENTINEL SET on every Sentinel (each rewrites its own file); its master,
 * and the include, count only when Sentinel first starts (it tracks the master since).
 */
export const SENTINEL_SEED_SETTINGS: Readonly<Record<string, SettingRule>> = {
  sentinel: {
    action: 'runtime',
    dynamic: true,
    rule: 'sentinel.conf: the quorum by SENTINEL SET on the running Sentinel (read back with SENTINEL MASTER), no restart; the initial master only counts at the first start',
  },
  include: { action: 'none', dynamic: false, rule: "mhc: the seed is installed only when Sentinel's run-time file is absent: a new include counts at the first start only" },
};

export const redisService = service({
  key: 'redis',
  label: 'Redis',
  phase: 'redis',
  day2: {
    disruption: {
      restart: 'the instance restarts; a master hands its slots to its replica first (clients of those slots reconnect once)',
      runtime: 'none: CONFIG SET on the running instance (Sentinel: SENTINEL SET)',
    },
    gates: ['Redis: cluster_state ok on every instance (Sentinel mode: the quorum of Sentinels reachable)'],
    controllerMembership: {
      reconciles: true,
      rule: 'Redis Cluster (cluster-tutorial, redis-cli --cluster): a node joins by add-node (a master, then its replica with --cluster-slave), gets its share of the slots by rebalance --cluster-use-empty-masters, and a replica follows another master by CLUSTER REPLICATE; a node leaves by having its slots moved away (rebalance --cluster-weight ID=0), then CLUSTER FORGET on every other instance',
      join: 'the new instances join the cluster: its master takes a share of the slots by live resharding (a client of a moving slot follows one ASK redirect per key), a replica is moved to follow it as the plan places them',
      leave: 'its slots move to the other masters by live resharding (a client follows ASK redirects), the replicas follow the masters the plan gives them, then every instance forgets the node',
    },
  },
  here: (_model, node) => runs(node, 'redis'),
  packages: (model) => (model.redis ? ['redis-server', 'redis-tools', ...(model.redis.mode === 'sentinel' ? ['redis-sentinel'] : [])] : []),
  units: (model, node) => {
    const r = here(model, node);
    return r ? redisUnits(r, node) : [];
  },
  configDirs: ['/etc/redis'],
  ports: (model, node) => {
    const r = here(model, node);
    return r ? redisPorts(r, model, node) : [];
  },
  checks: (model, node) => {
    const r = here(model, node);
    return r ? redisChecks(r, node) : [];
  },
  backupItems: [{ name: 'redis', here: (model, node) => !!here(model, node) }],
  change(dest) {
    if (isUnitFile(dest)) return UNIT_RULE;
    if (dest.endsWith(SEED_SUFFIX)) return { action: 'none', rule: 'mhc: a run-time file Redis rewrites (CONFIG REWRITE) is installed only when absent, never replaced' };
    if (dest.startsWith(`${STATIC_DIR}/`))
      return { action: 'restart', rule: 'redis.conf: read when redis-server (or Sentinel) starts; restart one instance at a time, a master after its replica took over' };
    return { action: 'none', rule: 'mhc: a plan start_multihead.sh phase 3 reads; a cluster that is built is never re-created' };
  },
  // an instance's static file (CONFIG SET); Sentinel's, and the seed of its run-time file (SENTINEL SET)
  settings: (dest) =>
    dest === sentinelStaticPath
      ? SENTINEL_SETTINGS
      : dest === sentinelRuntimePath + SEED_SUFFIX
        ? SENTINEL_SEED_SETTINGS
        : dest.startsWith(`${STATIC_DIR}/redis`) && dest.endsWith('.conf')
          ? REDIS_SETTINGS
          : undefined,
});

export const redis: Emitter = {
  name: 'redis',
  service: redisService,
  emit(model, target) {
    const r = model.redis;
    if (!r || target.kind !== 'controller' || !runs(target.node, 'redis')) return [];
    return redisFiles(r, target.node);
  },
};
