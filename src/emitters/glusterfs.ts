// GlusterFS: the volume plan the storage phase runs (`gluster volume create` arguments) on the
// gluster nodes, and the fstab entry that mounts the volume on every controller that needs it.
import { render } from '../compiler/render.js';
import { shellQuote } from '../compiler/quote.js';
import { runs, type Controller, type Member, type Model } from '../compiler/model.js';
import type { EmittedFile } from '../compiler/bundle.js';
import type { Emitter } from './emitter.js';
import { addresses, service, type PortRule } from './service.js';

export const VOLUME_PLAN = 'files/etc/mhc/glusterfs/volume-plan';
export const FSTAB_ENTRY = 'files/etc/mhc/fstab.d/glusterfs';
/** The volume's options, `KEY VALUE` a line: start_multihead.sh phase 1 and apply_multihead.sh run `gluster volume set` from it. */
export const VOLUME_OPTIONS = 'files/etc/mhc/glusterfs/volume-options';

type Gluster = NonNullable<Model['gluster']>;

/**
 * Brick hosts: the first k×replica members in ranked order (VIP owner first), k as large as the
 * member count allows — `gluster volume create` needs a multiple of the replica count. Members
 * beyond that are peers without a brick (they still serve the volfile and mount the volume).
 */
export function brickHosts(g: Gluster): readonly Member[] {
  const r = Math.max(1, g.replicaCount);
  return g.members.slice(0, Math.floor(g.members.length / r) * r);
}

/** replica 3 arbiter 1: the third brick of each replica set stores metadata only (rules.ts requires replica 3). */
export const hasArbiter = (g: Gluster): boolean => g.arbiter && g.replicaCount === 3;

/** The replica sets `gluster volume create` forms from brickHosts (consecutive bricks, replica count each). */
export function replicaSets(g: Gluster): { readonly host: Member; readonly arbiter: boolean }[][] {
  const r = Math.max(1, g.replicaCount);
  const hosts = brickHosts(g);
  const sets: { host: Member; arbiter: boolean }[][] = [];
  for (let i = 0; i < hosts.length; i += r) sets.push(hosts.slice(i, i + r).map((host, k) => ({ host, arbiter: hasArbiter(g) && k === r - 1 })));
  return sets;
}

/** The exact arguments of `gluster volume create` (after `create`). */
export function createArgs(g: Gluster): string[] {
  const args: string[] = [g.volumeName];
  if (g.replicaCount > 1) args.push('replica', String(g.replicaCount));
  if (hasArbiter(g)) args.push('arbiter', '1');
  for (const m of brickHosts(g)) args.push(`${m.hostname}:${g.brickPath}`);
  // bricks usually sit on the root file system in small clusters; gluster refuses that without force
  args.push('force');
  return args;
}

/** Does this controller mount the volume? Gluster nodes do, and Slurm controllers whose state lives on it. */
export function mountsGluster(model: Model, node: Controller): boolean {
  const g = model.gluster;
  if (!g) return false;
  if (runs(node, 'glusterfs')) return true;
  return runs(node, 'slurm') && !!model.slurm?.stateMount;
}

/** The fstab line: this node first when it serves the volume, the other gluster nodes as backup volfile servers. */
export function fstabLine(g: Gluster, node: Controller): string {
  const self = g.members.find((m) => m.hostname === node.hostname);
  const servers = self ? [self, ...g.members.filter((m) => m !== self)] : [...g.members];
  const [primary, ...backups] = servers;
  const opts = ['_netdev'];
  if (backups.length) opts.push(`backup-volfile-servers=${backups.map((m) => m.hostname).join(':')}`);
  // the local glusterd serves the volfile: mount after it (ordering only; the backups cover its absence)
  if (self) opts.push('x-systemd.after=glusterd.service');
  return `${primary!.hostname}:/${g.volumeName} ${g.mountPoint} glusterfs ${opts.join(',')} 0 0`;
}

const GLUSTER_BRICK_BASE = 49152;
const OPTION_RULE = {
  action: 'runtime',
  dynamic: true,
  rule: 'gluster(8): gluster volume set VOLUME KEY VALUE (an option removed: gluster volume reset VOLUME KEY): glusterd changes the volume on every node at once, never its volfiles by hand',
} as const;
const PLAN_RULE = { action: 'none', rule: 'mhc: start_multihead.sh phase 1 reads it; a volume that exists is never re-created (add bricks with gluster volume add-brick)' } as const;

