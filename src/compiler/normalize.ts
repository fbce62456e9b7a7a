// normalize: folded input → the Model. Fills defaults, derives values (VIP owner, priorities,
// SlurmctldHost order, member lists, Redis mode, per-node services) and sorts everything.
// Total on schema-valid input: cross-field problems are reported by rules.ts, never thrown here.
import { canonicalAccounting, canonicalBackupItem, canonicalMaxTime, type At, type Folded, type FoldedController } from './fold.js';
import type { Path } from './locate.js';
import { expand, naturalCompare } from './hostlist.js';
import {
  deepFreeze,
  SERVICES,
  type ComputeNode,
  type ControllerNode,
  type Hardware,
  type Member,
  type Model,
  type ModelData,
  type Partition,
  type SecretRef,
  type SecretSpec,
  type ServiceKey,
  type WebService,
} from './model.js';
import { netmaskToPrefix, prefixToNetmask, cidr } from './net.js';
import { SECRET_REF } from './formats.js';
import type { Input, PartitionInput, WebServiceInput } from './schema.js';
import { DEFAULT_TARGET_OS, targetFacts } from './targets.js';

/**
 * SlurmctldTimeout when `slurm.slurmctld_timeout` is not set: a backup slurmctld takes over after
 * this many seconds without the primary. Slurm's own default is 120; half that keeps a takeover
 * near a minute while riding out a primary's restart.
 */
export const DEFAULT_SLURMCTLD_TIMEOUT = 60;

/**
 * What normalize takes for a key the YAML leaves out, by the key's place in the canonical shape
 * (schema.ts). The one place these values are written: normalize reads them, `mhc init` writes
 * them into a new file. Defaults that depend on the rest of the cluster are the functions below.
 */
export const DEFAULTS = {
  target: { os: DEFAULT_TARGET_OS },
  network: { vip: { prefix: 24, interface: 'eth0', advert_int: 1, preempt: true } },
  storage: { gluster: { volume_name: 'gluster_volume', arbiter: false, brick_path: '/data/gluster/brick', mount_point: '/mnt/gluster' } },
  database: { port: 3306, mariadb: { sst_method: 'mariabackup' }, galera: { gcache_size: '1G', slave_threads: 4 } },
  redis: { mode: 'auto', port: 6379, cluster: { replicas: 1 }, sentinel: { port: 26379, master_name: 'mhc-redis', down_after_milliseconds: 5000, failover_timeout: 60000 } },
  slurm: { slurm_user: 'slurm', slurmctld_timeout: DEFAULT_SLURMCTLD_TIMEOUT, configless: false },
  // ClusterShell's fanout, timeouts fit for a start script, batches of 256, stop above 10% failed
  deploy: { fanout: 64, connect_timeout: 10, command_timeout: 900, batch: 256, max_fail_percent: 10 },
  web: { domain: 'cluster.local', ssl: { enabled: true } },
  backup: { backup_dir: '/var/backups/cluster', retention_days: 30, schedule: '*-*-* 02:00:00' },
} as const;

/** A partition's settings when not given, and the one partition a cluster with compute nodes gets when it lists none. */
export const PARTITION_DEFAULTS = { max_time: 'INFINITE', state: 'UP' } as const;
export const DEFAULT_PARTITION: Readonly<PartitionInput> = { name: 'debug', nodes: 'ALL', default: true };

/** gluster replica_count when not given: 3, or fewer when fewer nodes run glusterfs. */
export const defaultReplicaCount = (glusterNodes: number): number => Math.min(3, glusterNodes);

/** slurm.accounting_storage_type when not given: slurmdbd when a controller runs mariadb. */
export const defaultAccounting = (withMariadb: boolean): 'slurmdbd' | 'none' => (withMariadb ? 'slurmdbd' : 'none');

/** The keepalived priority of the i-th (0-based, the VIP owner first) of `count` nodes when none is given. */
export const defaultPriority = (i: number, count: number): number => (count <= 10 ? 100 - 10 * i : Math.max(1, 254 - i));

