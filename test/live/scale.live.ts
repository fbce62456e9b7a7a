// The scale lab (issue 16): deploy/deploy.sh and deploy/ansible/site.yml, as generated, against an
// admin host, two ClusterShell gateways and 40 light compute hosts — each its own network
// namespace on LabNet's bridge, running only sshd (root login by a key made here). The hosts,
// their sshd and the deploy.sh / ansible-playbook runs are test/live/sshlab.ts (shared with the
// bench, `npm run bench`).
//
// "apply" on the light hosts is the real compute bundle's bin/start_compute.sh --dry-run
// (deploy.sh --node-dry-run): it checks the manifest, the owners, the secrets and the munge key
// and starts nothing; verify then checks the bundle's files against its manifest.
//
// Names: namespaces mhc-scl-<id>-*, subnet 10.215.<n>.0/24, scratch /tmp/mhc-scl-<id>; the
// sweeper removes only mhc-scl-* entries of runs that are gone (namespaces, /etc/netns entries,
// scratch directories).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { until, now } from './harness.js';
import { byStatus as foldRows, SshLab, sshLabMissing, type DeployRun as Run } from './sshlab.js';
import { ROOT } from '../helpers.js';

const COMPUTE = 40;
const lab = new SshLab({ prefix: 'mhc-scl-', net16: '10.215', computeCount: COMPUTE, root: ROOT, cluster: 'scl' });
const { scratch, computeNames } = lab;
const figures: string[] = [];

const SECRETS = () => lab.secrets;
const DEPLOY = () => lab.deployDir();
const deploy = (args: string[]): Run => lab.deploy(args);
const byStatus = (r: Run) => foldRows(r.rows);
const fold = (names: string[]) => lab.fold(names);
const stopSshd = (host: string) => lab.stopSshd(host);
const startSshd = (host: string) => lab.startSshd(host);
const sshdPid = (host: string) => lab.sshdPid(host);
const listening = (host: string) => lab.listening(host);
const onAdmin = (args: string[], timeoutMs?: number) => lab.onAdmin(args, timeoutMs);

beforeAll(() => {
  const missing = sshLabMissing();
  if (missing) throw new Error(`${missing}: the scale lab needs root and the fan-out tools`);
  const up = lab.up();
  lab.build(lab.yaml('{ admin_host: admin, gateways: [ctl1, ctl2], connect_timeout: 4, command_timeout: 20, batch: 20, max_fail_percent: 50 }'));
  figures.push(`lab up (${COMPUTE + 3} hosts, sshd on ${COMPUTE + 2}): ${up} ms`);
}, 120_000);

afterAll(() => {
  lab.teardown();
  console.log(`scale lab figures:\n  ${figures.join('\n  ')}`);
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
    await until('every sshd listening', 30_000, () => lab.sshdHosts.every(listening), 300);
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
    expect(grepTree(lab.runs, values)).toEqual([]);
  });

  it('the Ansible playbook against the same hosts reports the same failures', () => {
    stopSshd('c05');
    const mhc = join(scratch, 'hosts', 'c10', 'etc', 'mhc');
    rmSync(mhc, { recursive: true, force: true });
    writeFileSync(mhc, 'not a directory\n');
    const r = lab.ansible(['--limit', 'compute', '-e', `mhc_secrets=${SECRETS()}`, '-e', 'mhc_node_dry_run=true']);
    figures.push(`ansible-playbook site.yml, 40 nodes, 2 faulty: ${r.ms} ms`);
    expect(r.status, r.stdout.slice(-3000)).not.toBe(0);
    const recap = new Map([...r.recap].filter(([k]) => /^c\d+$/.test(k)));
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
