// The glusterfs emitter: the volume plan (exact `gluster volume create` arguments) on gluster
// nodes and the fstab entry on every controller that mounts the volume.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildFile, buildText, EXAMPLES } from '../helpers.js';
import { compile } from '../../src/compiler/compile.js';

const MAIN = readFileSync(join(EXAMPLES, 'my_multihead_cluster.yaml'), 'utf8');
const PLAN = 'files/etc/mhc/glusterfs/volume-plan';
const FSTAB = 'files/etc/mhc/fstab.d/glusterfs';

/** Sources the plan with bash, as the storage phase does, and returns the create arguments. */
function createArgs(plan: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'mhc-plan-'));
  try {
    writeFileSync(join(dir, 'volume-plan'), plan);
    const r = spawnSync('bash', ['-c', 'set -Eeuo pipefail; source "$1"; printf "%s\\n" "${MHC_GLUSTER_CREATE_ARGS[@]}"', 'bash', join(dir, 'volume-plan')], { encoding: 'utf8', timeout: 10000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return r.stdout.trimEnd().split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const entry = (f: Map<string, { content: string }>, node: string) =>
  f
    .get(`${node}/${FSTAB}`)
    ?.content.split('\n')
    .filter((l) => l && !l.startsWith('#'));

describe('glusterfs emitter', () => {
  it('replica 3: bricks host:path in ranked order', () => {
    const f = buildFile(join(EXAMPLES, 'my_multihead_cluster.yaml'));
    for (const n of ['server1', 'server2', 'server3']) expect(f.get(`${n}/${PLAN}`)!.content).toBe(f.get(`server1/${PLAN}`)!.content);
    expect(createArgs(f.get(`server2/${PLAN}`)!.content)).toEqual([
      'gluster_volume',
      'replica',
      '3',
      'server1:/data/gluster/brick',
      'server2:/data/gluster/brick',
      'server3:/data/gluster/brick',
      'force',
    ]);
  });

  it('arbiter: replica 3 arbiter 1, the lowest-ranked node holds the arbiter brick', () => {
    const f = buildText(MAIN.replace('replica_count: 3\n', 'replica_count: 3\n    arbiter: true\n'));
    const plan = f.get(`server1/${PLAN}`)!.content;
    expect(createArgs(plan)).toEqual(['gluster_volume', 'replica', '3', 'arbiter', '1', 'server1:/data/gluster/brick', 'server2:/data/gluster/brick', 'server3:/data/gluster/brick', 'force']);
    expect(plan).toContain('MHC_GLUSTER_ARBITER=1');
  });

  it('ranked order follows the VIP owner and priorities, not the YAML order', () => {
    const f = buildText(MAIN.replace('    vip_owner: true\n    priority: 100', '    priority: 70').replace('priority: 80', 'priority: 100\n    vip_owner: true'));
    expect(createArgs(f.get(`server1/${PLAN}`)!.content).slice(3, 6)).toEqual(['server3:/data/gluster/brick', 'server2:/data/gluster/brick', 'server1:/data/gluster/brick']);
  });

  it('replica 2 on two nodes; the mount names the other node as backup volfile server', () => {
    const f = buildFile(join(EXAMPLES, 'two_controllers.yaml'));
    expect(createArgs(f.get(`head1/${PLAN}`)!.content)).toEqual(['shared', 'replica', '2', 'head1:/srv/gluster/shared', 'head2:/srv/gluster/shared', 'force']);
    expect(entry(f, 'head1')).toEqual(['head1:/shared /shared glusterfs _netdev,backup-volfile-servers=head2,x-systemd.after=glusterd.service 0 0']);
    expect(entry(f, 'head2')).toEqual(['head2:/shared /shared glusterfs _netdev,backup-volfile-servers=head1,x-systemd.after=glusterd.service 0 0']);
  });

  it('more nodes than a multiple of the replica count: the extra ones are peers without a brick', () => {
    const five = MAIN.replace('    priority: 80\n', '    priority: 80\n  - { hostname: server4, ip: 192.168.1.104, priority: 70 }\n  - { hostname: server5, ip: 192.168.1.105, priority: 60 }\n');
    const f = buildText(five);
    const plan = f.get(`server5/${PLAN}`)!.content;
    expect(createArgs(plan)).toEqual(['gluster_volume', 'replica', '3', 'server1:/data/gluster/brick', 'server2:/data/gluster/brick', 'server3:/data/gluster/brick', 'force']);
    expect(plan).toContain('MHC_GLUSTER_PEERS=(server1 server2 server3 server4 server5)');
    expect(plan).toMatch(/peers without a brick .*: server4 server5/);
    expect(entry(f, 'server5')).toEqual(['server5:/gluster_volume /mnt/gluster glusterfs _netdev,backup-volfile-servers=server1:server2:server3:server4,x-systemd.after=glusterd.service 0 0']);
  });

  it('replica 1 has no replica keyword', () => {
    const f = buildText(MAIN.replace('replica_count: 3', 'replica_count: 1'));
    expect(createArgs(f.get(`server1/${PLAN}`)!.content)).toEqual(['gluster_volume', 'server1:/data/gluster/brick', 'server2:/data/gluster/brick', 'server3:/data/gluster/brick', 'force']);
  });

  it('a Slurm controller outside the gluster nodes mounts the volume (its state lives there); others do not', () => {
    const f = buildFile(join(EXAMPLES, 'five_controllers.yaml'));
    expect(f.has(`web1/${PLAN}`)).toBe(false);
    expect(entry(f, 'web1')).toEqual(['ctl1:/campus_vol /mnt/gluster glusterfs _netdev,backup-volfile-servers=ctl2:ctl3 0 0']);
    expect(f.has(`web2/${FSTAB}`)).toBe(false);
    expect(f.has(`web2/${PLAN}`)).toBe(false);
    expect([...f.keys()].some((p) => p.startsWith('compute/') && p.includes('gluster'))).toBe(false);
  });

  it('no gluster node: no plan, no fstab entry', () => {
    const f = buildText(MAIN.replace(/glusterfs: true, /g, 'glusterfs: false, '));
    expect([...f.keys()].filter((p) => p.includes('gluster'))).toEqual([]);
  });

  it('starts every file with the generated-by comment', () => {
    const f = buildFile(join(EXAMPLES, 'slurm_only.yaml'));
    for (const p of [`server1/${PLAN}`, `server1/${FSTAB}`]) expect(f.get(p)!.content.startsWith('# Generated by mhc from the cluster YAML; do not edit by hand.\n'), p).toBe(true);
  });
  it('volume options: one KEY VALUE line each on every gluster node (booleans as on/off); a name or a value that is not one safe word is refused', () => {
    const opts = (o: string) => MAIN.replace('    mount_point: /mnt/gluster\n', `    mount_point: /mnt/gluster\n    options: ${o}\n`);
    const f = buildText(opts('{ performance.cache-size: 64MB, cluster.self-heal-daemon: true, network.ping-timeout: 20 }'));
    const lines = f
      .get('server2/files/etc/mhc/glusterfs/volume-options')!
      .content.split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(lines).toEqual(['cluster.self-heal-daemon on', 'network.ping-timeout 20', 'performance.cache-size 64MB']);
    const codes = (t: string) => compile('t.yaml', Buffer.from(t, 'utf8')).diagnostics.map((d) => d.code);
    for (const bad of ['"a b"', '"64MB; reboot"', '"$(touch /tmp/x)"', '"x\\ny"', '"\'q\'"', '""']) expect(codes(opts(`{ performance.cache-size: ${bad} }`)).length, bad).toBeGreaterThan(0);
    for (const bad of ['"nodot"', '"a.b c"', '"a.b;x"', '"A.b"']) expect(codes(opts(`{ ${bad}: on }`)).length, bad).toBeGreaterThan(0);
  });
});
