// The deploy lab's harness: real Debian nodes (12, or 13 with MHC_DEPLOY_RELEASE=trixie) booted
// with systemd, one systemd-nspawn container per node, on the live lab's network
// (test/live/harness.ts LabNet).
//
// Layout of a run (id = 6 hex digits):
//   /var/tmp/mhc-deploy-<id>/          the run's directory (MHC_DEPLOY_KEEP=1 keeps it, and the nodes up)
//     pids                             "<node> <nspawn pid>" lines, for the sweeper
//     <node>/upper <node>/work         the overlay's writable layer (a node starts clean every run)
//     <node>/root                      the node's root: overlay of the cached Debian root (rootfs.ts)
//     <node>/console.log               the container's console
//   network namespaces mhc-dep-<id>-sw (bridge br0) and mhc-dep-<id>-<node> (eth0 on br0)
// A node is `systemd-nspawn --boot` over <node>/root, joined to its namespace
// (--network-namespace-path), with CAP_NET_ADMIN (the VIP) and /dev/fuse (the GlusterFS client).
// Commands run inside with nsenter into every namespace of the container's systemd (PID 1 inside).
// Its file system stays mounted on the machine while the node is off, so a node can be killed
// (power loss) and booted again with its disk as it was.
//
// slurmd needs writable cgroup v1 hierarchies, which nspawn mounts read-only: writableCgroups()
// remounts them read-write inside a compute node (from the machine, after each boot); slurmd's
// groups (slurm_cn<N>) are removed at teardown.
//
// Teardown (afterAll, and on exit/SIGINT/SIGTERM): every container's init is killed (its whole PID
// namespace dies with it), every process left in the lab's namespaces is killed, the namespaces
// are deleted, the overlays unmounted, the run's directory and slurmd's cgroups removed. sweepStaleDeploys() does the
// same for what a killed run left (/var/tmp/mhc-deploy-*, namespaces mhc-dep-*).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { destroyNamespaces, LabNet, namespacesNamed, now, sleep, until, type Result } from '../live/harness.js';

export { now, sleep, until, type Result };

const RUNS = '/var/tmp';
const RUN_PREFIX = 'mhc-deploy-';
const NS_PREFIX = 'mhc-dep-';

export const BASE_ENV: Record<string, string> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  HOME: '/root',
  TERM: 'dumb',
};

export function sys(cmd: string, args: string[], timeoutMs = 20_000, env: Record<string, string> = BASE_ENV, input?: string): Result {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, env, killSignal: 'SIGKILL', maxBuffer: 64 << 20, ...(input !== undefined ? { input } : {}) });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function must(cmd: string, args: string[], timeoutMs = 20_000): string {
  const r = sys(cmd, args, timeoutMs);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const comm = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
};
const children = (pid: number): number[] => {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
};
const kill = (pid: number, sig: NodeJS.Signals = 'SIGKILL'): void => {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
};
/** Mount points at or below dir (deepest first), from /proc/self/mountinfo. */
function mountsBelow(dir: string): string[] {
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const mps = lines.map((l) => l.split(' ')[4]?.replace(/\\040/g, ' ')).filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)));
  return [...new Set(mps)].sort((a, b) => b.length - a.length);
}

/** cgroup directories slurmd makes for a lab compute node (cgroup v1: slurm_<node> in each hierarchy). */
export const LAB_CGROUP = /^slurm_cn\d+$/;
const CGROUP_ROOT = '/sys/fs/cgroup';

/** Removes (deepest first) the cgroup directories of lab compute nodes, up to 4 levels down. */
export function removeLabCgroups(): void {
  const rmTree = (d: string): void => {
    try {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rmTree(join(d, e.name));
      rmdirSync(d);
    } catch {
      /* busy: left for the next sweep */
    }
  };
  const walk = (d: string, depth: number): void => {
    let entries: import('node:fs').Dirent[] = [];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      if (LAB_CGROUP.test(e.name)) rmTree(join(d, e.name));
      else if (depth > 0) walk(join(d, e.name), depth - 1);
    }
  };
  walk(CGROUP_ROOT, 4);
}

