// apply_multihead.sh in a sandbox (stub-path.ts): the lab-sized example built twice, OLD and NEW
// (NEW with the plan from OLD, as `mhc build NEW --plan-from OLD` makes it), OLD recorded as the
// installed bundle of a scratch root, NEW's apply run with stub daemons. status_multihead.sh is
// replaced in NEW's copy by a stub that answers the gate from a state file: the real one is
// judged by its own tests and, with the real apply, by the deploy lab.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { AWKWARD, compileText, EXAMPLES } from '../helpers.js';
import { allTargets, build } from '../../src/compiler/build.js';
import type { BundleFile } from '../../src/compiler/bundle.js';
import { sideFromFiles } from '../../src/review/side.js';
import { rawFromBundle } from '../../src/review/build-side.js';
import { planSides } from '../../src/review/plan.js';
import { applyPlans } from '../../src/review/apply-data.js';
import { INSTALLED_MARK } from '../../src/emitters/day2.js';
import { sentinelCredential } from '../../src/compiler/secrets.js';
import { claimsDone, fakeNode, mutating, runScript, treeHash, writeBundle, type FakeNode } from './stub-path.js';

const BASE = readFileSync(join(EXAMPLES, 'my_multihead_cluster.yaml'), 'utf8');
const nodes: FakeNode[] = [];
afterAll(() => {
  for (const n of nodes) n.cleanup();
});

function buildAll(text: string, from?: { files: readonly BundleFile[]; label: string }): BundleFile[] {
  const c = compileText(text);
  const req = { model: c.model, literals: c.literals!, inputSha256: c.inputSha256, mhcVersion: '0.0.0-test', targets: allTargets(c.model) };
  const plain = build(req).files!;
  if (!from) return [...plain];
  const computeNodes = c.model.computeNodes.map((n) => n.hostname);
  const a = sideFromFiles(from.label, 'yaml', rawFromBundle(from.files), computeNodes);
  const b = sideFromFiles('new.yaml', 'yaml', rawFromBundle(plain), computeNodes);
  const plans = applyPlans(
    planSides(a, b, '0.0.0-test'),
    a,
    c.model.controllers.map((n) => n.hostname),
  );
  return [...build({ ...req, applyPlans: plans }).files!];
}

/** A fake status_multihead.sh: prints $S/status.json and exits $S/status-rc (0); counts its runs in $S/status-runs; from run $S/status-fail-from on, exits 1. */
const FAKE_STATUS = `#!/bin/bash
S=$STUB_STATE
n=$(( $(cat "$S/status-runs" 2>/dev/null || echo 0) + 1 )); echo "$n" >"$S/status-runs"
cat "$S/status.json" 2>/dev/null
if [[ -e $S/status-fail-from ]] && ((n >= $(cat "$S/status-fail-from"))); then exit 1; fi
exit "$(cat "$S/status-rc" 2>/dev/null || echo 0)"
`;
const HEALTHY = (vipHolders: number) =>
  `{"nodes": [\n${Array.from({ length: 3 }, (_, i) => `{\n  "hostname": "server${i + 1}",\n  "details": {\n    "keepalived": {"state": "running", "message": "ok", "vip_here": "${i < vipHolders ? 'yes (MASTER)' : 'no (BACKUP)'}"}\n  }\n}`).join(',\n')}\n]}\n`;

interface Pair {
  node: FakeNode;
  apply: string;
  oldBundle: string;
  newBundle: string;
  host: string;
}

/**
 * server1's node with OLD's files installed (and recorded as installed), NEW's bundle beside it,
 * the cluster healthy, and the earlier controllers of the plan done (their journals over ssh).
 */
function pair(newText: string, host = 'server1', oldText = BASE): Pair {
  const oldFiles = buildAll(oldText);
  const newFiles = buildAll(newText, { files: oldFiles, label: 'old.yaml' });
  const node = fakeNode(`apply-${host}`);
  nodes.push(node);
  const oldBundle = join(node.dir, 'old');
  const newBundle = join(node.dir, 'new');
  writeBundle(oldFiles, host, oldBundle);
  writeBundle(newFiles, host, newBundle);
  writeFileSync(join(newBundle, 'bin/status_multihead.sh'), FAKE_STATUS, { mode: 0o755 });
  const R = node.root;
  mkdirSync(join(R, 'etc/mhc'), { recursive: true });
  writeFileSync(join(R, 'etc/hosts'), '127.0.0.1 localhost\n');
  const manifest = JSON.parse(readFileSync(join(newBundle, 'manifest.json'), 'utf8')) as { secrets: string[] };
  mkdirSync(join(R, 'etc/mhc'), { recursive: true });
  writeFileSync(join(R, 'etc/mhc/secrets.env'), `${manifest.secrets.map((n) => `${n}=${(AWKWARD as Record<string, string>)[n] ?? `v-${n}-&'"\\ #`}`).join('\n')}\n`, { mode: 0o600 });
  // OLD installed as an operator did: its phase 0 (files, MHC_HOME, the installed bundle's record)
  const inst = runScript(join(oldBundle, 'bin/start_multihead.sh'), ['--phase', 'infrastructure', '--auto-confirm', '--no-color'], node.env());
  if (inst.status !== 0) throw new Error(`OLD's phase 0: ${inst.stdout}${inst.stderr}`);
  for (const u of ['mariadb', 'keepalived', 'nginx']) node.set(`active/${u}.service`);
  node.clearCalls();
  node.set('status.json', HEALTHY(1));
  node.set('active/mariadb.service');
  node.set('scontrol-ping', ['primary', 'backup1', 'backup2'].map((r, i) => `Slurmctld(${r}) at server${i + 1} is UP`).join('\n'));
  // gluster's heal summary and scontrol ping, as a healthy cluster answers them
  for (const peer of ['server2', 'server3']) node.set(`ssh/${ip(peer)}`, '');
  return { node, apply: join(newBundle, 'bin/apply_multihead.sh'), oldBundle, newBundle, host };
}
const ip = (h: string) => ({ server1: '192.168.1.101', server2: '192.168.1.102', server3: '192.168.1.103', server4: '192.168.1.104' })[h]!;
const run = (p: Pair, args: string[] = [], env: Record<string, string> = {}) =>
  runScript(p.apply, ['--auto-confirm', '--no-color', ...args], p.node.env({ MHC_WAIT_GATE: '2', MHC_GATE_EVERY: '1', MHC_WAIT_SERVICE: '2', ...env }), { timeoutMs: 120_000 });
const journal = (p: Pair) => join(p.node.root, 'var/lib/mhc/apply');
const planId = (p: Pair) => /^PLAN_ID=(\S+)$/m.exec(readFileSync(join(p.newBundle, 'plan/apply-plan.sh'), 'utf8'))![1]!;

