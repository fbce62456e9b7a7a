// The Model: the one normalized, deep-readonly description of a cluster that emitters read.
// Only normalize.ts creates it. It never holds a secret value — only secret names.
import type { TargetFacts } from './targets.js';

export type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

export const SERVICES = ['glusterfs', 'mariadb', 'redis', 'slurm', 'keepalived', 'web'] as const;
export type ServiceKey = (typeof SERVICES)[number];

/** A reference to a secret by name; the value lives in secrets.env on the node. */
export interface SecretRef {
  name: string;
}

export type SecretKind = 'password' | 'key' | 'binary';

export interface SecretSpec {
  name: string;
  /** what it protects, for secrets.env comments and `mhc secrets init` */
  purpose: string;
  kind: SecretKind;
  /** random bytes (binary) or characters (password/key) `mhc secrets init` generates */
  length: number;
  /** most characters a consumer accepts (e.g. keepalived auth_pass: 8) */
  maxLength?: number;
  /** written as a Slurm config value (slurmdbd.conf StoragePass): refused when that parser cannot hold it */
  slurmConf?: boolean;
  /** written as keepalived.conf `auth_pass`: refused when keepalived's parser cannot hold it */
  keepalivedAuth?: boolean;
  /** referenced by the YAML (true) or added by mhc itself (false) */
  fromYaml: boolean;
}

export interface Hardware {
  cpus: number;
  sockets?: number;
  coresPerSocket?: number;
  threadsPerCore?: number;
  /** MiB, as Slurm's RealMemory */
  realMemory?: number;
  /** MiB */
  tmpDisk?: number;
  gpus: { count: number; type?: string };
  features: string[];
  weight?: number;
}

export interface ControllerNode {
  role: 'controller';
  hostname: string;
  ip: string;
  services: ServiceKey[];
  /** keepalived priority (1–254); present when this node runs keepalived */
  priority?: number;
  vipOwner: boolean;
  /** the interface the VIP lives on, on this node */
  interface: string;
}

export interface ComputeNode {
  role: 'compute';
  hostname: string;
  ip?: string;
  hardware: Hardware;
}

export interface Member {
  hostname: string;
  ip: string;
}

export interface WebService {
  name: string;
  port: number;
  kind: 'frontend' | 'backend' | 'websocket';
  /** URL path nginx routes to it */
  path: string;
  healthPath: string;
  execStart: string;
  workingDirectory: string;
}

export interface Partition {
  name: string;
  /** hostnames, or ['ALL'] */
  nodes: string[];
  default: boolean;
  maxTime: string;
  state: 'UP' | 'DOWN' | 'DRAIN' | 'INACTIVE';
}

