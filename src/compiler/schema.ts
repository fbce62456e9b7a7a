// The input schema: every shape of my_multihead_cluster.yaml that real users have (see the
// alias table in design.md). Shapes only; rules across fields live in rules.ts and folding
// of aliases in normalize.ts. Every object is strict: an unknown key is an error (keys that
// start with `x-` are removed before validation, see validate.ts).
import * as z from 'zod/v4';
z.config({ jitless: true });
import { TARGET_OSES } from './targets.js';
import { isHostname, isIPv4, isSafeName, isInterfaceName, isCleanAbsPath, SECRET_REF, isDomain, dataPathProblem, isUserName } from './formats.js';

const E = (code: string, message: string) => ({ message, params: { code } });

const hostname = z.string().refine(isHostname, E('E210', 'not a valid hostname (RFC 1123 label: letters, digits and "-", 1–63 characters, not starting or ending with "-")'));
const ipv4 = z.string().refine(isIPv4, E('E209', 'not a valid IPv4 address (four numbers 0–255, e.g. 192.168.1.10)'));
const ifname = z
  .string()
  .refine(isInterfaceName, E('E212', 'not a valid network interface name (1–15 characters: letters, digits, ".", "_" and "-", starting with a letter or digit; Linux holds no longer name)'));
const name = z.string().refine(isSafeName, E('E207', 'only letters, digits, ".", "_" and "-" are allowed here (1–63 characters, starting with a letter or digit, without ".." and not ending in ".")'));
const userName = z.string().refine(isUserName, E('E207', 'a system user name: lowercase letters, digits, "_", "." and "-", starting with a lowercase letter or "_", at most 32 characters'));
const absPath = z.string().refine(isCleanAbsPath, E('E211', 'must be an absolute path made of letters, digits, "/", ".", "_" and "-", without ".." or "//"'));
/** A directory mhc creates, owns and replaces (data, state, bricks, mounts, backups): never a system directory. */
const dataPath = absPath.superRefine((p, ctx) => {
  const why = isCleanAbsPath(p) ? dataPathProblem(p) : undefined; // an unclean path is E211 already
  if (why) ctx.addIssue({ code: 'custom', message: why, params: { code: 'E213' } });
});
const domain = z.string().refine(isDomain, E('E210', 'not a valid DNS name (dot-separated RFC 1123 labels)'));
const port = z.number().int().min(1).max(65535);
const posInt = z.number().int().min(1);
/** A secret: `${NAME}` (resolved from environment: / the process environment) or a literal value. */
export const secret = z
  .string()
  .min(1)
  .refine((s) => !s.includes('${') || SECRET_REF.test(s), E('E208', 'a secret reference must be the whole value, written ${NAME} with NAME made of A–Z, 0–9 and "_"'))
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), E('E207', 'a secret may not contain control characters (newline, tab, …)'));

const services = z.strictObject({
  glusterfs: z.boolean().optional().describe('a GlusterFS brick and the shared mount'),
  mariadb: z.boolean().optional().describe('a MariaDB Galera member'),
  redis: z.boolean().optional().describe('a Redis node (Cluster or Sentinel)'),
  slurm: z.boolean().optional().describe('a slurmctld (active/standby) and slurmdbd'),
  web: z.boolean().optional().describe('nginx and the web services'),
  keepalived: z.boolean().optional().describe('a keepalived VRRP instance that can hold the VIP'),
});

/** The highest keepalived priority (VRRP's 255 is reserved for the address owner): so at most this many keepalived controllers. */
export const MAX_PRIORITY = 254;

const controller = z.strictObject({
  hostname: hostname.describe("the node's hostname (RFC 1123 label); set it on the node with hostnamectl"),
  ip: ipv4.optional().describe("the node's IPv4 address"),
  ip_address: ipv4.optional().describe('another spelling of ip'),
  services: services.optional().describe('the services this node runs: a service left out is off; without services: the node runs every service'),
  vip_owner: z.boolean().optional().describe('holds the VIP when all are up (at most one; default: the highest priority)'),
  priority: z.number().int().min(1).max(MAX_PRIORITY).optional().describe('keepalived priority, 1–254, unique (default: 100, 90, … in list order, the VIP owner first)'),
  interface: ifname.optional().describe("this node's VIP interface (default: network.vip.interface)"),
});