/** The calls in order: each pattern matches one (the first), and they come in the order given; `at` finds another. */
function inOrder(node: FakeNode, patterns: readonly RegExp[]): { ls: string[]; at: (re: RegExp) => number } {
  const ls = node.calls().map((c) => c.line);
  const at = (re: RegExp) => {
    const i = ls.findIndex((l) => re.test(l));
    expect(i, String(re)).toBeGreaterThanOrEqual(0);
    return i;
  };
  const order = patterns.map(at);
  expect(order).toEqual([...order].sort((a, b) => a - b));
  return { ls, at };
}

/** Galera's wsrep_slave_threads 4 → 8 and Redis maxmemory set: both live changes. */
const LIVE = BASE.replace(/slave_threads: 4/, 'slave_threads: 8').replace(/^redis:\n/m, 'redis:\n  maxmemory: 256mb\n');

describe('apply_multihead.sh', () => {
  it('the example changes as the test means it to', () => {
    expect(LIVE).not.toBe(BASE);
    expect(LIVE).toMatch(/maxmemory: 256mb/);
  });

  it('a live change: SET GLOBAL and CONFIG SET, each read back; no daemon restarted; journalled; a second run says it is done', () => {
    const p = pair(LIVE);
    const r = run(p);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const sql = readFileSync(join(p.node.state, 'sql.log'), 'utf8');
    expect(sql).toMatch(/^SET GLOBAL wsrep_slave_threads = 8$/m);
    expect(sql).toMatch(/^SHOW GLOBAL VARIABLES LIKE 'wsrep_slave_threads'$/m);
    // every local instance gets the setting, its value on stdin
    const sets = readFileSync(join(p.node.state, 'redis-config-sets'), 'utf8').trim().split('\n');
    expect(sets.length).toBeGreaterThan(0);
    for (const s of sets) expect(s).toMatch(/^\d+ maxmemory$/);
    for (const s of sets) expect(readFileSync(join(p.node.state, 'redis-config', s.split(' ')[0]!, 'maxmemory'), 'utf8')).toBe('256mb');
    const cs = p.node.calls();
    expect(cs.filter((c) => c.cmd === 'systemctl' && /restart|stop|start/.test(c.args[0] ?? ''))).toEqual([]);
    // the new file is in place, the plan journalled done, the new bundle recorded as installed
    expect(readFileSync(join(p.node.root, 'etc/mysql/mariadb.conf.d/60-galera.cnf'), 'utf8')).toMatch(/^wsrep_slave_threads = 8$/m);
    expect(existsSync(join(journal(p), planId(p), 'done'))).toBe(true);
    const want = createHash('sha256')
      .update(readFileSync(join(p.newBundle, 'manifest.json')))
      .digest('hex');
    expect(readFileSync(join(p.node.root, INSTALLED_MARK), 'utf8').trim()).toBe(want);
    expect(r.stdout).toMatch(/mariadb: wsrep_slave_threads set and read back/);
    // no secret in the log or the output
    const log = readFileSync(join(p.node.root, 'var/log/cluster_multihead_apply.log'), 'utf8');
    for (const v of Object.values(AWKWARD).filter((x) => x.length >= 6)) {
      expect(log).not.toContain(v);
      expect(r.stdout + r.stderr).not.toContain(v);
    }
    p.node.clearCalls();
    const again = run(p);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/is applied on server1 already/);
    expect(p.node.calls().filter(mutating)).toEqual([]);
  });

  it('--dry-run: every check and what it would do; no file, no journal, no daemon touched', () => {
    const p = pair(LIVE);
    const before = treeHash(p.node.root);
    const r = run(p, ['--dry-run']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/would SET GLOBAL wsrep_slave_threads/);
    expect(r.stdout).toMatch(/would CONFIG SET maxmemory on port \d+/);
    expect(r.stdout).toMatch(/would install \/etc\/mysql\/mariadb.conf.d\/60-galera.cnf/);
    expect(claimsDone(r.stdout)).toEqual([]);
    expect(treeHash(p.node.root)).toBe(before);
    expect(p.node.calls().filter(mutating)).toEqual([]);
    expect(existsSync(join(p.node.state, 'sql.log'))).toBe(false);
  });

  it('a stale plan (another bundle installed) is refused before anything changes (exit 3)', () => {
    const p = pair(LIVE);
    writeFileSync(join(p.node.root, INSTALLED_MARK), `${'0'.repeat(64)}\n`);
    // (the run's lock and its log are the only things it writes)
    const skip = ['var/log/cluster_multihead_apply.log', 'run'];
    const before = treeHash(p.node.root, skip);
    const r = run(p);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/stale plan: it starts from a bundle whose manifest.json has sha256 [0-9a-f]{64} \(old.yaml\), but server1 has 0{64} installed/);
    expect(r.stderr).toMatch(/nothing was changed on server1/);
    expect(treeHash(p.node.root, skip)).toBe(before);
    expect(p.node.calls().filter(mutating)).toEqual([]);
  });

  it('out of turn: a controller the plan puts first has not finished (its journal, over ssh): refused', () => {
    const p = pair(LIVE);
    rmSsh(p, 'server3');
    const r = run(p);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/out of turn: the plan runs server3 before server1/);
    expect(p.node.calls().filter(mutating)).toEqual([]);
  });

  it('a cluster that is not healthy, or the VIP on two nodes, is refused before anything changes', () => {
    const p = pair(LIVE);
    p.node.set('status-rc', '1');
    const r = run(p);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/the cluster is not healthy before the apply: not every controller is healthy/);
    p.node.set('status-rc', '0');
    p.node.set('status.json', HEALTHY(2));
    const v = run(p);
    expect(v.status).toBe(3);
    expect(v.stderr).toMatch(/the VIP \S+ is on 2 nodes, not exactly one/);
    expect(p.node.calls().filter(mutating)).toEqual([]);
  });

  it('interrupted after a step (the cluster did not come back in time): exit 1 naming the rerun; the rerun resumes after the journalled step', () => {
    const p = pair(LIVE);
    // the gate before the apply passes; the one after step 1 never does
    p.node.set('status-fail-from', '2');
    const r = run(p);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/after step 1 \(mariadb\): the cluster is not healthy: .*run apply_multihead.sh again \(it resumes\)/);
    const id = planId(p);
    expect(existsSync(join(journal(p), id, 'files'))).toBe(true);
    expect(existsSync(join(journal(p), id, 'step-0'))).toBe(false);
    p.node.set('status-fail-from', '1000');
    p.node.set('status-runs', '0');
    const sqlBefore = readFileSync(join(p.node.state, 'sql.log'), 'utf8');
    const again = run(p);
    expect(again.status, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/resuming plan \S+: an earlier run installed the new files/);
    // the files were not installed again; step 1 (the SET GLOBAL, idempotent) ran again, then step 2
    expect(again.stdout).not.toMatch(/installed \/etc/);
    expect(readFileSync(join(p.node.state, 'sql.log'), 'utf8').length).toBeGreaterThan(sqlBefore.length);
    expect(existsSync(join(journal(p), id, 'done'))).toBe(true);
  });

  it('a daemon that refuses SET GLOBAL: the step fails naming what to do; nothing restarted', () => {
    const p = pair(LIVE);
    p.node.set('set-refused');
    const r = run(p);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/mariadb refused SET GLOBAL wsrep_slave_threads/);
    expect(p.node.calls().filter((c) => c.cmd === 'systemctl' && c.args[0] === 'restart')).toEqual([]);
  });

  it('a keepalived.conf its validator refuses: the old files are put back before any reload; exit 1', () => {
    const text = BASE.replace(/priority: 100/, 'priority: 105');
    expect(text).not.toBe(BASE);
    const p = pair(text);
    const conf = join(p.node.root, 'etc/keepalived/keepalived.conf');
    const old = readFileSync(conf, 'utf8');
    p.node.set('keepalived-bad');
    const r = run(p);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/keepalived --config-test -f \S+keepalived.conf refused the new files/);
    expect(r.stderr).toMatch(/the old files are back/);
    expect(readFileSync(conf, 'utf8')).toBe(old);
    expect(p.node.calls().filter((c) => c.cmd === 'systemctl' && c.args[0] === 'reload')).toEqual([]);
    // fixed: the reload, once, and the VIP config in place
    rmState(p, 'keepalived-bad');
    const ok = run(p);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(
      p.node
        .calls()
        .filter((c) => c.cmd === 'systemctl' && c.args[0] === 'reload')
        .map((c) => c.line),
    ).toEqual(['systemctl reload keepalived.service']);
    expect(readFileSync(conf, 'utf8')).toMatch(/priority 105/);
  });

  it('a restart on the VIP holder: keepalived stops first (the VIP moves at once), the member restarts through start_multihead.sh --phase database, keepalived starts again', () => {
    const text = BASE.replace(/gcache_size: 1G/, 'gcache_size: 2G');
    expect(text).not.toBe(BASE);
    const p = pair(text);
    p.node.set('vip', '192.168.1.100/24');
    for (const peer of ['server2', 'server3']) p.node.set(`up/${ip(peer)}:4567`);
    const r = run(p);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const ls = p.node.calls().map((c) => c.line);
    const at = (re: RegExp) => ls.findIndex((l) => re.test(l));
    expect(at(/^systemctl stop keepalived.service$/)).toBeGreaterThan(-1);
    expect(at(/^systemctl stop keepalived.service$/)).toBeLessThan(at(/^systemctl restart mariadb.service$/));
    expect(at(/^systemctl restart mariadb.service$/)).toBeLessThan(at(/^systemctl start keepalived.service$/));
    expect(r.stdout).toMatch(/this node holds the VIP 192.168.1.100: keepalived stops first/);
    expect(existsSync(join(journal(p), planId(p), 'vip-released'))).toBe(false);
  });

  it('compute nodes added and removed: the last controller drains the node leaving, stops every slurmctld (the others first, over ssh) and starts them primary first; an earlier one only installs slurm.conf', () => {
    const text = BASE.replace(/ {2}- \{ hostname: node004, [^\n]*\n/, '  - { hostname: node005, ip: 192.168.1.205, cpus: 32, memory: 128GB, tmp_disk: 409600 }\n').replace(
      '"node[001-004]"',
      '"node[001-003,005]"',
    );
    expect(text).toContain('node005');
    expect(text).not.toContain('node004');
    // server3, first in the plan's order: the new slurm.conf, no slurmctld stopped or started
    const first = pair(text, 'server3');
    let r = run(first);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/slurmctld here keeps the old list until server1/);
    expect(readFileSync(join(first.node.root, 'etc/slurm/slurm.conf'), 'utf8')).toMatch(/NodeName=node\[001-003,005\]|node005/);
    expect(first.node.calls().filter((c) => /slurmctld|scontrol (update|reconfigure)/.test(c.line) && mutating(c))).toEqual([]);
    // server1, last: drain node004 (its job ends first), stop server3, server2, then itself; start primary first
    const p = pair(text);
    // its state as slurmctld reports it, one line a look: running a job, draining, drained
    p.node.set('slurm-nodes/node004', ['MIXED', 'MIXED+DRAIN', 'IDLE+DRAIN'].map((st) => `NodeName=node004 Arch=x86_64 State=${st} Partitions=batch`).join('\n') + '\n');
    // the partitions (one an operator drained), and a batch launch still queued at the first two looks
    p.node.set('partitions/batch', 'UP');
    p.node.set('partitions/debug', 'DRAIN');
    p.node.set('agent-queue', '2\n1\n');
    r = run(p);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const { ls, at } = inOrder(p.node, [
      /^scontrol update NodeName=node004 State=DRAIN Reason=mhc plan [0-9a-f]+: leaves the cluster$/,
      // no job is launched while slurmctld stops: every partition DOWN, the agent queue empty
      /^scontrol update PartitionName=batch State=DOWN$/,
      /^scontrol update PartitionName=debug State=DOWN$/,
      /^sdiag$/,
      /^ssh .*root@192\.168\.1\.103 timeout 10 systemctl stop slurmctld\.service/,
      /^ssh .*root@192\.168\.1\.102 timeout 10 systemctl stop slurmctld\.service/,
      /^systemctl stop slurmctld\.service$/,
      /^systemctl start slurmctld\.service$/,
      /^ssh .*root@192\.168\.1\.102 systemctl start slurmctld\.service$/,
      /^ssh .*root@192\.168\.1\.103 systemctl start slurmctld\.service$/,
      /^scontrol reconfigure$/,
      // each partition's State as before (the operator's DRAIN kept)
      /^scontrol update PartitionName=batch State=UP$/,
      /^scontrol update PartitionName=debug State=DRAIN$/,
    ]);
    expect(ls.filter((l) => l === 'sdiag').length).toBe(3);
    expect(ls.lastIndexOf('sdiag')).toBeLessThan(at(/^ssh .*103 timeout 10 systemctl stop slurmctld/));
    // asked again after it saw the job still running: it waited for the job to end
    expect(ls.filter((l) => /^scontrol -o show node node004$/.test(l)).length).toBe(3);
    expect(r.stdout).toMatch(/node004 is MIXED\+DRAIN: waiting for its jobs to end/);
    expect(r.stdout).toMatch(/node004 is drained \(State=IDLE\+DRAIN\)/);
    // nothing else restarted
    expect(ls.filter((l) => /^systemctl (restart|stop|start) /.test(l) && !/slurmctld/.test(l))).toEqual([]);
    expect(r.stdout).toMatch(/next, on every compute node of the new bundle: bin\/start_compute.sh .*on node005, new, it is the first install/);
    expect(r.stdout).toMatch(/on node004, out of the cluster now: systemctl disable --now slurmd munge/);
    // a second run: done already
    const again = run(p);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/applied on server1 already/);
  });

  it('a controller removed: the last controller takes its brick out (replica 3) and detaches it, stops its slurmctld (over ssh) before the others restart, then stops and disables the rest of it; an earlier one only installs its files', () => {
    // OLD: a fourth controller, with a brick (replica 4); NEW: the example as it is
    const four = BASE.replace(/( {2}- hostname: server3\n(?: {4}[^\n]*\n)+)/, '$1  - hostname: server4\n    ip: 192.168.1.104\n    priority: 70\n').replace('replica_count: 3', 'replica_count: 4');
    expect(four).toMatch(/hostname: server4/);
    const first = pair(BASE, 'server3', four);
    let r = run(first);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(first.node.calls().filter((c) => /^(gluster|ssh) /.test(c.line) && /brick|detach|stop_multihead/.test(c.line))).toEqual([]);
    const p = pair(BASE, 'server1', four);
    p.node.set('gluster/volume', 'Started');
    p.node.set('gluster/bricks', ['server1', 'server2', 'server3', 'server4'].map((h) => `${h}:/data/gluster/brick`).join('\n') + '\n');
    p.node.set('gluster/peers', 'server2\nserver3\nserver4\n');
    p.node.set(`ssh/${ip('server4')}`, '');
    p.node.set('partitions/batch', 'UP');
    r = run(p);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const { ls } = inOrder(p.node, [
      /^gluster --mode=script volume remove-brick gluster_volume replica 3 server4:\/data\/gluster\/brick force$/,
      /^gluster --mode=script peer detach server4$/,
      // its slurmctld (the old SlurmctldHost list) stops first, and stays off
      /^ssh .*root@192\.168\.1\.104 \S+\/bin\/stop_multihead\.sh --service slurm --disable --auto-confirm --no-color$/,
      /^scontrol update PartitionName=batch State=DOWN$/,
      /^ssh .*root@192\.168\.1\.103 timeout 10 systemctl stop slurmctld\.service/,
      /^systemctl start slurmctld\.service$/,
      /^scontrol update PartitionName=batch State=UP$/,
      // the rest of it, once the cluster no longer needs it
      /^ssh .*root@192\.168\.1\.104 \S+\/bin\/stop_multihead\.sh --disable --auto-confirm --no-color$/,
    ]);
    // server4 is not asked to stop or start a slurmctld: it is not in the new list
    expect(ls.filter((l) => /104 .*systemctl (stop|start) slurmctld/.test(l))).toEqual([]);
    expect(readFileSync(join(p.node.state, 'gluster/bricks'), 'utf8').trim().split('\n')).toHaveLength(3);
    expect(r.stdout).toMatch(/server4 left the cluster/);
    expect(r.stdout).toMatch(/next, on every compute node of the new bundle: bin\/start_compute.sh/);
  });

  it('controllers added and removed in one plan: refused before anything changes (one plan each)', () => {
    const extra = (h: string, last: number) => BASE.replace(/( {2}- hostname: server3\n(?: {4}[^\n]*\n)+)/, `$1  - hostname: ${h}\n    ip: 192.168.1.${last}\n    priority: 70\n`);
    const p = pair(extra('server5', 105), 'server1', extra('server4', 104));
    const r = run(p, ['--dry-run']);
    expect(r.status, r.stdout + r.stderr).toBe(3);
    expect(r.stderr + r.stdout).toMatch(/adds controllers \(server5\) and removes others \(server4\)/);
    expect(p.node.calls().filter(mutating)).toEqual([]);
  });

  it('a controller added: it goes after the others (their journals, over ssh), judges the cluster through the one before it (leaving itself out), then joins by start_multihead.sh --membership --join; a node with a bundle installed is refused', () => {
    const four = BASE.replace(/( {2}- hostname: server3\n(?: {4}[^\n]*\n)+)/, '$1  - hostname: server4\n    ip: 192.168.1.104\n    priority: 70\n');
    const files = buildAll(four, { files: buildAll(BASE), label: 'old.yaml' });
    const node = fakeNode('apply-join');
    nodes.push(node);
    const bundle = join(node.dir, 'new');
    writeBundle(files, 'server4', bundle);
    writeFileSync(join(bundle, 'bin/status_multihead.sh'), FAKE_STATUS, { mode: 0o755 });
    const plan = readFileSync(join(bundle, 'plan/apply-plan.sh'), 'utf8');
    expect(plan).toMatch(/^PLAN_ORDER=\(server3 server2 server1 server4 compute\)$/m);
    expect(plan).toMatch(/^PLAN_JOINING=\(server4\)$/m);
    expect(plan).toMatch(/^PLAN_FROM_MANIFEST=''$/m);
    mkdirSync(join(node.root, 'etc/mhc'), { recursive: true });
    writeFileSync(join(node.root, 'etc/mhc/secrets.env'), '');
    const env = node.env({ MHC_WAIT_GATE: '2', MHC_GATE_EVERY: '1' });
    const go = (args: string[] = []) => runScript(join(bundle, 'bin/apply_multihead.sh'), ['--auto-confirm', '--no-color', ...args], env, { timeoutMs: 120_000 });
    // the others not done yet: out of turn
    let r = go(['--dry-run']);
    expect(r.status, r.stdout + r.stderr).toBe(3);
    expect(r.stderr + r.stdout).toMatch(/out of turn: the plan runs server3 before server4/);
    // done (their journals answer over ssh); the gate: status --all-nodes on server1, without server4
    for (const peer of ['server1', 'server2', 'server3']) node.set(`ssh/${ip(peer)}`, HEALTHY(1));
    r = go(['--dry-run']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const ssh = node
      .calls()
      .map((c) => c.line)
      .filter((l) => l.startsWith('ssh '));
    expect(
      ssh.some((l) => /root@192\.168\.1\.101 \S+\/bin\/status_multihead\.sh --all-nodes --format json --no-color --except server4$/.test(l)),
      ssh.join('\n'),
    ).toBe(true);
    expect(r.stdout).toMatch(/would run \S+\/bin\/start_multihead\.sh --membership --join/);
    expect(node.calls().filter(mutating)).toEqual([]);
    // a bundle installed here already: not a fresh node
    mkdirSync(join(node.root, 'var/lib/mhc'), { recursive: true });
    writeFileSync(join(node.root, INSTALLED_MARK.slice(1)), 'a'.repeat(64) + '\n');
    r = go(['--dry-run']);
    expect(r.status).toBe(3);
    expect(r.stderr + r.stdout).toMatch(/server4 joins the cluster in this plan, but it has a bundle installed already/);
  });

  it('a GlusterFS volume option: gluster volume set once, read back; a controller after finds it set and leaves it; an option dropped is reset', () => {
    const opts = (o: string) => BASE.replace('    mount_point: /mnt/gluster\n', `    mount_point: /mnt/gluster\n    options: { ${o} }\n`);
    const p = pair(opts('performance.cache-size: 64MB'));
    let r = run(p);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const sets = () =>
      p.node
        .calls()
        .filter((c) => c.cmd === 'gluster' && /volume (set|reset)/.test(c.line))
        .map((c) => c.line);
    expect(sets()).toEqual(['gluster --mode=script volume set gluster_volume performance.cache-size 64MB']);
    expect(readFileSync(join(p.node.state, 'gluster/options/performance.cache-size'), 'utf8')).toBe('64MB');
    expect(r.stdout).toMatch(/glusterfs: performance.cache-size set and read back/);
    // no daemon restarted for it
    expect(p.node.calls().filter((c) => c.cmd === 'systemctl' && /^(restart|stop|start)$/.test(c.args[0] ?? ''))).toEqual([]);
    // a later controller: the volume has it already (glusterd set it everywhere)
    const q = pair(opts('performance.cache-size: 64MB'), 'server3');
    q.node.set('gluster/volume', 'Started');
    q.node.set('gluster/options/performance.cache-size', '64MB');
    r = run(q);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(q.node.calls().filter((c) => c.cmd === 'gluster' && /volume (set|reset)/.test(c.line))).toEqual([]);
    expect(r.stdout).toMatch(/performance.cache-size is set on gluster_volume already/);
    // the option dropped from the YAML: gluster volume reset, read back as the default
    const d = pair(BASE, 'server1', opts('performance.cache-size: 64MB'));
    d.node.set('gluster/volume', 'Started');
    d.node.set('gluster/options/performance.cache-size', '64MB');
    r = run(d);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(
      d.node
        .calls()
        .filter((c) => c.cmd === 'gluster' && /volume (set|reset)/.test(c.line))
        .map((c) => c.line),
    ).toEqual(['gluster --mode=script volume reset gluster_volume performance.cache-size']);
    expect(d.node.has('gluster/options/performance.cache-size')).toBe(false);
  });

  it("Sentinel's settings: SENTINEL SET on the local Sentinel (the quorum from the seed, which stays as it is), each read back; no daemon restarted; a Sentinel that refuses is exit 1", () => {
    const old = BASE.replace('mode: auto', 'mode: sentinel');
    const p = pair(old.replace('mode: sentinel', 'mode: sentinel\n  sentinel: { quorum: 3, down_after_milliseconds: 3000 }'), 'server1', old);
    const r = run(p);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(join(p.node.state, 'sentinel-sets'), 'utf8').trim().split('\n').sort()).toEqual(['sentinel set mhc-redis down-after-milliseconds 3000', 'sentinel set mhc-redis quorum 3']);
    expect(r.stdout).toMatch(/Sentinel's quorum is 3, read back/);
    expect(p.node.calls().filter((c) => c.cmd === 'systemctl' && /^(restart|stop|start)$/.test(c.args[0] ?? ''))).toEqual([]);
    // Sentinel's password from its static file, through the environment
    expect(readFileSync(join(p.node.state, 'redis-auth'), 'utf8')).toMatch(/^[0-9a-f]{64}$/m);
    // the seed is never installed over Sentinel's own file (Sentinel rewrites the quorum there itself)
    expect(readFileSync(join(p.node.root, 'etc/redis/sentinel-mhc.conf'), 'utf8')).toMatch(/^sentinel monitor mhc-redis \S+ 6379 2$/m);
    const q = pair(old.replace('mode: sentinel', 'mode: sentinel\n  sentinel: { failover_timeout: 30000 }'), 'server1', old);
    q.node.set('sentinel-refused');
    const bad = run(q);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/Sentinel refused SENTINEL SET failover-timeout/);
  });

  it('a bundle without a plan names how to make one (exit 2)', () => {
    const p = pair(LIVE);
    writeFileSync(join(p.newBundle, 'plan/apply-plan.sh'), '');
    const r = runScript(join(p.oldBundle, 'bin/apply_multihead.sh'), ['--no-color'], p.node.env());
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/carries no day-2 plan .*mhc build NEW.yaml --plan-from OLD/);
  });
});

