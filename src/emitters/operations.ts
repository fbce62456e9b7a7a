// The operations scripts of a controller bundle (issue 5, part B): bin/status_multihead.sh,
// bin/backup.sh, bin/restore.sh, bin/cluster_info.sh, bin/web_health_check.sh and their shared
// helpers lib/operations.sh. They source lib/common.sh and lib/facts.sh (the lifecycle emitter);
// what they need beyond those facts (Redis instance files, the MariaDB socket, the configuration
// paths a backup keeps) is computed here and written into lib/operations.sh.
import { render } from '../compiler/render.js';
import { runs, type Controller, type Model } from '../compiler/model.js';
import type { BundleFile, EmittedFile } from '../compiler/bundle.js';
import type { Emitter } from './emitter.js';
import { DATA_DIR, instances, REDIS_USER, SENTINEL_INSTANCE, sentinelStaticPath } from './redis.js';

export const OPS_SH = 'lib/operations.sh';
export const STATUS_SH = 'bin/status_multihead.sh';
export const BACKUP_SH = 'bin/backup.sh';
export const RESTORE_SH = 'bin/restore.sh';
export const CLUSTER_INFO_SH = 'bin/cluster_info.sh';
export const WEB_HEALTH_SH = 'bin/web_health_check.sh';
/** Debian's MariaDB server socket (50-server.cnf / my.cnf [client-server]). */
export const MARIADB_SOCKET = '/run/mysqld/mysqld.sock';
export const BACKUP_LOG = '/var/log/cluster_multihead_backup.log';
export const RESTORE_LOG = '/var/log/cluster_multihead_restore.log';

/** Configuration directories a backup keeps, per service (all of them when it runs here). */
const CONFIG_DIRS: Readonly<Record<string, readonly string[]>> = {
  always: ['/etc/mhc'],
  glusterfs: ['/etc/glusterfs'],
  mariadb: ['/etc/mysql'],
  redis: ['/etc/redis'],
  slurm: ['/etc/slurm', '/etc/munge'],
  keepalived: ['/etc/keepalived'],
  web: ['/etc/nginx'],
};

/**
 * What "configs" holds on this node: the service configuration directories, /etc/hosts, and
 * every file the bundle installs outside those directories (units, drop-ins, sbin scripts).
 * Sorted, without entries inside another entry.
 */
export function configPaths(node: Controller, sofar: readonly BundleFile[]): string[] {
  const dirs = [...CONFIG_DIRS.always!, ...node.services.flatMap((s) => CONFIG_DIRS[s] ?? [])];
  const paths = new Set<string>([...dirs, '/etc/hosts']);
  for (const f of sofar) {
    if (!f.dest) continue;
    const dest = f.dest.endsWith('.seed') ? f.dest.slice(0, -'.seed'.length) : f.dest;
    paths.add(dest);
  }
  const sorted = [...paths].sort();
  return sorted.filter((p) => !sorted.some((q) => q !== p && p.startsWith(`${q}/`)));
}

export function opsContext(model: Model, node: Controller, sofar: readonly BundleFile[]): Record<string, unknown> {
  const r = model.redis && runs(node, 'redis') ? model.redis : undefined;
  const redis = r
    ? instances(r, node).map((i) => ({
        port: String(i.port),
        unit: `redis-server@${i.name}.service`,
        conf: i.staticPath,
        rdb: `${DATA_DIR}/${i.dbfilename}`,
      }))
    : [];
  return {
    hostname: node.hostname,
    mariadbSocket: MARIADB_SOCKET,
    redis,
    sentinelUnit: r?.mode === 'sentinel' ? `redis-sentinel@${SENTINEL_INSTANCE}.service` : '',
    sentinelConf: r?.mode === 'sentinel' ? sentinelStaticPath : '',
    sentinelSecret: r?.sentinel.password?.name ?? '',
    backupLog: BACKUP_LOG,
    restoreLog: RESTORE_LOG,
    redisUser: REDIS_USER,
    configPaths: configPaths(node, sofar),
  };
}

export function operationsFiles(model: Model, node: Controller, sofar: readonly BundleFile[]): EmittedFile[] {
  const ctx = { hostname: node.hostname, cluster: model.cluster.name };
  return [
    {
      path: OPS_SH,
      content: render('operations/operations.sh', opsContext(model, node, sofar)),
      mode: 0o644,
    },
    {
      path: STATUS_SH,
      content: render('operations/status_multihead.sh', ctx),
      mode: 0o755,
    },
    {
      path: BACKUP_SH,
      content: render('operations/backup.sh', ctx),
      mode: 0o755,
    },
    {
      path: RESTORE_SH,
      content: render('operations/restore.sh', ctx),
      mode: 0o755,
    },
    {
      path: CLUSTER_INFO_SH,
      content: render('operations/cluster_info.sh', ctx),
      mode: 0o755,
    },
    {
      path: WEB_HEALTH_SH,
      content: render('operations/web_health_check.sh', ctx),
      mode: 0o755,
    },
  ];
}

export const operations: Emitter = {
  name: 'operations',
  emit(model, target, sofar) {
    if (target.kind !== 'controller') return [];
    return operationsFiles(model, target.node, sofar);
  },
};
