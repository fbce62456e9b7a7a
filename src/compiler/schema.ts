// The input schema: every shape of my_multihead_cluster.yaml that real users have (see the
// alias table in design.md). Shapes only; rules across fields live in rules.ts and folding
// of aliases in normalize.ts. Every object is strict: an unknown key is an error (keys that
// start with `x-` are removed before validation, see validate.ts).
import * as z from 'zod/v4';
z.config({ jitless: true });
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
  glusterfs: z.boolean().optional(),
  mariadb: z.boolean().optional(),
  redis: z.boolean().optional(),
  slurm: z.boolean().optional(),
  web: z.boolean().optional(),
  keepalived: z.boolean().optional(),
});
export const SERVICE_KEYS = ['glusterfs', 'mariadb', 'redis', 'slurm', 'keepalived', 'web'] as const;

const controller = z.strictObject({
  hostname,
  ip: ipv4.optional(),
  ip_address: ipv4.optional(),
  services: services.optional(),
  vip_owner: z.boolean().optional(),
  priority: z.number().int().min(1).max(254).optional(),
  interface: ifname.optional(),
});

const memory = z.union([z.number().int().min(1), z.string().regex(/^\s*\d+(\.\d+)?\s*([KMGT]i?B?|[kmgt]i?b?)?\s*$/, { message: 'a size such as 64000 (MB), 64GB or 512G' })]);

const gres = z.union([z.number().int().min(0), z.strictObject({ count: z.number().int().min(0), type: name.optional() })]);

const compute = z.strictObject({
  hostname,
  ip: ipv4.optional(),
  ip_address: ipv4.optional(),
  cpus: posInt.optional(),
  sockets: posInt.optional(),
  cores_per_socket: posInt.optional(),
  threads_per_core: posInt.optional(),
  memory: memory.optional(),
  real_memory: memory.optional(),
  tmp_disk: z.number().int().min(0).optional(),
  gpus: gres.optional(),
  features: z.array(name).optional(),
  weight: posInt.optional(),
});

const vipObject = z.strictObject({
  address: ipv4,
  interface: ifname.optional(),
  netmask: ipv4.optional(),
  prefix: z.number().int().min(1).max(32).optional(),
  virtual_router_id: z.number().int().min(1).max(255).optional(),
  advert_int: z.number().int().min(1).max(255).optional(),
  preempt: z.boolean().optional(),
  auth_pass: secret.optional(),
});

const network = z.strictObject({
  vip: z.preprocess((v) => (typeof v === 'string' ? { address: v } : v), vipObject).optional(),
  netmask: ipv4.optional(),
  prefix: z.number().int().min(1).max(32).optional(),
  interface: ifname.optional(),
});

const gluster = z.strictObject({
  volume_name: name.optional(),
  replica_count: z.number().int().min(1).max(16).optional(),
  arbiter: z.boolean().optional(),
  brick_path: dataPath.optional(),
  mount_point: dataPath.optional(),
});

const database = z.strictObject({
  user: name.optional(),
  password: secret.optional(),
  vip: ipv4.optional(),
  port: port.optional(),
  mariadb: z
    .strictObject({
      host: ipv4.optional(),
      root_password: secret.optional(),
      databases: z.array(name).optional(),
      sst_method: z.enum(['mariabackup', 'rsync']).optional(),
    })
    .optional(),
  galera: z
    .strictObject({
      gcache_size: z
        .string()
        .regex(/^\d+[KMG]?$/, { message: 'a size such as 512M or 2G' })
        .optional(),
      slave_threads: z.number().int().min(1).max(512).optional(),
      innodb_buffer_pool_size: z
        .string()
        .regex(/^\d+[KMG]?$/, { message: 'a size such as 512M or 2G' })
        .optional(),
      arbitrator: z.strictObject({ hostname, ip: ipv4 }).optional(),
    })
    .optional(),
});

const redis = z.strictObject({
  password: secret.optional(),
  mode: z.enum(['auto', 'cluster', 'sentinel']).optional(),
  port: port.optional(),
  cluster: z
    .strictObject({
      password: secret.optional(),
      slots: z.literal(16384, { message: 'Redis Cluster always has 16384 slots' }).optional(),
      replicas: z.number().int().min(0).max(5).optional(),
    })
    .optional(),
  sentinel: z
    .strictObject({
      quorum: z.number().int().min(1).max(16).optional(),
      port: port.optional(),
      master_name: name.optional(),
    })
    .optional(),
});

const maxTime = z.union([z.number().int().min(1), z.string().regex(/^(INFINITE|UNLIMITED|(\d+-)?\d{1,2}(:\d{2}){0,2}|\d+)$/, { message: 'INFINITE, minutes, or [days-]hours:minutes:seconds' })]);

