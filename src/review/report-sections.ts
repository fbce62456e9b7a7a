// The high-availability sections of `mhc report`: the VIP and its failover order, the Galera
// members and arbitrator, Redis masters and the replicas that back them, GlusterFS bricks,
// SlurmctldHost order and slurmdbd, the web services. Each a few keyed tables. Pure.
import { runs, type Member, type Model } from '../compiler/model.js';
import { brickHosts, hasArbiter, mountsGluster, replicaSets } from '../emitters/glusterfs.js';
import { clusterPairs, initialMaster } from '../emitters/redis.js';
import { slurmHostlist } from '../emitters/slurm.js';
import type { Row, Table } from './report-facts.js';

export interface Section {
  readonly key: string;
  readonly title: string;
  readonly tables: readonly Table[];
}

const link = (m: Member) => ({ text: m.hostname, node: m.hostname });
const plural = (n: number, s: string) => `${n} ${s}${n === 1 ? '' : 's'}`;

/** A two-column table of settings; a row given `move` is a role that a change moves between nodes. */
function settings(id: string, rows: readonly (readonly [string, string] | readonly [string, string, 'move'])[]): Table {
  return {
    key: `${id}-settings`,
    title: 'settings',
    settings: true,
    columns: ['setting', 'value'],
    rows: rows.map(([k, v, move]) => ({ key: k, cells: [k, v], ...(move ? { move: true } : {}) })),
  };
}

const table = (key: string, title: string, columns: readonly string[], rows: readonly Row[]): Table => ({ key, title, columns, rows });

function vipSection(m: Model): Section | undefined {
  const v = m.network.vip;
  if (!v) return undefined;
  const prio = new Map(m.controllers.map((c) => [c.hostname, c.priority]));
  const order = m.keepalived.nodes.map((n, i) => ({
    key: n.hostname,
    cells: [`#${i + 1}`, link(n), n.ip, `${prio.get(n.hostname) ?? '?'}`, i === 0 ? 'owner (MASTER)' : 'backup'],
  }));
  return {
    key: 'vip',
    title: 'Virtual IP (keepalived)',
    tables: [
      settings('vip', [
        ['address', `${v.address}/${v.prefix} (netmask ${v.netmask}, subnet ${v.subnet})`],
        ['owner', m.vipOwner ?? '(none)', 'move'],
        ['interface', v.interface],
        ['virtual_router_id', `${v.virtualRouterId}`],
        ['advert_int', `${v.advertInt} s`],
        ['preempt', v.preempt ? 'yes: the VIP returns to the highest priority' : 'no: every node starts BACKUP (nopreempt), the VIP stays where it is'],
      ]),
      table('vip-order', 'failover order', ['order', 'node', 'address', 'priority', 'role'], order),
    ],
  };
}

function galeraSection(m: Model): Section | undefined {
  const g = m.galera;
  if (!g) return undefined;
  const members = g.members.map((x) => ({ key: x.hostname, cells: [link(x), x.ip, 'member (MariaDB)'] }));
  const garbd = g.arbitrator ? [{ key: g.arbitrator.hostname, cells: [g.arbitrator.hostname, g.arbitrator.ip, 'arbitrator (garbd): votes, holds no data'] }] : [];
  return {
    key: 'galera',
    title: 'MariaDB Galera',
    tables: [
      settings('galera', [
        ['cluster', g.clusterName],
        ['clients connect to', `${g.clientHost}:${g.port} (writes go to one node at a time)`],
        ['SST', g.sstMethod],
        ['quorum', `${plural(g.members.length, 'member')}${g.arbitrator ? ` + arbitrator ${g.arbitrator.hostname}` : ''}`],
        ['databases', g.databases.join(', ') || '(none)'],
      ]),
      table('galera-members', 'members', ['node', 'address', 'role'], [...members, ...garbd]),
    ],
  };
}

function redisTable(r: NonNullable<Model['redis']>): Table {
  if (r.mode === 'sentinel') {
    const master = initialMaster(r);
    return table(
      'redis-instances',
      'instances',
      ['node', 'instance', 'role', 'Sentinel'],
      r.members.map((x) => ({
        key: x.hostname,
        cells: [link(x), `${x.ip}:${r.port}`, x.hostname === master.hostname ? 'master (initial)' : `replica of ${master.hostname}`, `:${r.sentinel.port}`],
      })),
    );
  }
  const pairs = clusterPairs(r);
  return table(
    'redis-masters',
    'masters and the replicas that back them',
    ['master', 'instance', 'backed by replicas on'],
    r.members.map((x) => ({
      key: x.hostname,
      cells: [
        link(x),
        `${x.ip}:${r.port}`,
        pairs
          .filter((p) => p.master.hostname === x.hostname)
          .map((p) => `${p.replica.member.hostname}:${p.replica.port}`)
          .join(', ') || '(none: a node loss loses its slots)',
      ],
    })),
  );
}

