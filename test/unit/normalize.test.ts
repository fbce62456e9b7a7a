// Derived values of the Model: VIP owner, priorities, SlurmctldHost order, member lists,
// Redis mode, per-node services, defaults — and the Model is deep-frozen.
import { describe, expect, it } from 'vitest';
import { deriveRouterId, parseMemoryMiB } from '../../src/compiler/normalize.js';
import { compileFile, compileText, EXAMPLES } from '../helpers.js';
import { join } from 'node:path';

const three = (extra = '') => `cluster: { name: t }
network: { vip: 10.0.0.100 }
controllers:
  - { hostname: c, ip: 10.0.0.3 }
  - { hostname: a, ip: 10.0.0.1, vip_owner: true }
  - { hostname: b, ip: 10.0.0.2 }
${extra}`;

describe('normalize', () => {
  it('derives priorities (owner first) and the ranked order when none are given', () => {
    const m = compileText(three()).model;
    expect(m.controllers.map((c) => [c.hostname, c.priority, c.vipOwner])).toEqual([
      ['a', 100, true],
      ['b', 80, false],
      ['c', 90, false],
    ]);
    expect(m.vipOwner).toBe('a');
    expect(m.slurm!.controllers.map((c) => c.hostname)).toEqual(['a', 'c', 'b']);
    expect(m.galera!.members.map((c) => c.hostname)).toEqual(['a', 'c', 'b']);
    expect(m.network.vip).toMatchObject({ prefix: 24, netmask: '255.255.255.0', subnet: '10.0.0.0/24', interface: 'eth0', preempt: true, advertInt: 1 });
  });
  it('without vip_owner the highest priority owns the VIP', () => {
    const m = compileText(
      three().replace(', vip_owner: true', ', priority: 50').replace('ip: 10.0.0.3 }', 'ip: 10.0.0.3, priority: 200 }').replace('ip: 10.0.0.2 }', 'ip: 10.0.0.2, priority: 100 }'),
    ).model;
    expect(m.vipOwner).toBe('c');
    expect(m.slurm!.controllers.map((c) => c.hostname)).toEqual(['c', 'b', 'a']);
  });
  it('a services map lists what runs; no map means everything', () => {
    const m = compileText(three().replace('{ hostname: b, ip: 10.0.0.2 }', '{ hostname: b, ip: 10.0.0.2, services: { redis: true, web: false } }')).model;
    expect(m.controllers.find((c) => c.hostname === 'b')!.services).toEqual(['redis']);
    expect(m.controllers.find((c) => c.hostname === 'a')!.services).toEqual(['glusterfs', 'mariadb', 'redis', 'slurm', 'keepalived', 'web']);
  });
  it('picks Redis sentinel below 3 nodes and cluster from 3 (auto)', () => {
    expect(compileText(three()).model.redis!.mode).toBe('cluster');
    const two = compileText(three().replace('  - { hostname: b, ip: 10.0.0.2 }\n', '')).model;
    expect(two.redis!.mode).toBe('sentinel');
    expect(two.redis!.sentinel.quorum).toBe(2);
  });
  it('folds every accepted spelling to the same model', () => {
    const a = compileFile(join(EXAMPLES, 'slurm_only.yaml')).model;
    const b = compileText(`cluster: { name: my_cluster }
network: { vip: 192.168.1.100 }
storage: { gluster: { mount_point: /mnt/gluster } }
database: { password: "\${MARIADB_ROOT_PASSWORD}", vip: 192.168.1.100 }
controllers:
  - { hostname: server1, ip: 192.168.1.101, vip_owner: true, services: { slurm: true, glusterfs: true, mariadb: true, keepalived: true } }
  - { hostname: server2, ip: 192.168.1.102, services: { slurm: true, glusterfs: true, mariadb: true, keepalived: true } }
  - { hostname: server3, ip: 192.168.1.103, services: { slurm: true, glusterfs: true, mariadb: true, keepalived: true } }
compute_nodes:
  - { hostname: node001, ip: 192.168.1.201, cpus: 16, memory: 64GB, tmp_disk: 204800 }
  - { hostname: node002, ip: 192.168.1.202, cpus: 16, memory: 65536, tmp_disk: 204800 }
slurm:
  partitions: [{ name: debug, nodes: ALL, default: true, max_time: INFINITE, state: UP }]
`).model;
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });
  it('parses memory sizes to MiB', () => {
    expect(parseMemoryMiB(64000)).toBe(64000);
    expect(parseMemoryMiB('64GB')).toBe(65536);
    expect(parseMemoryMiB('512G')).toBe(524288);
    expect(parseMemoryMiB('1TiB')).toBe(1048576);
  });
  it('derives a stable virtual_router_id in 1–255 that is never the common default 51', () => {
    for (const n of ['a', 'hpc-prod', 'x'.repeat(63), 'cluster1', 'cluster2']) {
      const id = deriveRouterId(n);
      expect(id).toBeGreaterThanOrEqual(1);
      expect(id).toBeLessThanOrEqual(255);
      expect(id).not.toBe(51);
      expect(deriveRouterId(n)).toBe(id);
    }
  });
  it('the Model is deep-frozen and holds no secret value', () => {
    const c = compileText(`environment: { REDIS_PASSWORD: "s3cr3t-value" }\n` + three());
    expect(Object.isFrozen(c.model)).toBe(true);
    expect(Object.isFrozen(c.model.controllers[0])).toBe(true);
    expect(() => {
      (c.model.controllers as unknown as unknown[]).push(1);
    }).toThrow();
    expect(JSON.stringify(c.model)).not.toContain('s3cr3t-value');
    expect(c.literals!.get('REDIS_PASSWORD')).toBe('s3cr3t-value');
  });
});