function rmSsh(p: Pair, host: string): void {
  rmState(p, `ssh/${ip(host)}`);
}
function rmState(p: Pair, path: string): void {
  rmSync(join(p.node.state, path), { force: true });
}

describe('rotate_secret.sh', () => {
  const NEW = `n3w'"\\ $(x) #pw`;
  /** hostile for bash, but no double quote (slurmdbd.conf cannot hold one) */
  const SAFE = `s4fe'\\ $(x) #pw`;
  /** a value as sql_string writes it inside its quotes */
  const sqlQuoted = (v: string) => v.replace(/[\\']/g, (c) => `\\${c}`);
  /** server1 as installed from BASE, secrets.env holding NEW for NAME. */
  function rotating(name: string, value = NEW, yaml?: string): Pair & { rotate: string } {
    const p = yaml ? pair(yaml, 'server1', yaml) : pair(LIVE);
    const env = join(p.node.root, 'etc/mhc/secrets.env');
    const text = readFileSync(env, 'utf8')
      .split('\n')
      .map((l) => (l.startsWith(`${name}=`) ? `${name}=${value}` : l))
      .join('\n');
    expect(text).toContain(`${name}=${value}`);
    writeFileSync(env, text, { mode: 0o600 });
    return { ...p, rotate: join(p.oldBundle, 'bin/rotate_secret.sh') };
  }
  const rot = (p: Pair & { rotate: string }, args: string[]) => runScript(p.rotate, [...args, '--auto-confirm', '--no-color'], p.node.env());
  const argvHas = (p: Pair, v: string) => p.node.calls().some((c) => c.args.some((a) => a.includes(v)));
  /** The peers have done their part (ssh answers their journal test); the calls forgotten; then NAME --finish, which must succeed. */
  const finish = (p: Pair & { rotate: string }, name: string) => {
    for (const peer of ['server2', 'server3']) p.node.set(`ssh/${ip(peer)}`, '');
    p.node.clearCalls();
    const fin = rot(p, [name, '--finish']);
    expect(fin.status, fin.stdout + fin.stderr).toBe(0);
    return fin;
  };

  it('the Redis password: each local instance takes both (ACL SETUSER; the value on stdin only), the files are installed, the web services restart; --finish waits for every controller, switches replication (masterauth), then keeps the new one only', () => {
    const p = rotating('REDIS_PASSWORD');
    for (const peer of ['server2', 'server3']) rmSsh(p, peer);
    const r = rot(p, ['REDIS_PASSWORD']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const lines = p.node.calls().map((c) => c.line);
    for (const port of ['6379', '6380']) expect(lines).toContain(`redis-cli -h 127.0.0.1 -p ${port} -x acl setuser default on`);
    // replication keeps the old password until --finish (a master may not take the new one yet)
    expect(lines.filter((l) => l.includes('config set masterauth'))).toEqual([]);
    expect(argvHas(p, NEW)).toBe(false);
    expect(r.stdout + r.stderr).not.toContain(NEW);
    expect(readFileSync(join(p.node.root, 'var/log/cluster_multihead_apply.log'), 'utf8')).not.toContain(NEW);
    // the static config holds the new one (escaped for redis.conf), the web services restarted
    expect(readFileSync(join(p.node.root, 'etc/redis/mhc/redis-6379.conf'), 'utf8')).toContain('requirepass "n3w\'\\"\\\\ $(x) #pw"');
    expect(lines.some((l) => /^systemctl (re)?start mhc-web-/.test(l))).toBe(true);
    expect(rot(p, ['REDIS_PASSWORD']).stdout).toMatch(/done on server1 already/);
    // --finish: the others have not run it (no journal over ssh): refused
    const early = rot(p, ['REDIS_PASSWORD', '--finish']);
    expect(early.status).toBe(3);
    expect(early.stderr).toMatch(/server2 has not run rotate_secret.sh REDIS_PASSWORD yet/);
    // they have (ssh answers the journal test): every instance of the plan keeps the new one only
    const fin = finish(p, 'REDIS_PASSWORD');
    const sets = p.node.calls().filter((c) => c.cmd === 'redis-cli' && c.line.endsWith('-x config set requirepass'));
    expect(sets.length).toBe(6);
    inOrder(p.node, [/^redis-cli -h \S+ -p \d+ -x config set masterauth$/, /^redis-cli -h \S+ -p \d+ -x config set requirepass$/]);
    expect(p.node.calls().filter((c) => c.cmd === 'redis-cli' && c.line.endsWith('-x config set masterauth')).length).toBe(6);
    expect(argvHas(p, NEW)).toBe(false);
  });

  // Sentinel mode: the user Sentinel logs in as (its password derived from the Redis password) and
  // every Sentinel's auth-pass follow; Sentinel's own password has the same two steps
  const SENT = BASE.replace('mode: auto', 'mode: sentinel');
  const at = (port: number) => ['192.168.1.101', '192.168.1.102', '192.168.1.103'].map((h) => `${h}:${port}`);
  const on = (p: Pair, tail: string) =>
    p.node
      .calls()
      .filter((c) => c.cmd === 'redis-cli' && c.line.endsWith(tail))
      .map((c) => `${c.args[c.args.indexOf('-h') + 1]}:${c.args[c.args.indexOf('-p') + 1]}`);
  /** server1 in Sentinel mode, its peers not done yet (no journal over ssh), after its part of rotating NAME: its calls. */
  const sentinelPart = (name: string) => {
    const p = rotating(name, NEW, SENT);
    for (const peer of ['server2', 'server3']) rmSsh(p, peer);
    const r = rot(p, [name]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    return { p, lines: p.node.calls().map((c) => c.line) };
  };
  it('the Redis password in Sentinel mode: each node takes both (also for the Sentinel user); --finish: replication and every Sentinel switch, then the old one goes and each instance records it', () => {
    const { p, lines } = sentinelPart('REDIS_PASSWORD');
    expect(lines).toContain('redis-cli -h 127.0.0.1 -p 6379 -x acl setuser default on');
    expect(lines).toContain('redis-cli -h 127.0.0.1 -p 6379 -x acl setuser mhc-sentinel on');
    expect(readFileSync(join(p.node.root, 'etc/redis/mhc/sentinel.conf'), 'utf8')).toContain(`sentinel auth-pass mhc-redis ${sentinelCredential(NEW)}`);
    const fin = finish(p, 'REDIS_PASSWORD');
    expect(on(p, '-x config set masterauth')).toEqual(at(6379));
    expect(on(p, '-x sentinel set mhc-redis auth-pass')).toEqual(at(26379));
    expect(on(p, '-x config set requirepass')).toEqual(at(6379));
    expect(on(p, '-x acl setuser mhc-sentinel resetpass')).toEqual(at(6379));
    expect(on(p, ' config rewrite')).toEqual(at(6379));
    inOrder(p.node, [/ -x config set masterauth$/, / -x sentinel set mhc-redis auth-pass$/, / -x config set requirepass$/, / config rewrite$/, / sentinel ckquorum mhc-redis$/]);
    for (const v of [NEW, sentinelCredential(NEW)]) expect(argvHas(p, v)).toBe(false);
    expect(fin.stdout + fin.stderr).not.toContain(NEW);
  });

  it("Sentinel's password: each Sentinel takes both credentials, the files go in (the web services restart); --finish: each logs in to the others with the new one, keeps it only and records it", () => {
    const { p, lines } = sentinelPart('REDIS_SENTINEL_PASSWORD');
    expect(lines).toContain('redis-cli -h 127.0.0.1 -p 26379 -x acl setuser default on');
    expect(lines.some((l) => /^systemctl (re)?start mhc-web-/.test(l))).toBe(true);
    const conf = readFileSync(join(p.node.root, 'etc/redis/mhc/sentinel.conf'), 'utf8');
    expect(conf).toContain(`requirepass "${sentinelCredential(NEW)}"`);
    expect(conf).toContain(`sentinel sentinel-pass ${sentinelCredential(NEW)}`);
    const early = rot(p, ['REDIS_SENTINEL_PASSWORD', '--finish']);
    expect(early.status).toBe(3);
    const fin = finish(p, 'REDIS_SENTINEL_PASSWORD');
    expect(on(p, '-x sentinel config set sentinel-pass')).toEqual(at(26379));
    expect(on(p, '-x acl setuser default resetpass')).toEqual(at(26379));
    expect(on(p, ' sentinel flushconfig')).toEqual(at(26379));
    inOrder(p.node, [/ -x sentinel config set sentinel-pass$/, / -x acl setuser default resetpass$/, / sentinel flushconfig$/, / sentinel ckquorum mhc-redis$/]);
    for (const v of [NEW, sentinelCredential(NEW)]) expect(argvHas(p, v)).toBe(false);
    expect(rot(p, ['REDIS_SENTINEL_PASSWORD', '--finish']).stdout).toMatch(/every Sentinel takes the new credential only already/);
  });

  it('the database root password: one ALTER USER on stdin (it replicates), checked over TCP; a secret it does not rotate is refused', () => {
    const p = rotating('DB_ROOT_PASSWORD');
    const r = rot(p, ['DB_ROOT_PASSWORD']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(join(p.node.state, 'sql.log'), 'utf8')).toMatch(/^ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD\('/m);
    expect(argvHas(p, NEW)).toBe(false);
    expect(p.node.calls().some((c) => c.line.includes('--protocol=tcp -h 127.0.0.1 -u root'))).toBe(true);
    const other = rot(p, ['SLURMDBD_STORAGE_PASS']);
    expect(other.status).toBe(3);
    expect(other.stderr).toMatch(/SLURMDBD_STORAGE_PASS: rotate_secret.sh rotates REDIS_PASSWORD DB_ROOT_PASSWORD KEEPALIVED_AUTH_PASS GALERA_SST_PASSWORD SLURMDBD_DB_PASSWORD MUNGE_KEY;/);
  });

  it("keepalived's auth_pass: each node gets the new keepalived.conf (checked, not reloaded); --finish waits for every node, then reloads keepalived on all of them at once", () => {
    // auth_pass: at most 8 bytes, no double quote (keepalived's parser)
    const KNEW = "k'$(x) #";
    const p = rotating('KEEPALIVED_AUTH_PASS', KNEW);
    for (const peer of ['server2', 'server3']) rmSsh(p, peer);
    const conf = join(p.node.root, 'etc/keepalived/keepalived.conf');
    // a value its validator refuses: the old file back, exit 1
    p.node.set('keepalived-bad');
    const bad = rot(p, ['KEEPALIVED_AUTH_PASS']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/the old files are back/);
    rmState(p, 'keepalived-bad');
    const r = rot(p, ['KEEPALIVED_AUTH_PASS']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(conf, 'utf8')).toContain(`auth_pass "${KNEW}"`);
    const lines = p.node.calls().map((c) => c.line);
    expect(lines.some((l) => /^keepalived --config-test -f /.test(l))).toBe(true);
    expect(lines.filter((l) => /^systemctl (reload|restart|stop|start) /.test(l))).toEqual([]);
    expect(argvHas(p, KNEW)).toBe(false);
    expect(r.stdout + r.stderr).not.toContain(KNEW);
    const early = rot(p, ['KEEPALIVED_AUTH_PASS', '--finish']);
    expect(early.status).toBe(3);
    expect(early.stderr).toMatch(/server2 has not run rotate_secret.sh KEEPALIVED_AUTH_PASS yet/);
    const fin = finish(p, 'KEEPALIVED_AUTH_PASS');
    const reloads = p.node
      .calls()
      .filter((c) => c.cmd !== 'timeout')
      .map((c) => c.line)
      .filter((l) => /systemctl reload keepalived\.service$/.test(l));
    expect(reloads.sort()).toEqual(
      [
        'ssh -n -o BatchMode=yes -o ConnectTimeout=5 root@192.168.1.102 systemctl reload keepalived.service',
        'ssh -n -o BatchMode=yes -o ConnectTimeout=5 root@192.168.1.103 systemctl reload keepalived.service',
        'systemctl reload keepalived.service',
      ].sort(),
    );
    expect(rot(p, ['KEEPALIVED_AUTH_PASS', '--finish']).stdout).toMatch(/every keepalived node runs with it already/);
  });

  // a database user's password: both valid (ALTER USER … OR …, from the stored hash), each node's
  // daemon switches, then --finish keeps the new one; the cases differ in how the daemon switches
  const dbUsers = [
    {
      name: 'GALERA_SST_PASSWORD',
      account: "'mhc_sst'@'localhost'",
      switched: (p: Pair) => /^SET GLOBAL wsrep_sst_auth = 'mhc_sst:/m.test(readFileSync(join(p.node.state, 'sql.log'), 'utf8')),
      restarts: [],
    },
    { name: 'SLURMDBD_DB_PASSWORD', account: "'slurm'@'%'", switched: () => true, restarts: ['systemctl restart slurmdbd.service'] },
  ];
  it.each(dbUsers)('$name: the user takes both passwords (once: from its stored hash), the node switches, --finish keeps the new one only', ({ name, account, switched, restarts }) => {
    if (name === 'SLURMDBD_DB_PASSWORD') {
      // slurmdbd.conf cannot hold a double quote: refused before the user is altered
      const bad = rotating(name);
      const r = rot(bad, [name]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/cannot be written as slurm/);
      expect(existsSync(join(bad.node.state, 'sql.log'))).toBe(false);
    }
    const p = rotating(name, name === 'SLURMDBD_DB_PASSWORD' ? SAFE : NEW);
    const value = name === 'SLURMDBD_DB_PASSWORD' ? SAFE : NEW;
    // another secret changed in secrets.env too (the operator's next rotation): its files are left alone
    const env = join(p.node.root, 'etc/mhc/secrets.env');
    writeFileSync(env, readFileSync(env, 'utf8').replace(/^KEEPALIVED_AUTH_PASS=.*$/m, 'KEEPALIVED_AUTH_PASS=k2other'));
    const ka = readFileSync(join(p.node.root, 'etc/keepalived/keepalived.conf'), 'utf8');
    const user = account.split("'")[1]!;
    for (const peer of ['server2', 'server3']) rmSsh(p, peer);
    p.node.set(`dbpass/${user}`, 'the-old-one');
    // slurmdbd runs here and answers on its port once restarted
    p.node.set('active/slurmdbd.service', '');
    p.node.set('up/127.0.0.1:6819', '');
    const r = rot(p, [name]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const sqlLog = () => readFileSync(join(p.node.state, 'sql.log'), 'utf8');
    expect(sqlLog()).toContain(
      `ALTER USER ${account} IDENTIFIED VIA mysql_native_password USING '*0123456789ABCDEF0123456789ABCDEF01234567' OR mysql_native_password USING PASSWORD('${sqlQuoted(value)}')`,
    );
    expect(switched(p)).toBe(true);
    expect(readFileSync(join(p.node.root, 'etc/keepalived/keepalived.conf'), 'utf8')).toBe(ka);
    expect(r.stdout).toMatch(/files that hold \S+ here: 1$/m);
    const lines = p.node.calls().map((c) => c.line);
    expect(lines.filter((l) => /^systemctl (reload|restart|stop|start) /.test(l))).toEqual(restarts);
    expect(argvHas(p, value)).toBe(false);
    expect(r.stdout + r.stderr).not.toContain(value);
    expect(readFileSync(join(p.node.root, 'var/log/cluster_multihead_apply.log'), 'utf8')).not.toContain(value);
    expect(rot(p, [name]).stdout).toMatch(/done on server1 already/);
    const early = rot(p, [name, '--finish']);
    expect(early.status).toBe(3);
    expect(early.stderr).toMatch(new RegExp(`server2 has not run rotate_secret.sh ${name} yet`));
    const fin = finish(p, name);
    expect(sqlLog()).toContain(`ALTER USER ${account} IDENTIFIED BY '${sqlQuoted(value)}'`);
    expect(argvHas(p, value)).toBe(false);
    expect(rot(p, [name, '--finish']).stdout).toMatch(/the old password is dropped already/);
  });

  it('the munge key: --at stages it and arms the switch (nothing restarted); --finish refuses until every controller is armed, then quiets Slurm around the moment: partitions DOWN, every slurmctld stopped (the last first), the switch, each controller checked, slurmctld started primary first, partitions back', () => {
    const NEWKEY = Buffer.alloc(64, 9);
    const p = rotating('MUNGE_KEY', NEWKEY.toString('base64'));
    const key = join(p.node.root, 'etc/munge/munge.key');
    const before = readFileSync(key);
    const env = p.node.env({ MHC_WAIT_SERVICE: '2', MHC_WAIT_PING: '2' });
    const rotM = (args: string[]) => runScript(p.rotate, ['MUNGE_KEY', ...args, '--auto-confirm', '--no-color'], env, { timeoutMs: 90_000 });
    expect(rotM([]).stderr).toMatch(/one of --at TIME, --finish, --cancel/);
    expect(runScript(p.rotate, ['REDIS_PASSWORD', '--at', '+1 min'], env).stderr).toMatch(/--at, --cancel, --switch: for MUNGE_KEY only/);
    const T = Math.floor(Date.now() / 1000) + 22;
    const arm = rotM(['--at', `@${T}`]);
    expect(arm.status, arm.stdout + arm.stderr).toBe(0);
    expect(readFileSync(`${key}.next`)).toEqual(NEWKEY);
    expect(readFileSync(key)).toEqual(before);
    expect(p.node.calls().find((c) => c.cmd === 'systemd-run')!.line).toMatch(/ -- \S+\/bin\/rotate_secret\.sh MUNGE_KEY --switch --secrets \S+ --no-color$/);
    expect(p.node.calls().filter(mutating)).toEqual([]);
    expect(argvHas(p, NEWKEY.toString('base64'))).toBe(false);
    // --finish: server2 is armed for another moment (its journal over ssh)
    p.node.set(`ssh/${ip('server2')}`, `${T + 60}\n`);
    p.node.set(`ssh/${ip('server3')}`, `${T}\n`);
    const early = rotM(['--finish']);
    expect(early.status).toBe(3);
    expect(early.stderr).toMatch(/server2 is not armed for this key at .*run rotate_secret\.sh MUNGE_KEY --at @\d+ there/);
    p.node.set(`ssh/${ip('server2')}`, `${T}\n`);
    p.node.set('partitions/batch', 'UP');
    p.node.clearCalls();
    const fin = rotM(['--finish']);
    expect(fin.status, fin.stdout + fin.stderr).toBe(0);
    inOrder(p.node, [
      /^scontrol update PartitionName=batch State=DOWN$/,
      /^ssh .*root@192\.168\.1\.103 timeout 10 systemctl stop slurmctld\.service/,
      /^ssh .*root@192\.168\.1\.102 timeout 10 systemctl stop slurmctld\.service/,
      /^systemctl stop slurmctld\.service$/,
      /^systemctl restart munge\.service$/,
      /^ssh .*root@192\.168\.1\.102 printf '%s' 'MUNGE:\S+' \| unmunge/,
      /^systemctl start slurmctld\.service$/,
      /^ssh .*root@192\.168\.1\.102 systemctl start slurmctld\.service$/,
      /^scontrol update PartitionName=batch State=UP$/,
    ]);
    expect(readFileSync(key)).toEqual(NEWKEY);
    expect(readFileSync(`${key}.old`)).toEqual(before);
    // the Slurm daemons hold no key: none restarted
    expect(p.node.calls().filter((c) => /^systemctl restart (slurm|slurmdbd)/.test(c.line))).toEqual([]);
    expect(rotM(['--finish']).stdout).toMatch(/every controller runs the new key already/);
  });

  it('the munge key: --finish names a compute node that does not answer after the switch (its munged kept the old key); a controller that does not decode the credential stops it', () => {
    const p = rotating('MUNGE_KEY', Buffer.alloc(64, 3).toString('base64'));
    const env = p.node.env({ MHC_WAIT_SERVICE: '2', MHC_WAIT_PING: '2' });
    const T = Math.floor(Date.now() / 1000) + 11;
    expect(runScript(p.rotate, ['MUNGE_KEY', '--at', `@${T}`, '--auto-confirm'], env).status).toBe(0);
    for (const peer of ['server2', 'server3']) p.node.set(`ssh/${ip(peer)}`, `${T}\n`);
    // too close to quiet Slurm: refused, and said what to do
    const soon = runScript(p.rotate, ['MUNGE_KEY', '--finish', '--auto-confirm'], env);
    expect(soon.status, soon.stdout + soon.stderr).toBe(3);
    expect(soon.stderr).toMatch(/too soon to quiet Slurm first\. Let it happen, then run rotate_secret\.sh MUNGE_KEY --finish/);
    // after the moment: the switch happened (the timer); --finish checks and starts what is stopped
    const until = Date.now() + 25_000;
    while (!existsSync(join(p.node.root, 'etc/munge/munge.key.old')) && Date.now() < until) spawnSync('sleep', ['0.5']);
    spawnSync('sleep', ['1']);
    p.node.set('unmunge-fails');
    const bad = runScript(p.rotate, ['MUNGE_KEY', '--finish', '--auto-confirm'], env, { timeoutMs: 90_000 });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/server2 does not decode this node's credential: the keys differ/);
    rmSync(join(p.node.state, 'unmunge-fails'));
    p.node.set('sinfo', 'node001 idle\nnode002 idle*\n');
    const cn = runScript(p.rotate, ['MUNGE_KEY', '--finish', '--auto-confirm'], env, { timeoutMs: 90_000 });
    expect(cn.status).toBe(1);
    expect(cn.stderr).toMatch(/slurmctld gets no answer from node002: their munged did not switch\? run start_compute\.sh --munge-switch there/);
    p.node.set('sinfo', 'node001 idle\nnode002 idle\n');
    const ok = runScript(p.rotate, ['MUNGE_KEY', '--finish', '--auto-confirm'], env, { timeoutMs: 90_000 });
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
  });

  it('a database user: a second node finds the new password valid and alters nothing; an unfinished earlier rotation is refused before any change', () => {
    const p = rotating('GALERA_SST_PASSWORD');
    // no dbpass: the user logs in with the new one already (another member altered it)
    const r = rot(p, ['GALERA_SST_PASSWORD']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/takes the new password already/);
    expect(readFileSync(join(p.node.state, 'sql.log'), 'utf8')).not.toMatch(/^ALTER USER/m);
    const q = rotating('GALERA_SST_PASSWORD');
    q.node.set('dbpass/mhc_sst', 'the-old-one');
    q.node.set('dbhash', 'two');
    const again = rot(q, ['GALERA_SST_PASSWORD']);
    expect(again.status).toBe(3);
    expect(again.stderr).toMatch(/an earlier rotation of GALERA_SST_PASSWORD is not finished/);
    expect(readFileSync(join(q.node.state, 'sql.log'), 'utf8')).not.toMatch(/^(ALTER|SET)/m);
  });
});