function redisSection(m: Model): Section | undefined {
  const r = m.redis;
  if (!r) return undefined;
  const mode =
    r.mode === 'sentinel'
      ? `Sentinel (master "${r.sentinel.masterName}", quorum ${r.sentinel.quorum} of ${r.members.length})`
      : `Cluster (${plural(r.members.length, 'master')}, ${plural(pairsPerMaster(r), 'replica')} each)`;
  return {
    key: 'redis',
    title: 'Redis',
    tables: [
      settings('redis', [
        ['mode', mode],
        ['port', `${r.port}`],
      ]),
      redisTable(r),
    ],
  };
}

const pairsPerMaster = (r: NonNullable<Model['redis']>) => (r.members.length ? clusterPairs(r).length / r.members.length : 0);

function glusterSection(m: Model): Section | undefined {
  const g = m.gluster;
  if (!g) return undefined;
  const bricks = replicaSets(g).flatMap((set, k) =>
    set.map((b) => ({ key: b.host.hostname, cells: [`set ${k + 1}`, link(b.host), `${b.host.hostname}:${g.brickPath}`, b.arbiter ? 'arbiter (metadata only)' : 'data'] })),
  );
  const withBrick = new Set(brickHosts(g).map((b) => b.hostname));
  const peers = g.members.filter((x) => !withBrick.has(x.hostname)).map((x) => ({ key: x.hostname, cells: ['—', link(x), '—', 'peer (no brick)'] }));
  const layout = g.replicaCount > 1 ? `replica ${g.replicaCount}${hasArbiter(g) ? ' arbiter 1' : ''}` : 'distribute (no replica)';
  return {
    key: 'gluster',
    title: 'GlusterFS',
    tables: [
      settings('gluster', [
        ['volume', g.volumeName],
        ['layout', layout],
        ['mount point', g.mountPoint],
        [
          'mounted on',
          m.controllers
            .filter((c) => mountsGluster(m, c))
            .map((c) => c.hostname)
            .join(', ') || '(none)',
        ],
      ]),
      table('gluster-bricks', 'bricks', ['replica set', 'node', 'brick', 'role'], [...bricks, ...peers]),
    ],
  };
}

function slurmSection(m: Model): Section | undefined {
  const s = m.slurm;
  if (!s) return undefined;
  const a = s.accounting;
  const ctld = s.controllers.map((x, i) => ({ key: x.hostname, cells: [`#${i + 1}`, link(x), x.ip, i === 0 ? 'primary' : 'backup'] }));
  const parts = s.partitions.map((p) => {
    const all = p.nodes.length === 1 && p.nodes[0] === 'ALL';
    return { key: p.name, cells: [p.name, all ? 'ALL' : slurmHostlist(p.nodes), all ? `${m.computeNodes.length}` : `${p.nodes.length}`, p.default ? 'yes' : '', p.maxTime, p.state] };
  });
  const mount = m.slurm?.stateMount;
  return {
    key: 'slurm',
    title: 'Slurm',
    tables: [
      settings('slurm', [
        ['cluster', s.clusterName],
        ['primary slurmctld', s.controllers[0]?.hostname ?? '(none)', 'move'],
        ['StateSaveLocation', `${s.stateSaveLocation}${mount ? ` (on the GlusterFS mount ${mount})` : ''}`],
        ['SlurmctldTimeout', `${s.slurmctldTimeout} s`],
        ['accounting', a ? `slurmdbd at ${a.host}:${a.port}, database ${a.storageLoc} at ${a.storageHost}:${a.storagePort}` : 'none'],
      ]),
      table('slurm-ctld', 'SlurmctldHost order', ['order', 'node', 'address', 'role'], ctld),
      ...(a
        ? [
            table(
              'slurm-dbd',
              'slurmdbd',
              ['node', 'port', 'database'],
              s.controllers.map((x) => ({ key: x.hostname, cells: [link(x), `${a.port}`, `${a.storageHost}:${a.storagePort}`] })),
            ),
          ]
        : []),
      table('slurm-partitions', 'partitions', ['partition', 'nodes', 'count', 'default', 'max time', 'state'], parts),
    ],
  };
}

function webSection(m: Model): Section | undefined {
  const w = m.web;
  if (!w) return undefined;
  return {
    key: 'web',
    title: 'Web',
    tables: [
      settings('web', [
        ['domain', w.domain],
        ['TLS', w.ssl.mode === 'off' ? 'off' : `${w.ssl.mode} (${w.ssl.certificate})`],
        [
          'nginx on',
          m.controllers
            .filter((c) => runs(c, 'web'))
            .map((c) => c.hostname)
            .join(', ') || '(none)',
        ],
      ]),
      table(
        'web-services',
        'services (nginx proxies to the local backend, the peers as backup)',
        ['service', 'port', 'kind', 'path', 'health'],
        w.services.map((x) => ({ key: x.name, cells: [x.name, `${x.port}`, x.kind, x.path, x.healthPath] })),
      ),
    ],
  };
}

export const haSections = (m: Model): Section[] => [vipSection, galeraSection, redisSection, glusterSection, slurmSection, webSection].map((f) => f(m)).filter((s): s is Section => !!s);
