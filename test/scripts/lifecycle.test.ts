// start_multihead.sh / stop_multihead.sh in a sandbox: each example's bundle written to a scratch
// dir, MHC_ROOT a scratch root, stub commands first on PATH (test/scripts/stub-path.ts) recording
// their calls and keeping a little node state. Nothing here touches the real node or the network.
import { describe, it, expect, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AWKWARD, EXAMPLES, buildFile } from '../helpers.js';
import type { BundleFile } from '../../src/compiler/bundle.js';
import { fill, encode } from '../../src/compiler/secrets.js';
import { compileFile } from '../helpers.js';
import { rankedControllers } from '../../src/emitters/lifecycle.js';
import { claimsDone, fakeNode, mutating, runScript, treeHash, writeBundle, type Call, type FakeNode } from './stub-path.js';
import { requireTool, scratch } from '../daemons/tools.js';
import { ROOT, SEED_INPUTS } from '../helpers.js';

/** A system account's uid (or with 'g' its primary gid), from the machine's id(1). */
const uidOf = (user: string, kind: 'u' | 'g' = 'u') => Number(spawnSync('id', [`-${kind}`, user], { encoding: 'utf8' }).stdout.trim());

const EXAMPLE_FILES = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
/** Awkward values for every secret; keepalived's auth_pass takes no double quote and 8 bytes at most. */
const VALUES: Record<string, string> = { ...AWKWARD, KEEPALIVED_AUTH_PASS: `k&' $#\\/` };
const SETUP_LOG = 'var/log/cluster_multihead_setup.log';
const nodes: FakeNode[] = [];
afterAll(() => {
  for (const n of nodes) n.cleanup();
});

const builds = new Map<string, Map<string, BundleFile>>();
function bundleOf(example: string): Map<string, BundleFile> {
  let b = builds.get(example);
  if (!b) {
    b = buildFile(join(EXAMPLES, example));
    builds.set(example, b);
  }
  return b;
}

interface Setup {
  node: FakeNode;
  bundle: string;
  start: string;
  stop: string;
  files: BundleFile[];
  hostname: string;
  ip: (host: string) => string;
  model: ReturnType<typeof compileFile>['model'];
}

/**
 * A node of `example` (default: the first-ranked controller) with its bundle, secrets.env (awkward
 * values), a Debian-like root (hosts, nginx default site) and, as on a healthy network, every
 * peer's glusterd and Redis answering and the accounting database (the VIP) reachable.
 */