/** Kills the run's containers, unmounts and removes its directory (synchronous: exit handlers). */
function destroyRun(dir: string): void {
  const pidFile = join(dir, 'pids');
  if (existsSync(pidFile)) {
    for (const line of readFileSync(pidFile, 'utf8').split('\n')) {
      const pid = Number(line.split(' ')[1]);
      if (!pid || comm(pid) !== 'systemd-nspawn') continue;
      for (const c of children(pid)) kill(c); // the container's init: its PID namespace dies with it
      kill(pid);
    }
  }
  for (let i = 0; i < 20; i++) {
    const mps = mountsBelow(dir);
    if (!mps.length) break;
    for (const m of mps) sys('umount', [i < 10 ? '-R' : '-l', m], 10_000);
    if (mountsBelow(dir).length) sys('sleep', ['0.3']);
  }
  if (!mountsBelow(dir).length) rmSync(dir, { recursive: true, force: true });
}

/** Removes what earlier, killed runs left: containers, overlays, directories, namespaces. Returns what it found. */
export function sweepStaleDeploys(): string[] {
  const found: string[] = [];
  for (const e of readdirSync(RUNS)) {
    if (!e.startsWith(RUN_PREFIX)) continue;
    found.push(e);
    destroyRun(join(RUNS, e));
  }
  const ns = namespacesNamed(NS_PREFIX);
  destroyNamespaces(ns);
  removeLabCgroups();
  return [...found, ...ns];
}

export interface Node {
  name: string;
  ip: string;
  ns: string;
  dir: string;
  /** the node's root file system as the machine sees it */
  root: string;
  nspawn?: ChildProcess;
  nspawnPid?: number;
  /** the container's systemd (PID 1 inside) */
  init?: number;
  exited?: number | string | null;
}

export interface ExecOpts {
  timeoutMs?: number;
  env?: Record<string, string>;
  input?: string;
}