/** `deploy:` → the Model's settings of the fan-out files (gateways a sorted set). */
function deployOf(d: Input['deploy']): ModelData['deploy'] {
  const D = DEFAULTS.deploy;
  return {
    ...(d?.admin_host ? { adminHost: d.admin_host } : {}),
    gateways: [...new Set(d?.gateways ?? [])].sort(naturalCompare),
    fanout: d?.fanout ?? D.fanout,
    connectTimeout: d?.connect_timeout ?? D.connect_timeout,
    commandTimeout: d?.command_timeout ?? D.command_timeout,
    batch: d?.batch ?? D.batch,
    maxFailPercent: d?.max_fail_percent ?? D.max_fail_percent,
  };
}

/** The web services of seed 003 (name, port, kind, URL path). */
export const DEFAULT_WEB_SERVICES: readonly Omit<WebService, 'execStart' | 'workingDirectory' | 'healthPath'>[] = [
  { name: 'dashboard', port: 5173, kind: 'frontend', path: '/' },
  { name: 'monitoring', port: 5174, kind: 'frontend', path: '/monitoring/' },
  { name: 'admin', port: 5175, kind: 'frontend', path: '/admin/' },
  { name: 'auth', port: 5000, kind: 'backend', path: '/api/auth/' },
  { name: 'job_api', port: 5001, kind: 'backend', path: '/api/jobs/' },
  { name: 'file', port: 5002, kind: 'backend', path: '/api/files/' },
  { name: 'metrics', port: 5003, kind: 'backend', path: '/api/metrics/' },
  { name: 'websocket', port: 5010, kind: 'websocket', path: '/ws/' },
];

/** Secrets mhc knows by purpose: default name, description, kind, generated length. */
export const SECRET_SLOTS = {
  dbRoot: { name: 'DB_ROOT_PASSWORD', purpose: 'MariaDB root password', kind: 'password', length: 32 },
  galeraSst: { name: 'GALERA_SST_PASSWORD', purpose: 'Galera SST (mariabackup) user password', kind: 'password', length: 32, maxLength: 1000 },
  slurmdbd: { name: 'SLURMDBD_DB_PASSWORD', purpose: "slurmdbd's MariaDB user password", kind: 'password', length: 32, slurmConf: true },
  redis: { name: 'REDIS_PASSWORD', purpose: 'Redis requirepass/masterauth', kind: 'password', length: 32 },
  redisSentinel: {
    name: 'REDIS_SENTINEL_PASSWORD',
    purpose: 'Redis Sentinel\'s password (the credential Sentinel\'s requirepass and sentinel-pass hold is derived from it: lowercase hex SHA-256 of "mhc-redis-sentinel:" + value)',
    kind: 'password',
    length: 32,
  },
  keepalived: { name: 'KEEPALIVED_AUTH_PASS', purpose: 'keepalived VRRP auth_pass (at most 8 characters)', kind: 'password', length: 8, maxLength: 8, keepalivedAuth: true },
  munge: { name: 'MUNGE_KEY', purpose: 'munge key shared by all Slurm nodes (base64 of 1024 random bytes)', kind: 'binary', length: 1024 },
  jwt: { name: 'JWT_SECRET', purpose: 'web services JWT signing key', kind: 'key', length: 64 },
  session: { name: 'SESSION_SECRET', purpose: 'web services session secret', kind: 'key', length: 64 },
} as const satisfies Record<string, Omit<SecretSpec, 'fromYaml'>>;

export type SecretSlot = keyof typeof SECRET_SLOTS;

/** Where each secret's value may come from when embedding: literal values written in the YAML. */
export type Literals = ReadonlyMap<string, string>;

/** Parses "64000", 64000, "64GB", "512G", "1.5TB" into MiB (Slurm RealMemory). Bare numbers are MB. */
export function parseMemoryMiB(v: number | string): number {
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$/i.exec(v);
  if (!m) return 0;
  const n = Number(m[1]);
  const unit = m[2]!.toUpperCase();
  const f = unit === 'K' ? 1 / 1024 : unit === 'G' ? 1024 : unit === 'T' ? 1024 * 1024 : 1;
  return Math.floor(n * f);
}

export function controllerServices(c: FoldedController): ServiceKey[] {
  if (!c.services) return [...SERVICES];
  return SERVICES.filter((s) => c.services![s] === true);
}

/** Stable 1–255 id from the cluster name (FNV-1a), avoiding 51, the default everyone leaves in place. */
export function deriveRouterId(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let id = (h % 255) + 1;
  if (id === 51) id = 52;
  return id;
}

