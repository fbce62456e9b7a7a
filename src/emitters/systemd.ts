// systemd timers on every controller: the scheduled backup (bin/backup.sh) and the status
// monitor that writes status_multihead.sh --format json to /var/log/cluster_status.json.
import { render } from '../compiler/render.js';
import type { Emitter } from './emitter.js';

/** Where the start script installs the bundle's bin/ and lib/ on the node. */
export const MHC_HOME = '/opt/mhc';
export const BIN = `${MHC_HOME}/bin`;
export const STATUS_JSON = '/var/log/cluster_status.json';
export const STATUS_WRAPPER = '/usr/local/sbin/mhc-status-json';
const unit = (name: string) => `files/etc/systemd/system/${name}`;

export const systemd: Emitter = {
  name: 'systemd',
  emit(model, target) {
    if (target.kind !== 'controller') return [];
    const b = model.backup;
    return [
      {
        path: unit('mhc-backup.service'),
        content: render('systemd/backup.service', {
          bin: BIN,
          dir: b.dir,
          retentionDays: b.retentionDays,
        }),
      },
      {
        path: unit('mhc-backup.timer'),
        content: render('systemd/backup.timer', { schedule: b.schedule }),
      },
      {
        path: unit('mhc-status-monitor.service'),
        content: render('systemd/status-monitor.service', {
          wrapper: STATUS_WRAPPER,
          out: STATUS_JSON,
        }),
      },
      {
        path: unit('mhc-status-monitor.timer'),
        content: render('systemd/status-monitor.timer', {}),
      },
      {
        path: `files${STATUS_WRAPPER}`,
        content: render('systemd/status-json', { bin: BIN, out: STATUS_JSON }),
        mode: 0o755,
      },
    ];
  },
};
