// The fan-out benchmarks of `npm run bench` (bench.mjs loads this file through esbuild):
//
// labBench: deploy.sh (clush, direct and through two gateways) and the Ansible playbook, one after
// the other, against the same N-host ssh lab of test/live/sshlab.ts (the scale lab's machinery:
// network namespaces `mhc-bch-<id>-*` on a bridge, a random 10.216.X.0/24 that exists only
// inside them, sshd on every host). Each run does the same work on fresh hosts: check, push the
// bundle, secrets, apply (the compute bundle's start_compute.sh --dry-run) and verify; then once
// more with the bundle in place. Figures: wall time, the time of each step, CPU time of the
// admin host's processes (driver, ssh clients) and of the hosts' (sshd, node.sh, the gateways'
// clush), and each node's result.
//
// noopBench: deploy.sh against the 10,000 compute nodes of bench/synthetic.mjs whose "ssh" is a
// local stub that contacts nothing and prints the status line node.sh would print; so the figure
// is the driver's own cost per node (deploy.sh, clush, nodeset, one stub process per node and
// step): wall ms/node, CPU, peak RSS of the largest process, for each step run on its own (each
// bounded: push, which sends the bundle through clush's stdin, grows faster than the node count).
//
// Nothing here asserts: it reports. Every run and wait is bounded; the lab is torn down at the
// end, on failure and on Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BASE_ENV, now, sleep } from '../test/live/harness.js';
import { byStatus, SshLab, sshLabMissing, type Command } from '../test/live/sshlab.js';
import { syntheticCluster } from './synthetic.mjs';

type Log = (line: string) => void;

interface Timed {
  status: number | null;
  signal: string | null;
  /** cut at its time limit */
  cut: boolean;
  stdout: string;
  stderr: string;
  ms: number;
  /** [label, ms since start] of each output line matching the mark pattern */
  marks: [string, number][];
  /** the largest VmRSS of one process of the group, sampled every 0.5 s (with sampleRss), MB */
  sampledRssMB?: number;
}

