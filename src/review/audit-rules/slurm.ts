// Slurm: one slurm.conf and one munge key everywhere, controller state on shared storage,
// accounting only with a database.
import { createHash } from 'node:crypto';
import type { Path } from '../../compiler/locate.js';
import type { AuditContext, AuditRule, Finding } from '../audit.js';
import { bundleLabel } from '../side.js';
import { sectionPath } from './quorum.js';
import { CONFIGLESS_SERVED, SLURMD_DEFAULTS, SLURMD_DROPIN } from '../../emitters/slurm.js';

export const SLURM_CONF = 'files/etc/slurm/slurm.conf';
export const MUNGE_KEY = 'files/etc/munge/munge.key.b64';

const hash = (s: string) => createHash('sha256').update(s).digest('hex');

/** Bundles holding `path`, grouped by content; the largest group first. */
function variants(ctx: AuditContext, path: string): { sha: string; bundles: string[] }[] {
  const by = new Map<string, string[]>();
  for (const b of ctx.side?.bundles.values() ?? []) {
    const f = b.files.get(path);
    if (!f) continue;
    const h = hash(f.content);
    if (!by.has(h)) by.set(h, []);
    by.get(h)!.push(bundleLabel(b));
  }
  return [...by].map(([sha, bundles]) => ({ sha, bundles })).sort((x, y) => y.bundles.length - x.bundles.length || (x.bundles[0]! < y.bundles[0]! ? -1 : 1));
}

/**
 * Configless (slurm.configless: true): slurm.conf is identical on the controllers only (A301 then
 * sees just those); a compute bundle holding a file slurmctld serves, without --conf-server, or
 * without the slurmd drop-in that lifts Debian 12's ConditionPathExists=/etc/slurm/slurm.conf, is refused.
 */
function configless(ctx: AuditContext, out: Finding[]): void {
  for (const b of ctx.side?.bundles.values() ?? []) {
    if (b.role !== 'compute') continue;
    const why =
      'with configless Slurm slurmd reads these from slurmctld; a copy on the node goes stale at the next Slurm change (or shadows the served one) and the nodes disagree with the controllers';
    for (const p of CONFIGLESS_SERVED.filter((p) => b.files.has(p))) {
      out.push(
        ctx.finding(
          'A305',
          ctx.at(undefined, { node: b.name, path: p }),
          `${p.slice('files'.length)} is in the compute bundle, but slurm.configless is on`,
          why,
          'rebuild the tree with mhc build (a configless compute bundle holds the munge key, /etc/default/slurmd and the slurmd drop-in only)',
        ),
      );
    }
    if (!b.files.get(SLURMD_DEFAULTS)?.content.includes('--conf-server ')) {
      out.push(
        ctx.finding(
          'A305',
          ctx.at(undefined, { node: b.name, path: SLURMD_DEFAULTS }),
          'slurm.configless is on, but the compute bundle does not start slurmd with --conf-server',
          'slurmd without a slurm.conf and without --conf-server does not start',
          'rebuild the tree with mhc build',
        ),
      );
    }
    if (!/^ConditionPathExists=$/m.test(b.files.get(SLURMD_DROPIN)?.content ?? '')) {
      out.push(
        ctx.finding(
          'A305',
          ctx.at(undefined, { node: b.name, path: SLURMD_DROPIN }),
          "slurm.configless is on, but the compute bundle does not reset slurmd.service's ConditionPathExists=/etc/slurm/slurm.conf",
          "Debian 12's slurmd.service starts only when /etc/slurm/slurm.conf exists: on a configless node systemd skips slurmd and the node never joins",
          'rebuild the tree with mhc build',
        ),
      );
    }
  }
}

export const slurm: AuditRule = {
  name: 'slurm',
  codes: ['A301', 'A302', 'A303', 'A304', 'A305'],
  check(ctx) {
    const out: Finding[] = [];
    const conf = variants(ctx, SLURM_CONF);
    if (conf.length > 1) {
      const [major, ...rest] = conf;
      for (const r of rest) {
        out.push(
          ctx.finding(
            'A301',
            ctx.at(undefined, {
              node: r.bundles[0]!.split(' ')[0],
              path: SLURM_CONF,
            }),
            `slurm.conf on ${r.bundles.join(', ')} differs from the one on ${major!.bundles.join(', ')}`,
            'Slurm requires the same slurm.conf on every node: slurmctld logs "hash mismatch" and nodes with another file are drained or refused, and a failover controller may start with different partitions or limits',
            'rebuild the whole tree from one YAML and deploy every bundle; never edit slurm.conf on one node',
          ),
        );
      }
    }
    if (ctx.model?.slurm?.configless) configless(ctx, out);
    const keys = variants(ctx, MUNGE_KEY);
    if (keys.length > 1) {
      out.push(
        ctx.finding(
          'A304',
          ctx.at(undefined, {
            node: keys[1]!.bundles[0]!.split(' ')[0],
            path: MUNGE_KEY,
          }),
          `the munge key differs between nodes (${keys.map((k) => k.bundles.join(', ')).join(' | ')})`,
          'munge credentials made on one node are rejected by a node with another key: slurmd cannot talk to slurmctld, jobs fail with "Invalid credential"',
          'use one MUNGE_KEY secret for every bundle (mhc does: rebuild, and fill every node from the same secrets.env)',
        ),
      );
    }
    const m = ctx.model;
    const s = m?.slurm;
    if (m && s) {
      const g = m.gluster;
      const onShared = !!g && (s.stateSaveLocation === g.mountPoint || s.stateSaveLocation.startsWith(`${g.mountPoint}/`));
      if (!onShared && s.controllers.length > 1) {
        const p: Path | undefined = ctx.folded?.input.slurm?.state_save_location !== undefined ? ['slurm', 'state_save_location'] : sectionPath(ctx, 'slurm');
        out.push(
          ctx.finding(
            'A302',
            ctx.at(p),
            `StateSaveLocation ${s.stateSaveLocation} is not on shared storage${g ? ` (the gluster mount is ${g.mountPoint})` : ' (no controller runs glusterfs)'}, but ${s.controllers.length} controllers run slurmctld`,
            'the backup slurmctld takes over with its own, empty or stale state directory: running and queued jobs are forgotten or started twice',
            g
              ? `leave slurm.state_save_location out (it defaults to ${g.mountPoint}/slurm/state) or put it under ${g.mountPoint}`
              : 'run glusterfs on the controllers so the state directory can live on the shared mount',
          ),
        );
      }
      if (s.accounting && !m.galera) {
        const p: Path | undefined = ctx.folded?.input.slurm?.accounting_storage_type !== undefined ? ['slurm', 'accounting_storage_type'] : ctx.folded?.controllersPath;
        out.push(
          ctx.finding(
            'A303',
            ctx.at(p),
            'Slurm accounting (slurmdbd) is on, but no controller runs mariadb',
            'slurmdbd has no database to store into: it does not start, slurmctld cannot register the cluster, and with AccountingStorageEnforce jobs are refused',
            'enable services.mariadb on the controllers, or set slurm.accounting_storage_type: none',
          ),
        );
      }
    }
    return out;
  },
};