const memory = z.union([z.number().int().min(1), z.string().regex(/^\s*\d+(\.\d+)?\s*([KMGT]i?B?|[kmgt]i?b?)?\s*$/, { message: 'a size such as 64000 (MB), 64GB or 512G' })]);

const gres = z.union([z.number().int().min(0), z.strictObject({ count: z.number().int().min(0), type: name.optional() })]);

const compute = z.strictObject({
  hostname: hostname.describe("the node's hostname (RFC 1123 label)"),
  ip: ipv4.optional().describe("the node's IPv4 address (written into every node's hosts entries)"),
  ip_address: ipv4.optional().describe('another spelling of ip'),
  cpus: posInt.optional().describe('Slurm CPUs (default: sockets × cores_per_socket × threads_per_core)'),
  sockets: posInt.optional().describe('Slurm Sockets'),
  cores_per_socket: posInt.optional().describe('Slurm CoresPerSocket'),
  threads_per_core: posInt.optional().describe('Slurm ThreadsPerCore'),
  memory: memory.optional().describe('Slurm RealMemory: 64000 (MB), 64GB or 512G'),
  real_memory: memory.optional().describe('another spelling of memory'),
  tmp_disk: z.number().int().min(0).optional().describe('Slurm TmpDisk in MB'),
  gpus: gres.optional().describe('GPUs: a count, or { count, type }'),
  features: z.array(name).optional().describe('Slurm node features'),
  weight: posInt.optional().describe('Slurm scheduling weight (lower is used first)'),
});

const vipObject = z.strictObject({
  address: ipv4.describe("a free address in the controllers' subnet"),
  netmask: ipv4.optional().describe("the VIP subnet's netmask (or prefix)"),
  prefix: z.number().int().min(1).max(32).optional().describe("the VIP subnet's prefix length (or netmask)"),
  interface: ifname.optional().describe('the interface the VIP lives on'),
  virtual_router_id: z.number().int().min(1).max(255).optional().describe('VRRP router id, the same on every node and unique on the segment (default: derived from the cluster name)'),
  advert_int: z.number().int().min(1).max(255).optional().describe('seconds between VRRP adverts'),
  preempt: z.boolean().optional().describe('the VIP returns to the highest priority when it comes back'),
  auth_pass: secret.optional().describe('VRRP auth_pass (at most 8 characters)'),
});

const network = z.strictObject({
  vip: z
    .preprocess((v) => (typeof v === 'string' ? { address: v } : v), vipObject)
    .optional()
    .describe('the virtual IP keepalived moves between the controllers: an address, or a mapping'),
  netmask: ipv4.optional().describe('another place for network.vip.netmask'),
  prefix: z.number().int().min(1).max(32).optional().describe('another place for network.vip.prefix'),
  interface: ifname.optional().describe("the controllers' interface (network.vip.interface when there is a VIP)"),
});

const gluster = z.strictObject({
  volume_name: name.optional().describe('the GlusterFS volume'),
  replica_count: z.number().int().min(1).max(16).optional().describe('copies of every file, at most the glusterfs nodes (default: 3, or fewer nodes)'),
  arbiter: z.boolean().optional().describe('the last brick of each replica set holds metadata only (replica 3)'),
  brick_path: dataPath.optional().describe("each node's brick directory (a file system with extended attributes)"),
  mount_point: dataPath.optional().describe('where every controller mounts the volume (Slurm state lives below it)'),
  options: z
    .record(
      z.string().regex(/^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$/, { message: 'a volume option name, such as performance.cache-size (gluster volume set help)' }),
      z.union([z.string().regex(/^[A-Za-z0-9._:\/,*+-]{1,256}$/, { message: 'one word: letters, digits and . _ : / , * + -' }), z.number(), z.boolean()]),
    )
    .optional()
    .describe('volume options (gluster volume set VOLUME KEY VALUE), e.g. performance.cache-size: 64MB; set when the volume is made and changed live on a running cluster'),
});