const partition = z.strictObject({
  name,
  nodes: z.union([z.string(), z.array(hostname)]).optional(),
  default: z.boolean().optional(),
  max_time: maxTime.optional(),
  state: z.enum(['UP', 'DOWN', 'DRAIN', 'INACTIVE']).optional(),
});

const slurm = z.strictObject({
  cluster_name: name.optional(),
  partitions: z.array(partition).optional(),
  accounting_storage_type: z.enum(['accounting_storage/slurmdbd', 'accounting_storage/mysql', 'accounting_storage/none', 'slurmdbd', 'mysql', 'none']).optional(),
  accounting_storage_host: ipv4.optional(),
  state_save_location: dataPath.optional(),
  slurm_user: userName.optional(),
  /** SlurmctldTimeout: seconds a backup slurmctld waits for the primary before taking over */
  slurmctld_timeout: z.number().int().min(5).max(65533).optional(),
  /** configless Slurm: compute nodes fetch slurm.conf (and gres.conf, cgroup.conf) from slurmctld */
  configless: z.boolean().optional(),
});

const webService = z.union([
  name,
  z.strictObject({
    name,
    port,
    kind: z.enum(['frontend', 'backend', 'websocket']).optional(),
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9._\/-]*$/, { message: 'a URL path such as /api/jobs' })
      .optional(),
    health_path: z
      .string()
      .regex(/^\/[A-Za-z0-9._\/-]*$/, { message: 'a URL path such as /health' })
      .optional(),
    exec_start: absPath.optional(),
    working_directory: absPath.optional(),
    enabled: z.boolean().optional(),
  }),
]);

const ssl = z.strictObject({
  enabled: z.boolean().optional(),
  certificate: absPath.optional(),
  certificate_key: absPath.optional(),
});

const web = z.strictObject({
  domain: domain.optional(),
  session_secret: secret.optional(),
  jwt_secret: secret.optional(),
  ssl: ssl.optional(),
  services: z.array(webService).optional(),
});

const schedule = z.string().regex(/^[A-Za-z0-9*,:\/ .-]+$/, { message: 'a systemd OnCalendar expression such as "daily" or "*-*-* 02:00:00"' });

/** `deploy:`: what the generated ClusterShell / Ansible / deploy.sh files use (deploy emitter). */
const deploy = z.strictObject({
  /** the host deploy.sh and clush run on (the root of topology.conf); needed with gateways */
  admin_host: hostname.optional(),
  /** ClusterShell gateways for tree mode; every compute node is routed through every gateway */
  gateways: z.array(hostname).optional(),
  fanout: z.number().int().min(1).max(4096).optional(),
  connect_timeout: z.number().int().min(1).max(3600).optional(),
  command_timeout: z.number().int().min(1).max(86400).optional(),
  /** compute nodes applied at once */
  batch: z.number().int().min(1).optional(),
  /** stop applying when more than this percentage of the compute nodes tried so far failed */
  max_fail_percent: z.number().int().min(0).max(100).optional(),
});

const backupItems = z.array(z.enum(['configs', 'databases', 'mariadb', 'redis', 'slurm_state', 'glusterfs_meta', 'glusterfs_data']));

export const inputSchema = z.strictObject({
  $schema: z.string().optional(),
  cluster: z.strictObject({ name, domain: domain.optional() }),
  environment: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'a variable name (letters, digits, "_")' }), z.union([z.string(), z.number()])).optional(),
  network: network.optional(),
  controllers: z.array(controller).optional(),
  compute_nodes: z.array(compute).optional(),
  nodes: z.strictObject({ controllers: z.array(controller).optional(), compute_nodes: z.array(compute).optional() }).optional(),
  storage: z.strictObject({ gluster: gluster.optional(), glusterfs: gluster.optional() }).optional(),
  database: database.optional(),
  redis: redis.optional(),
  slurm: slurm.optional(),
  deploy: deploy.optional(),
  web: web.optional(),
  web_services: z.strictObject({ services: z.array(webService).optional() }).optional(),
  backup: z
    .strictObject({
      backup_dir: dataPath.optional(),
      retention_days: z.number().int().min(1).max(3650).optional(),
      schedule: schedule.optional(),
      items: backupItems.optional(),
    })
    .optional(),
  shared_storage: z
    .strictObject({
      backup: z
        .strictObject({
          items: backupItems.optional(),
          retention: z.union([z.number().int().min(1).max(3650), z.strictObject({ days: z.number().int().min(1).max(3650) })]).optional(),
          backup_dir: dataPath.optional(),
          schedule: schedule.optional(),
        })
        .optional(),
    })
    .optional(),
});

export type Input = z.infer<typeof inputSchema>;
export type ControllerInput = z.infer<typeof controller>;
export type ComputeInput = z.infer<typeof compute>;
export type WebServiceInput = z.infer<typeof webService>;

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