/**
 * Keepalived priorities: explicit ones kept; when none is given, the VIP owner gets 100 and the
 * others 90, 80, … in YAML order (254 downward in steps of 1 beyond ten nodes). Nodes lacking a
 * priority while others have one get values below the lowest explicit one (rules.ts reports it).
 */
export function derivePriorities(ctrls: readonly FoldedController[]): Map<FoldedController, number> {
  const ka = ctrls.filter((c) => controllerServices(c).includes('keepalived'));
  const out = new Map<FoldedController, number>();
  const explicit = ka.filter((c) => c.priority);
  if (explicit.length === 0) {
    const owner = ka.find((c) => c.vipOwner?.value);
    const ordered = owner ? [owner, ...ka.filter((c) => c !== owner)] : ka;
    ordered.forEach((c, i) => out.set(c, defaultPriority(i, ordered.length)));
    return out;
  }
  let next = Math.min(...explicit.map((c) => c.priority!.value)) - 1;
  for (const c of ka) out.set(c, c.priority ? c.priority.value : Math.max(1, next--));
  return out;
}

const at = <T>(value: T | undefined, path: Path): At<T> | undefined => (value === undefined ? undefined : { value, path });

function secretRef(slot: SecretSlot, given: At<string> | undefined, literals: Map<string, string>, literalAt: Map<string, Path>, used: Map<string, SecretSpec>): SecretRef {
  const spec = SECRET_SLOTS[slot];
  let name: string = spec.name;
  let fromYaml = false;
  if (given !== undefined) {
    fromYaml = true;
    const m = SECRET_REF.exec(given.value);
    if (m) name = m[1]!;
    else {
      literals.set(name, given.value); // a literal value in the YAML: rules.ts warns (W304)
      literalAt.set(name, given.path);
    }
  }
  const prev = used.get(name);
  used.set(name, {
    name,
    purpose: prev ? `${prev.purpose}; ${spec.purpose}` : spec.purpose,
    kind: spec.kind,
    length: Math.max(prev?.length ?? 0, spec.length),
    ...('maxLength' in spec ? { maxLength: spec.maxLength } : prev?.maxLength ? { maxLength: prev.maxLength } : {}),
    ...(('slurmConf' in spec && spec.slurmConf) || prev?.slurmConf ? { slurmConf: true } : {}),
    ...(('keepalivedAuth' in spec && spec.keepalivedAuth) || prev?.keepalivedAuth ? { keepalivedAuth: true } : {}),
    fromYaml: (prev?.fromYaml ?? false) || fromYaml,
  });
  return { name };
}

function webServices(list: readonly WebServiceInput[] | undefined): WebService[] {
  const byName = new Map(DEFAULT_WEB_SERVICES.map((s) => [s.name, s]));
  const items = list ?? DEFAULT_WEB_SERVICES.map((s) => s.name);
  const out: WebService[] = [];
  for (const it of items) {
    const o = typeof it === 'string' ? { name: it } : it;
    if ('enabled' in o && o.enabled === false) continue;
    const d = byName.get(o.name);
    const port = 'port' in o && o.port ? o.port : (d?.port ?? 0);
    const kind = ('kind' in o && o.kind) || d?.kind || 'backend';
    const path = ('path' in o && o.path) || d?.path || `/${o.name}/`;
    out.push({
      name: o.name,
      port,
      kind,
      path,
      healthPath: ('health_path' in o && o.health_path) || '/health',
      execStart: ('exec_start' in o && o.exec_start) || `/opt/mhc/web/${o.name}/start.sh`,
      workingDirectory: ('working_directory' in o && o.working_directory) || `/opt/mhc/web/${o.name}`,
    });
  }
  return out.sort((a, b) => naturalCompare(a.name, b.name));
}

export interface Normalized {
  readonly model: Model;
  /** literal secret values written in the YAML (environment: and inline), by secret name */
  readonly literals: Literals;
  /** where each literal value is written in the YAML (environment: or inline), for diagnostics */
  readonly literalAt: ReadonlyMap<string, Path>;
}