const database = z.strictObject({
  user: name.optional().describe('an administrator account made on the cluster'),
  password: secret.optional().describe('the MariaDB root password'),
  vip: ipv4.optional().describe('the address clients use (default: the VIP)'),
  port: port.optional().describe('the MariaDB port'),
  mariadb: z
    .strictObject({
      host: ipv4.optional().describe('another spelling of database.vip'),
      root_password: secret.optional().describe('another spelling of database.password'),
      databases: z.array(name).optional().describe('databases created for the web applications'),
      sst_method: z.enum(['mariabackup', 'rsync']).optional().describe('how a joining node copies the data (State Snapshot Transfer)'),
    })
    .optional()
    .describe('MariaDB settings'),
  galera: z
    .strictObject({
      gcache_size: z
        .string()
        .regex(/^\d+[KMG]?$/, { message: 'a size such as 512M or 2G' })
        .optional()
        .describe('the write-set cache a rejoining node catches up from (IST)'),
      slave_threads: z.number().int().min(1).max(512).optional().describe('threads applying replicated writes'),
      innodb_buffer_pool_size: z
        .string()
        .regex(/^\d+[KMG]?$/, { message: 'a size such as 512M or 2G' })
        .optional()
        .describe("InnoDB's buffer pool (default: MariaDB's)"),
      arbitrator: z
        .strictObject({ hostname: hostname.describe("the arbitrator's hostname"), ip: ipv4.describe("the arbitrator's address") })
        .optional()
        .describe('a garbd on a third host: keeps quorum with two MariaDB nodes'),
    })
    .optional()
    .describe('Galera replication settings'),
});

