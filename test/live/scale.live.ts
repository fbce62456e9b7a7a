// The scale lab (issue 16): deploy/deploy.sh and deploy/ansible/site.yml, as generated, against an
// admin host, two ClusterShell gateways and 40 light compute hosts — each its own network
// namespace on LabNet's bridge, running only sshd (root login by a key made here).
//
// Each host: `ip netns exec` gives it a private mount namespace where /etc/netns/<ns>/{ssh,hosts}
// are bound over /etc/ssh and /etc/hosts (its sshd_config, host key, authorized key, ssh_config
// and the lab's host names); sshd's `SetEnv MHC_ROOT=<scratch>/<host>` gives every session a
// private root, so /etc/mhc and /opt/mhc are the host's own (the bundles' scripts honour MHC_ROOT).
// "apply" on the light hosts is the real compute bundle's bin/start_compute.sh --dry-run
// (deploy.sh --node-dry-run): it checks the manifest, the owners, the secrets and the munge key
// and starts nothing; verify then checks the bundle's files against its manifest.
//
// Names: namespaces mhc-scl-<id>-*, subnet 10.215.<n>.0/24, scratch /tmp/mhc-scl-<id>; the
// sweeper removes only mhc-scl-* (namespaces, /etc/netns entries, scratch directories).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabNet, namespacesNamed, destroyNamespaces, BASE_ENV, until, now } from './harness.js';
import { ROOT } from '../helpers.js';

const PREFIX = 'mhc-scl-';
const ETC_NETNS = '/etc/netns';
const COMPUTE = 40;
const id = randomBytes(3).toString('hex');
const net = `10.215.${randomInt(1, 250)}`;
const scratch = `/tmp/${PREFIX}${id}`;
const lab = new LabNet(`${PREFIX}${id}`);
const sshd = new Map<string, ChildProcess>();
const hostIp = new Map<string, string>();
const figures: string[] = [];

const computeNames = Array.from({ length: COMPUTE }, (_, i) => `c${String(i + 1).padStart(2, '0')}`);
const yaml = (): string =>
  [
    'cluster: { name: scl }',
    'controllers:',
    `  - { hostname: ctl1, ip: ${net}.2, services: { slurm: true } }`,
    `  - { hostname: ctl2, ip: ${net}.3, services: { slurm: true } }`,
    'compute_nodes:',
    ...computeNames.map((c, i) => `  - { hostname: ${c}, ip: ${net}.${11 + i}, cpus: 2 }`),
    'slurm: { accounting_storage_type: none, partitions: [{ name: batch, nodes: ALL, default: true }] }',
    `deploy: { admin_host: admin, gateways: [ctl1, ctl2], connect_timeout: 4, command_timeout: 20, batch: 20, max_fail_percent: 50 }`,
  ].join('\n') + '\n';

function sh(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, killSignal: 'SIGKILL', input: opts.input, env: opts.env ?? BASE_ENV });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const must = (cmd: string, args: string[]) => {
  const r = sh(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const ns = (host: string) => `${PREFIX}${id}-${host}`;
const ADMIN_ENV = { ...BASE_ENV, HOME: join(scratch, 'admin-home') };
/** A command on the admin host (its namespaces, its /etc/ssh and /etc/hosts). */
const onAdmin = (args: string[], timeoutMs = 240_000) =>
  sh('ip', ['netns', 'exec', ns('admin'), 'unshare', '--uts', '--', 'bash', '-c', 'hostname admin && exec "$@"', 'admin', ...args], { timeoutMs, env: ADMIN_ENV });

/** Removes what an earlier run of this file left: mhc-scl-* namespaces, /etc/netns entries, scratch. */
function sweep(): void {
  destroyNamespaces(namespacesNamed(PREFIX));
  for (const dir of [ETC_NETNS, '/tmp']) {
    if (!existsSync(dir)) continue;
    for (const n of readdirSync(dir)) if (n.startsWith(PREFIX)) rmSync(join(dir, n), { recursive: true, force: true });
  }
}

function hostFiles(host: string, ip: string, hosts: string): void {
  const etc = join(ETC_NETNS, ns(host));
  const ssh = join(etc, 'ssh');
  mkdirSync(ssh, { recursive: true });
  for (const f of ['host_ed25519', 'id_ed25519']) {
    writeFileSync(join(ssh, f), readFileSync(join(scratch, 'keys', f)), { mode: 0o600 });
  }
  writeFileSync(join(ssh, 'authorized_keys'), readFileSync(join(scratch, 'keys', 'id_ed25519.pub')), { mode: 0o600 });
  const root = join(scratch, 'hosts', host);
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
      `PidFile ${join(scratch, 'hosts', `${host}.pid`)}`,
    ].join('\n') + '\n',
  );
  writeFileSync(
    join(ssh, 'ssh_config'),
    ['Host *', '  User root', '  IdentityFile /etc/ssh/id_ed25519', '  StrictHostKeyChecking no', '  UserKnownHostsFile /dev/null', '  LogLevel ERROR', ''].join('\n'),
  );
  writeFileSync(join(etc, 'hosts'), hosts);
}

