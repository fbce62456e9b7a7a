// mhc plan, pure core: each changed file or setting decided by its service's rule, steps in the
// order to run them, no value ever shown, and the exit-status facts (changes or not).
import { describe, expect, it } from 'vitest';
import { planSides, settingsOf } from '../../src/review/plan.js';
import { formatPlan } from '../../src/review/plan-format.js';
import { sideFromFiles } from '../../src/review/side.js';
import { AWKWARD } from '../helpers.js';
import { BASE, edit, treeFiles, V, yamlSide } from './fixtures.js';

const GALERA = 'files/etc/mysql/mariadb.conf.d/60-galera.cnf';
const plan = (a: string, b: string) => planSides(yamlSide(a), yamlSide(b), V);
const stepsOf = (p: ReturnType<typeof plan>, bundle: string) => p.nodes.find((n) => n.bundle === bundle)?.steps ?? [];

describe('mhc plan (pure)', () => {
  it('the same YAML twice: nothing to do, no node', () => {
    const p = plan(BASE, BASE);
    expect(p.changes).toBe(false);
    expect(p.nodes).toEqual([]);
    expect(formatPlan(p, 'text')).toContain('nothing to do');
  });

  it('a dynamic Galera variable: a live change on every MariaDB node, no restart, the rule named', () => {
    const b = edit(BASE, 'database:\n', 'database:\n  galera: { slave_threads: 8 }\n');
    const p = plan(BASE, b);
    expect(p.changes).toBe(true);
    for (const c of ['c1', 'c2', 'c3']) {
      const db = stepsOf(p, c).find((s) => s.service === 'mariadb')!;
      expect(db.verb, c).toBe('live change');
      expect(db.reasons).toEqual([{ what: `${GALERA}: wsrep_slave_threads`, path: GALERA, setting: 'wsrep_slave_threads', action: 'runtime', rule: expect.stringMatching(/SET GLOBAL/) }]);
      expect(db.disruption).toMatch(/SET GLOBAL/);
      expect(db.gates.join()).toMatch(/Synced/);
    }
  });

  it('a read-only Galera setting with a dynamic one: the node restarts (the stronger), both named', () => {
    const b = edit(BASE, 'database:\n', 'database:\n  port: 3307\n  galera: { slave_threads: 8 }\n');
    const p = plan(BASE, b);
    const db = stepsOf(p, 'c2').find((s) => s.service === 'mariadb')!;
    expect(db.verb).toBe('restart');
    expect(db.reasons.map((r) => `${r.what.split(': ')[1]} ${r.action}`).sort()).toEqual(['port restart', 'wsrep_slave_threads runtime']);
  });

  it('controllers run one at a time, the first-ranked (VIP owner, primary slurmctld) last; compute nodes first', () => {
    const b = edit(BASE, 'max_time: "01:00:00"', 'max_time: "02:00:00"');
    const p = plan(BASE, b);
    const order = p.nodes.map((n) => n.bundle);
    expect(order[0]).toBe('compute');
    expect(order.slice(1)).toEqual(['c3', 'c2', 'c1']);
    // slurm.conf, per setting: the partition line's rule (slurm.conf(5): scontrol reconfigure), on every node
    for (const n of p.nodes) {
      const s = n.steps.find((x) => x.service === 'slurm')!;
      expect(s.verb, n.bundle).toBe('live change');
      expect(
        s.reasons.filter((r) => r.path === 'files/etc/slurm/slurm.conf'),
        n.bundle,
      ).toEqual([expect.objectContaining({ setting: 'PartitionName', action: 'runtime', rule: expect.stringMatching(/slurm\.conf\(5\).*scontrol reconfigure/) })]);
    }
  });

  it('a file with no rule recorded (a tree from an older mhc) and no per-setting rules is a restart of its service, and says so', () => {
    const files = treeFiles(BASE);
    const old = files.map((f) => (f.path.endsWith('manifest.json') ? { ...f, content: f.content.replace(/,\n\s*"change": "[a-z]+",\n\s*"change_rule": "[^"]*"/g, '') } : f));
    const b = edit(BASE, 'priority: 90', 'priority: 95');
    const nf = treeFiles(b).map((f) => (f.path.endsWith('manifest.json') ? { ...f, content: f.content.replace(/,\n\s*"change": "[a-z]+",\n\s*"change_rule": "[^"]*"/g, '') } : f));
    expect(nf.find((f) => f.path.endsWith('manifest.json'))!.content).not.toContain('"change"');
    const p = planSides(sideFromFiles('a', 'tree', old), sideFromFiles('b', 'tree', nf), V);
    const s = stepsOf(p, 'c2').find((x) => x.service === 'keepalived')!;
    expect(s.verb).toBe('restart');
    expect(s.reasons[0]!.rule).toMatch(/no rule .*treated as a restart/);
  });

  it('a controller added: the others first (the last-ranked first, Slurm by its procedure), then the new node joins with every service, the compute bundle last', () => {
    const b = BASE.replace('  - { hostname: c3, ip: 10.9.0.13, priority: 80 }\n', '  - { hostname: c3, ip: 10.9.0.13, priority: 80 }\n  - { hostname: c4, ip: 10.9.0.14, priority: 70 }\n');
    expect(b).toContain('c4');
    const p = plan(BASE, b);
    expect(p.membership).toEqual([{ node: 'c4', role: 'controller', change: 'added' }]);
    expect(p.changes).toBe(true);
    expect(p.nodes.map((n) => n.bundle)).toEqual(['c3', 'c2', 'c1', 'c4', 'compute']);
    for (const c of ['c1', 'c2', 'c3']) {
      const s = stepsOf(p, c).find((x) => x.service === 'slurm')!;
      expect(s.verb, c).toBe('membership');
      expect(s.reasons[0]).toEqual({ what: 'controllers: c4 added', path: '', action: 'restart', rule: expect.stringMatching(/SlurmctldHost/) });
      // Galera's member list: the file only; nothing here leaves or joins
      expect(stepsOf(p, c).find((x) => x.service === 'mariadb')!.verb, c).toBe('nothing');
      // the only restart: the web services (their environment names the Redis and database nodes)
      expect(
        stepsOf(p, c)
          .filter((x) => x.verb === 'restart')
          .map((x) => x.service),
        c,
      ).toEqual(['web']);
    }
    const join = stepsOf(p, 'c4');
    expect(join.map((s) => s.service)).toEqual(['glusterfs', 'mariadb', 'redis', 'slurm', 'keepalived', 'web', 'backup']);
    for (const s of join) expect(s.verb, s.service).toBe('membership');
    expect(join.find((s) => s.service === 'mariadb')!.disruption).toMatch(/full state transfer/);
    expect(join.find((s) => s.service === 'redis')!.disruption).toMatch(/share of the slots/);
    expect(p.notes.join()).toMatch(/c4\) joins last of the controllers/);
    expect(formatPlan(p, 'text')).toMatch(/membership: c4 \(controller\) added/);
  });

  it('a controller removed: the last controller takes it out (its GlusterFS brick, its Redis instances, then the node stopped over ssh); the compute bundle last', () => {
    const a = BASE.replace('  - { hostname: c3, ip: 10.9.0.13, priority: 80 }\n', '  - { hostname: c3, ip: 10.9.0.13, priority: 80 }\n  - { hostname: c4, ip: 10.9.0.14, priority: 70 }\n');
    const p = plan(a, BASE);
    expect(p.membership).toEqual([{ node: 'c4', role: 'controller', change: 'removed' }]);
    expect(p.nodes.map((n) => n.bundle)).toEqual(['c3', 'c2', 'c1', 'compute']);
    const last = stepsOf(p, 'c1');
    expect(last.map((s) => `${s.service} ${s.verb}`)).toEqual(expect.arrayContaining(['glusterfs membership', 'redis membership', 'slurm membership']));
    expect(last.at(-1)).toMatchObject({ service: 'mhc', verb: 'membership', disruption: expect.stringMatching(/every service still running on c4 stops/) });
    expect(last.find((s) => s.service === 'redis')!.disruption).toMatch(/slots move to the other masters/);
    // the others only install their files: no membership step of GlusterFS or Redis there
    for (const c of ['c2', 'c3']) {
      expect(stepsOf(p, c).find((s) => s.service === 'redis')?.verb, c).not.toBe('membership');
      expect(
        stepsOf(p, c).some((s) => s.service === 'mhc' && s.verb === 'membership'),
        c,
      ).toBe(false);
    }
    expect(p.notes.join()).toMatch(/c4\) is taken out by the last controller's steps \(c1\)/);
  });

  it('GlusterFS volume options: a live change (gluster volume set) on every gluster node, per option; one removed is a live change too', () => {
    const a = edit(BASE, 'database:\n', 'storage:\n  gluster: { options: { performance.cache-size: 64MB, network.ping-timeout: 20 } }\ndatabase:\n');
    const b = edit(BASE, 'database:\n', 'storage:\n  gluster: { options: { performance.cache-size: 128MB } }\ndatabase:\n');
    const p = plan(a, b);
    for (const c of ['c1', 'c2', 'c3']) {
      const g = stepsOf(p, c).find((s) => s.service === 'glusterfs')!;
      expect(g.verb, c).toBe('live change');
      expect(g.reasons.map((r) => r.setting).sort()).toEqual(['network.ping-timeout', 'performance.cache-size']);
      for (const r of g.reasons) expect(r.rule).toMatch(/gluster volume set/);
    }
  });

  it("Sentinel's settings: a live change (SENTINEL SET) on every Redis node, the quorum from the seed of its run-time file; a port change restarts", () => {
    const a = edit(BASE, 'redis:\n', 'redis:\n  mode: sentinel\n');
    const b = edit(BASE, 'redis:\n', 'redis:\n  mode: sentinel\n  sentinel: { quorum: 3, failover_timeout: 30000 }\n');
    const p = plan(a, b);
    for (const c of ['c1', 'c2', 'c3']) {
      const r = stepsOf(p, c).find((s) => s.service === 'redis')!;
      expect(r.verb, c).toBe('live change');
      expect(r.reasons.map((x) => `${x.path} ${x.setting}`).sort()).toEqual(['files/etc/redis/mhc/sentinel.conf sentinel=failover-timeout', 'files/etc/redis/sentinel-mhc.conf.seed sentinel']);
      for (const x of r.reasons) expect(x.rule).toMatch(/SENTINEL SET/);
    }
    const port = plan(a, edit(BASE, 'redis:\n', 'redis:\n  mode: sentinel\n  sentinel: { port: 26380 }\n'));
    expect(stepsOf(port, 'c1').find((s) => s.service === 'redis')!.verb).toBe('restart');
  });

  it("compute nodes added and removed: Slurm's procedure (a membership step on every controller, the compute bundle after them, its slurmd restarted)", () => {
    const b = edit(BASE, '  - { hostname: n2, ip: 10.9.0.52, cpus: 8, memory: 16000 }\n', '  - { hostname: n3, ip: 10.9.0.53, cpus: 8, memory: 16000 }\n');
    const p = plan(BASE, b);
    expect(p.membership).toEqual([
      { node: 'n3', role: 'compute', change: 'added' },
      { node: 'n2', role: 'compute', change: 'removed' },
    ]);
    expect(p.changes).toBe(true);
    expect(p.nodes.map((n) => n.bundle)).toEqual(['c3', 'c2', 'c1', 'compute']);
    for (const c of ['c1', 'c2', 'c3']) {
      const s = stepsOf(p, c).find((x) => x.service === 'slurm')!;
      expect(s.verb, c).toBe('membership');
      expect(s.reasons[0]).toEqual({ what: 'compute nodes: n3 added, n2 removed', path: '', action: 'restart', rule: expect.stringMatching(/NODE CONFIGURATION/) });
      expect(s.disruption).toMatch(/the last drains the nodes leaving/);
      expect(s.gates.join()).toMatch(/drained/);
    }
    const cn = stepsOf(p, 'compute').find((x) => x.service === 'slurm')!;
    expect(cn.verb).toBe('restart');
    expect(cn.disruption).toMatch(/slurmd restarts on each compute node/);
    const text = formatPlan(p, 'text');
    expect(text).toMatch(/membership: n3 \(compute\) added/);
    expect(text).toMatch(/n2\) is drained by the last controller's step; .*systemctl disable --now slurmd munge/);
    // compute nodes that stay put: the compute bundle first, as before
    const q = plan(BASE, edit(BASE, 'cpus: 8, memory: 16000 }\n  - { hostname: n2', 'cpus: 4, memory: 16000 }\n  - { hostname: n2'));
    expect(q.membership).toEqual([]);
    expect(q.nodes[0]?.bundle).toBe('compute');
  });

  it('embedded secrets never appear, in any format; a setting shows by its name only', () => {
    const embed = { ...AWKWARD } as Record<string, string>;
    const a = sideFromFiles('a', 'tree', treeFiles(BASE, embed));
    const b = sideFromFiles('b', 'tree', treeFiles(edit(BASE, 'database:\n', 'database:\n  galera: { slave_threads: 8 }\n'), embed));
    const p = planSides(a, b, V);
    for (const f of ['text', 'markdown', 'json'] as const) {
      const out = formatPlan(p, f);
      for (const v of Object.values(AWKWARD)) if (v.length >= 6) expect(out.includes(v), `${f} leaks ${v}`).toBe(false);
      expect(out).toContain('wsrep_slave_threads');
      expect(out).not.toMatch(/wsrep_slave_threads = 8/);
    }
  });

  it('settingsOf reads `key = value` and `key value` lines, not comments or sections', () => {
    expect([...settingsOf('# c\n[galera]\nwsrep_on = ON\nbind 1.2.3.4 127.0.0.1\n; x\n\nsave 1 2\n').entries()]).toEqual([
      ['wsrep_on', 'ON'],
      ['bind', '1.2.3.4 127.0.0.1'],
      ['save', '1 2'],
    ]);
  });
});