/** The largest VmRSS (MB) among the live processes of process group pgid. */
function groupRssMB(pgid: number): number {
  let max = 0;
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) continue;
      const kb = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${e}/status`, 'utf8'))?.[1] ?? 0);
      max = Math.max(max, kb / 1024);
    } catch {
      /* gone */
    }
  }
  return max;
}

/** Groups of the commands running now: killed (SIGKILL) on exit, so Ctrl-C leaves none behind. */
const running = new Set<number>();
const killRunning = () => {
  for (const pid of running)
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
};
process.on('exit', killRunning);

/** Runs a command (its own process group) with a time limit; timestamps the output lines that match `mark`. */
function runTimed(c: Command, opts: { timeoutMs: number; mark?: RegExp; sampleRss?: boolean }): Promise<Timed> {
  return new Promise((resolve) => {
    const t0 = now();
    const p = spawn(c.cmd, c.args, { env: c.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(p.pid!);
    let stdout = '';
    let stderr = '';
    let partial = '';
    const marks: [string, number][] = [];
    p.stdout.on('data', (d: Buffer) => {
      const s = d.toString('utf8');
      stdout += s;
      if (!opts.mark) return;
      const lines = (partial + s).split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        const m = opts.mark.exec(l);
        if (m) marks.push([m[1] ?? l, now() - t0]);
      }
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    let cut = false;
    let rss = 0;
    const sampler = opts.sampleRss ? setInterval(() => (rss = Math.max(rss, groupRssMB(p.pid!))), 500) : undefined;
    const timer = setTimeout(() => {
      cut = true;
      try {
        process.kill(-p.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, opts.timeoutMs);
    p.on('close', (status, signal) => {
      clearTimeout(timer);
      if (sampler) clearInterval(sampler);
      running.delete(p.pid!);
      resolve({ status, signal, cut, stdout, stderr, ms: now() - t0, marks, ...(opts.sampleRss ? { sampledRssMB: rss } : {}) });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median wall time of `node -e 0` over n runs (the baseline every section of the bench prints). */
export function bareNode(n = 5): number {
  const xs: number[] = [];
  for (let i = 0; i < n + 1; i++) {
    const t = now();
    spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore', timeout: 10_000 });
    if (i) xs.push(now() - t);
  }
  return median(xs);
}

/** The step splits of a run: "start 0.3, check 0.4, push 1.1, …" s (start: until the first mark; each mark until the next, the last until the end). */
function splits(t: Timed, label: (s: string) => string = (s) => s): string {
  const start = t.marks.length ? [`start ${(t.marks[0]![1] / 1000).toFixed(2)}`] : [];
  return [...start, ...t.marks.map(([name, at], i) => `${label(name)} ${(((t.marks[i + 1]?.[1] ?? t.ms) - at) / 1000).toFixed(2)}`)].join(', ');
}

/**
 * CPU time of process groups, by cgroup (v1 cpuacct, else v2): processes are put in at their
 * start, their children follow, and the counters keep what exited processes used. Our own
 * `mhc-bch-<id>` directory only, removed at the end.
 */
class CpuGroups {
  private constructor(
    private readonly dir: string,
    private readonly v1: boolean,
  ) {}

  /**
   * Makes `<prefix><id>/<sub>` for each sub; first removes the empty groups of earlier runs whose
   * scratch directory (/tmp/<prefix><id>) the lab's sweeper has removed. Removed on exit too.
   */
  static open(prefix: string, id: string, subs: string[]): CpuGroups | undefined {
    const v1 = '/sys/fs/cgroup/cpuacct';
    const v2 = '/sys/fs/cgroup';
    const top = existsSync(join(v1, 'cpuacct.usage')) ? v1 : existsSync(join(v2, 'cgroup.controllers')) ? v2 : undefined;
    if (!top) return undefined;
    for (const n of readdirSync(top))
      if (n.startsWith(prefix) && n !== `${prefix}${id}` && !existsSync(join('/tmp', n)))
        new CpuGroups(join(top, n), top === v1).remove(
          readdirSync(join(top, n), { withFileTypes: true })
            .filter((e) => e.isDirectory())
            .map((e) => e.name),
          1,
        );
    try {
      const g = new CpuGroups(join(top, `${prefix}${id}`), top === v1);
      for (const s of subs) mkdirSync(join(g.dir, s), { recursive: true });
      process.once('exit', () => g.remove(subs));
      g.read(subs[0]!);
      return g;
    } catch {
      return undefined;
    }
  }

  /** Moves a running process (and its later children) into the group. */
  add(sub: string, pid: number): void {
    writeFileSync(join(this.dir, sub, 'cgroup.procs'), `${pid}\n`);
  }

  /** argv that joins the group and execs the rest (run in the root namespaces, where /sys/fs/cgroup is). */
  wrap(sub: string): string[] {
    return ['bash', '-c', 'echo $$ >"$0" && exec "$@"', join(this.dir, sub, 'cgroup.procs')];
  }

  /** user and system seconds so far. */
  read(sub: string): { user: number; sys: number } {
    const d = join(this.dir, sub);
    if (this.v1) {
      if (existsSync(join(d, 'cpuacct.usage_user')))
        return { user: Number(readFileSync(join(d, 'cpuacct.usage_user'), 'utf8')) / 1e9, sys: Number(readFileSync(join(d, 'cpuacct.usage_sys'), 'utf8')) / 1e9 };
      const st = readFileSync(join(d, 'cpuacct.stat'), 'utf8');
      return { user: Number(/user (\d+)/.exec(st)![1]) / 100, sys: Number(/system (\d+)/.exec(st)![1]) / 100 };
    }
    const st = readFileSync(join(d, 'cpu.stat'), 'utf8');
    return { user: Number(/user_usec (\d+)/.exec(st)![1]) / 1e6, sys: Number(/system_usec (\d+)/.exec(st)![1]) / 1e6 };
  }

  /** Removes the groups once their processes are gone (bounded: `tries` × 0.2 s). */
  remove(subs: string[], tries = 25): void {
    for (let i = 0; i < tries && existsSync(this.dir); i++) {
      try {
        for (const s of subs) if (existsSync(join(this.dir, s))) rmdirSync(join(this.dir, s));
        rmdirSync(this.dir);
      } catch {
        if (i + 1 < tries) spawnSync('sleep', ['0.2']);
      }
    }
  }
}

interface LabRow {
  label: string;
  run: 'fresh' | 'again';
  t: Timed;
  cpu?: { admin: number; hosts: number };
  /** folded result per status: "ok c[01-40]" */
  results: string;
  splits: string;
}

/** The deploy.sh and Ansible runs on an N-host ssh lab (see the file's head). */
export async function labBench(o: { root: string; hosts: number; rounds: number; log: Log }): Promise<void> {
  const { log } = o;
  const missing = sshLabMissing();
  if (missing) {
    log(`ssh lab: skipped (${missing})`);
    return;
  }
  const lab = new SshLab({ prefix: 'mhc-bch-', net16: '10.216', computeCount: o.hosts, root: o.root, cluster: 'bch' });
  let cpu: CpuGroups | undefined;
  const SUBS = ['admin', 'hosts'];
  try {
    const upMs = lab.up();
    await lab.waitListening(60_000);
    const direct = lab.build(lab.yaml('{ admin_host: admin, connect_timeout: 10, command_timeout: 300 }'), 'out-direct');
    const tree = lab.build(lab.yaml('{ admin_host: admin, gateways: [ctl1, ctl2], connect_timeout: 10, command_timeout: 300 }'), 'out-tree');
    cpu = CpuGroups.open('mhc-bch-', lab.id, SUBS);
    if (cpu) for (const h of lab.sshdHosts) cpu.add('hosts', lab.sshdPid(h));
    const all = lab.fold(lab.computeNames);
    const N = o.hosts;

    // the floor: one ssh round trip, one clush round on every host, one Ansible ad-hoc round
    const ssh: number[] = [];
    for (let i = 0; i < 5; i++) ssh.push((await runTimed(lab.adminCommand(['ssh', '-oBatchMode=yes', lab.computeNames[0]!, 'true']), { timeoutMs: 20_000 })).ms);
    const clushRound = await runTimed(lab.adminCommand(['clush', '-f', '64', '-o', '-oBatchMode=yes', '-w', all, 'true']), { timeoutMs: 60_000 });
    let cp = 0;
    const ansibleSsh = () => `-F /etc/ssh/ssh_config -C -o ControlMaster=auto -o ControlPersist=60s -o ControlPath=${lab.adminEnv.HOME}/cp-${++cp}-%C`;
    const adhoc = await runTimed(
      lab.adminCommand(['bash', '-c', 'cd "$1" && exec ansible compute -m ansible.builtin.command -a true', 'ansible', join(direct, 'ansible')], {
        env: { ANSIBLE_SSH_ARGS: ansibleSsh(), ANSIBLE_HOST_KEY_CHECKING: 'False' },
      }),
      { timeoutMs: 120_000 },
    );
    await settle(lab);
    const base = bareNode();
    log(
      `ssh lab: ${N} compute hosts + admin + 2 gateways, network namespaces up in ${(upMs / 1000).toFixed(1)} s; apply = start_compute.sh --dry-run (deploy.sh --node-dry-run, -e mhc_node_dry_run=true)`,
    );
    log(
      `  floor: bare node -e 0 ${base.toFixed(0)} ms; ssh admin→${lab.computeNames[0]} true ${median(ssh).toFixed(0)} ms; clush -w ${all} true ${clushRound.ms} ms (exit ${clushRound.status}); ` +
        `ansible compute -m command -a true ${adhoc.ms} ms (exit ${adhoc.status})`,
    );

    const variants: { label: string; command: () => Command; mark: RegExp; ansible?: boolean }[] = [
      {
        label: 'deploy.sh all, clush direct',
        command: () => lab.deployCommand(['all', '--nodes', '@compute', '--node-dry-run', '--secrets', lab.secrets], { deployDir: direct, ...(cpu ? { wrap: cpu.wrap('admin') } : {}) }),
        mark: /^deploy\.sh: (check|push|secrets|apply|verify): /,
      },
      {
        label: 'deploy.sh all, clush tree (2 gw)',
        command: () => lab.deployCommand(['all', '--nodes', '@compute', '--node-dry-run', '--secrets', lab.secrets], { deployDir: tree, ...(cpu ? { wrap: cpu.wrap('admin') } : {}) }),
        mark: /^deploy\.sh: (check|push|secrets|apply|verify): /,
      },
      {
        label: 'ansible-playbook site.yml',
        command: () =>
          lab.ansibleCommand(['--limit', 'compute', '-e', `mhc_secrets=${lab.secrets}`, '-e', 'mhc_node_dry_run=true'], {
            deployDir: direct,
            sshArgs: ansibleSsh(),
            ...(cpu ? { wrap: cpu.wrap('admin') } : {}),
          }),
        mark: /^TASK \[(.+?)\]/,
        ansible: true,
      },
    ];
    const rows: LabRow[] = [];
    for (let round = 0; round < o.rounds; round++) {
      for (const v of variants) {
        for (const h of lab.computeNames) lab.resetHost(h);
        for (const run of ['fresh', 'again'] as const) {
          const before = cpu && { admin: cpu.read('admin'), hosts: cpu.read('hosts') };
          const t = await runTimed(v.command(), { timeoutMs: 900_000, mark: v.mark });
          await settle(lab);
          const after = cpu && { admin: cpu.read('admin'), hosts: cpu.read('hosts') };
          const used = (a: { user: number; sys: number }, b: { user: number; sys: number }) => b.user + b.sys - a.user - a.sys;
          let results: string;
          if (v.ansible) {
            const recap = SshLab.recap(t.stdout);
            const st = new Map<string, string>();
            for (const h of lab.computeNames) {
              const r = recap.get(h);
              st.set(h, !r ? 'no recap' : r.unreachable ? 'unreachable' : r.failed ? 'failed' : `ok (changed=${r.changed})`);
            }
            results = foldResults(lab, st);
          } else {
            const r = lab.readRun(t, t.ms);
            results = r.rows.size ? foldResults(lab, r.rows) : `no results (exit ${t.status}): ${t.stderr.slice(-300)}`;
          }
          rows.push({
            label: v.label,
            run,
            t,
            ...(before && after ? { cpu: { admin: used(before.admin, after.admin), hosts: used(before.hosts, after.hosts) } } : {}),
            results,
            splits: splits(t, (s) => ANSIBLE_TASK[s] ?? s),
          });
        }
      }
    }
    log(
      `${'  run'.padEnd(36)} ${''.padEnd(6)} ${'wall s'.padStart(8)} ${'× node -e 0'.padStart(12)} ${'admin CPU s'.padStart(12)} ${'hosts CPU s'.padStart(12)} ${'CPU ms/node'.padStart(12)}  results`,
    );
    for (const r of rows) {
      const c = r.cpu;
      log(
        `  ${r.label.padEnd(34)} ${r.run.padEnd(6)} ${(r.t.ms / 1000).toFixed(2).padStart(8)} ${(r.t.ms / base).toFixed(0).padStart(12)} ${(c ? c.admin.toFixed(2) : 'n/a').padStart(12)} ${(c ? c.hosts.toFixed(2) : 'n/a').padStart(12)} ${(c ? (((c.admin + c.hosts) * 1000) / N).toFixed(0) : 'n/a').padStart(12)}  exit ${r.t.status}: ${r.results}`,
      );
      log(`  ${''.padEnd(34)} ${''.padEnd(6)} steps (s): ${r.splits}`);
    }
    if (!cpu) log('  (no cgroup for CPU time on this machine: n/a)');
  } finally {
    lab.teardown();
    cpu?.remove(SUBS);
  }
}

/** Site.yml's task names, shortened to deploy.sh's step names. */
const ANSIBLE_TASK: Record<string, string> = {
  'Facts of the bundle': 'facts',
  'Check the node': 'check',
  'Is the bundle here already': 'probe',
  'Push the bundle': 'push',
  'Write secrets.env with the names of this bundle only': 'secrets',
  "Apply (the bundle's start script)": 'apply',
  Verify: 'verify',
};

/** "ok c[01-40]; failed rc=1 c07": one folded nodeset per status. */
function foldResults(lab: SshLab, rows: ReadonlyMap<string, string>): string {
  return Object.entries(byStatus(rows))
    .map(([s, nodes]) => `${s} ${nodes.length === 1 ? nodes[0] : lab.fold(nodes)}`)
    .join('; ');
}

/**
 * After a run: kills what is left on the admin host (Ansible's ControlPersist ssh masters; no
 * other process lives there), then waits until every host runs only its sshd listener again, so
 * the next run starts clean and the CPU counters hold the whole run. Bounded.
 */
async function settle(lab: SshLab): Promise<void> {
  const pids = (ns: string) => spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 5000 }).stdout.split(/\s+/).filter(Boolean).map(Number);
  lab.signalHost('admin', 'SIGTERM');
  const end = now() + 15_000;
  while (now() < end) {
    if (!pids(lab.ns('admin')).length && lab.sshdHosts.every((h) => pids(lab.ns(h)).length <= 1)) return;
    await sleep(100);
  }
  lab.signalHost('admin', 'SIGKILL');
}

/**
 * deploy.sh against `nodes` synthetic compute nodes whose ssh is a local no-op stub (see the
 * file's head): each step of `steps` a run of its own, bounded by `stepLimitS` (push sends the
 * bundle to every node through clush's stdin: the step that grows fastest with the node count).
 */
export async function noopBench(o: { root: string; work: string; nodes: number; steps: string[]; stepLimitS: number; log: Log }): Promise<void> {
  const { log, work } = o;
  for (const t of ['clush', 'nodeset', '/usr/bin/time'])
    if (spawnSync('bash', ['-c', `command -v ${t}`]).status !== 0) {
      log(`deploy.sh, local no-op targets: skipped (${t} is missing: run scripts/setup-ci.sh)`);
      return;
    }
  const dir = join(work, 'noop');
  mkdirSync(dir, { recursive: true });
  const yaml = join(dir, 'synthetic.yaml');
  writeFileSync(yaml, syntheticCluster(o.nodes));
  const mhc = join(o.root, 'bin', 'mhc.cjs');
  for (const args of [
    ['build', yaml, '-o', join(dir, 'out')],
    ['secrets', 'init', yaml, '-o', join(dir, 'secrets.env')],
  ]) {
    const r = spawnSync(process.execPath, [mhc, ...args], { encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`mhc ${args.join(' ')}: ${r.stderr}`);
  }
  const deployDir = join(dir, 'out', 'synthetic', 'deploy');
  // the stand-in for ssh: contacts nothing, reads what deploy.sh sends on stdin, prints the status
  // line node.sh would (probe: the bundle is not there, so push sends it to every node)
  const stub = join(dir, 'stub');
  mkdirSync(stub);
  writeFileSync(
    join(stub, 'ssh'),
    `#!/bin/sh
