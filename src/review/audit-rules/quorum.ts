// Quorum: the majorities Galera, Redis Sentinel, Redis Cluster and GlusterFS need to survive
// the loss of one node.
import type { Path } from '../../compiler/locate.js';
import type { AuditContext, AuditRule, Finding } from '../audit.js';

/** The YAML path to point at for a section, falling back to the controller list. */
export function sectionPath(ctx: AuditContext, section: string, ...deeper: string[]): Path | undefined {
  const f = ctx.folded;
  if (!f) return undefined;
  const input = f.input as unknown as Record<string, unknown>;
  if (input[section] === undefined) return f.controllersPath;
  let p: Path = [section];
  let node: unknown = input[section];
  for (const k of deeper) {
    if (!node || typeof node !== 'object' || (node as Record<string, unknown>)[k] === undefined) break;
    node = (node as Record<string, unknown>)[k];
    p = [...p, k];
  }
  return p;
}

export const quorum: AuditRule = {
  name: 'quorum',
  codes: ['A101', 'A102', 'A103', 'A104', 'A105', 'A106'],
  check(ctx) {
    const m = ctx.model;
    const out: Finding[] = [];
    if (!m) return out;
    const g = m.galera;
    if (g && !g.arbitrator && g.members.length === 2) {
      out.push(
        ctx.finding(
          'A101',
          ctx.at(sectionPath(ctx, 'database')),
          `Galera runs on 2 nodes (${g.members.map((x) => x.hostname).join(', ')}) and no arbitrator is configured`,
          'when one node fails or the link between them breaks, the survivor holds 1 of 2 votes, is not a primary component and refuses every write: slurmdbd and the web apps stop, although a node is still up',
          'run MariaDB on a third controller, or add a garbd arbitrator on a third host: database.galera.arbitrator: { hostname, ip }',
        ),
      );
    }
    if (g && !g.arbitrator && g.members.length >= 4 && g.members.length % 2 === 0) {
      out.push(
        ctx.finding(
          'A102',
          ctx.at(sectionPath(ctx, 'database')),
          `Galera runs on ${g.members.length} nodes, an even number, without an arbitrator`,
          `a network split into two halves of ${g.members.length / 2} leaves neither side with a majority: the whole cluster stops taking writes`,
          'run MariaDB on an odd number of controllers, or add a garbd arbitrator (database.galera.arbitrator)',
        ),
      );
    }
    const r = m.redis;
    if (r && r.mode === 'sentinel' && r.members.length === 2) {
      out.push(
        ctx.finding(
          'A103',
          ctx.at(sectionPath(ctx, 'redis')),
          `Redis Sentinel runs on 2 nodes (${r.members.map((x) => x.hostname).join(', ')})`,
          "a failover must be authorised by a majority of all Sentinels; with the master's node down, 1 Sentinel of 2 is no majority, so the replica is never promoted and Redis stays read-only until the node returns",
          'run redis on a third controller (a third Sentinel), so that 2 of 3 can elect a leader',
        ),
      );
    }
    if (r && r.mode === 'sentinel' && r.sentinel.quorum > r.members.length) {
      out.push(
        ctx.finding(
          'A106',
          ctx.at(sectionPath(ctx, 'redis', 'sentinel', 'quorum')),
          `Sentinel quorum ${r.sentinel.quorum} is larger than the ${r.members.length} Sentinel(s)`,
          'the master is only marked down when `quorum` Sentinels agree; with fewer Sentinels than that it is never marked down and no failover ever starts',
          `write redis.sentinel.quorum: ${Math.floor(r.members.length / 2) + 1} (a majority), or leave it out`,
        ),
      );
    }
    if (r && r.mode === 'cluster' && r.replicas === 0) {
      out.push(
        ctx.finding(
          'A105',
          ctx.at(sectionPath(ctx, 'redis', 'cluster', 'replicas')),
          `Redis Cluster on ${r.members.length} nodes with masters only (replicas: 0)`,
          'the hash slots of a master that dies have no copy: the cluster reports CLUSTERDOWN for every key in them (cluster-require-full-coverage) until that node comes back, and its data may be lost',
          'write redis.cluster.replicas: 1, so each master has a replica on another node',
        ),
      );
    }
    const gl = m.gluster;
    if (gl && gl.replicaCount === 2 && !gl.arbiter) {
      out.push(
        ctx.finding(
          'A104',
          ctx.at(sectionPath(ctx, 'storage', ctx.folded?.input.storage?.gluster ? 'gluster' : 'glusterfs', 'replica_count')),
          `gluster volume ${gl.volumeName} is replica 2 without an arbiter`,
          "when the two bricks lose sight of each other both keep accepting writes; the copies diverge (split-brain) and files become unreadable until repaired by hand — Slurm's state directory included",
          'use replica_count: 3 with arbiter: true (the arbiter brick stores only metadata), on a third controller',
        ),
      );
    }
    return out;
  },
};