/** sshd in the host's namespaces, with an empty /root: this machine's root profile (pyenv) is not a node's. */
function startSshd(host: string): void {
  const home = join(scratch, 'hosts', `${host}-home`);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const child = spawn('ip', ['netns', 'exec', ns(host), 'bash', '-c', 'mount --bind "$1" /root && exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config', 'sshd', home], {
    stdio: 'ignore',
    env: BASE_ENV,
  });
  sshd.set(host, child);
}
const sshdPid = (host: string): number => Number(readFileSync(join(scratch, 'hosts', `${host}.pid`), 'utf8').trim());
const signalHost = (host: string, sig: NodeJS.Signals) => {
  for (const p of sh('ip', ['netns', 'pids', ns(host)])
    .stdout.split(/\s+/)
    .filter(Boolean))
    process.kill(Number(p), sig);
};
const stopSshd = (host: string) => {
  signalHost(host, 'SIGCONT');
  signalHost(host, 'SIGKILL');
  sshd.delete(host);
};
const listening = (host: string) => sh('ip', ['netns', 'exec', ns('admin'), 'bash', '-c', `exec 3<>/dev/tcp/${hostIp.get(host)}/22 && head -c 4 <&3`], { timeoutMs: 3000 }).stdout === 'SSH-';

const DEPLOY = () => join(scratch, 'out', 'scl', 'deploy');
const SECRETS = () => join(scratch, 'secrets.env');
const RUNS = () => join(scratch, 'runs');

interface Run {
  status: number | null;
  out: string;
  ms: number;
  dir: string;
  /** node → status ("failed rc=1" for failures) */
  rows: Map<string, string>;
  summary: string;
}
function deploy(args: string[]): Run {
  const t = now();
  const r = onAdmin(['bash', join(DEPLOY(), 'deploy.sh'), ...args, '--runs', RUNS()]);
  const ms = now() - t;
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
const byStatus = (r: Run): Record<string, string[]> => {
  const o: Record<string, string[]> = {};
  for (const [n, s] of r.rows) (o[s] ??= []).push(n);
  for (const k of Object.keys(o)) o[k]!.sort();
  return o;
};
const fold = (names: string[]) => onAdmin(['nodeset', '-f', ...names]).stdout.trim();

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('the scale lab needs root (network namespaces): run it as root');
  for (const t of ['clush', 'nodeset', 'ansible-playbook', '/usr/sbin/sshd', 'ssh-keygen'])
    if (sh('bash', ['-c', `command -v ${t}`]).status !== 0) throw new Error(`${t} is missing: run scripts/setup-ci.sh`);
  sweep();
  const t0 = now();
  mkdirSync(join(scratch, 'keys'), { recursive: true });
  must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(scratch, 'keys', 'id_ed25519')]);
  must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(scratch, 'keys', 'host_ed25519')]);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hosts: [string, string][] = [['admin', `${net}.1`], ['ctl1', `${net}.2`], ['ctl2', `${net}.3`], ...computeNames.map((c, i): [string, string] => [c, `${net}.${11 + i}`])];
  const etcHosts = ['127.0.0.1 localhost', ...hosts.map(([h, ip]) => `${ip} ${h}`)].join('\n') + '\n';
  lab.createSwitch();
  for (const [h, ip] of hosts) {
    hostIp.set(h, ip);
    lab.addHost(h, ip);
    hostFiles(h, ip, etcHosts);
    if (h !== 'admin') startSshd(h);
  }
  mkdirSync(join(scratch, 'admin-home'), { recursive: true });
  writeFileSync(join(scratch, 'lab.yaml'), yaml());
  must(process.execPath, [join(ROOT, 'bin', 'mhc.cjs'), 'build', join(scratch, 'lab.yaml'), '-o', join(scratch, 'out')]);
  must(process.execPath, [join(ROOT, 'bin', 'mhc.cjs'), 'secrets', 'init', join(scratch, 'lab.yaml'), '-o', SECRETS()]);
  chmodSync(SECRETS(), 0o600);
  figures.push(`lab up (43 hosts, sshd on 42): ${now() - t0} ms`);
}, 120_000);