function setup(example: string, hostname?: string, opts: { secrets?: boolean } = {}): Setup {
  const files = [...bundleOf(example).values()];
  const { model } = compileFile(join(EXAMPLES, example));
  const ranked = rankedControllers(model);
  const host = hostname ?? ranked[0]!.hostname;
  const node = fakeNode(`lc-${host}`);
  nodes.push(node);
  const bundle = join(node.dir, 'bundle');
  const mine = files.filter((f) => f.path.startsWith(`${host}/`));
  writeBundle(mine, host, bundle);
  const R = node.root;
  mkdirSync(join(R, 'etc/nginx/sites-enabled'), { recursive: true });
  writeFileSync(join(R, 'etc/hosts'), '127.0.0.1 localhost\n::1 localhost ip6-localhost\n');
  symlinkSync('/etc/nginx/sites-available/default', join(R, 'etc/nginx/sites-enabled/default'));
  if (opts.secrets !== false) {
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')) as { secrets: string[] };
    mkdirSync(join(R, 'etc/mhc'), { recursive: true });
    const lines = manifest.secrets.map((n) => `${n}=${VALUES[n] ?? `v-${n}-&'"\\ #`}`);
    writeFileSync(join(R, 'etc/mhc/secrets.env'), `# test secrets\n${lines.join('\n')}\n`, { mode: 0o600 });
  }
  const ip = (h: string) => model.controllers.find((c) => c.hostname === h)?.ip ?? h;
  // a healthy network: gluster peers and every Redis instance answer; the accounting DB too
  for (const m of model.gluster?.members ?? []) node.set(`up/${m.ip}:24007`);
  const acc = model.slurm?.accounting;
  if (acc) node.set(`up/${acc.storageHost}:${acc.storagePort}`);
  const me = model.controllers.find((c) => c.hostname === host)!;
  if (acc) node.set(`up/${me.ip}:${acc.port}`);
  // slurmdbd where slurmctld and sacctmgr reach it (AccountingStorageHost: the VIP)
  if (acc) node.set(`up/${acc.host}:${acc.port}`);
  return { node, bundle, start: join(bundle, 'bin/start_multihead.sh'), stop: join(bundle, 'bin/stop_multihead.sh'), files: mine, hostname: host, ip, model };
}

const env = (s: Setup, extra: Record<string, string> = {}) => s.node.env({ MHC_WAIT_SERVICE: '2', MHC_WAIT_GALERA: '2', MHC_PROBE_SECS: '1', ...extra });
const start = (s: Setup, args: string[], o: { input?: string; env?: Record<string, string> } = {}) => runScript(s.start, args, env(s, o.env), { input: o.input });
const stop = (s: Setup, args: string[], o: { input?: string; env?: Record<string, string> } = {}) => runScript(s.stop, args, env(s, o.env), { input: o.input });
const calls = (s: Setup) => s.node.calls();
const lines = (cs: Call[]) => cs.map((c) => c.line);
const firstIndex = (cs: Call[], re: RegExp) => cs.findIndex((c) => re.test(c.line));
const rootHash = (s: Setup, skip: string[] = []) => treeHash(s.node.root, skip);
const secretValues = () => Object.values(VALUES).filter((v) => v.length >= 6);

describe.each(EXAMPLE_FILES)('start_multihead.sh on %s', (example) => {
  it('bad options: usage on stderr, exit 2', () => {
    const s = setup(example);
    for (const args of [['--bogus'], ['--phase'], ['--phase', '9'], ['--skip-phase', 'nope'], ['--bootstrap', '--join'], ['--secrets']]) {
      const r = start(s, args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^Usage: start_multihead\.sh/);
      expect(r.stdout).toBe('');
    }
    expect(readdirSync(s.node.root).sort()).toEqual(['etc']);
    const h = start(s, ['--help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/--skip-phase PHASE/);
  });

  it('a missing secret is named and nothing is installed', () => {
    const s = setup(example, undefined, { secrets: false });
    const before = rootHash(s, [SETUP_LOG, 'run', 'var']);
    const r = start(s, ['--auto-confirm']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no value for .*DB_ROOT_PASSWORD|no value for .*MUNGE_KEY|no value for /);
    expect(r.stderr).toMatch(/nothing was installed/);
    expect(rootHash(s, [SETUP_LOG, 'run', 'var'])).toBe(before);
    expect(calls(s).filter(mutating)).toEqual([]);
  });

  it('--dry-run prints every mutating command and changes nothing (no file, log or lock)', () => {
    const s = setup(example);
    const before = rootHash(s);
    const r = start(s, ['--dry-run']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(rootHash(s)).toBe(before);
    expect(existsSync(join(s.node.root, SETUP_LOG))).toBe(false);
    expect(
      calls(s)
        .filter(mutating)
        .map((c) => c.line),
    ).toEqual([]);
    expect(r.stdout).toMatch(/^\+ install -D -m 0644 -o root -g root -- .*\/etc\/mhc\/hosts$/m);
    expect(r.stdout).toMatch(/^\+ systemctl (enable|start) /m);
    expect(r.stdout).toMatch(/Dry run: nothing was changed/);
    for (const v of secretValues()) expect(r.stdout + r.stderr).not.toContain(v);
  });

  it('a full run installs, starts in phase order, fills secrets intact, logs no secret; a re-run changes nothing', () => {
    const s = setup(example);
    const r = start(s, ['--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/All phases completed successfully/);
    const cs = calls(s);
    // phase order: the first command of each phase that runs here
    const node = s.model.controllers.find((c) => c.hostname === s.hostname)!;
    const order: [string, RegExp][] = [
      ['glusterfs', /^systemctl (start|enable) glusterd\.service/],
      ['mariadb', /^galera_new_cluster/],
      ['redis', /^systemctl start redis-server@/],
      ['slurm', /^systemctl start munge\.service/],
      ['keepalived', /^systemctl start keepalived\.service/],
      ['web', /^systemctl start mhc-web-/],
    ];
    const idx = order.filter(([svc]) => node.services.includes(svc as never) && (svc !== 'keepalived' || s.model.network.vip)).map(([svc, re]) => [svc, firstIndex(cs, re)] as const);
    for (const [svc, i] of idx) expect(i, `${svc} started`).toBeGreaterThanOrEqual(0);
    expect(idx.map(([, i]) => i)).toEqual([...idx.map(([, i]) => i)].sort((a, b) => a - b));
    expect(firstIndex(cs, /^systemctl (enable|start) mhc-backup\.timer/)).toBeGreaterThan(Math.max(...idx.map(([, i]) => i)));
    // every file installed with its mode and owner, secrets filled exactly as encode() would
    const values = new Map(Object.entries(VALUES));
    for (const f of s.files) {
      if (!f.dest) continue;
      const dest = f.dest.endsWith('.seed') ? f.dest.slice(0, -5) : f.dest;
      const p = join(s.node.root, dest);
      expect(existsSync(p), dest).toBe(true);
      expect(readFileSync(p, 'utf8'), dest).toBe(fill(f.content, values));
      expect((statSync(p).mode & 0o777).toString(8), dest).toBe(f.mode.toString(8));
    }
    expect((statSync(join(s.node.root, 'opt/mhc/bin/start_multihead.sh')).mode & 0o777).toString(8)).toBe('755');
    const hosts = readFileSync(join(s.node.root, 'etc/hosts'), 'utf8');
    expect(hosts).toMatch(/^127\.0\.0\.1 localhost\n::1 localhost ip6-localhost\n# BEGIN mhc cluster hosts/);
    expect(hosts.match(/# BEGIN mhc/g)).toHaveLength(1);
    if (node.services.includes('web')) expect(existsSync(join(s.node.root, 'etc/nginx/sites-enabled/default'))).toBe(false);
    // secrets: never in the log or the output; the SQL and redis-cli got them intact
    const log = readFileSync(join(s.node.root, SETUP_LOG), 'utf8');
    expect((statSync(join(s.node.root, SETUP_LOG)).mode & 0o777).toString(8)).toBe('600');
    for (const v of secretValues()) {
      expect(log, 'log').not.toContain(v);
      expect(r.stdout + r.stderr, 'output').not.toContain(v);
      for (const c of cs) expect(c.line).not.toContain(v);
    }
    if (s.model.galera && node.services.includes('mariadb')) {
      const sql = readFileSync(join(s.node.state, 'sql.log'), 'utf8');
      const lit = (v: string) => `'${v.replace(/[\\']/g, (c) => `\\${c}`)}'`;
      expect(sql).toContain(`IDENTIFIED BY ${lit(VALUES.GALERA_SST_PASSWORD!)}`);
    }
    if (s.model.redis && node.services.includes('redis')) {
      const auth = readFileSync(join(s.node.state, 'redis-auth'), 'utf8').split('\n').filter(Boolean);
      expect(new Set(auth)).toEqual(new Set([VALUES.REDIS_PASSWORD]));
    }
    if (s.model.slurm && node.services.includes('slurm')) {
      expect(readFileSync(join(s.node.root, 'etc/munge/munge.key'))).toEqual(Buffer.from(VALUES.MUNGE_KEY!, 'base64'));
      if (s.model.slurm.accounting) expect(firstIndex(cs, /^sacctmgr -i add cluster/)).toBeLessThan(firstIndex(cs, /^systemctl start slurmctld/));
    }

    // a re-run on the now healthy node: no mutating call, no RUN line, the tree unchanged
    const logLen = log.length;
    const before = rootHash(s, [SETUP_LOG]);
    s.node.clearCalls();
    const r2 = start(s, ['--auto-confirm']);
    expect(r2.status, r2.stdout + r2.stderr).toBe(0);
    expect(
      calls(s)
        .filter(mutating)
        .map((c) => c.line),
    ).toEqual([]);
    expect(rootHash(s, [SETUP_LOG])).toBe(before);
    const log2 = readFileSync(join(s.node.root, SETUP_LOG), 'utf8').slice(logLen);
    expect(log2).not.toMatch(/\[RUN\]/);
    expect(log2).toMatch(/infrastructure: 0 file\(s\) changed/);
    expect(lines(calls(s))).not.toContain('galera_new_cluster');
  });
});

describe('start_multihead.sh: phases', () => {
  it('--phase / --skip-phase select phases by number or name; a service not on the node is skipped and says so', () => {
    const s = setup('my_multihead_cluster.yaml');
    let r = start(s, ['--dry-run', '--phase', 'slurm', '--phase', '6']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Phase 0 \(infrastructure\): not selected/);
    expect(r.stdout).toMatch(/^ {2}Phase 4 \(slurm\)$/m);
    expect(r.stdout).toMatch(/^ {2}Phase 6 \(web\)$/m);
    expect(r.stdout).toMatch(/Phase 5 \(keepalived\): not selected/);
    expect(r.stdout).toMatch(/\[PHASE 4\] slurm/);
    expect(r.stdout).not.toMatch(/\[PHASE [0-357]\]/);
    r = start(s, ['--dry-run', '--skip-phase', '0', '--skip-phase', 'storage', '--skip-phase=web']);
    expect(r.stdout).toMatch(/\[PHASE 2\] database/);
    expect(r.stdout).not.toMatch(/\[PHASE (0|1|6)\]/);
    const only = setup('slurm_only.yaml');
    r = start(only, ['--dry-run']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Phase 3 \(redis\): skipped \(redis is not enabled on /);
    expect(r.stdout).toMatch(/Phase 6 \(web\): skipped \(web is not enabled on /);
  });

  it('asks before changing anything; "no" changes nothing', () => {
    const s = setup('two_controllers.yaml');
    // only the lock and the log are written before the question
    const before = rootHash(s, ['var', 'run']);
    const r = start(s, [], { input: 'no\n' });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/Do you want to proceed\? \(yes\/no\)/);
    expect(rootHash(s, ['var', 'run'])).toBe(before);
    expect(calls(s).filter(mutating)).toEqual([]);
  });

  it('a failed phase: abort under --auto-confirm (exit 1), or continue when the answer is yes', () => {
    const s = setup('my_multihead_cluster.yaml');
    s.node.set('fail-start/slurmctld.service');
    let r = start(s, ['--auto-confirm']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Phase 4 \(slurm\) failed/);
    expect(r.stderr).toMatch(/Phase 4 \(slurm\): FAILED/);
    expect(lines(calls(s)).some((l) => /^systemctl start keepalived/.test(l))).toBe(false);
    s.node.clearCalls();
    r = start(s, [], { input: 'yes\nyes\n' });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/Continue with next phase anyway\?/);
    expect(lines(calls(s)).some((l) => /^systemctl start keepalived/.test(l))).toBe(true);
  });

  it('one run at a time: a second run is refused while the lock is held', async () => {
    const s = setup('two_controllers.yaml');
    const lock = join(s.node.root, 'run/mhc/lifecycle.lock');
    mkdirSync(join(s.node.root, 'run/mhc'), { recursive: true });
    const holder = spawn('flock', [lock, 'sleep', '20'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50 && !existsSync(lock); i++) await new Promise((res) => setTimeout(res, 100));
      await new Promise((res) => setTimeout(res, 300));
      const r = start(s, ['--auto-confirm']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/another lifecycle run is in progress/);
      expect(calls(s).filter(mutating)).toEqual([]);
      const stopped = stop(s, ['--auto-confirm']);
      expect(stopped.status).toBe(1);
      expect(stopped.stderr).toMatch(/another lifecycle run is in progress/);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

describe('start_multihead.sh: Redis Cluster', () => {
  it('instances that already belong to a cluster whose state is not ok are never built into a new one (pending)', () => {
    // found by the deploy lab: after a power loss the first node ran `redis-cli --cluster create`
    // on instances that still held the cluster (cluster_state:fail while the others rebooted)
    const s = setup('my_multihead_cluster.yaml');
    if (s.model.redis?.mode !== 'cluster') return;
    s.node.set('redis-known', '6');
    const r = start(s, ['--phase', 'redis', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(/the Redis cluster is not ok everywhere yet: [\d.]+:\d+ fail \(cluster_slots_ok 0\)/);
    expect(lines(calls(s)).some((l) => /--cluster create/.test(l))).toBe(false);
  });

  // found by the deploy lab: after a whole-cluster stop a shard's replica was up, its master
  // marked FAIL, and the replica never took over (its data counted as too old for an automatic
  // failover): cluster_state:fail for good
  const stateOf = (s: Setup, f: string) => (existsSync(join(s.node.state, f)) ? readFileSync(join(s.node.state, f), 'utf8') : undefined);
  const orphan = (s: Setup) => {
    const port = s.model.redis!.port + 1;
    const me = '1'.repeat(40);
    const master = '2'.repeat(40);
    s.node.set('redis-known', '6');
    s.node.set(`redis-slave-${port}`);
    s.node.set(`redis-nodes-${port}`, `${me} 10.0.0.1:${port}@${port + 10000} myself,slave ${master} 0 0 7 connected\n${master} 10.0.0.2:6379@16379 master,fail - 0 0 3 disconnected 0-5460\n`);
    return port;
  };
  for (const [how, force] of [
    ['cluster failover force', true],
    ['cluster failover takeover, when no majority votes', false],
  ] as const) {
    it(`a local replica whose master carries FAIL is promoted (${how}); the cluster is ok again`, () => {
      const s = setup('my_multihead_cluster.yaml');
      if (s.model.redis?.mode !== 'cluster') return;
      const port = orphan(s);
      if (force) s.node.set('redis-force-works');
      const r = start(s, ['--phase', 'redis', '--auto-confirm']);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toContain(`the master 10.0.0.2:6379 of the replica on port ${port} is down (FAIL)`);
      expect(r.stdout).toMatch(/cluster is up again \(cluster_state:ok on all 6 instances\) after promoting/);
      expect(stateOf(s, 'redis-failovers')).toBe(force ? `${port} force\n` : `${port} force\n${port} takeover\n`);
    });
  }

  it('a replica whose master is only suspected (fail?) is left alone: pending', () => {
    const s = setup('my_multihead_cluster.yaml');
    if (s.model.redis?.mode !== 'cluster') return;
    const port = orphan(s);
    s.node.set(`redis-nodes-${port}`, stateOf(s, `redis-nodes-${port}`)!.replace('master,fail', 'master,fail?'));
    const r = start(s, ['--phase', 'redis', '--auto-confirm']);
    expect(r.stderr).toMatch(/not ok everywhere yet/);
    expect(stateOf(s, 'redis-failovers')).toBeUndefined();
  });

  // the plan's instances, as the bundle's cluster plan lists them
  const plan = (s: Setup) => {
    const text = readFileSync(join(s.bundle, 'files/etc/mhc/redis/cluster-plan'), 'utf8');
    const list = (name: string): string[] => (text.match(new RegExp(`^${name}=\\((.*)\\)$`, 'm'))?.[1] ?? '').split(' ');
    return { masters: list('MHC_REDIS_CLUSTER_MASTERS'), replicas: list('MHC_REDIS_CLUSTER_REPLICAS').map((p) => p.split('=')[0] ?? '') };
  };

  it('one instance that still sees the cluster down keeps the phase from saying ok (pending, naming it)', () => {
    // found by the deploy lab: after a whole-cluster stop and start the phase said "cluster is up"
    // because one local instance saw cluster_state:ok, while another node's instances still
    // flagged a returned master FAIL (10923 slots ok) and clients there got CLUSTERDOWN
    const s = setup('my_multihead_cluster.yaml');
    if (s.model.redis?.mode !== 'cluster') return;
    const far = plan(s).replicas[0] ?? '';
    s.node.set('redis-known', '6');
    s.node.set('redis-cluster');
    s.node.set(`redis-info-${far}`, 'cluster_state:fail\r\ncluster_slots_ok:10923\r\n');
    const r = start(s, ['--phase', 'redis', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/the cluster is up/);
    expect(r.stderr).toContain(`the Redis cluster is not ok everywhere yet: ${far} fail (cluster_slots_ok 10923)`);
  });

  it('an instance of the plan that does not answer: pending at once, no promotion, the command for a node lost for good named', () => {
    // promoting the replica of a master whose node has only not started yet would drop what
    // that master wrote last (it rejoins as a replica of the promoted one)
    const s = setup('my_multihead_cluster.yaml');
    if (s.model.redis?.mode !== 'cluster') return;
    const port = orphan(s);
    s.node.set('redis-down/10.0.0.2:6379');
    const silent = plan(s).masters[1] ?? '';
    s.node.set(`redis-down/${silent}`);
    const r = start(s, ['--phase', 'redis', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain(`the Redis cluster waits for ${silent}, which do(es) not answer`);
    expect(r.stderr).toContain(`if 10.0.0.2:6379 is lost for good: redis-cli -p ${port} cluster failover force (here)`);
    expect(stateOf(s, 'redis-failovers')).toBeUndefined();
  });

  it('a planned master left a replica by a failover takes its role back (cluster failover), so no node holds two masters', () => {
    // seen in the deploy lab: after a whole-cluster stop one node held two of the three masters
    // (its loss would have taken the majority of masters, and every slot with it)
    const s = setup('my_multihead_cluster.yaml');
    if (s.model.redis?.mode !== 'cluster') return;
    const demoted = plan(s).masters[1] ?? '';
    s.node.set('redis-known', '6');
    s.node.set('redis-cluster');
    s.node.set(`redis-slave-${demoted}`);
    const r = start(s, ['--phase', 'redis', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(stateOf(s, 'redis-failovers')).toBe(`${demoted} failover\n`);
    expect(r.stdout).toContain(`${demoted} runs as a replica; the plan makes it a master`);
    expect(r.stdout).toMatch(/redis: 1 master\(s\) back where the plan puts them/);
    expect(r.stdout).toMatch(/the cluster is up \(cluster_state:ok on all 6 instances\)/);
    // --dry-run shows the failover and does not run it
    s.node.set(`redis-slave-${demoted}`);
    const dry = start(s, ['--phase', 'redis', '--auto-confirm', '--dry-run']);
    expect(dry.stdout).toContain(`+ with_timeout 5 redis-cli -h ${demoted.split(':')[0]} -p ${demoted.split(':')[1]} cluster failover`);
    expect(dry.stdout).toMatch(/redis: would move 1 master\(s\) back where the plan puts them/);
    expect(stateOf(s, 'redis-failovers')).toBe(`${demoted} failover\n`);
  });
});

describe('start_compute.sh', () => {
  function computeNode(): { node: FakeNode; script: string } {
    const files = bundleOf('my_multihead_cluster.yaml');
    const node = fakeNode('lc-compute');
    nodes.push(node);
    const bundle = join(node.dir, 'bundle');
    writeBundle(files, 'compute', bundle);
    mkdirSync(join(node.root, 'etc/mhc'), { recursive: true });
    writeFileSync(join(node.root, 'etc/hosts'), '127.0.0.1 localhost\n');
    writeFileSync(join(node.root, 'etc/mhc/secrets.env'), `MUNGE_KEY=${VALUES.MUNGE_KEY}\n`, { mode: 0o600 });
    return { node, script: join(bundle, 'bin/start_compute.sh') };
  }

  it('installs the packages it lacks before any file (the same install as the controllers), then none on a re-run', () => {
    const { node, script } = computeNode();
    node.set('pkg-missing/slurmd');
    node.set('pkg-missing/munge');
    let r = runScript(script, [], node.env());
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('installing packages: munge slurmd');
    const ls = lines(node.calls());
    const install = ls.findIndex((l) => /^apt-get install .* munge slurmd$/.test(l));
    expect(install, ls.join('\n')).toBeGreaterThan(-1);
    expect(ls.findIndex((l) => /^systemctl restart munge/.test(l))).toBeGreaterThan(install);
    expect(r.stdout).toContain('installed /etc/munge/munge.key');
    node.clearCalls();
    r = runScript(script, [], node.env());
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('packages: all 3 installed');
    expect(r.stdout).not.toMatch(/installed \//);
    expect(lines(node.calls()).filter((l) => /apt-get|systemctl restart/.test(l))).toEqual([]);
  });

  it('fails when slurmd exits right after its start (it is "active" for a moment)', () => {
    // found by the deploy lab: slurmd died at once (read-only cgroups) and start_compute.sh said ok
    const { node, script } = computeNode();
    node.set('dies/slurmd.service');
    let r = runScript(script, [], node.env());
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/slurmd is not running: see journalctl -u slurmd/);
    rmSync(join(node.state, 'dies'), { recursive: true });
    r = runScript(script, [], node.env());
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/munge and slurmd are running/);
  });

  it('the munge key rotated: --munge-at stages it and arms the timer; at that moment munged switches (slurmd stays); --munge-cancel before it, refused after', () => {
    const { node, script } = computeNode();
    expect(runScript(script, [], node.env()).status).toBe(0);
    const key = join(node.root, 'etc/munge/munge.key');
    const old = readFileSync(key);
    const NEW = Buffer.alloc(48, 5);
    writeFileSync(join(node.root, 'etc/mhc/secrets.env'), `MUNGE_KEY=${NEW.toString('base64')}\n`, { mode: 0o600 });
    node.clearCalls();
    // too soon: refused before anything is staged
    const soon = runScript(script, ['--munge-at', `@${Math.floor(Date.now() / 1000) + 3}`], node.env());
    expect(soon.status).toBe(3);
    expect(soon.stderr).toMatch(/it must be at least 10 s ahead/);
    const T = Math.floor(Date.now() / 1000) + 12;
    const arm = runScript(script, ['--munge-at', `@${T}`], node.env());
    expect(arm.status, arm.stdout + arm.stderr).toBe(0);
    expect(readFileSync(`${key}.next`)).toEqual(NEW);
    expect(readFileSync(key)).toEqual(old);
    const sr = node.calls().find((c) => c.cmd === 'systemd-run')!;
    expect(sr.line).toMatch(/--unit=mhc-munge-switch .*--on-active=\d+\.\d{3}s --timer-property=AccuracySec=10ms --property=Type=oneshot -- \S+\/bin\/start_compute\.sh --munge-switch --secrets /);
    expect(lines(node.calls()).filter((l) => /^systemctl (restart|stop|start) (munge|slurmd)/.test(l))).toEqual([]);
    expect(runScript(script, ['--munge-at', `@${T}`], node.env()).stdout).toMatch(/armed already/);
    // cancelled, then armed again; the timer fires and switches
    const c = runScript(script, ['--munge-cancel'], node.env());
    expect(c.status, c.stdout + c.stderr).toBe(0);
    expect(existsSync(`${key}.next`)).toBe(false);
    expect(lines(node.calls())).toContain('systemctl stop mhc-munge-switch.timer');
    node.clearCalls();
    const T2 = Math.floor(Date.now() / 1000) + 11;
    expect(runScript(script, ['--munge-at', `@${T2}`], node.env()).status).toBe(0);
    const until = Date.now() + 25_000;
    while (!readFileSync(join(node.state, 'timer-mhc-munge-switch.log'), 'utf8').includes('munged restarted') && Date.now() < until) spawnSync('sleep', ['0.5']);
    expect(readFileSync(join(node.state, 'timer-mhc-munge-switch.log'), 'utf8')).toMatch(/munge: the new key is in, munged restarted and decodes its own credential/);
    expect(readFileSync(key)).toEqual(NEW);
    expect(readFileSync(`${key}.old`)).toEqual(old);
    const ls = lines(node.calls());
    expect(ls).toContain('systemctl restart munge.service');
    expect(ls.filter((l) => /slurmd/.test(l))).toEqual([]);
    const late = runScript(script, ['--munge-cancel'], node.env());
    expect(late.status).toBe(3);
    expect(late.stderr).toMatch(/munge switched already/);
    // a start_compute.sh run afterwards finds every file right: munged is not restarted again
    node.clearCalls();
    expect(runScript(script, [], node.env()).status).toBe(0);
    expect(lines(node.calls()).filter((l) => /^systemctl restart munge/.test(l))).toEqual([]);
  });
});

describe('start_multihead.sh: the node', () => {
  it("refuses to run on the real root when the hostname is not the bundle's node (before touching anything)", () => {
    // found by the deploy lab: a node still named as its image ("vm") ran every phase, and
    // slurmctld then died with "This host (vm/vm) not a valid controller"
    const s = setup('my_multihead_cluster.yaml');
    writeFileSync(join(s.node.bin, 'hostname'), '#!/bin/sh\necho vm\n', { mode: 0o755 });
    // MHC_ROOT=/ is the real root: --dry-run, and the check comes before anything is read there
    const r = runScript(s.start, ['--dry-run'], { ...env(s), MHC_ROOT: '/' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`this node's hostname is 'vm', but this bundle is ${s.hostname}'s: set it first (hostnamectl set-hostname ${s.hostname})`);
    expect(r.stdout).toBe('');
  });
});

describe('start_multihead.sh: GlusterFS', () => {
  it("makes this node's brick directory (with its parents) before the volume can be created; not again on a re-run", () => {
    // found by the deploy lab: `gluster volume create … force` makes only the brick's last component
    const s = setup('my_multihead_cluster.yaml');
    const brick = s.model.gluster!.brickPath;
    const r = start(s, ['--phase', 'storage', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`making the brick directory ${brick}`);
    expect(r.stdout.indexOf('making the brick directory')).toBeLessThan(r.stdout.indexOf('creating the volume'));
    expect(statSync(join(s.node.root, brick)).isDirectory()).toBe(true);
    const again = start(s, ['--phase', 'storage', '--auto-confirm']);
    expect(again.status).toBe(0);
    expect(again.stdout).not.toContain('making the brick directory');
  });

  it('sets the volume options of storage.gluster.options once the volume is started (gluster volume set); not again on a re-run', () => {
    const s = setup('five_controllers.yaml');
    expect(s.model.gluster!.options.length).toBe(2);
    const sets = () =>
      s.node
        .calls()
        .filter((c) => c.cmd === 'gluster' && / volume set /.test(c.line))
        .map((c) => c.line);
    const r = start(s, ['--phase', 'storage', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(sets()).toEqual([`gluster --mode=script volume set campus_vol network.ping-timeout 20`, `gluster --mode=script volume set campus_vol performance.cache-size 128MB`]);
    s.node.clearCalls();
    const again = start(s, ['--phase', 'storage', '--auto-confirm']);
    expect(again.status).toBe(0);
    expect(sets()).toEqual([]);
  });

  it('mounts only once a majority of the replica-3 bricks is online; pending until then', () => {
    // found by the deploy lab: after a whole-cluster stop the first node mounted with its own
    // brick alone and mount.glusterfs failed ("All subvolumes are down", no read subvols)
    const s = setup('my_multihead_cluster.yaml');
    expect(s.model.gluster!.replicaCount).toBe(3);
    s.node.set('gluster/bricks-online', '1');
    let r = start(s, ['--phase', 'storage', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(/1 of the 3 bricks of \S+ are online; the volume needs a majority/);
    expect(r.stdout + r.stderr).toMatch(/Phase 1 \(storage\): pending/);
    expect(lines(calls(s)).some((l) => l.startsWith('mount '))).toBe(false);
    s.node.set('gluster/bricks-online', '2');
    r = start(s, ['--phase', 'storage', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(lines(calls(s)).some((l) => l.startsWith('mount '))).toBe(true);
  });

  it("the volume's client process (left by mount) does not hold the run's lock", () => {
    // found by the deploy lab: glusterfs (the FUSE client mount.glusterfs starts) inherited the
    // lock's fd, so every later start_multihead.sh said "another lifecycle run is in progress"
    const s = setup('my_multihead_cluster.yaml');
    s.node.set('mount-daemon');
    let r = start(s, ['--phase', 'storage', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(lines(calls(s)).some((l) => l.startsWith('mount '))).toBe(true);
    const m = join(s.node.root, 'mnt/gluster');
    rmSync(join(s.node.state, 'mounted'), { force: true }); // unmounted: the next run mounts again
    expect(existsSync(m)).toBe(true);
    r = start(s, ['--phase', 'storage', '--auto-confirm']);
    expect(r.stderr).not.toMatch(/another lifecycle run is in progress/);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});

describe('start_multihead.sh: Slurm on a fresh cluster', () => {
  it('the VIP is not up yet: slurmctld starts without accounting (keepalived checks it); once the VIP answers, slurmdbd, the registration, a slurmctld restart', () => {
    // found by the deploy lab: slurmdbd waited for the VIP, the VIP for keepalived's check, the
    // check for slurmctld, and slurmctld for slurmdbd: a fresh cluster never got its VIP
    const s = setup('my_multihead_cluster.yaml');
    const acc = s.model.slurm!.accounting!;
    rmSync(join(s.node.state, `up/${acc.storageHost}:${acc.storagePort}`));
    // (storage too: StateSaveLocation is on the volume)
    let r = start(s, ['--phase', 'storage', '--phase', 'slurm', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Phase 4 \(slurm\): pending/);
    let ls = lines(calls(s));
    expect(ls).toContain('systemctl start slurmctld.service');
    expect(ls).not.toContain('systemctl start slurmdbd.service');
    expect(ls.some((l) => / add cluster /.test(l))).toBe(false);
    // keepalived's check passes now; the VIP answers
    s.node.set(`up/${acc.storageHost}:${acc.storagePort}`);
    const n = calls(s).length;
    r = start(s, ['--phase', 'slurm', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/pending/);
    ls = lines(calls(s).slice(n));
    const dbd = ls.indexOf('systemctl start slurmdbd.service');
    const add = ls.findIndex((l) => / add cluster /.test(l));
    const restart = ls.indexOf('systemctl restart slurmctld.service');
    expect([dbd >= 0, add > dbd, restart > add]).toEqual([true, true, true]);
    // a third run changes nothing
    const m = calls(s).length;
    expect(start(s, ['--phase', 'slurm', '--auto-confirm']).status).toBe(0);
    expect(
      calls(s)
        .slice(m)
        .filter(mutating)
        .map((c) => c.line),
    ).toEqual([]);
  });

  it('a registered cluster that "show cluster" did not see: sacctmgr add says it exists, which is success', () => {
    // found by the deploy lab after a power loss: show cluster failed, add cluster exited 1
    // ("already exists. Not adding.") and the slurm phase failed
    const s = setup('my_multihead_cluster.yaml');
    s.node.set('sacct-clusters', `${s.model.slurm!.clusterName}\n`);
    s.node.set('sacct-show-fails');
    const r = start(s, ['--phase', 'storage', '--phase', 'slurm', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`the cluster ${s.model.slurm!.clusterName} is registered already`);
    expect(lines(calls(s))).not.toContain('systemctl restart slurmctld.service');
  });

  it("the VIP's database answers but the VIP holder's slurmdbd does not yet: pending before the registration", () => {
    // found by the deploy lab: ctl1 registered the cluster through the VIP while the VIP holder's
    // slurmdbd was still starting (sacctmgr: Connection refused) and the phase failed
    const s = setup('my_multihead_cluster.yaml');
    const acc = s.model.slurm!.accounting!;
    rmSync(join(s.node.state, `up/${acc.host}:${acc.port}`));
    const r = start(s, ['--phase', 'storage', '--phase', 'slurm', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain(`slurmdbd at ${acc.host}:${acc.port} (the VIP holder's) does not answer yet`);
    expect(lines(calls(s)).some((l) => / add cluster /.test(l))).toBe(false);
  });

  it('the VIP is not up and slurmdbd is already running (at boot, retrying): pending, not a wait for its port', () => {
    // found by the deploy lab: after a whole-cluster stop the slurm phase saw slurmdbd active
    // (its drop-in restarts it), skipped the VIP check and failed after 60 s on its port
    const s = setup('my_multihead_cluster.yaml');
    const acc = s.model.slurm!.accounting!;
    rmSync(join(s.node.state, `up/${acc.storageHost}:${acc.storagePort}`));
    s.node.set('active/slurmdbd.service');
    const r = start(s, ['--phase', 'storage', '--phase', 'slurm', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Phase 4 \(slurm\): pending/);
    expect(r.stderr).not.toMatch(/slurmdbd on port \d+: not after/);
    expect(lines(calls(s))).toContain('systemctl start slurmctld.service');
  });
});

describe('start_multihead.sh: Galera bootstrap or join', () => {
  const ex = 'my_multihead_cluster.yaml';
  const db = (s: Setup, args: string[] = []) => start(s, ['--phase', 'database', '--auto-confirm', ...args]);
  const grastate = (s: Setup, safe: 0 | 1, uuid = '6b2d1a5e-1f3c-11ef-9b6e-3b0f8c3a4d11', seqno = '-1') => {
    mkdirSync(join(s.node.root, 'var/lib/mysql'), { recursive: true });
    writeFileSync(join(s.node.root, 'var/lib/mysql/grastate.dat'), `# GALERA saved state\nversion: 2.1\nuuid:    ${uuid}\nseqno:   ${seqno}\nsafe_to_bootstrap: ${safe}\n`);
  };
  const bootstrapped = (s: Setup) => lines(calls(s)).includes('galera_new_cluster');
  const second = () => rankedControllers(compileFile(join(EXAMPLES, ex)).model)[1]!.hostname;

  it('a peer is up: join (never bootstrap), also on the first-ranked node', () => {
    const s = setup(ex);
    s.node.set(`up/${s.ip(second())}:4567`);
    const r = db(s);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Galera peers up: .*joining/);
    expect(lines(calls(s))).toContain('systemctl start mariadb.service');
    expect(bootstrapped(s)).toBe(false);
  });

  it("a mariadb.service still starting (the package's server right after a boot) is waited for, then stopped and the cluster bootstrapped", () => {
    const s = setup(ex);
    s.node.set('activating/mariadb.service');
    s.node.set('settles/mariadb.service');
    // the package's server: no Galera status
    s.node.set('wsrep_status', '');
    const r = db(s);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('mariadb.service is activating: waiting for it (up to 2s)');
    const ls = lines(calls(s));
    expect(ls.indexOf('systemctl stop mariadb.service')).toBeGreaterThan(-1);
    expect(ls.indexOf('systemctl stop mariadb.service')).toBeLessThan(ls.indexOf('galera_new_cluster'));
  });

  it('a member still restarting (a day-2 apply interrupted) is waited for and judged once it answers: in the cluster, never stopped', () => {
    const s = setup(ex);
    s.node.set('activating/mariadb.service');
    s.node.set('settles/mariadb.service');
    const r = db(s);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/database: in the cluster/);
    const ls = lines(calls(s));
    expect(ls).not.toContain('systemctl stop mariadb.service');
    expect(bootstrapped(s)).toBe(false);
  });

  it('a mariadb.service that never finishes starting ends the phase (no bootstrap) naming the journal and the next command', () => {
    const s = setup(ex);
    s.node.set('activating/mariadb.service');
    const r = db(s);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/mariadb.service is still activating after 2s: see journalctl -u mariadb, then run start_multihead.sh --phase database/);
    expect(bootstrapped(s)).toBe(false);
  });

  it('a failed galera_new_cluster names the journal and the next command', () => {
    const s = setup(ex);
    s.node.set('fail-start/mariadb.service');
    const r = db(s);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/galera_new_cluster failed: see journalctl -u mariadb -n 50; then run start_multihead.sh --phase database/);
  });

  it('--bootstrap while a peer is up is refused', () => {
    const s = setup(ex);
    grastate(s, 1);
    s.node.set(`up/${s.ip(second())}:4567`);
    const r = db(s, ['--bootstrap']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--bootstrap refused: .* already run/);
    expect(bootstrapped(s)).toBe(false);
  });

  it('no peer up and safe_to_bootstrap: 1: bootstrap (any rank)', () => {
    const s = setup(ex, second());
    grastate(s, 1, undefined, '42');
    const r = db(s);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(bootstrapped(s)).toBe(true);
    expect(r.stdout).toMatch(/bootstrapped the cluster from/);
  });

  it('no peer up and safe_to_bootstrap: 0: refused with an explanation, unless --bootstrap with a usable recovered position', () => {
    const s = setup(ex, second());
    grastate(s, 0);
    s.node.set('recovered', '6b2d1a5e-1f3c-11ef-9b6e-3b0f8c3a4d11:1234');
    let r = db(s);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not marked safe to bootstrap.*HIGHEST recovered seqno \(this one: 1234/);
    expect(bootstrapped(s)).toBe(false);
    r = db(s, ['--bootstrap']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(bootstrapped(s)).toBe(true);
    expect(readFileSync(join(s.node.root, 'var/lib/mysql/grastate.dat'), 'utf8')).toMatch(/^safe_to_bootstrap: 1$/m);
  });

  it('--bootstrap is refused when the recovered position is unusable (seqno -1)', () => {
    const s = setup(ex, second());
    grastate(s, 0);
    s.node.set('recovered', '6b2d1a5e-1f3c-11ef-9b6e-3b0f8c3a4d11:-1');
    const r = db(s, ['--bootstrap']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--bootstrap refused: this node's recovered position .* is unusable/);
    expect(bootstrapped(s)).toBe(false);
  });

  it('a peer that is the safe one (its grastate.dat over ssh) is named; no bootstrap here', () => {
    const s = setup(ex, second());
    grastate(s, 0);
    const first = rankedControllers(s.model)[0]!.hostname;
    s.node.set(`ssh/${s.ip(first)}`, 'version: 2.1\nuuid: 6b2d1a5e-1f3c-11ef-9b6e-3b0f8c3a4d11\nseqno: 77\nsafe_to_bootstrap: 1\n');
    const r = db(s, ['--bootstrap']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${first} has safe_to_bootstrap: 1`);
    expect(bootstrapped(s)).toBe(false);
  });

  it('a fresh node that is not first-ranked waits for the first (pending, exit 0); the first-ranked one bootstraps', () => {
    const s = setup(ex, second());
    let r = db(s);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Phase 2 \(database\): pending/);
    expect(bootstrapped(s)).toBe(false);
    expect(r.stderr).not.toMatch(/error: line/);
    const f = setup(ex);
    r = db(f);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(bootstrapped(f)).toBe(true);
    // --join on a fresh node with no peer: pending, never a bootstrap
    const j = setup(ex);
    r = db(j, ['--join']);
    expect(r.stdout + r.stderr).toMatch(/pending/);
    expect(bootstrapped(j)).toBe(false);
  });

  it('a running stand-alone server (the package started it) is stopped and started as a Galera member', () => {
    const s = setup(ex);
    s.node.set('active/mariadb.service');
    s.node.set('wsrep_status', 'Disconnected');
    const r = db(s);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const ls = lines(calls(s));
    expect(ls.indexOf('systemctl stop mariadb.service')).toBeGreaterThanOrEqual(0);
    expect(ls.indexOf('systemctl stop mariadb.service')).toBeLessThan(ls.indexOf('galera_new_cluster'));
  });

  it("Debian's mariadb.socket (socket activation holding port 3306) is disabled before the Galera start", () => {
    // found by the deploy lab: with the socket listening, galera_new_cluster's recovery run could not bind 3306
    const s = setup(ex);
    s.node.set('active/mariadb.socket');
    s.node.set('enabled/mariadb.socket');
    s.node.set('active/mariadb.service');
    s.node.set('wsrep_status', 'Disconnected');
    const r = db(s);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const ls = lines(calls(s));
    const off = ls.indexOf('systemctl disable --now mariadb.socket');
    expect(off).toBeGreaterThanOrEqual(0);
    expect(off).toBeLessThan(ls.indexOf('systemctl stop mariadb.service'));
    expect(off).toBeLessThan(ls.indexOf('galera_new_cluster'));
    expect(s.node.has('active/mariadb.socket')).toBe(false);
    // a node without the socket unit (older packages) is not touched
    const t = setup(ex);
    expect(db(t).status).toBe(0);
    expect(lines(calls(t)).some((l) => /mariadb\.socket/.test(l) && !/is-(active|enabled)/.test(l))).toBe(false);
  });
});

describe('stop_multihead.sh', () => {
  const ex = 'my_multihead_cluster.yaml';
  const started = () => {
    const s = setup(ex);
    const r = start(s, ['--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    s.node.set('vip', `${s.model.network.vip!.address}/${s.model.network.vip!.prefix}`);
    s.node.clearCalls();
    return s;
  };
  const stops = (s: Setup) => lines(calls(s)).flatMap((l) => /^systemctl stop (\S+)/.exec(l)?.[1] ?? (/^u?mount/.test(l) ? [l.split(' ')[0]!] : []));

  it('stops in reverse order, saves Redis first, releases the VIP, unmounts', () => {
    const s = started();
    const r = stop(s, ['--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const st = stops(s);
    const pos = (re: RegExp) => st.findIndex((u) => re.test(u));
    const seq = [/^mhc-web-|^nginx/, /^keepalived/, /^slurmctld/, /^slurmdbd/, /^redis-server@/, /^mariadb/, /^umount$/, /^glusterd/].map(pos);
    for (const i of seq) expect(i).toBeGreaterThanOrEqual(0);
    expect(seq).toEqual([...seq].sort((a, b) => a - b));
    const ls = lines(calls(s));
    const save = ls.findIndex((l) => /^redis-cli .* save$/.test(l));
    expect(save).toBeGreaterThanOrEqual(0);
    expect(save).toBeLessThan(ls.findIndex((l) => /^systemctl stop redis-server@/.test(l)));
    // keepalived gave the VIP up as it stopped: nothing left to delete
    expect(ls.some((l) => /^ip addr del /.test(l))).toBe(false);
    expect(s.node.has('vip')).toBe(false);
    expect(readdirSync(join(s.node.state, 'active')).filter((u) => !/timer$/.test(u))).toEqual([]);
    const log = readFileSync(join(s.node.root, 'var/log/cluster_multihead_stop.log'), 'utf8');
    for (const v of secretValues()) expect(log + r.stdout + r.stderr).not.toContain(v);
  });

  it('removes a VIP keepalived left behind', () => {
    const s = started();
    s.node.set('keepalived-keeps-vip', '');
    const r = stop(s, ['--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(lines(calls(s)).some((l) => /^ip addr del /.test(l))).toBe(true);
    expect(s.node.has('vip')).toBe(false);
  });

  it('--service stops one service; --keep-data leaves the volume mounted', () => {
    const s = started();
    let r = stop(s, ['--auto-confirm', '--service', 'redis']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(stops(s).every((u) => /^redis-server@/.test(u))).toBe(true);
    s.node.clearCalls();
    r = stop(s, ['--auto-confirm', '--service=storage', '--keep-data']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(stops(s)).toEqual([]);
    expect(r.stdout).toMatch(/--keep-data: \/mnt\/gluster stays mounted/);
  });

  it('--force kills a unit that does not stop in time; without it the stop fails', () => {
    const s = started();
    s.node.set('hang-stop/redis-server@mhc-6379.service');
    let r = stop(s, ['--auto-confirm', '--service', 'redis'], { env: { MHC_STOP_TIMEOUT: '1' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/redis-server@mhc-6379\.service did not stop within 1s/);
    r = stop(s, ['--auto-confirm', '--service', 'redis', '--force'], { env: { MHC_STOP_TIMEOUT: '1' } });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(lines(calls(s))).toContain('systemctl kill --signal=SIGKILL redis-server@mhc-6379.service');
  });

  it('the last node up: slurmdbd, whose database (the VIP) left with keepalived, is killed instead of hanging', () => {
    // found by the deploy lab: on the last controller stopped, slurmdbd's shutdown waited on its
    // connection to the vanished VIP and the stop failed after 30 s
    const s = started();
    const acc = s.model.slurm!.accounting!;
    rmSync(join(s.node.state, `up/${acc.storageHost}:${acc.storagePort}`));
    s.node.set('hang-stop/slurmdbd.service');
    // its drop-in restarts it after a kill (Restart=on-failure): found by the deploy lab, the
    // killed slurmdbd came back 3 s later and kept failing against the absent VIP
    s.node.set('restarts/slurmdbd.service');
    const r = stop(s, ['--auto-confirm', '--service', 'slurm'], { env: { MHC_STOP_TIMEOUT: '2' } });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(/slurmdbd's database .* no longer answers: killing slurmdbd/);
    const ls = lines(calls(s));
    const kill = ls.indexOf('systemctl kill --signal=SIGKILL slurmdbd.service');
    expect(kill).toBeGreaterThan(ls.indexOf('systemctl stop slurmctld.service'));
    expect(ls.indexOf('systemctl stop slurmdbd.service', kill), ls.join('\n')).toBeGreaterThan(kill);
    expect(s.node.has('activating/slurmdbd.service')).toBe(false);
    // with the database reachable, a plain stop (no kill)
    const t = started();
    const r2 = stop(t, ['--auto-confirm', '--service', 'slurm']);
    expect(r2.status).toBe(0);
    expect(lines(calls(t)).some((l) => /^systemctl kill/.test(l))).toBe(false);
  });

  it('slurmctld that does not stop in time is killed even without --force (its state is saved at SIGTERM)', () => {
    // found by the deploy lab: a Slurm 22.05 backup controller that gave control back hung in
    // its shutdown, and the whole-cluster stop failed on the last node
    const s = started();
    s.node.set('hang-stop/slurmctld.service');
    const r = stop(s, ['--auto-confirm', '--service', 'slurm'], { env: { MHC_STOP_TIMEOUT: '2' } });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(lines(calls(s))).toContain('systemctl kill --signal=SIGKILL slurmctld.service');
  });

  it('bad options: usage on stderr, exit 2', () => {
    const s = setup(ex);
    for (const args of [['--bogus'], ['--service'], ['--service', 'nope']]) {
      const r = stop(s, args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^Usage: stop_multihead\.sh/);
    }
  });
});

describe('lib/common.sh: the node-side encodings match secrets.ts', () => {
  it('raw, dq, slurm, sentinel and keepalived give what encode() gives, for awkward values', () => {
    const s = setup('my_multihead_cluster.yaml');
    const values = [...Object.values(VALUES), `a&b`, `&\\&$&\\1 @@MHC_SECRET:A@@`, `é!#'é`, `k&' $#\\/`, `plain`];
    const cases: { v: string; enc: 'raw' | 'dq' | 'slurm' | 'sentinel' | 'keepalived' }[] = [];
    for (const v of values) for (const enc of ['raw', 'dq', 'slurm', 'sentinel', 'keepalived'] as const) cases.push({ v, enc });
    const want = cases.map(({ v, enc }) => {
      try {
        return encode(v, enc);
      } catch {
        return '<refused>';
      }
    });
    const input = cases.map(({ v, enc }) => `${enc}\t${v}`).join('\n') + '\n';
    const script = `source ${JSON.stringify(join(s.bundle, 'lib/common.sh'))}
while IFS=$'\\t' read -r enc v; do
  if out=$(encode "$v" "$enc"); then printf '%s\\n' "$out"; else printf '<refused>\\n'; fi
done`;
    const res = spawnSync('bash', ['-c', script], { input, encoding: 'utf8', env: s.node.env(), timeout: 60_000 });
    expect(res.stderr).toBe('');
    expect(res.stdout.split('\n').slice(0, -1)).toEqual(want);
  });
});

describe('shellcheck', () => {
  const inputs = [...EXAMPLE_FILES.map((f) => join(EXAMPLES, f)), ...SEED_INPUTS];
  it.each(inputs)('every lifecycle script of every bundle of %s is shellcheck-clean', (input) => {
    requireTool('shellcheck');
    const files = [...buildFile(input).values()];
    const dir = scratch('lc-shellcheck');
    nodes.push({ cleanup: () => spawnSync('rm', ['-rf', dir]) } as unknown as FakeNode);
    const bundles = [...new Set(files.map((f) => f.path.split('/')[0]!))].filter((b) => files.some((f) => f.path === `${b}/lib/common.sh`));
    let n = 0;
    for (const b of bundles) {
      writeBundle(files, b, join(dir, b));
      const mine = ['lib/common.sh', 'lib/facts.sh', 'bin/start_multihead.sh', 'bin/stop_multihead.sh', 'bin/start_compute.sh'].filter((p) => existsSync(join(dir, b, p)));
      // run from another directory, as an operator would (`shellcheck -x /opt/mhc/bin/*.sh`): the scripts' source paths must not depend on the cwd
      const r = spawnSync('shellcheck', ['-x', '-s', 'bash', ...mine.map((m) => join(dir, b, m))], { cwd: '/', encoding: 'utf8', timeout: 120_000 });
      expect(r.status, `${b}: ${r.stdout}${r.stderr}`).toBe(0);
      n += mine.length;
    }
    expect(n).toBeGreaterThanOrEqual(4);
  });
});

describe('issue 12: start/stop', () => {
  const ex = 'my_multihead_cluster.yaml';
  it('--dry-run: no line claims an action that was not taken (start, and stop on a running node)', () => {
    const s = setup(ex);
    const r = start(s, ['--dry-run']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(claimsDone(r.stdout)).toEqual([]);
    expect(r.stdout).toMatch(/would mount \/mnt\/gluster/);
    expect(r.stdout).toMatch(/database: would bootstrap/);
    expect(start(s, ['--auto-confirm']).status).toBe(0);
    const st = stop(s, ['--dry-run']);
    expect(st.status, st.stdout + st.stderr).toBe(0);
    expect(claimsDone(st.stdout)).toEqual([]);
    expect(st.stdout).toMatch(/would stop keepalived\.service/);
  });

  it('--phase database with a secrets file lacking the SST secret: refused up front, naming it and the file; no galera_new_cluster', () => {
    const s = setup(ex);
    const f = join(s.node.root, 'etc/mhc/secrets.env');
    writeFileSync(f, readFileSync(f, 'utf8').replace(/^GALERA_SST_PASSWORD=.*\n/m, ''), { mode: 0o600 });
    const r = start(s, ['--phase', 'database', '--auto-confirm']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`no value for GALERA_SST_PASSWORD in ${f}`);
    expect(r.stderr).not.toMatch(/unbound variable/);
    expect(lines(calls(s))).not.toContain('galera_new_cluster');
    expect(calls(s).filter(mutating)).toEqual([]);
  });

  it('--config YAML: accepted when it is the YAML the bundle was built from, refused (exit 2, naming mhc build) otherwise', () => {
    const s = setup(ex);
    let r = start(s, ['--config', join(EXAMPLES, ex), '--dry-run']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const other = join(s.node.dir, 'my_multihead_cluster.yaml');
    writeFileSync(other, readFileSync(join(EXAMPLES, ex), 'utf8') + '# changed\n');
    r = start(s, ['--config', other, '--dry-run']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/is not the YAML this bundle was built from.*run mhc build/);
    expect(stop(s, ['--config', other, '--dry-run']).status).toBe(2);
    expect(stop(s, ['--config', join(EXAMPLES, ex), '--dry-run']).status).toBe(0);
    expect(start(s, ['--config', join(s.node.dir, 'nope.yaml'), '--dry-run']).status).toBe(2);
  });

  it('a fresh node: /etc/redis is redis-writable (as Debian makes it) and /etc/redis/mhc absent: made and filled as redis, not refused', () => {
    const s = setup(ex);
    const etcRedis = join(s.node.root, 'etc/redis');
    mkdirSync(etcRedis, { recursive: true, mode: 0o2775 });
    chownSync(etcRedis, uidOf('redis'), uidOf('redis', 'g'));
    const r = start(s, ['--phase', '0', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const statics = s.files.filter((f) => f.dest?.startsWith('/etc/redis/mhc/'));
    expect(statics.length).toBeGreaterThan(0);
    for (const f of statics) expect(readFileSync(join(s.node.root, f.dest!.slice(1)), 'utf8').length, f.dest).toBeGreaterThan(0);
  });

  it('a kept run-time file is tightened to the bundle mode as its owner, its content kept; a planted link is left alone', () => {
    const s = setup(ex);
    const seeds = s.files.filter((f) => f.dest?.endsWith('.seed'));
    expect(seeds.length).toBeGreaterThan(1);
    const [open, linked] = seeds.map((f) => join(s.node.root, f.dest!.slice(1, -'.seed'.length)));
    mkdirSync(join(open!, '..'), { recursive: true });
    writeFileSync(open!, 'requirepass "old"\n', { mode: 0o640 });
    chownSync(open!, uidOf('redis'), uidOf('redis', 'g'));
    const outside = join(s.node.dir, 'outside');
    writeFileSync(outside, 'not redis\n', { mode: 0o644 });
    symlinkSync(outside, linked!);
    const r = start(s, ['--phase', '0', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(open!, 'utf8')).toBe('requirepass "old"\n');
    expect(statSync(open!).mode & 0o777).toBe(0o600);
    expect(lstatSync(linked!).isSymbolicLink()).toBe(true);
    expect(statSync(outside).mode & 0o777).toBe(0o644);
    expect(r.stderr).toContain('is not a regular file');
  });

  it('replaced files: the last 10 runs are kept under /var/backups/mhc/files, root-only', () => {
    const s = setup(ex);
    const fb = join(s.node.root, 'var/backups/mhc/files');
    const runs = Array.from({ length: 12 }, (_, i) => `2020010${Math.floor(i / 10)}_0000${String(i % 10).padStart(2, '0')}`).sort();
    for (const r of runs) {
      mkdirSync(join(fb, r, 'etc/mhc'), { recursive: true, mode: 0o755 });
      writeFileSync(join(fb, r, 'etc/mhc/secrets-copy'), 'old secret\n', { mode: 0o644 });
    }
    const r = start(s, ['--phase', '0', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(readdirSync(fb).sort()).toEqual(runs.slice(2));
    expect(statSync(fb).mode & 0o777).toBe(0o700);
    for (const d of runs.slice(2)) {
      expect(statSync(join(fb, d)).mode & 0o777).toBe(0o700);
      expect(statSync(join(fb, d, 'etc/mhc/secrets-copy')).mode & 0o077).toBe(0);
    }
    // a re-run that replaces a file: its copy is root-only, and the oldest run goes
    writeFileSync(join(s.node.root, 'etc/mhc/hosts'), 'changed\n', { mode: 0o644 });
    spawnSync('sleep', ['1.1']);
    expect(start(s, ['--phase', '0', '--auto-confirm']).status).toBe(0);
    const now = readdirSync(fb).sort();
    expect(now).toHaveLength(10);
    const copy = join(fb, now[9]!, 'etc/mhc/hosts');
    expect(readFileSync(copy, 'utf8')).toBe('changed\n');
    expect(statSync(copy).mode & 0o077).toBe(0);
    expect(statSync(join(fb, now[9]!)).mode & 0o777).toBe(0o700);
  });
});