export interface ModelData {
  cluster: { name: string; domain?: string };
  /** the OS release the bundles are for, and its daemons' facts (targets.ts) */
  target: TargetFacts;
  /** controllers sorted by hostname */
  controllers: ControllerNode[];
  /** controller hostnames ranked: VIP owner first, then keepalived priority (highest first), then hostname */
  rankedControllers: string[];
  /** compute nodes sorted by hostname (natural order: n2 before n10) */
  computeNodes: ComputeNode[];
  network: {
    vip?: {
      address: string;
      prefix: number;
      netmask: string;
      /** the controllers' subnet in CIDR form */
      subnet: string;
      interface: string;
      virtualRouterId: number;
      advertInt: number;
      preempt: boolean;
      authPass: SecretRef;
    };
  };
  /** hostname of the controller that holds the VIP when all are healthy */
  vipOwner?: string;
  keepalived: { nodes: Member[] /* by priority, highest first */ };
  galera?: {
    clusterName: string;
    members: Member[];
    /** address clients use: the VIP, so writes go to one node at a time */
    clientHost: string;
    port: number;
    sstMethod: 'mariabackup' | 'rsync';
    sstUser: string;
    sstPassword: SecretRef;
    rootPassword: SecretRef;
    adminUser?: string;
    databases: string[];
    gcacheSize: string;
    slaveThreads: number;
    innodbBufferPoolSize?: string;
    arbitrator?: Member;
  };
  redis?: {
    mode: 'cluster' | 'sentinel';
    members: Member[];
    port: number;
    password: SecretRef;
    /** replicas per master in cluster mode */
    replicas: number;
    /** redis.conf maxmemory ("256mb", bytes as a string), when limited */
    maxmemory?: string;
    maxmemoryPolicy?: string;
    /** redis.conf io-threads, when set */
    ioThreads?: number;
    sentinel: {
      port: number;
      quorum: number;
      masterName: string;
      /** sentinel.conf down-after-milliseconds and failover-timeout (day 2: SENTINEL SET) */
      downAfterMs: number;
      failoverTimeoutMs: number;
      /** sentinel mode: the secret Sentinel's credential (requirepass, sentinel-pass) is derived from */
      password?: SecretRef;
    };
  };
  gluster?: {
    volumeName: string;
    members: Member[];
    replicaCount: number;
    arbiter: boolean;
    brickPath: string;
    mountPoint: string;
    /** volume options (gluster volume set), by name */
    options: [string, string][];
  };
  slurm?: {
    clusterName: string;
    /** SlurmctldHost order: VIP owner first, then by priority */
    controllers: Member[];
    stateSaveLocation: string;
    /** the GlusterFS mount point, when StateSaveLocation lies on the volume */
    stateMount?: string;
    slurmUser: string;
    /** SlurmctldTimeout (s): how long a backup waits for the primary before taking over */
    slurmctldTimeout: number;
    /** SchedulerType's plugin: sched/<this> */
    schedulerType: 'backfill' | 'builtin';
    accounting?: {
      /** where slurmctld finds slurmdbd (the VIP) */
      host: string;
      port: number;
      storageHost: string;
      storagePort: number;
      storageLoc: string;
      storageUser: string;
      storagePass: SecretRef;
    };
    partitions: Partition[];
    mungeKey: SecretRef;
    /** compute nodes get their config from slurmctld (slurmd --conf-server), not from their bundle */
    configless: boolean;
  };
  web?: {
    domain: string;
    members: Member[];
    services: WebService[];
    ssl: { mode: 'provided'; certificate: string; certificateKey: string } | { mode: 'self-signed'; certificate: string; certificateKey: string } | { mode: 'off' };
    jwtSecret: SecretRef;
    sessionSecret: SecretRef;
  };
  backup: { dir: string; retentionDays: number; schedule: string; items: string[] };
  /** settings of the generated fan-out files (out/<cluster>/deploy/) */
  deploy: {
    adminHost?: string;
    /** ClusterShell gateways (tree mode), sorted */
    gateways: string[];
    fanout: number;
    /** seconds */
    connectTimeout: number;
    /** seconds */
    commandTimeout: number;
    batch: number;
    maxFailPercent: number;
  };
  /** every secret some bundle needs, sorted by name */
  secrets: SecretSpec[];
}

export type Model = DeepReadonly<ModelData>;
export type Controller = DeepReadonly<ControllerNode>;
export type Compute = DeepReadonly<ComputeNode>;

/** What one bundle directory is built for. */
export type Target = { readonly kind: 'controller'; readonly name: string; readonly node: Controller } | { readonly kind: 'compute'; readonly name: string; readonly nodes: readonly Compute[] };

/** The bundle directory that all compute nodes share (their files are identical). */
export const COMPUTE_BUNDLE = 'compute';

/** The cluster-level directory of the fan-out files (ClusterShell, Ansible, genders, deploy.sh). */
export const DEPLOY_DIR = 'deploy';

export function deepFreeze<T>(v: T): DeepReadonly<T> {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v as DeepReadonly<T>;
}

export const runs = (node: Controller, s: ServiceKey): boolean => node.services.includes(s);