const redis = z.strictObject({
  password: secret.optional().describe('requirepass and masterauth of every Redis node'),
  mode: z.enum(['auto', 'cluster', 'sentinel']).optional().describe('cluster, sentinel, or auto: Redis Cluster from 3 redis nodes on, Sentinel below'),
  port: port.optional().describe('the Redis port'),
  maxmemory: z
    .union([z.number().int().min(1), z.string().regex(/^\s*\d+\s*(kb|mb|gb|k|m|g)?\s*$/i, { message: 'bytes, or a size such as 256mb or 2gb (redis.conf units)' })])
    .optional()
    .describe("each instance's memory limit (redis.conf maxmemory): bytes, or 256mb, 2gb; absent: no limit. Changed on a running cluster by CONFIG SET"),
  io_threads: z.number().int().min(1).max(128).optional().describe('redis.conf io-threads (Redis default 1): threads for socket I/O; a change restarts each instance, one at a time'),
  maxmemory_policy: z
    .enum(['noeviction', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl'])
    .optional()
    .describe('what an instance at maxmemory evicts (redis.conf maxmemory-policy; Redis default noeviction)'),
  cluster: z
    .strictObject({
      password: secret.optional().describe('another spelling of redis.password'),
      slots: z.literal(16384, { message: 'Redis Cluster always has 16384 slots' }).optional().describe('always 16384'),
      replicas: z.number().int().min(0).max(5).optional().describe('replicas per master, each on another host'),
    })
    .optional()
    .describe('Redis Cluster settings'),
  sentinel: z
    .strictObject({
      quorum: z.number().int().min(1).max(16).optional().describe('Sentinels that must agree on a failover (default: a majority)'),
      port: port.optional().describe('the Sentinel port'),
      master_name: name.optional().describe('the name Sentinel monitors the master under'),
      down_after_milliseconds: z.number().int().min(100).max(3_600_000).optional().describe('how long a master may not answer before a Sentinel deems it down (default 5000)'),
      failover_timeout: z.number().int().min(1000).max(86_400_000).optional().describe('milliseconds Sentinel allows a failover, and waits before trying the same master again (default 60000)'),
    })
    .optional()
    .describe('Redis Sentinel settings'),
});

const maxTime = z.union([z.number().int().min(1), z.string().regex(/^(INFINITE|UNLIMITED|(\d+-)?\d{1,2}(:\d{2}){0,2}|\d+)$/, { message: 'INFINITE, minutes, or [days-]hours:minutes:seconds' })]);

const partition = z.strictObject({
  name: name.describe('the partition name'),
  nodes: z
    .union([z.string(), z.array(hostname)])
    .optional()
    .describe('ALL, a hostlist such as "node[001-064]", or a list of compute nodes'),
  default: z.boolean().optional().describe('the partition jobs go to when they name none (at most one)'),
  max_time: maxTime.optional().describe('INFINITE, minutes, or [days-]hours:minutes:seconds'),
  state: z.enum(['UP', 'DOWN', 'DRAIN', 'INACTIVE']).optional().describe('the partition state'),
});

const slurm = z.strictObject({
  cluster_name: name.optional().describe('the Slurm cluster name, lowercased (default: cluster.name)'),
  accounting_storage_type: z
    .enum(['accounting_storage/slurmdbd', 'accounting_storage/mysql', 'accounting_storage/none', 'slurmdbd', 'mysql', 'none'])
    .optional()
    .describe('slurmdbd (default when a controller runs mariadb) or none'),
  accounting_storage_host: ipv4.optional().describe('where slurmdbd listens (default: the VIP)'),
  state_save_location: dataPath.optional().describe("slurmctld's state (default: on the gluster mount, shared by every slurmctld)"),
  slurm_user: userName.optional().describe('the SlurmUser the daemons run as'),
  slurmctld_timeout: z.number().int().min(5).max(65533).optional().describe('SlurmctldTimeout: seconds a backup slurmctld waits for the primary before taking over'),
  scheduler_type: z.enum(['backfill', 'builtin']).optional().describe('SchedulerType: sched/backfill (default) or sched/builtin (strict priority order, no backfill); a change restarts slurmctld'),
  configless: z.boolean().optional().describe('configless Slurm: the compute nodes fetch slurm.conf (and gres.conf, cgroup.conf) from slurmctld (slurmd --conf-server), not from their bundle'),
  partitions: z.array(partition).optional().describe('Slurm partitions (default: debug, every compute node)'),
});

const webService = z.union([
  name.describe('a known service by name (dashboard, monitoring, admin, auth, job_api, file, metrics, websocket)'),
  z.strictObject({
    name: name.describe('the service name'),
    port: port.describe('the port its backend listens on'),
    kind: z.enum(['frontend', 'backend', 'websocket']).optional().describe('frontend, backend or websocket (nginx location settings)'),
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9._\/-]*$/, { message: 'a URL path such as /api/jobs' })
      .optional()
      .describe('the URL path nginx routes to it (default: /NAME/)'),
    health_path: z
      .string()
      .regex(/^\/[A-Za-z0-9._\/-]*$/, { message: 'a URL path such as /health' })
      .optional()
      .describe('the path that answers 2xx when it is healthy (default: /health)'),
    exec_start: absPath.optional().describe('the program its unit runs (default: /opt/mhc/web/NAME/start.sh)'),
    working_directory: absPath.optional().describe('its working directory (default: /opt/mhc/web/NAME)'),
    enabled: z.boolean().optional().describe('false leaves it out'),
  }),
]);

const ssl = z.strictObject({
  enabled: z.boolean().optional().describe('HTTPS (false: plain HTTP)'),
  certificate: absPath.optional().describe('a certificate on the node (default: a self-signed one made at install time)'),
  certificate_key: absPath.optional().describe("the certificate's key on the node"),
});