export class DeployLab {
  readonly id = randomBytes(3).toString('hex');
  readonly prefix = `${NS_PREFIX}${this.id}`;
  /** third octet of 10.214.X.0/24, chosen at random for this run */
  readonly octet = randomInt(1, 255);
  readonly dir = join(RUNS, `${RUN_PREFIX}${this.id}`);
  readonly nodes = new Map<string, Node>();
  readonly net = new LabNet(this.prefix);
  private torn = false;
  private readonly onSignal = (sig: NodeJS.Signals) => {
    this.teardown();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  private readonly onExit = () => this.teardown();

  constructor(readonly lower: string) {
    mkdirSync(this.dir, { mode: 0o755 });
    chmodSync(this.dir, 0o755);
    process.on('exit', this.onExit);
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  /** The lab config's addresses (10.214.7.x) moved to this run's subnet. */
  subst(text: string): string {
    return text.replaceAll('10.214.7.', `10.214.${this.octet}.`);
  }

  node(name: string): Node {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no lab node ${name}`);
    return n;
  }

  /** A node's path as the machine sees it. */
  path(name: string, p: string): string {
    return join(this.node(name).root, p);
  }

  /** The switch, each node's namespace and its overlay root. */
  create(nodes: readonly { name: string; ip: string }[]): void {
    this.net.createSwitch();
    this.add(nodes);
  }

  /** More nodes on the switch (a node the cluster gains on day 2): each one's namespace and overlay root. */
  add(nodes: readonly { name: string; ip: string }[]): void {
    for (const n of nodes) {
      const ns = this.net.addHost(n.name, n.ip);
      const dir = join(this.dir, n.name);
      for (const d of ['upper', 'work', 'root']) mkdirSync(join(dir, d), { recursive: true, mode: 0o755 });
      must('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${this.lower},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, join(dir, 'root')]);
      // one root serves every node, so the controllers have slurmd too, enabled as the package
      // leaves it. Debian 13's slurmd.service (Type=notify, no ConditionPathExists) started with
      // no slurm.conf holds the boot for its 90 s start timeout (Debian 12's is skipped). A real
      // controller has no slurmd, and start_compute.sh enables it on a compute node: off here.
      rmSync(join(dir, 'root/etc/systemd/system/multi-user.target.wants/slurmd.service'), { force: true });
      // debootstrap writes no /etc/hosts; Debian's installer does (localhost, the IPv6 names): as
      // on an installed node (GlusterFS's self-heal daemon finds glusterd as "localhost")
      const hosts = join(dir, 'root/etc/hosts');
      if (!existsSync(hosts)) writeFileSync(hosts, '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n', { mode: 0o644 });
      this.nodes.set(n.name, { name: n.name, ip: n.ip, ns, dir, root: join(dir, 'root') });
    }
  }

  /** Boots a node (systemd-nspawn --boot) and waits until its systemd reports the boot finished. Returns ms. */
  async boot(name: string, timeoutMs = 90_000): Promise<number> {
    const n = this.node(name);
    if (n.nspawn && n.exited === undefined) throw new Error(`${name} is running`);
    const t0 = now();
    const log = openSync(join(n.dir, 'console.log'), 'a');
    const child = spawn(
      'systemd-nspawn',
      [
        '--quiet',
        '--boot',
        '--register=no',
        '--keep-unit',
        '-D',
        n.root,
        '-M',
        name,
        `--hostname=${name}`,
        `--network-namespace-path=/run/netns/${n.ns}`,
        '--capability=CAP_NET_ADMIN',
        '--bind=/dev/fuse',
        '--resolv-conf=off',
        '--timezone=off',
        '--link-journal=no',
      ],
      { stdio: ['ignore', log, log], detached: true, env: { ...BASE_ENV, SYSTEMD_NSPAWN_TMPFS_TMP: '0' } },
    );
    closeSync(log);
    child.unref();
    n.nspawn = child;
    n.nspawnPid = child.pid!;
    n.exited = undefined;
    n.init = undefined;
    child.on('exit', (code, sig) => (n.exited = code ?? sig));
    appendFileSync(join(this.dir, 'pids'), `${name} ${child.pid}\n`);
    n.init = await until(
      `${name}'s systemd`,
      20_000,
      () => {
        if (n.exited !== undefined) throw new Error(`systemd-nspawn for ${name} exited (${n.exited}): ${this.console(name)}`);
        return children(n.nspawnPid!).find((c) => comm(c) === 'systemd');
      },
      50,
    );
    // bounded: is-system-running --wait returns once the boot is done (running or degraded)
    // (its bus socket appears a moment after it starts: until then it answers nothing, or
    // "offline"; retried until it answers with a state of the boot)
    let state = '';
    let r: Result = { status: null, stdout: '', stderr: '' };
    const early = (s: string) => s === '' || s === 'offline';
    while (early(state) && now() - t0 < timeoutMs) {
      r = await this.run(name, ['systemctl', 'is-system-running', '--wait'], { timeoutMs: Math.max(1_000, timeoutMs - (now() - t0)) });
      state = r.stdout.trim();
      if (early(state)) await sleep(100);
    }
    if (state !== 'running' && state !== 'degraded') throw new Error(`${name} did not finish booting: ${state} ${r.stderr}`);
    return now() - t0;
  }

  /** Power loss: the container's init is killed (its whole PID namespace with it). */
  async kill(name: string): Promise<void> {
    const n = this.node(name);
    if (n.init) kill(n.init);
    await until(`${name}'s systemd-nspawn to exit`, 20_000, () => n.exited !== undefined, 50);
  }

  /** A clean shutdown (systemctl poweroff inside), bounded; killed when it outlives timeoutMs. */
  async poweroff(name: string, timeoutMs = 90_000): Promise<void> {
    const n = this.node(name);
    await this.run(name, ['systemctl', 'poweroff'], { timeoutMs: 10_000 });
    try {
      await until(`${name} to power off`, timeoutMs, () => n.exited !== undefined, 100);
    } catch (e) {
      await this.kill(name);
      throw e;
    }
  }

  running(name: string): boolean {
    const n = this.node(name);
    return !!n.nspawn && n.exited === undefined;
  }

  console(name: string, chars = 4000): string {
    try {
      return readFileSync(join(this.node(name).dir, 'console.log'), 'utf8').slice(-chars);
    } catch {
      return '';
    }
  }

  /** nsenter arguments into every namespace of the node's systemd (root and cwd /). */
  enter(name: string): string[] {
    const n = this.node(name);
    if (!n.init || n.exited !== undefined) throw new Error(`${name} is not running`);
    return ['-t', String(n.init), '-m', '-u', '-i', '-n', '-p', '-C', '-r', '-w', '--'];
  }

  /** Runs argv inside the node; bounded (SIGKILL at timeoutMs). */
  exec(name: string, argv: string[], opts: ExecOpts = {}): Result {
    return sys('nsenter', [...this.enter(name), ...argv], opts.timeoutMs ?? 30_000, { ...BASE_ENV, ...opts.env }, opts.input);
  }

  bash(name: string, script: string, opts: ExecOpts = {}): Result {
    return this.exec(name, ['bash', '-c', script], opts);
  }

  /** Like bash(), but throws on a non-zero exit. */
  must(name: string, script: string, opts: ExecOpts = {}): string {
    const r = this.bash(name, script, opts);
    if (r.status !== 0) throw new Error(`on ${name}: exit ${r.status}: ${script.slice(0, 300)}\n${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /**
   * What an operator looks at after a failed start, for the test's output: the failed units and
   * their journals, the disk and the memory of the node (a CI machine is not this one).
   */
  diagnose(name: string): string {
    const script = [
      'echo "--- systemctl --failed"; systemctl --failed --no-legend --plain',
      'for u in $(systemctl --failed --no-legend --plain | awk \'{ print $1 }\'); do echo "--- journalctl -u $u"; journalctl -u "$u" -n 40 --no-pager -o cat; done',
      'echo "--- df -h / /var/lib /run"; df -h / /var/lib /run',
      'echo "--- free -m"; free -m',
    ].join('; ');
    const r = this.bash(name, script, { timeoutMs: 30_000 });
    return `${r.stdout}${r.stderr}`;
  }

  /** Async, bounded run inside the node (the event loop keeps running: several nodes at once). */
  run(name: string, argv: string[], opts: ExecOpts = {}): Promise<Result> {
    const args = [...this.enter(name), ...argv];
    return new Promise((resolve) => {
      const p = spawn('nsenter', args, { env: { ...BASE_ENV, ...opts.env } });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      if (opts.input !== undefined) p.stdin.end(opts.input);
      else p.stdin.end();
      const t = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
      p.on('close', (status) => {
        clearTimeout(t);
        resolve({ status, stdout, stderr });
      });
    });
  }

  runBash(name: string, script: string, opts: ExecOpts = {}): Promise<Result> {
    return this.run(name, ['bash', '-c', script], opts);
  }

  /** Main PID of a unit inside the node (0 when not running). */
  mainPid(name: string, unit: string): number {
    return Number(this.exec(name, ['systemctl', 'show', '-p', 'MainPID', '--value', unit]).stdout.trim() || 0);
  }

  /** IPv4 addresses on a node's eth0. */
  addrs(name: string): string[] {
    const out = sys('ip', ['-n', this.node(name).ns, '-4', '-o', 'addr', 'show', 'dev', 'eth0'], 5000).stdout;
    return [...out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]!);
  }

  teardown(): void {
    if (this.torn) return;
    this.torn = true;
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    if (process.env.MHC_DEPLOY_KEEP) {
      // for working on the lab: everything stays up (enter a node with nsenter -t PID -a); the next run sweeps it
      for (const n of this.nodes.values()) console.log(`[deploy] kept ${n.name}: nsenter -t ${n.init} -a bash`);
      return;
    }
    for (const n of this.nodes.values()) {
      if (n.init) kill(n.init);
      if (n.nspawnPid && comm(n.nspawnPid) === 'systemd-nspawn') kill(n.nspawnPid);
    }
    // every process left in the lab's namespaces (the containers' and any nsenter'd command)
    this.net.destroy();
    destroyRun(this.dir);
    for (let i = 0; i < 10; i++) {
      removeLabCgroups();
      if (!sys('find', [CGROUP_ROOT, '-maxdepth', '5', '-type', 'd', '-regex', '.*/slurm_cn[0-9]+'], 10_000).stdout.trim()) break;
      sys('sleep', ['0.3']);
    }
  }

  /**
   * The node's cgroup v1 hierarchies writable, as on a real node (systemd-nspawn mounts them
   * read-only; slurmd's proctrack/task cgroup plugins make their own groups). After every boot.
   */
  writableCgroups(name: string): void {
    this.must(name, `for c in /sys/fs/cgroup/*/; do c=\${c%/}; [ "$(findmnt -n -o FSTYPE "$c")" = cgroup ] && mount -o remount,bind,rw "$c"; done; true`);
  }
}
