// An ssh lab (the scale lab's machinery, shared by test/live/scale.live.ts and `npm run bench`):
// an admin host, two controllers (the ClusterShell gateways when the YAML names them) and N light
// compute hosts — each its own network namespace on LabNet's bridge, running only sshd (root
// login by a key made here) — and the generated deploy/ tree built for them.
//
// Each host: `ip netns exec` gives it a private mount namespace where /etc/netns/<ns>/{ssh,hosts}
// are bound over /etc/ssh and /etc/hosts (its sshd_config, host key, authorized key, ssh_config
// and the lab's host names); sshd's `SetEnv MHC_ROOT=<scratch>/hosts/<host>` gives every session
// a private root, so /etc/mhc and /opt/mhc are the host's own (the bundles' scripts honour
// MHC_ROOT). sshd runs with an empty /root bound over the machine's.
//
// Names, from the caller's prefix P (e.g. mhc-scl-, mhc-bch-) and a random id: namespaces
// P<id>-*, /etc/netns/P<id>-*, scratch /tmp/P<id>, subnet <net16>.<random>.0/24. Nothing changes
// in the root network namespace; every address exists only inside the lab's namespaces.
// Teardown removes exactly this lab's; the sweeper removes only P* entries whose run is gone (the
// owner process recorded in the scratch directory no longer exists), so two runs of the same
// prefix never remove each other's hosts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BASE_ENV, destroyNamespaces, LabNet, namespacesNamed, now, until, type Result } from './harness.js';

const ETC_NETNS = '/etc/netns';

export interface SshLabOptions {
  /** namespace and scratch prefix, ending in '-' (mhc-scl-, mhc-bch-) */
  prefix: string;
  /** the first two octets: the lab's subnet is `<net16>.<random 1-249>.0/24` */
  net16: string;
  /** how many compute hosts (c01, c02, …) */
  computeCount: number;
  /** the repository: bin/mhc.cjs builds the tree */
  root: string;
  /** the cluster's name in the YAML (out/<cluster>/) */
  cluster: string;
}

/** One deploy.sh run, read back from its run directory. */
export interface DeployRun {
  status: number | null;
  /** stdout, stderr and the tail of clush.log (for failure messages) */
  out: string;
  ms: number;
  dir: string;
  /** node → final status ("failed rc=1" for failures) */
  rows: Map<string, string>;
  summary: string;
}

/** One ansible-playbook run with its PLAY RECAP. */
export interface AnsibleRun {
  status: number | null;
  stdout: string;
  ms: number;
  recap: Map<string, { ok: number; changed: number; unreachable: number; failed: number }>;
}

/** A command line to run (spawn or spawnSync) with its environment. */
export interface Command {
  cmd: string;
  args: string[];
  env: Record<string, string>;
}

