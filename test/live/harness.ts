// The live lab's harness: hosts made of network namespaces, each with the generated files at
// their real paths, and daemons started from them.
//
// Layout (nothing in the root network namespace changes; every address exists only inside):
//   mhc-lab-<id>-sw      the "switch": a bridge br0 and one veth end per host
//   mhc-lab-<id>-<host>  one per host: lo and eth0 (the other veth end) with the host's address
// Each host also has a private mount and UTS namespace, held open by a `sleep` process (the
// holder) and entered with nsenter: hostname = the host's name; a fresh /sys for its network
// namespace (the host's cgroup hierarchies bound back in, for slurmd); bind mounts of scratch
// directories over /etc (a copy of the machine's /etc with the bundle's files installed as the
// start scripts install them), /run, /usr/local/sbin, /mnt and the daemons' /var/lib and /var/log
// directories. So every daemon reads the generated file at its real path, unchanged, and only
// scratch directories differ from a real node.
//
// Teardown (afterAll, and on exit/SIGINT/SIGTERM): every process in each host's network
// namespace is killed (they are all the lab's), the namespaces are deleted (the mount
// namespaces die with their last process), the scratch directory is removed. A sweeper run at
// start does the same for namespaces named mhc-lab-* that an earlier, killed run left behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { BundleFile } from '../../src/compiler/bundle.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const now = (): number => Number(process.hrtime.bigint() / 1_000_000n);

/** Polls fn until it returns a truthy value; throws (naming `what`) after timeoutMs. */
export async function until<T>(what: string, timeoutMs: number, fn: () => T | Promise<T>, intervalMs = 200): Promise<NonNullable<T>> {
  const end = now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(intervalMs);
  }
}

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The environment every lab process gets: nothing of the test runner's. */
export const BASE_ENV: Record<string, string> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  HOME: '/root',
};

function sys(cmd: string, args: string[], timeoutMs = 20_000, env: Record<string, string> = BASE_ENV): Result {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, env, killSignal: 'SIGKILL' });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function must(cmd: string, args: string[], timeoutMs = 20_000): string {
  const r = sys(cmd, args, timeoutMs);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const uidOf = (user: string): number => Number(must('id', ['-u', user]).trim());
const gidOf = (group: string): number => Number(must('getent', ['group', group]).split(':')[2]);

/** Directories each host gets as scratch (owner and mode copied from the machine's own). */
const PRIVATE_DIRS = ['/run', '/mnt', '/var/lib/mysql', '/var/lib/redis', '/var/log/redis', '/var/lib/munge', '/var/log/munge', '/var/lib/slurm', '/var/log/slurm', '/var/lib/nginx', '/var/log/nginx'];

const NS_PREFIX = 'mhc-lab-';
const CGROUP_ROOT = '/sys/fs/cgroup';
/** Where every host sees the lab's shared directory (standing in for the GlusterFS mount). */
export const SHARED_MOUNT = '/mnt/gluster';

export interface Host {
  name: string;
  ip: string;
  ns: string;
  /** the bundle directory this host installs (its hostname, or `compute`) */
  bundle: string;
  /** scratch root of this host: fs/ holds what is mounted over the real paths */
  root: string;
  holder: ChildProcess;
  holderPid: number;
}

export interface Proc {
  host: string;
  name: string;
  pid: number;
  log: string;
  child: ChildProcess;
  exit?: number | string | null;
}

/** Kills every process in a lab namespace and deletes the lab's namespaces. Synchronous (exit handlers). */
export function destroyNamespaces(names: readonly string[]): void {
  for (const ns of names) {
    for (let i = 0; i < 3; i++) {
      const pids = sys('ip', ['netns', 'pids', ns], 5000).stdout.split(/\s+/).filter(Boolean);
      if (!pids.length) break;
      for (const p of pids) {
        try {
          process.kill(Number(p), 'SIGCONT');
          process.kill(Number(p), 'SIGKILL');
        } catch {
          /* gone already */
        }
      }
      sys('sleep', ['0.2']);
    }
  }
  for (const ns of names) sys('ip', ['netns', 'del', ns], 5000);
}

/** cgroup directories slurmd made for a lab compute host (cgroup v1: slurm_<host> in every hierarchy). */
export const LAB_CGROUP = /^slurm_labc\d+$/;

/** Removes empty cgroup directories of lab compute hosts (deepest first; a busy one stays). */
function removeLabCgroups(): void {
  const rmTree = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rmTree(join(d, e.name));
    try {
      rmdirSync(d);
    } catch {
      /* still has tasks: left for the next sweep */
    }
  };
  let roots: string[] = [];
  try {
    roots = readdirSync(CGROUP_ROOT).map((b) => join(CGROUP_ROOT, b));
  } catch {
    return;
  }
  for (const r of roots) {
    let entries: string[] = [];
    try {
      entries = readdirSync(r).filter((e) => LAB_CGROUP.test(e));
    } catch {
      continue;
    }
    for (const e of entries) rmTree(join(r, e));
  }
}