export const glusterfsService = service({
  key: 'glusterfs',
  label: 'GlusterFS',
  aliases: ['storage', 'gluster'],
  phase: 'storage',
  day2: {
    disruption: {
      restart: "this node's brick is offline until glusterd is back; the clients keep the other replicas, the volume heals it",
      runtime: 'none: gluster volume set on the running volume (every brick and mount takes the new volfile live)',
    },
    gates: ['GlusterFS: every brick online, no entry left to heal (gluster volume heal VOLUME info)'],
    controllerMembership: {
      reconciles: true,
      rule: 'gluster(8): a new server joins the trusted pool by `gluster peer probe` from a member; `volume add-brick VOLUME replica N` raises the replica count (then `volume heal VOLUME full` copies the files to the new brick); `volume remove-brick VOLUME replica N BRICK force` lowers it, `peer detach` leaves the pool',
      join: 'a member probes the new node; when the plan gives it a brick, add-brick raises the replica count and the volume heals onto it (the clients keep the other replicas meanwhile)',
      leave: 'remove-brick lowers the replica count (the other replicas hold every file), then the node leaves the pool (peer detach); its mount goes when it stops',
    },
  },
  here: (model, node) => runs(node, 'glusterfs') || mountsGluster(model, node),
  packages: (model, node) => (runs(node, 'glusterfs') && model.gluster ? ['glusterfs-server'] : mountsGluster(model, node) ? ['glusterfs-client'] : []),
  units: () => ['glusterd.service'],
  configDirs: ['/etc/glusterfs'],
  ports(model, node): PortRule[] {
    const g = model.gluster;
    if (!g || !runs(node, 'glusterfs')) return [];
    const ctl = addresses(model.controllers);
    return [
      { proto: 'tcp', ports: '24007-24008', service: 'glusterd and its management', from: ctl },
      { proto: 'tcp', ports: `${GLUSTER_BRICK_BASE}`, service: `gluster brick of volume ${g.volumeName} (one port per brick, from ${GLUSTER_BRICK_BASE})`, from: ctl },
    ];
  },
  checks: (model, node) => (model.gluster && runs(node, 'glusterfs') ? [{ name: 'glusterfs:mount', service: 'glusterfs', fn: 'check_mount', args: [model.gluster.mountPoint] }] : []),
  backupItems: [
    { name: 'glusterfs_meta', here: (model, node) => runs(node, 'glusterfs') && !!model.gluster },
    { name: 'glusterfs_data', here: (model, node) => mountsGluster(model, node) },
  ],
  change: (dest) =>
    dest === FSTAB_ENTRY.slice('files'.length)
      ? { action: 'runtime', rule: 'mhc: start_multihead.sh phase 1 writes it into /etc/fstab and mounts the volume; a mounted volume is remounted by an operator (umount, then the phase again)' }
      : dest === VOLUME_OPTIONS.slice('files'.length)
        ? OPTION_RULE
        : PLAN_RULE,
  // every option alike: a live `gluster volume set`
  settings: (dest) => (dest === VOLUME_OPTIONS.slice('files'.length) ? { '*': OPTION_RULE } : undefined),
});

export const glusterfs: Emitter = {
  name: 'glusterfs',
  service: glusterfsService,
  emit(model, target) {
    const g = model.gluster;
    if (!g || target.kind !== 'controller') return [];
    const node = target.node;
    const out: EmittedFile[] = [];
    if (runs(node, 'glusterfs')) {
      const bricks = brickHosts(g);
      const spare = g.members.filter((m) => !bricks.includes(m));
      out.push({
        path: VOLUME_PLAN,
        content: render('glusterfs/etc/mhc/glusterfs/volume-plan', {
          volume: shellQuote(g.volumeName),
          replica: g.replicaCount,
          arbiter: g.arbiter && g.replicaCount === 3 ? 1 : 0,
          brickPath: shellQuote(g.brickPath),
          mountPoint: shellQuote(g.mountPoint),
          peers: g.members.map((m) => shellQuote(m.hostname)).join(' '),
          peerIps: g.members.map((m) => shellQuote(m.ip)).join(' '),
          bricks: bricks.map((m) => shellQuote(`${m.hostname}:${g.brickPath}`)).join(' '),
          spare: spare.map((m) => m.hostname),
          createArgs: createArgs(g).map(shellQuote).join(' '),
        }),
      });
      out.push({ path: VOLUME_OPTIONS, content: render('glusterfs/etc/mhc/glusterfs/volume-options', { volume: g.volumeName, options: g.options.map(([key, value]) => ({ key, value })) }) });
    }
    if (mountsGluster(model, node)) {
      out.push({
        path: FSTAB_ENTRY,
        content: render('glusterfs/etc/mhc/fstab.d/glusterfs', { line: fstabLine(g, node) }),
      });
    }
    return out;
  },
};