let stopping = false;
const teardown = () => {
  if (stopping) return;
  stopping = true;
  for (const h of [...sshd.keys()]) stopSshd(h);
  lab.destroy();
  sweep();
};
afterAll(() => {
  teardown();
  console.log(`scale lab figures:\n  ${figures.join('\n  ')}`);
});
process.once('exit', teardown);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    teardown();
    process.exit(130);
  });

const secretValues = () =>
  readFileSync(SECRETS(), 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z_0-9]+=/.test(l))
    .map((l) => l.slice(l.indexOf('=') + 1))
    .filter((v) => v.length >= 8);
function grepTree(dir: string, values: string[]): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const text = readFileSync(p, 'utf8');
        if (values.some((v) => text.includes(v))) hits.push(p);
      }
    }
  };
  walk(dir);
  return hits;
}

const COMPUTE_SET = `c[01-${COMPUTE}]`;
const compute = ['--nodes', '@compute', '--node-dry-run'];

describe('scale lab: deploy.sh through ClusterShell gateways, 40 compute hosts', () => {
  it('every host answers ssh through the lab names', async () => {
    await until('every sshd listening', 30_000, () => [...sshd.keys()].every(listening), 300);
    const r = onAdmin(['clush', '-w', 'ctl1', '-o', '-oBatchMode=yes', 'echo', 'up']);
    expect(r.stdout).toBe('ctl1: up\n');
  });

  it('deploy.sh all: every compute node ok, exit 0, through the gateways', () => {
    const r = deploy(['all', ...compute, '--secrets', SECRETS()]);
    figures.push(`deploy.sh all (check+push+secrets+apply --dry-run+verify), 40 nodes, tree mode: ${r.ms} ms`);
    expect(r.status, r.out).toBe(0);
    expect(byStatus(r)).toEqual({ ok: computeNames });
    expect(r.summary).toMatch(new RegExp(`^ok +40  c\\[01-40\\]$`, 'm'));
    expect(readFileSync(join(scratch, 'hosts', 'c07', 'etc', 'mhc', 'secrets.env'), 'utf8')).toMatch(/^MUNGE_KEY=/);
    expect(
      readFileSync(join(scratch, 'hosts', 'c07', 'etc', 'mhc', 'secrets.env'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(1);
  });

  it('a second push: every node unchanged', () => {
    const r = deploy(['push', '--nodes', '@compute']);
    figures.push(`second push, 40 nodes: ${r.ms} ms`);
    expect(r.status, r.out).toBe(0);
    expect(byStatus(r)).toEqual({ unchanged: computeNames });
  });

  let faulty: Run;
  it('faults: sshd stopped → unreachable, secrets broken → failed rc=1, sshd frozen → timeout, one gateway down', () => {
    stopSshd('c05');
    const mhc = join(scratch, 'hosts', 'c10', 'etc', 'mhc');
    rmSync(mhc, { recursive: true, force: true });
    writeFileSync(mhc, 'not a directory\n'); // secrets.env cannot be written there
    process.kill(sshdPid('c15'), 'SIGSTOP');
    stopSshd('ctl1');
    faulty = deploy(['all', ...compute, '--secrets', SECRETS()]);
    figures.push(`deploy.sh all with 3 faulty nodes and a gateway down: ${faulty.ms} ms`);
    expect(faulty.status, faulty.out).toBe(1);
    const ok = computeNames.filter((c) => !['c05', 'c10', 'c15'].includes(c));
    expect(byStatus(faulty)).toEqual({ ok, unreachable: ['c05'], 'failed rc=1': ['c10'], timeout: ['c15'] });
    expect(faulty.summary).toContain(`unreachable          1  c05`);
    expect(faulty.summary).toContain(`failed rc=1          1  c10`);
    expect(faulty.summary).toContain(`timeout              1  c15`);
    expect(faulty.summary).toMatch(new RegExp(`^ok +37  ${fold(ok).replace(/[[\]]/g, '\\$&')}$`, 'm'));
    expect(faulty.summary).toContain(`--retry ${faulty.dir}`);
  });

  it('--retry targets exactly the failed nodes, and ends 0 once the faults are gone', () => {
    // still faulty: the retry runs on c05, c10, c15 only
    const again = deploy(['--retry', faulty.dir]);
    expect([...again.rows.keys()].sort()).toEqual(['c05', 'c10', 'c15']);
    expect(again.status).toBe(1);
    process.kill(sshdPid('c15'), 'SIGCONT');
    startSshd('c05');
    rmSync(join(scratch, 'hosts', 'c10', 'etc', 'mhc'));
    mkdirSync(join(scratch, 'hosts', 'c10', 'etc', 'mhc'));
    startSshd('ctl1');
    const t = now();
    while (!listening('c05') && now() - t < 10_000) spawnSync('sleep', ['0.2']);
    const fixed = deploy(['--retry', faulty.dir]);
    expect(fixed.status, fixed.out).toBe(0);
    expect(byStatus(fixed)).toEqual({ ok: ['c05', 'c10', 'c15'] });
  });

  it('no secret value under out/ or runs/', () => {
    const values = secretValues();
    expect(values.length).toBeGreaterThan(0);
    expect(grepTree(join(scratch, 'out'), values)).toEqual([]);
    expect(grepTree(RUNS(), values)).toEqual([]);
  });

  it('the Ansible playbook against the same hosts reports the same failures', () => {
    stopSshd('c05');
    const mhc = join(scratch, 'hosts', 'c10', 'etc', 'mhc');
    rmSync(mhc, { recursive: true, force: true });
    writeFileSync(mhc, 'not a directory\n');
    const dir = join(DEPLOY(), 'ansible');
    const t = now();
    const r = onAdmin(
      [
        'bash',
        '-c',
        `cd ${dir} && ANSIBLE_SSH_ARGS='-F /etc/ssh/ssh_config' ANSIBLE_HOST_KEY_CHECKING=False ansible-playbook site.yml --limit compute -e mhc_secrets=${SECRETS()} -e mhc_node_dry_run=true`,
      ],
      300_000,
    );
    figures.push(`ansible-playbook site.yml, 40 nodes, 2 faulty: ${now() - t} ms`);
    expect(r.status, r.stdout.slice(-3000)).not.toBe(0);
    const recap = new Map<string, { unreachable: number; failed: number }>();
    for (const m of r.stdout.matchAll(/^(c\d+)\s+: ok=\d+\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)/gm)) recap.set(m[1]!, { unreachable: Number(m[2]), failed: Number(m[3]) });
    expect(recap.size, r.stdout.slice(-3000)).toBe(COMPUTE);
    expect([...recap].filter(([, v]) => v.unreachable).map(([k]) => k)).toEqual(['c05']);
    expect([...recap].filter(([, v]) => v.failed).map(([k]) => k)).toEqual(['c10']);
    rmSync(mhc);
    mkdirSync(mhc);
    startSshd('c05');
  });

  it(`the groups clush sees are the manifest's`, () => {
    const r = onAdmin(['bash', '-c', `CLUSTERSHELL_CFGDIR=${join(DEPLOY(), 'clustershell')} nodeset -f @compute`]);
    expect(r.stdout.trim()).toBe(COMPUTE_SET);
  });
});