function sh(cmd: string, args: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Result {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, killSignal: 'SIGKILL', env: opts.env ?? BASE_ENV, maxBuffer: 256 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
function must(cmd: string, args: string[], timeoutMs = 60_000): string {
  const r = sh(cmd, args, { timeoutMs });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** "<pid> <start time>" of a process, or '' when it does not exist (pids are reused; start times tell). */
function processTag(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return `${pid} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
  } catch {
    return '';
  }
}

/** Folds node → status rows into status → sorted nodes. */
export function byStatus(rows: ReadonlyMap<string, string>): Record<string, string[]> {
  const o: Record<string, string[]> = {};
  for (const [n, s] of rows) (o[s] ??= []).push(n);
  for (const k of Object.keys(o)) o[k]!.sort();
  return o;
}

/** The tools an ssh lab needs on this machine, or the first one missing (with the fix). */
export function sshLabMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'the ssh lab needs root (network namespaces)';
  for (const t of ['ip', 'clush', 'nodeset', 'ansible-playbook', '/usr/sbin/sshd', 'ssh-keygen'])
    if (sh('bash', ['-c', `command -v ${t}`]).status !== 0) return `${t} is missing: run scripts/setup-ci.sh`;
  return undefined;
}

export class SshLab {
  readonly id = randomBytes(3).toString('hex');
  /** the subnet's first three octets */
  readonly net: string;
  readonly scratch: string;
  readonly computeNames: string[];
  readonly hostIp = new Map<string, string>();
  /** HOME of the admin host's commands (ansible's ~/.ansible, ssh's ~/.ssh) */
  readonly adminEnv: Record<string, string>;
  private readonly lab: LabNet;
  private readonly sshd = new Map<string, ChildProcess>();
  private torn = false;
  private handlers: { exit: () => void; signal: (sig: NodeJS.Signals) => void } | undefined;

  constructor(readonly opts: SshLabOptions) {
    this.net = `${opts.net16}.${randomInt(1, 250)}`;
    this.scratch = `/tmp/${opts.prefix}${this.id}`;
    this.lab = new LabNet(`${opts.prefix}${this.id}`);
    this.computeNames = Array.from({ length: opts.computeCount }, (_, i) => `c${String(i + 1).padStart(opts.computeCount > 99 ? 3 : 2, '0')}`);
    this.adminEnv = { ...BASE_ENV, HOME: join(this.scratch, 'admin-home') };
  }

  ns(host: string): string {
    return `${this.opts.prefix}${this.id}-${host}`;
  }

  get secrets(): string {
    return join(this.scratch, 'secrets.env');
  }

  get runs(): string {
    return join(this.scratch, 'runs');
  }

  /** deploy/ of a tree build() made (out: its directory below the scratch). */
  deployDir(out = 'out'): string {
    return join(this.scratch, out, this.opts.cluster, 'deploy');
  }

  /** The private root (MHC_ROOT) of a host's ssh sessions. */
  hostRoot(host: string): string {
    return join(this.scratch, 'hosts', host);
  }

  /** The lab's cluster YAML: ctl1 and ctl2 (slurm), the compute hosts; `deploy` is the deploy: mapping. */
  yaml(deploy: string): string {
    return (
      [
        `cluster: { name: ${this.opts.cluster} }`,
        'controllers:',
        `  - { hostname: ctl1, ip: ${this.net}.2, services: { slurm: true } }`,
        `  - { hostname: ctl2, ip: ${this.net}.3, services: { slurm: true } }`,
        'compute_nodes:',
        ...this.computeNames.map((c, i) => `  - { hostname: ${c}, ip: ${this.net}.${11 + i}, cpus: 2 }`),
        'slurm: { accounting_storage_type: none, partitions: [{ name: batch, nodes: ALL, default: true }] }',
        `deploy: ${deploy}`,
      ].join('\n') + '\n'
    );
  }

  /**
   * Removes what earlier runs of this prefix left and whose process is gone: namespaces (with
   * their processes), /etc/netns entries, scratch directories. A live run's entries stay.
   */
  static sweep(prefix: string): void {
    const idOf = (name: string) => name.slice(prefix.length, prefix.length + 6);
    const alive = (id: string) => {
      try {
        const tag = readFileSync(join('/tmp', `${prefix}${id}`, 'owner'), 'utf8').trim();
        return tag !== '' && processTag(Number(tag.split(' ')[0])) === tag;
      } catch {
        return false;
      }
    };
    destroyNamespaces(namespacesNamed(prefix).filter((n) => !alive(idOf(n))));
    for (const dir of [ETC_NETNS, '/tmp']) {
      if (!existsSync(dir)) continue;
      for (const n of readdirSync(dir)) if (n.startsWith(prefix) && !alive(idOf(n))) rmSync(join(dir, n), { recursive: true, force: true });
    }
  }

  /**
   * Brings the lab up: keys, the switch, admin (no sshd), ctl1, ctl2 and the compute hosts (sshd
   * each). Sweeps stale runs first; tears down on exit, SIGINT and SIGTERM. Returns its ms.
   */
  up(): number {
    const missing = sshLabMissing();
    if (missing) throw new Error(missing);
    SshLab.sweep(this.opts.prefix);
    this.handleExit();
    const t0 = now();
    mkdirSync(join(this.scratch, 'keys'), { recursive: true });
    writeFileSync(join(this.scratch, 'owner'), `${processTag(process.pid)}\n`);
    must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(this.scratch, 'keys', 'id_ed25519')]);
    must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(this.scratch, 'keys', 'host_ed25519')]);
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const hosts: [string, string][] = [
      ['admin', `${this.net}.1`],
      ['ctl1', `${this.net}.2`],
      ['ctl2', `${this.net}.3`],
      ...this.computeNames.map((c, i): [string, string] => [c, `${this.net}.${11 + i}`]),
    ];
    const etcHosts = ['127.0.0.1 localhost', ...hosts.map(([h, ip]) => `${ip} ${h}`)].join('\n') + '\n';
    this.lab.createSwitch();
    for (const [h, ip] of hosts) {
      this.hostIp.set(h, ip);
      this.lab.addHost(h, ip);
      this.hostFiles(h, ip, etcHosts);
      if (h !== 'admin') this.startSshd(h);
    }
    mkdirSync(this.adminEnv.HOME!, { recursive: true });
    return now() - t0;
  }

  /** `mhc build` of yamlText into the scratch's `out` (and `mhc secrets init` once); returns its deploy/. */
  build(yamlText: string, out = 'out'): string {
    const file = join(this.scratch, `${out}.yaml`);
    writeFileSync(file, yamlText);
    const mhc = join(this.opts.root, 'bin', 'mhc.cjs');
    must(process.execPath, [mhc, 'build', file, '-o', join(this.scratch, out)]);
    if (!existsSync(this.secrets)) {
      must(process.execPath, [mhc, 'secrets', 'init', file, '-o', this.secrets]);
      chmodSync(this.secrets, 0o600);
    }
    return this.deployDir(out);
  }

  private hostFiles(host: string, ip: string, hosts: string): void {
    const etc = join(ETC_NETNS, this.ns(host));
    const ssh = join(etc, 'ssh');
    mkdirSync(ssh, { recursive: true });
    for (const f of ['host_ed25519', 'id_ed25519']) writeFileSync(join(ssh, f), readFileSync(join(this.scratch, 'keys', f)), { mode: 0o600 });
    writeFileSync(join(ssh, 'authorized_keys'), readFileSync(join(this.scratch, 'keys', 'id_ed25519.pub')), { mode: 0o600 });
    const root = this.hostRoot(host);
    mkdirSync(join(root, 'etc', 'mhc'), { recursive: true });
    writeFileSync(
      join(ssh, 'sshd_config'),
      [
        `ListenAddress ${ip}`,
        'HostKey /etc/ssh/host_ed25519',
        'PermitRootLogin prohibit-password',
        'AuthorizedKeysFile /etc/ssh/authorized_keys',
        'StrictModes no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'MaxStartups 200',
        'MaxSessions 200',
        `SetEnv MHC_ROOT=${root}`,
        `PidFile ${join(this.scratch, 'hosts', `${host}.pid`)}`,
      ].join('\n') + '\n',
    );
    writeFileSync(
      join(ssh, 'ssh_config'),
      ['Host *', '  User root', '  IdentityFile /etc/ssh/id_ed25519', '  StrictHostKeyChecking no', '  UserKnownHostsFile /dev/null', '  LogLevel ERROR', ''].join('\n'),
    );
    writeFileSync(join(etc, 'hosts'), hosts);
  }

  /** sshd in the host's namespaces, with an empty /root: this machine's root profile (pyenv) is not a node's. */
  startSshd(host: string): void {
    const home = join(this.scratch, 'hosts', `${host}-home`);
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const child = spawn('ip', ['netns', 'exec', this.ns(host), 'bash', '-c', 'mount --bind "$1" /root && exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config', 'sshd', home], {
      stdio: 'ignore',
      env: BASE_ENV,
    });
    this.sshd.set(host, child);
  }

  /** sshd's pid (from its PidFile: written once it listens). */
  sshdPid(host: string): number {
    return Number(readFileSync(join(this.scratch, 'hosts', `${host}.pid`), 'utf8').trim());
  }

  /** The hosts whose sshd this lab started and has not stopped. */
  get sshdHosts(): string[] {
    return [...this.sshd.keys()];
  }

  /** Sends sig to every process of the host's network namespace (all the lab's own). */
  signalHost(host: string, sig: NodeJS.Signals): void {
    for (const p of sh('ip', ['netns', 'pids', this.ns(host)])
      .stdout.split(/\s+/)
      .filter(Boolean))
      try {
        process.kill(Number(p), sig);
      } catch {
        /* gone */
      }
  }

  stopSshd(host: string): void {
    this.signalHost(host, 'SIGCONT');
    this.signalHost(host, 'SIGKILL');
    this.sshd.delete(host);
  }

  /** Does the host's sshd answer on port 22 (seen from the admin host)? */
  listening(host: string): boolean {
    return sh('ip', ['netns', 'exec', this.ns('admin'), 'bash', '-c', `exec 3<>/dev/tcp/${this.hostIp.get(host)}/22 && head -c 4 <&3`], { timeoutMs: 3000 }).stdout === 'SSH-';
  }

  /** Waits (bounded) until every started sshd answers. */
  async waitListening(timeoutMs = 30_000): Promise<void> {
    await until('every sshd listening', timeoutMs, () => this.sshdHosts.every((h) => this.listening(h)), 300);
  }

  /**
   * A command on the admin host (its namespaces, its /etc/ssh and /etc/hosts, hostname admin).
   * `wrap` goes before it in the root namespaces (e.g. a command that joins a cgroup and execs).
   */
  adminCommand(args: string[], opts: { env?: Record<string, string>; wrap?: string[] } = {}): Command {
    const argv = [...(opts.wrap ?? []), 'ip', 'netns', 'exec', this.ns('admin'), 'unshare', '--uts', '--', 'bash', '-c', 'hostname admin && exec "$@"', 'admin', ...args];
    return { cmd: argv[0]!, args: argv.slice(1), env: { ...this.adminEnv, ...opts.env } };
  }

  onAdmin(args: string[], timeoutMs = 240_000, opts: { env?: Record<string, string>; wrap?: string[] } = {}): Result {
    const c = this.adminCommand(args, opts);
    return sh(c.cmd, c.args, { timeoutMs, env: c.env });
  }

  /** deploy.sh with these arguments (and --runs) as a command on the admin host. */
  deployCommand(args: string[], opts: { deployDir?: string; wrap?: string[] } = {}): Command {
    return this.adminCommand(['bash', join(opts.deployDir ?? this.deployDir(), 'deploy.sh'), ...args, '--runs', this.runs], opts);
  }

  deploy(args: string[], opts: { deployDir?: string; timeoutMs?: number; wrap?: string[] } = {}): DeployRun {
    const c = this.deployCommand(args, opts);
    const t = now();
    const r = sh(c.cmd, c.args, { timeoutMs: opts.timeoutMs ?? 240_000, env: c.env });
    return this.readRun(r, now() - t);
  }

  /** A deploy.sh run's results: its run directory (named on stdout), results.json, summary.txt. */
  readRun(r: Result, ms: number): DeployRun {
    const m = /results: (\S+)\/results\.tsv/.exec(r.stdout);
    const dir = m ? m[1]! : '';
    const rows = new Map<string, string>();
    const summary = dir ? readFileSync(join(dir, 'summary.txt'), 'utf8') : '';
    if (dir)
      for (const row of JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { node: string; status: string; rc: number | null }[])
        rows.set(row.node, row.status === 'failed' ? `failed rc=${row.rc}` : row.status);
    const log =
      dir && existsSync(join(dir, 'clush.log'))
        ? readFileSync(join(dir, 'clush.log'), 'utf8')
            .split('\n')
            .map((l) => l.slice(0, 300))
            .join('\n')
            .slice(-6000)
        : '';
    return { status: r.status, out: `${r.stdout}${r.stderr}\n--- clush.log:\n${log}`, ms, dir, rows, summary };
  }

  /**
   * ansible-playbook site.yml in deploy/ansible (its ansible.cfg) with these arguments, as a
   * command on the admin host. sshArgs: ANSIBLE_SSH_ARGS (default: the lab's ssh_config only,
   * one connection per task; Ansible's own default adds ControlPersist).
   */
  ansibleCommand(args: string[], opts: { deployDir?: string; sshArgs?: string; wrap?: string[] } = {}): Command {
    const dir = join(opts.deployDir ?? this.deployDir(), 'ansible');
    return this.adminCommand(['bash', '-c', 'cd "$1" && shift && exec ansible-playbook site.yml "$@"', 'ansible', dir, ...args], {
      env: { ANSIBLE_SSH_ARGS: opts.sshArgs ?? '-F /etc/ssh/ssh_config', ANSIBLE_HOST_KEY_CHECKING: 'False' },
      ...(opts.wrap ? { wrap: opts.wrap } : {}),
    });
  }

  ansible(args: string[], opts: { deployDir?: string; sshArgs?: string; timeoutMs?: number; wrap?: string[] } = {}): AnsibleRun {
    const c = this.ansibleCommand(args, opts);
    const t = now();
    const r = sh(c.cmd, c.args, { timeoutMs: opts.timeoutMs ?? 300_000, env: c.env });
    return { status: r.status, stdout: r.stdout, ms: now() - t, recap: SshLab.recap(r.stdout) };
  }

  /** The PLAY RECAP of an ansible-playbook output: host → its counts. */
  static recap(stdout: string): AnsibleRun['recap'] {
    const recap: AnsibleRun['recap'] = new Map();
    for (const m of stdout.matchAll(/^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm))
      recap.set(m[1]!, { ok: Number(m[2]), changed: Number(m[3]), unreachable: Number(m[4]), failed: Number(m[5]) });
    return recap;
  }

  /** nodeset -f of these names (on the admin host). */
  fold(names: string[]): string {
    return this.onAdmin(['nodeset', '-f', ...names]).stdout.trim();
  }

  /** Empties a host's private root (its /etc/mhc, /opt/mhc, logs): as before its first deploy. */
  resetHost(host: string): void {
    const root = this.hostRoot(host);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(join(root, 'etc', 'mhc'), { recursive: true });
  }

  /** Tears down on process exit, SIGINT and SIGTERM (removed again by teardown()). */
  private handleExit(): void {
    if (this.handlers) return;
    const exit = () => this.teardown();
    const signal = (sig: NodeJS.Signals) => {
      this.teardown();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    };
    process.once('exit', exit);
    process.once('SIGINT', signal);
    process.once('SIGTERM', signal);
    this.handlers = { exit, signal };
  }

  /** Stops every sshd, deletes this lab's namespaces, /etc/netns entries and scratch; then sweeps stale runs. */
  teardown(): void {
    if (this.torn) return;
    this.torn = true;
    if (this.handlers) {
      process.off('exit', this.handlers.exit);
      process.off('SIGINT', this.handlers.signal);
      process.off('SIGTERM', this.handlers.signal);
    }
    for (const h of this.sshdHosts) this.stopSshd(h);
    this.lab.destroy();
    const mine = `${this.opts.prefix}${this.id}`;
    if (existsSync(ETC_NETNS)) for (const n of readdirSync(ETC_NETNS)) if (n.startsWith(`${mine}-`)) rmSync(join(ETC_NETNS, n), { recursive: true, force: true });
    rmSync(this.scratch, { recursive: true, force: true });
    SshLab.sweep(this.opts.prefix);
  }
}