const web = z.strictObject({
  domain: domain.optional().describe('the server name nginx answers to (default: cluster.domain, else cluster.local)'),
  session_secret: secret.optional().describe("the web services' session secret"),
  jwt_secret: secret.optional().describe("the web services' JWT signing key"),
  ssl: ssl.optional().describe('TLS for nginx'),
  services: z.array(webService).optional().describe('the web services behind nginx (default: all eight known ones)'),
});

const schedule = z.string().regex(/^[A-Za-z0-9*,:\/ .-]+$/, { message: 'a systemd OnCalendar expression such as "daily" or "*-*-* 02:00:00"' });

/** `deploy:`: what the generated ClusterShell / Ansible / deploy.sh files use (deploy emitter). */
const deploy = z.strictObject({
  admin_host: hostname.optional().describe('the host deploy.sh and clush run on, not a node of the cluster (the root of topology.conf); needed with gateways'),
  gateways: z.array(hostname).optional().describe('ClusterShell gateways for tree mode (nodes of the cluster, usually the controllers); every compute node is routed through every gateway'),
  fanout: z.number().int().min(1).max(4096).optional().describe('ssh connections at once (ClusterShell fanout, Ansible forks)'),
  connect_timeout: z.number().int().min(1).max(3600).optional().describe('seconds to wait for a node to take the ssh connection'),
  command_timeout: z.number().int().min(1).max(86400).optional().describe("seconds a node may take for one step (apply runs its bundle's start script)"),
  batch: z.number().int().min(1).optional().describe('compute nodes applied at once'),
  max_fail_percent: z.number().int().min(0).max(100).optional().describe('stop applying when more than this percentage of the compute nodes tried so far failed'),
});

const backupItems = z
  .array(z.enum(['configs', 'databases', 'mariadb', 'redis', 'slurm_state', 'glusterfs_meta', 'glusterfs_data']))
  .describe('what a snapshot holds (default: configs and the state of every service that runs; glusterfs_data, the files on the volume, only when listed)');

const controllers = z.array(controller).describe('the controllers (head nodes); every one may run every service');
const computeNodes = z.array(compute).describe('the compute nodes (slurmd); they share one bundle');
const webServices = z.array(webService).describe('another place for web.services');

export const inputSchema = z.strictObject({
  $schema: z.string().optional().describe('the JSON Schema this file follows (for editors)'),
  cluster: z
    .strictObject({
      name: name.describe('names the output tree and the Galera cluster; lowercased, the Slurm cluster'),
      domain: domain.optional().describe("the nodes' DNS domain"),
    })
    .describe("the cluster's identity"),
  target: z
    .strictObject({
      os: z.enum(TARGET_OSES).optional().describe("the nodes' OS release, debian12 (bookworm) or debian13 (trixie): files are made for its daemons' versions"),
    })
    .optional()
    .describe('what the bundles run on'),
  environment: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'a variable name (letters, digits, "_")' }), z.union([z.string(), z.number()]))
    .optional()
    .describe('values for ${NAME} references when building with --embed-secrets; better kept in secrets.env'),
  network: network.optional().describe('the network the controllers share'),
  controllers: controllers.optional(),
  compute_nodes: computeNodes.optional(),
  nodes: z.strictObject({ controllers: controllers.optional(), compute_nodes: computeNodes.optional() }).optional().describe('another place for controllers and compute_nodes'),
  storage: z
    .strictObject({ gluster: gluster.optional().describe('the GlusterFS volume the controllers share'), glusterfs: gluster.optional().describe('another spelling of storage.gluster') })
    .optional()
    .describe('shared storage'),
  database: database.optional().describe('MariaDB Galera on the controllers running mariadb'),
  redis: redis.optional().describe('Redis on the controllers running redis'),
  slurm: slurm.optional().describe('Slurm: slurmctld on the controllers running slurm, slurmd on the compute nodes'),
  deploy: deploy.optional().describe('the fan-out files in out/<cluster>/deploy/ (ClusterShell, Ansible, genders, deploy.sh)'),
  web: web.optional().describe('nginx and the web services on the controllers running web'),
  web_services: z.strictObject({ services: webServices.optional() }).optional().describe('another place for web.services'),
  backup: z
    .strictObject({
      backup_dir: dataPath.optional().describe('where snapshots are kept on each controller'),
      retention_days: z.number().int().min(1).max(3650).optional().describe('days a snapshot is kept'),
      schedule: schedule.optional().describe('when backup.sh runs (a systemd OnCalendar expression)'),
      items: backupItems.optional(),
    })
    .optional()
    .describe('scheduled snapshots (backup.sh, restore.sh)'),
  shared_storage: z
    .strictObject({
      backup: z
        .strictObject({
          items: backupItems.optional(),
          retention: z
            .union([z.number().int().min(1).max(3650), z.strictObject({ days: z.number().int().min(1).max(3650).describe('days a snapshot is kept') })])
            .optional()
            .describe('another spelling of backup.retention_days: days, or { days }'),
          backup_dir: dataPath.optional().describe('another place for backup.backup_dir'),
          schedule: schedule.optional().describe('another place for backup.schedule'),
        })
        .optional()
        .describe('another place for backup'),
    })
    .optional()
    .describe('another place for backup (shared_storage.backup)'),
});