# ssh stand-in (npm run bench): the last argument is deploy.sh's remote command
for a do last=$a; done
case $last in
  *' node.sh probe '*) echo 'MHC-STATUS stale 0 stub: bundle not here' ;;
  *' node.sh receive '* | *' node.sh secrets '*) cat >/dev/null && echo 'MHC-STATUS ok 0 stub' ;;
  *) echo 'MHC-STATUS ok 0 stub' ;;
esac
`,
  );
  chmodSync(join(stub, 'ssh'), 0o755);
  // the stub first on PATH and named as clush's ssh_path: no real ssh runs
  const env = { ...BASE_ENV, PATH: `${stub}:${BASE_ENV.PATH}`, CLUSTERSHELL_CFGDIR: join(deployDir, 'clustershell') };
  const sshPath = `-Ossh_path=${join(stub, 'ssh')}`;
  const probe = spawnSync('clush', [sshPath, '-w', 'r001n01', 'bash node.sh probe x'], { encoding: 'utf8', env, timeout: 30_000 });
  if (probe.stdout.trim() !== 'r001n01: MHC-STATUS stale 0 stub: bundle not here') throw new Error(`the ssh stub does not answer for clush: ${probe.stdout}${probe.stderr}`);

  const timeFile = join(dir, 'time');
  const timed = (argv: string[]): Command => ({ cmd: '/usr/bin/time', args: ['-f', '%e %U %S %M', '-o', timeFile, ...argv], env });
  /** CPU s and peak RSS MB of the last timed() command, or undefined when it was cut (time was killed with it) */
  const readTime = () => {
    try {
      const [, user, sys, rss] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      return Number.isFinite(user! + sys! + rss!) ? { cpu: user! + sys!, rssMB: rss! / 1024 } : undefined;
    } finally {
      rmSync(timeFile, { force: true });
    }
  };
  const N = o.nodes;
  const n = N.toLocaleString('en');
  const base = bareNode();
  // the stub alone: 1,000 calls from a bash loop (the part of a node's cost that is not the driver's)
  const loop = await runTimed(timed(['bash', '-c', 'for ((i = 0; i < 1000; i++)); do "$0" -oBatchMode=yes r001n01 "x node.sh check y" </dev/null; done >/dev/null', join(stub, 'ssh')]), {
    timeoutMs: 120_000,
  });
  const loopT = readTime();
  // the floor: one bare clush round over every node (no deploy.sh)
  const round = await runTimed(timed(['clush', '-f', '64', sshPath, '-w', '@compute', 'true']), { timeoutMs: o.stepLimitS * 1000, sampleRss: true });
  const roundT = readTime();
  const bundle = tarSize(join(dir, 'out', 'synthetic', 'compute'));
  log(
    `deploy.sh, ${n} local no-op targets (ssh = a stub that contacts nothing), fanout 64, batch 256, --node-dry-run; each step a run of its own, at most ${o.stepLimitS} s; the compute bundle ${(bundle / 1024).toFixed(0)} KB as base64`,
  );
  log(
    `  floor: bare node -e 0 ${base.toFixed(0)} ms; the ssh stub alone ${(loop.ms / 1000).toFixed(2)} ms/call (CPU ${loopT ? loopT.cpu.toFixed(2) : 'n/a'} ms/call); ` +
      `one clush round (true) on ${n}: ${(round.ms / 1000).toFixed(1)} s, ${(round.ms / N).toFixed(2)} ms/node, CPU ${roundT ? `${roundT.cpu.toFixed(1)} s` : 'n/a'}, peak RSS ${(roundT?.rssMB ?? round.sampledRssMB ?? 0).toFixed(0)} MB (exit ${round.status})`,
  );
  log(
    `  ${'step'.padEnd(8)} ${'wall s'.padStart(8)} ${'ms/node'.padStart(8)} ${'× node -e 0'.padStart(12)} ${'CPU s'.padStart(7)} ${'CPU ms/node'.padStart(12)} ${'peak RSS MB'.padStart(12)}  results`,
  );
  let total = 0;
  let totalCpu = 0;
  for (const step of o.steps) {
    const runs = join(dir, 'runs', step);
    const t = await runTimed(
      timed([
        'bash',
        join(deployDir, 'deploy.sh'),
        step,
        '--nodes',
        '@compute',
        '--node-dry-run',
        ...(step === 'secrets' ? ['--secrets', join(dir, 'secrets.env')] : []),
        '--clush-opt',
        sshPath,
        '--runs',
        runs,
      ]),
      { timeoutMs: o.stepLimitS * 1000, sampleRss: true },
    );
    const tt = readTime();
    total += t.ms;
    totalCpu += tt?.cpu ?? NaN;
    const counts = new Map<string, number>();
    const m = /results: (\S+)\/results\.tsv/.exec(t.stdout);
    if (m) for (const row of JSON.parse(readFileSync(join(m[1]!, 'results.json'), 'utf8')) as { status: string }[]) counts.set(row.status, (counts.get(row.status) ?? 0) + 1);
    let results = [...counts].map(([s, k]) => `${s} ${k}`).join(', ');
    if (t.cut)
      results = `cut at ${o.stepLimitS} s: ${answered(runs).toLocaleString('en')} of ${n} nodes had answered${step === 'push' ? ` (the bundle goes through clush's stdin, one copy per node)` : ''}`;
    else if (!results) results = `no results: ${t.stderr.slice(-300)}`;
    const rss = tt?.rssMB ?? t.sampledRssMB ?? 0;
    log(
      `  ${step.padEnd(8)} ${(t.ms / 1000).toFixed(1).padStart(8)} ${(t.ms / N).toFixed(2).padStart(8)} ${(t.ms / N / base).toFixed(3).padStart(12)} ${(tt ? tt.cpu.toFixed(1) : 'n/a').padStart(7)} ${(tt ? ((tt.cpu * 1000) / N).toFixed(2) : 'n/a').padStart(12)} ${rss.toFixed(0).padStart(12)}  exit ${t.status}: ${results}`,
    );
  }
  if (o.steps.length > 1)
    log(
      `  ${'total'.padEnd(8)} ${(total / 1000).toFixed(1).padStart(8)} ${(total / N).toFixed(2).padStart(8)} ${(total / N / base).toFixed(3).padStart(12)} ${(Number.isFinite(totalCpu) ? totalCpu.toFixed(1) : 'n/a').padStart(7)} ${(Number.isFinite(totalCpu) ? ((totalCpu * 1000) / N).toFixed(2) : 'n/a').padStart(12)}`,
    );
}

/** Bytes of a bundle as deploy.sh push sends it (tar, base64). */
function tarSize(bundleDir: string): number {
  const r = spawnSync('bash', ['-c', 'tar -C "$1" --sort=name --owner=0 --group=0 --numeric-owner -cf - . | base64 -w0 | wc -c', 'tar', bundleDir], { encoding: 'utf8', timeout: 60_000 });
  return Number(r.stdout.trim());
}

/** Status lines clush had written for the run under `runs` that was cut (deploy.sh's .out.* files). */
function answered(runs: string): number {
  let k = 0;
  if (!existsSync(runs)) return 0;
  for (const run of readdirSync(runs))
    for (const f of readdirSync(join(runs, run)))
      if (f.startsWith('.out.'))
        k += readFileSync(join(runs, run, f), 'utf8')
          .split('\n')
          .filter((l) => l.includes(': MHC-STATUS ')).length;
  return k;
}