export function normalize(f: Folded): Normalized {
  const input = f.input;
  const literals = new Map<string, string>();
  const literalAt = new Map<string, Path>();
  for (const [k, v] of Object.entries(input.environment ?? {})) {
    literals.set(k, String(v));
    literalAt.set(k, ['environment', k]);
  }
  const used = new Map<string, SecretSpec>();

  const prios = derivePriorities(f.controllers);
  const ownerF = f.controllers.find((c) => c.vipOwner?.value) ?? [...prios].sort((a, b) => b[1] - a[1])[0]?.[0] ?? f.controllers[0];
  const defaultIface = f.interface ?? DEFAULTS.network.vip.interface;
  const controllers: ControllerNode[] = f.controllers.map((c) => {
    const services = controllerServices(c);
    const p = prios.get(c);
    return {
      role: 'controller',
      hostname: c.hostname.value,
      ip: c.ip?.value ?? '',
      services,
      ...(p !== undefined ? { priority: p } : {}),
      vipOwner: c === ownerF,
      interface: c.interface ?? defaultIface,
    };
  });
  // ranked: VIP owner first, then keepalived priority (highest first), then hostname
  const ranked = [...controllers].sort((a, b) => Number(b.vipOwner) - Number(a.vipOwner) || (b.priority ?? 0) - (a.priority ?? 0) || naturalCompare(a.hostname, b.hostname));
  const members = (s: ServiceKey): Member[] => ranked.filter((c) => c.services.includes(s)).map((c) => ({ hostname: c.hostname, ip: c.ip }));

  const computeNodes: ComputeNode[] = f.compute.map((c) => {
    const i = c.input;
    const gpus = typeof i.gpus === 'number' ? { count: i.gpus } : i.gpus ? { count: i.gpus.count, ...(i.gpus.type ? { type: i.gpus.type } : {}) } : { count: 0 };
    const hw: Hardware = {
      cpus: i.cpus ?? (i.sockets ?? 1) * (i.cores_per_socket ?? 1) * (i.threads_per_core ?? 1),
      ...(i.sockets ? { sockets: i.sockets } : {}),
      ...(i.cores_per_socket ? { coresPerSocket: i.cores_per_socket } : {}),
      ...(i.threads_per_core ? { threadsPerCore: i.threads_per_core } : {}),
      ...(c.memory ? { realMemory: parseMemoryMiB(c.memory.value) } : {}),
      ...(i.tmp_disk !== undefined ? { tmpDisk: i.tmp_disk } : {}),
      gpus,
      features: [...(i.features ?? [])].sort(),
      ...(i.weight ? { weight: i.weight } : {}),
    };
    return { role: 'compute', hostname: c.hostname.value, ...(c.ip ? { ip: c.ip.value } : {}), hardware: hw };
  });

  const clusterName = input.cluster.name;
  const data: ModelData = {
    cluster: { name: clusterName, ...(input.cluster.domain ? { domain: input.cluster.domain } : {}) },
    target: targetFacts(input.target?.os ?? DEFAULTS.target.os),
    controllers: [...controllers].sort((a, b) => naturalCompare(a.hostname, b.hostname)),
    rankedControllers: ranked.map((c) => c.hostname),
    computeNodes: computeNodes.sort((a, b) => naturalCompare(a.hostname, b.hostname)),
    network: {},
    ...(ownerF ? { vipOwner: ownerF.hostname.value } : {}),
    keepalived: { nodes: members('keepalived') },
    backup: {
      dir: f.backupDir?.value ?? DEFAULTS.backup.backup_dir,
      retentionDays: f.backupRetentionDays?.value ?? DEFAULTS.backup.retention_days,
      schedule: f.backupSchedule?.value ?? DEFAULTS.backup.schedule,
      items: [],
    },
    deploy: deployOf(input.deploy),
    secrets: [],
  };

  const vip = input.network?.vip;
  if (f.vip && vip) {
    const prefix = f.prefix?.value ?? (f.netmask ? netmaskToPrefix(f.netmask.value) : undefined) ?? DEFAULTS.network.vip.prefix;
    data.network.vip = {
      address: f.vip.value,
      prefix,
      netmask: prefixToNetmask(prefix),
      subnet: cidr(f.vip.value, prefix),
      interface: defaultIface,
      virtualRouterId: vip.virtual_router_id ?? deriveRouterId(clusterName),
      advertInt: vip.advert_int ?? DEFAULTS.network.vip.advert_int,
      preempt: vip.preempt ?? DEFAULTS.network.vip.preempt,
      authPass: members('keepalived').length ? secretRef('keepalived', at(vip.auth_pass, ['network', 'vip', 'auth_pass']), literals, literalAt, used) : { name: SECRET_SLOTS.keepalived.name },
    };
  }
  const vipAddr = data.network.vip?.address;

  const galeraMembers = members('mariadb');
  if (galeraMembers.length) {
    const db = input.database;
    const g = db?.galera;
    data.galera = {
      clusterName,
      members: galeraMembers,
      clientHost: f.dbHost?.value ?? vipAddr ?? galeraMembers[0]!.ip,
      port: db?.port ?? DEFAULTS.database.port,
      sstMethod: db?.mariadb?.sst_method ?? DEFAULTS.database.mariadb.sst_method,
      sstUser: 'mhc_sst',
      sstPassword: secretRef('galeraSst', undefined, literals, literalAt, used),
      rootPassword: secretRef('dbRoot', f.dbRootPassword, literals, literalAt, used),
      ...(db?.user ? { adminUser: db.user } : {}),
      databases: [...new Set(db?.mariadb?.databases ?? [])],
      gcacheSize: g?.gcache_size ?? DEFAULTS.database.galera.gcache_size,
      slaveThreads: g?.slave_threads ?? DEFAULTS.database.galera.slave_threads,
      ...(g?.innodb_buffer_pool_size ? { innodbBufferPoolSize: g.innodb_buffer_pool_size } : {}),
      ...(g?.arbitrator ? { arbitrator: { hostname: g.arbitrator.hostname, ip: g.arbitrator.ip } } : {}),
    };
  }

  const redisMembers = members('redis');
  if (redisMembers.length) {
    const r = input.redis;
    const wanted = r?.mode ?? DEFAULTS.redis.mode;
    const mode = wanted !== 'auto' ? wanted : redisMembers.length >= 3 ? 'cluster' : 'sentinel';
    data.redis = {
      mode,
      members: redisMembers,
      port: r?.port ?? DEFAULTS.redis.port,
      password: secretRef('redis', f.redisPassword, literals, literalAt, used),
      replicas: mode === 'cluster' ? (r?.cluster?.replicas ?? DEFAULTS.redis.cluster.replicas) : 0,
      ...(r?.maxmemory !== undefined ? { maxmemory: String(r.maxmemory).replace(/\s+/g, '').toLowerCase() } : {}),
      ...(r?.maxmemory_policy ? { maxmemoryPolicy: r.maxmemory_policy } : {}),
      ...(r?.io_threads !== undefined ? { ioThreads: r.io_threads } : {}),
      sentinel: {
        port: r?.sentinel?.port ?? DEFAULTS.redis.sentinel.port,
        quorum: r?.sentinel?.quorum ?? Math.floor(redisMembers.length / 2) + 1,
        masterName: r?.sentinel?.master_name ?? DEFAULTS.redis.sentinel.master_name,
        downAfterMs: r?.sentinel?.down_after_milliseconds ?? DEFAULTS.redis.sentinel.down_after_milliseconds,
        failoverTimeoutMs: r?.sentinel?.failover_timeout ?? DEFAULTS.redis.sentinel.failover_timeout,
        // Sentinel's own secret, not the Redis password (see src/emitters/redis.ts)
        ...(mode === 'sentinel' ? { password: secretRef('redisSentinel', undefined, literals, literalAt, used) } : {}),
      },
    };
  }

  const glusterMembers = members('glusterfs');
  const gi = f.gluster?.value;
  if (glusterMembers.length) {
    data.gluster = {
      volumeName: gi?.volume_name ?? DEFAULTS.storage.gluster.volume_name,
      members: glusterMembers,
      // a count the user wrote is kept as written (rules.ts refuses one above the node count: E308)
      replicaCount: gi?.replica_count ?? defaultReplicaCount(glusterMembers.length),
      arbiter: gi?.arbiter ?? DEFAULTS.storage.gluster.arbiter,
      brickPath: gi?.brick_path ?? DEFAULTS.storage.gluster.brick_path,
      mountPoint: gi?.mount_point ?? DEFAULTS.storage.gluster.mount_point,
      options: Object.entries(gi?.options ?? {})
        .map(([k, v]): [string, string] => [k, typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v)])
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    };
  }

  const slurmCtl = members('slurm');
  if (slurmCtl.length) {
    const s = input.slurm;
    const t = canonicalAccounting(s?.accounting_storage_type ?? defaultAccounting(galeraMembers.length > 0));
    const withAcct = t !== 'none';
    const partitions: Partition[] = (s?.partitions ?? (computeNodes.length ? [DEFAULT_PARTITION] : [])).map((p, _, all) => {
      let nodes: string[];
      if (p.nodes === undefined || p.nodes === 'ALL') nodes = ['ALL'];
      else if (typeof p.nodes === 'string') {
        try {
          nodes = expand(p.nodes);
        } catch {
          nodes = []; // rules.ts reports the bad expression
        }
      } else nodes = [...p.nodes];
      return {
        name: p.name,
        nodes,
        default: p.default ?? all.length === 1,
        maxTime: String(canonicalMaxTime(p.max_time ?? PARTITION_DEFAULTS.max_time)),
        state: p.state ?? PARTITION_DEFAULTS.state,
      };
    });
    const stateSaveLocation = s?.state_save_location ?? (data.gluster ? `${data.gluster.mountPoint}/slurm/state` : '/var/spool/slurmctld');
    const mount = data.gluster?.mountPoint;
    data.slurm = {
      clusterName: (s?.cluster_name ?? clusterName).toLowerCase(),
      controllers: slurmCtl,
      stateSaveLocation,
      ...(mount && (stateSaveLocation === mount || stateSaveLocation.startsWith(mount === '/' ? '/' : `${mount}/`)) ? { stateMount: mount } : {}),
      slurmUser: s?.slurm_user ?? DEFAULTS.slurm.slurm_user,
      slurmctldTimeout: s?.slurmctld_timeout ?? DEFAULTS.slurm.slurmctld_timeout,
      schedulerType: s?.scheduler_type ?? 'backfill',
      ...(withAcct
        ? {
            accounting: {
              host: s?.accounting_storage_host ?? vipAddr ?? slurmCtl[0]!.ip,
              port: 6819,
              storageHost: data.galera?.clientHost ?? vipAddr ?? slurmCtl[0]!.ip,
              storagePort: data.galera?.port ?? 3306,
              storageLoc: 'slurm_acct_db',
              storageUser: 'slurm',
              storagePass: secretRef('slurmdbd', undefined, literals, literalAt, used),
            },
          }
        : {}),
      partitions,
      mungeKey: secretRef('munge', undefined, literals, literalAt, used),
      configless: s?.configless ?? DEFAULTS.slurm.configless,
    };
  }

  const webMembers = members('web');
  if (webMembers.length) {
    const w = input.web;
    const ssl = w?.ssl;
    data.web = {
      domain: w?.domain ?? input.cluster.domain ?? DEFAULTS.web.domain,
      members: webMembers,
      services: webServices(f.webServices?.value),
      ssl:
        (ssl?.enabled ?? DEFAULTS.web.ssl.enabled) === false
          ? { mode: 'off' }
          : ssl?.certificate && ssl.certificate_key
            ? { mode: 'provided', certificate: ssl.certificate, certificateKey: ssl.certificate_key }
            : { mode: 'self-signed', certificate: '/etc/mhc/tls/mhc.crt', certificateKey: '/etc/mhc/tls/mhc.key' },
      jwtSecret: secretRef('jwt', at(w?.jwt_secret, ['web', 'jwt_secret']), literals, literalAt, used),
      sessionSecret: secretRef('session', at(w?.session_secret, ['web', 'session_secret']), literals, literalAt, used),
    };
  }

  const defaultItems = ['configs', ...(data.galera ? ['mariadb'] : []), ...(data.redis ? ['redis'] : []), ...(data.slurm ? ['slurm_state'] : []), ...(data.gluster ? ['glusterfs_meta'] : [])];
  data.backup.items = f.backupItems ? [...new Set(f.backupItems.value.map(canonicalBackupItem))].sort() : defaultItems.sort();
  data.secrets = [...used.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { model: deepFreeze(data), literals, literalAt };
}