export type Input = z.infer<typeof inputSchema>;
export type ControllerInput = z.infer<typeof controller>;
export type ComputeInput = z.infer<typeof compute>;
export type WebServiceInput = z.infer<typeof webService>;
export type PartitionInput = z.infer<typeof partition>;

type AnySchema = z.core.$ZodType;
type Shape = Readonly<Record<string, AnySchema>>;

/**
 * The object shapes the schema allows at `path` (a path in the data: keys and list indexes),
 * looking through optional values, unions, pipes, lists and records. Its keys, in the schema's
 * order, are the keys a mapping there may have.
 */
export function shapesAt(path: readonly (string | number)[], schema: AnySchema = inputSchema): Shape[] {
  const found: Shape[] = [];
  const walk = (s: AnySchema, rest: readonly (string | number)[]): void => {
    const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'readonly':
        return walk(def.innerType as AnySchema, rest);
      case 'pipe':
        walk(def.in as AnySchema, rest);
        return walk(def.out as AnySchema, rest);
      case 'union':
        for (const o of def.options as AnySchema[]) walk(o, rest);
        return;
      case 'array':
        if (rest.length && typeof rest[0] === 'number') walk(def.element as AnySchema, rest.slice(1));
        return;
      case 'record':
        if (rest.length) walk(def.valueType as AnySchema, rest.slice(1));
        return;
      case 'object': {
        const shape = def.shape as Shape;
        if (rest.length === 0) found.push(shape);
        else if (typeof rest[0] === 'string' && Object.hasOwn(shape, rest[0])) walk(shape[rest[0]]!, rest.slice(1));
        return;
      }
      default:
        return;
    }
  };
  walk(schema, path);
  return found;
}

/** The one-line explanation (`.describe()`) of the key at `path`, or undefined. */
export function describeKey(path: readonly (string | number)[]): string | undefined {
  const key = path[path.length - 1];
  if (typeof key !== 'string') return undefined;
  for (const shape of shapesAt(path.slice(0, -1))) {
    for (let s: AnySchema | undefined = shape[key]; s; s = (s._zod.def as { innerType?: AnySchema }).innerType) {
      const d = z.globalRegistry.get(s)?.description;
      if (d) return d;
    }
  }
  return undefined;
}

/** The JSON Schema for editors (yaml-language-server); `x-*` keys are allowed there too. */
export function jsonSchema(): unknown {
  const s = z.toJSONSchema(inputSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const allowX = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (o.type === 'object' && o.additionalProperties === false) {
      o.patternProperties = { '^x-': {} };
    }
    for (const v of Object.values(o)) {
      if (Array.isArray(v)) v.forEach(allowX);
      else allowX(v);
    }
  };
  allowX(s);
  return { ...s, title: 'mhc cluster description (my_multihead_cluster.yaml)' };
}
