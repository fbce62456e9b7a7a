// The operations of a controller bundle: bin/status_multihead.sh, bin/backup.sh, bin/restore.sh,
// bin/cluster_info.sh, bin/web_health_check.sh and their shared helpers lib/operations.sh, and
// the systemd timers that run two of them (the scheduled backup, and the status monitor that
// writes status_multihead.sh --format json to /var/log/cluster_status.json). The scripts source
// lib/common.sh and lib/facts.sh (the lifecycle emitter); what they need beyond those facts (Redis
// instance files, the MariaDB socket, the configuration paths a backup keeps, the backup items)
// is computed here and written into lib/operations.sh.
import { render } from '../compiler/render.js';
import { runs, type Controller, type Model, type ServiceKey } from '../compiler/model.js';
import type { EmittedFile } from '../compiler/bundle.js';
import type { Emitter } from './emitter.js';
import { BIN, MARIADB_SOCKET } from './paths.js';
import { isUnitFile, service, UNIT_RULE } from './service.js';
import { DATA_DIR, instances, REDIS_USER, SEED_SUFFIX, SENTINEL_INSTANCE, sentinelStaticPath } from './redis.js';
import { backupItems, backupItemsHere, services } from './services.js';

export const OPS_SH = 'lib/operations.sh';
export const STATUS_SH = 'bin/status_multihead.sh';
export const BACKUP_SH = 'bin/backup.sh';
export const RESTORE_SH = 'bin/restore.sh';
export const CLUSTER_INFO_SH = 'bin/cluster_info.sh';
export const WEB_HEALTH_SH = 'bin/web_health_check.sh';
export const BACKUP_LOG = '/var/log/cluster_multihead_backup.log';
export const RESTORE_LOG = '/var/log/cluster_multihead_restore.log';

export const STATUS_JSON = '/var/log/cluster_status.json';
export const STATUS_WRAPPER = '/usr/local/sbin/mhc-status-json';
const unit = (name: string): string => `files/etc/systemd/system/${name}`;

/** The scheduled backup and the status monitor, as systemd timers. */
export function timerFiles(model: Model): EmittedFile[] {
  const b = model.backup;
  return [
    { path: unit('mhc-backup.service'), content: render('operations/etc/systemd/system/mhc-backup.service', { bin: BIN, dir: b.dir, retentionDays: b.retentionDays }) },
    { path: unit('mhc-backup.timer'), content: render('operations/etc/systemd/system/mhc-backup.timer', { schedule: b.schedule }) },
    { path: unit('mhc-status-monitor.service'), content: render('operations/etc/systemd/system/mhc-status-monitor.service', { wrapper: STATUS_WRAPPER, out: STATUS_JSON }) },
    { path: unit('mhc-status-monitor.timer'), content: render('operations/etc/systemd/system/mhc-status-monitor.timer', {}) },
    { path: `files${STATUS_WRAPPER}`, content: render('operations/usr/local/sbin/mhc-status-json', { bin: BIN, out: STATUS_JSON }), mode: 0o755 },
  ];
}

/** The node-wide part of start_multihead.sh's phase 7 and of a backup: the timers and the "configs" item. */
export const backupService = service({
  key: 'backup',
  label: 'Backup',
  phase: 'backup',
  day2: { disruption: { restart: 'none: a timer; the next backup runs at its time' }, gates: [] },
  here: () => true,
  units: () => ['mhc-backup.timer', 'mhc-status-monitor.timer'],
  configDirs: ['/etc/mhc'],
  backupItems: [{ name: 'configs', here: () => true }],
  change: (dest) => (isUnitFile(dest) ? UNIT_RULE : { action: 'none', rule: 'mhc: the status monitor runs it afresh at each tick' }),
});

/**
 * What "configs" holds on this node: the configuration directories of the services that run here
 * (their descriptors' configDirs), /etc/hosts, and every file the bundle installs outside those
 * directories (units, drop-ins, sbin scripts). Sorted, without entries inside another entry.
 */
export function configPaths(dirs: readonly string[], dests: readonly string[]): string[] {
  const paths = new Set<string>([...dirs, '/etc/hosts']);
  for (const dest of dests) paths.add(dest.endsWith(SEED_SUFFIX) ? dest.slice(0, -SEED_SUFFIX.length) : dest);
  const sorted = [...paths].sort();
  return sorted.filter((p) => !sorted.some((q) => q !== p && p.startsWith(`${q}/`)));
}

export function opsContext(model: Model, node: Controller, dests: readonly string[]): Record<string, unknown> {
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
    allItems: backupItems(),
    itemsHere: backupItemsHere(model, node),
    configPaths: configPaths(
      services()
        .filter((d) => d.key === backupService.key || runs(node, d.key as ServiceKey))
        .flatMap((d) => d.configDirs),
      dests,
    ),
  };
}

/** The operations files of a controller; `installed`: where the other emitters' files go on it (a backup's "configs" keeps them). */
export function operationsFiles(model: Model, node: Controller, installed: readonly string[]): EmittedFile[] {
  const ctx = { hostname: node.hostname, cluster: model.cluster.name };
  const timers = timerFiles(model);
  return [
    ...timers,
    {
      path: OPS_SH,
      content: render('operations/lib/operations.sh', opsContext(model, node, [...installed, ...timers.map((f) => f.path.slice('files'.length))])),
      mode: 0o644,
    },
    {
      path: STATUS_SH,
      content: render('operations/bin/status_multihead.sh', ctx),
      mode: 0o755,
    },
    {
      path: BACKUP_SH,
      content: render('operations/bin/backup.sh', ctx),
      mode: 0o755,
    },
    {
      path: RESTORE_SH,
      content: render('operations/bin/restore.sh', ctx),
      mode: 0o755,
    },
    {
      path: CLUSTER_INFO_SH,
      content: render('operations/bin/cluster_info.sh', ctx),
      mode: 0o755,
    },
    {
      path: WEB_HEALTH_SH,
      content: render('operations/bin/web_health_check.sh', ctx),
      mode: 0o755,
    },
  ];
}

export const operations: Emitter = {
  name: 'operations',
  service: backupService,
  emit(model, target, sofar) {
    if (target.kind !== 'controller') return [];
    // the paths of the files the node installs (not their contents): the backup keeps each one
    return operationsFiles(
      model,
      target.node,
      sofar.flatMap((f) => (f.dest ? [f.dest] : [])),
    );
  },
};