/** The network namespaces whose names start with prefix. */
export function namespacesNamed(prefix: string): string[] {
  return sys('ip', ['netns', 'list'])
    .stdout.split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(prefix));
}

/**
 * The lab network (also the deploy lab's, test/deploy): a "switch" namespace `<prefix>-sw` with a
 * bridge br0, and per host a namespace `<prefix>-<host>` with lo and eth0 (a veth whose other
 * end is a port of br0) holding the host's address. Nothing changes in the root namespace.
 */
export class LabNet {
  readonly namespaces: string[] = [];
  private ports = 0;
  constructor(readonly prefix: string) {}

  get switchNs(): string {
    return `${this.prefix}-sw`;
  }

  createSwitch(): void {
    const sw = this.switchNs;
    must('ip', ['netns', 'add', sw]);
    this.namespaces.push(sw);
    must('ip', ['-n', sw, 'link', 'set', 'lo', 'up']);
    must('ip', ['-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    must('ip', ['-n', sw, 'link', 'set', 'br0', 'up']);
  }

  /** A host's namespace on the switch, with eth0 = ip/prefixLen. Returns the namespace's name. */
  addHost(name: string, ip: string, prefixLen = 24): string {
    const sw = this.switchNs;
    const i = ++this.ports;
    const ns = `${this.prefix}-${name}`;
    must('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    // both veth ends are made inside the switch namespace; one moves to the host at once
    must('ip', ['-n', sw, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    must('ip', ['-n', sw, 'link', 'set', `p${i}`, 'master', 'br0', 'up']);
    must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    must('ip', ['-n', ns, 'addr', 'add', `${ip}/${prefixLen}`, 'dev', 'eth0']);
    must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    return ns;
  }

  /** Kills every process left in the namespaces and deletes them. Synchronous. */
  destroy(): void {
    destroyNamespaces(this.namespaces);
  }
}

/** Deletes namespaces an earlier run left (mhc-lab-*), with their processes and cgroups. Returns their names. */
export function sweepStaleLabs(): string[] {
  const stale = namespacesNamed(NS_PREFIX);
  destroyNamespaces(stale);
  removeLabCgroups();
  return stale;
}

export class Lab {
  readonly id = randomBytes(3).toString('hex');
  readonly prefix = `${NS_PREFIX}${this.id}`;
  /** third octet of 10.213.X.0/24, chosen at random for this run */
  readonly octet = randomInt(1, 255);
  readonly dir: string;
  readonly shared: string;
  readonly hosts = new Map<string, Host>();
  readonly procs: Proc[] = [];
  private readonly net = new LabNet(this.prefix);
  private get namespaces(): string[] {
    return this.net.namespaces;
  }
  private torn = false;
  private readonly onSignal = (sig: NodeJS.Signals) => {
    this.teardown();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  private readonly onExit = () => this.teardown();

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), `mhc-lab-${this.id}-`));
    chmodSync(this.dir, 0o755); // daemons that dropped to their users reach their files through it
    this.shared = join(this.dir, 'shared');
    mkdirSync(this.shared, { mode: 0o755 });
    process.on('exit', this.onExit);
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  get switchNs(): string {
    return this.net.switchNs;
  }

  /** The lab config's addresses (10.213.7.x) moved to this run's subnet. */
  subst(text: string): string {
    return text.replaceAll('10.213.7.', `10.213.${this.octet}.`);
  }

  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no lab host ${name}`);
    return h;
  }

  /** nsenter arguments that put a command into the host's network, mount and UTS namespaces. */
  enter(name: string): string[] {
    return ['-t', String(this.host(name).holderPid), '-n', '-m', '-u', '--'];
  }

  /** Runs argv in the host; bounded. */
  exec(name: string, argv: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Result {
    return sys('nsenter', [...this.enter(name), ...argv], opts.timeoutMs ?? 20_000, { ...BASE_ENV, ...opts.env });
  }

  /** Runs a bash script in the host (arguments as $1…); bounded. */
  bash(name: string, script: string, args: string[] = [], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Result {
    return this.exec(name, ['bash', '-c', script, 'lab', ...args], opts);
  }

  /** Like bash(), but fails the test on a non-zero exit. */
  must(name: string, script: string, args: string[] = [], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): string {
    const r = this.bash(name, script, args, opts);
    if (r.status !== 0) throw new Error(`on ${name}: exit ${r.status}: ${script.slice(0, 200)}\n${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** Async, bounded run in the host (the event loop keeps running: pollers, children). */
  run(name: string, argv: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<Result> {
    return new Promise((resolve) => {
      const p = spawn('nsenter', [...this.enter(name), ...argv], { env: { ...BASE_ENV, ...opts.env } });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      const t = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
      p.on('close', (status) => {
        clearTimeout(t);
        resolve({ status, stdout, stderr });
      });
    });
  }

  /** A host's path as the test sees it (below the host's scratch fs/). */
  path(name: string, p: string): string {
    if (p === SHARED_MOUNT || p.startsWith(`${SHARED_MOUNT}/`)) return join(this.shared, p.slice(SHARED_MOUNT.length));
    return join(this.host(name).root, 'fs', p);
  }

  /** Creates the switch and the hosts. */
  async create(hosts: readonly { name: string; ip: string; bundle: string }[]): Promise<void> {
    this.net.createSwitch();
    for (const h of hosts) {
      const ns = this.net.addHost(h.name, h.ip);
      const root = join(this.dir, h.name);
      mkdirSync(join(root, 'fs'), { recursive: true, mode: 0o755 });
      mkdirSync(join(root, 'log'), { recursive: true, mode: 0o755 });
      const holder = spawn('nsenter', [`--net=/run/netns/${ns}`, '--', 'unshare', '--mount', '--uts', '--propagation', 'private', '--', 'sleep', 'infinity'], {
        stdio: 'ignore',
        detached: true,
        env: BASE_ENV,
      });
      holder.unref();
      const pid = holder.pid!;
      await until(
        `the namespace holder of ${h.name}`,
        5000,
        () => {
          try {
            return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep';
          } catch {
            return false;
          }
        },
        20,
      );
      this.hosts.set(h.name, { name: h.name, ip: h.ip, ns, bundle: h.bundle, root, holder, holderPid: pid });
    }
  }

  /**
   * Installs a host's bundle as the start scripts do: files/ to their absolute paths with the
   * manifest's modes and owners, `.seed` files without the suffix when absent, the munge key
   * decoded from its base64 file, the cluster's hosts block in /etc/hosts, Debian's default nginx
   * site disabled. Then mounts everything over the real paths inside the host.
   */
  install(name: string, files: ReadonlyMap<string, BundleFile>): void {
    const h = this.host(name);
    const fs = join(h.root, 'fs');
    // cp -a: owners and modes as on the machine (munged and keepalived check them)
    mkdirSync(join(fs, 'usr/local'), { recursive: true });
    must('cp', ['-a', '/etc', join(fs, 'etc')], 60_000);
    must('cp', ['-a', '/usr/local/sbin', join(fs, 'usr/local/sbin')]);
    chmodSync(join(fs, 'usr/local/sbin'), 0o755);
    for (const d of PRIVATE_DIRS) {
      const st = statSync(d); // every package the lab needs is installed: its directories exist
      const p = join(fs, d);
      mkdirSync(p, { recursive: true });
      chownSync(p, st.uid, st.gid);
      chmodSync(p, st.mode & 0o7777);
    }
    this.installFiles(name, files, true);
    rmSync(join(fs, 'etc/nginx/sites-enabled/default'), { force: true });
    // /etc/hosts: localhost and the bundle's block, as lib/common.sh merges it
    const block = files
      .get(`${h.bundle}/files/etc/mhc/hosts`)!
      .content.split('\n')
      .filter((l) => l && !l.startsWith('#'));
    writeFileSync(
      join(fs, 'etc/hosts'),
      ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback', '# BEGIN mhc cluster hosts (managed by mhc: do not edit inside this block)', ...block, '# END mhc cluster hosts', ''].join(
        '\n',
      ),
    );
    writeFileSync(join(fs, 'etc/hostname'), `${name}\n`);
    // the shared directory standing in for the GlusterFS mount
    mkdirSync(join(fs, SHARED_MOUNT), { recursive: true });
    const binds = [...['/etc', '/usr/local/sbin', ...PRIVATE_DIRS].map((d) => `${join(fs, d)}\t${d}`), `${this.shared}\t${SHARED_MOUNT}`];
    writeFileSync(join(h.root, 'binds'), `${binds.join('\n')}\n`);
    const setup = `set -Eeuo pipefail
R=$1
hostname "$2"
# a sysfs of this network namespace, with the machine's cgroup hierarchies (slurmd uses them)
mkdir -p "$R/cgroup"
mount --rbind /sys/fs/cgroup "$R/cgroup"
mount -t sysfs sysfs /sys
mount --rbind "$R/cgroup" /sys/fs/cgroup
umount -l "$R/cgroup"
while IFS=$'\\t' read -r src dst; do mount --bind "$src" "$dst"; done <"$R/binds"
`;
    const r = sys('nsenter', [...this.enter(name), 'bash', '-c', setup, 'setup', h.root, name]);
    if (r.status !== 0) throw new Error(`mounting ${name}'s files: ${r.stderr}`);
  }

  /**
   * Writes the bundle's files/ into the host (below its scratch fs/, seen at the real paths).
   * `fresh`: the first install (also decodes the munge key); later calls overwrite files (a
   * config change), seeds still only when absent.
   */
  installFiles(name: string, files: ReadonlyMap<string, BundleFile>, fresh = false, only?: (dest: string) => boolean): string[] {
    const h = this.host(name);
    const fs = join(h.root, 'fs');
    const done: string[] = [];
    for (const [p, f] of files) {
      if (!p.startsWith(`${h.bundle}/files/`)) continue;
      let dest = p.slice(`${h.bundle}/files`.length);
      if (only && !only(dest)) continue;
      if (!dest.startsWith('/etc/') && !dest.startsWith('/usr/local/sbin/')) throw new Error(`the lab does not mount ${dest}'s directory: add it to harness.ts`);
      const seed = dest.endsWith('.seed');
      if (seed) dest = dest.slice(0, -'.seed'.length);
      const target = join(fs, dest);
      if (seed && existsSync(target)) continue;
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, f.content);
      chmodSync(target, f.mode);
      chownSync(target, uidOf(f.owner), gidOf(f.group));
      done.push(dest);
    }
    const b64 = join(fs, 'etc/munge/munge.key.b64');
    if (fresh && existsSync(b64)) {
      const key = join(fs, 'etc/munge/munge.key');
      writeFileSync(key, Buffer.from(readFileSync(b64, 'utf8').trim(), 'base64'));
      chmodSync(key, 0o400);
      chownSync(key, uidOf('munge'), gidOf('munge'));
    }
    return done;
  }

  /** Makes a directory inside a host (e.g. a systemd RuntimeDirectory below /run). */
  mkdir(name: string, p: string, owner: string, mode: number): void {
    const t = this.path(name, p);
    mkdirSync(t, { recursive: true });
    chownSync(t, uidOf(owner), gidOf(owner));
    chmodSync(t, mode);
  }

  /**
   * Starts a long-running process in a host (as `user` when given, like the systemd unit's
   * User=); its output goes to the host's log directory. nsenter and setpriv exec, so the pid
   * is the daemon's own.
   */
  start(name: string, tag: string, argv: string[], opts: { user?: string; env?: Record<string, string> } = {}): Proc {
    const h = this.host(name);
    const log = join(h.root, 'log', `${tag}.log`);
    const fd = openSync(log, 'a');
    const asUser = opts.user ? ['setpriv', `--reuid=${opts.user}`, `--regid=${opts.user}`, '--init-groups', '--'] : [];
    const child = spawn('nsenter', [...this.enter(name), ...asUser, ...argv], {
      stdio: ['ignore', fd, fd],
      detached: true,
      env: { ...BASE_ENV, ...opts.env },
    });
    closeSync(fd);
    const proc: Proc = { host: name, name: tag, pid: child.pid!, log, child };
    child.on('exit', (code, sig) => (proc.exit = code ?? sig));
    child.unref();
    this.procs.push(proc);
    return proc;
  }

  alive(p: Proc): boolean {
    return p.exit === undefined;
  }

  /** Sends sig and waits (bounded) for the process to end; SIGKILL when it outlives timeoutMs. */
  async stop(p: Proc, sig: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<void> {
    if (!this.alive(p)) return;
    try {
      process.kill(p.pid, sig);
    } catch {
      return;
    }
    const end = now() + timeoutMs;
    while (this.alive(p) && now() < end) await sleep(50);
    if (this.alive(p)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await until(`${p.name} on ${p.host} to die`, 5000, () => !this.alive(p), 50);
    }
  }

  /** pids of the host's processes whose command name is `comm` (they are all the lab's own). */
  pidsOf(name: string, comm: string): number[] {
    const pids = sys('ip', ['netns', 'pids', this.host(name).ns])
      .stdout.split(/\s+/)
      .filter(Boolean)
      .map(Number);
    return pids.filter((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === comm;
      } catch {
        return false;
      }
    });
  }

  /** IPv4 addresses on a host's eth0. */
  addrs(name: string): string[] {
    const out = sys('ip', ['-n', this.host(name).ns, '-4', '-o', 'addr', 'show', 'dev', 'eth0'], 5000).stdout;
    return [...out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]!);
  }

  tail(p: Proc | string, chars = 4000): string {
    const f = typeof p === 'string' ? p : p.log;
    try {
      return readFileSync(f, 'utf8').slice(-chars);
    } catch {
      return '';
    }
  }

  teardown(): void {
    if (this.torn) return;
    this.torn = true;
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    for (const p of this.procs) {
      try {
        process.kill(p.pid, 'SIGCONT');
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const h of this.hosts.values()) {
      try {
        process.kill(h.holderPid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    destroyNamespaces(this.namespaces);
    // slurmd's cgroups on the machine's hierarchies (the lab's compute hosts are named labc<N>)
    for (let i = 0; i < 10; i++) {
      removeLabCgroups();
      if (
        !readdirSync(CGROUP_ROOT).some((b) => {
          try {
            return readdirSync(join(CGROUP_ROOT, b)).some((e) => LAB_CGROUP.test(e));
          } catch {
            return false;
          }
        })
      )
        break;
      sys('sleep', ['0.3']);
    }
    if (!process.env.MHC_LAB_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}
