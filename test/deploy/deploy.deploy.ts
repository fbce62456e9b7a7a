// The deploy lab (issue 13): three controllers and one compute node, each a real Debian 12 (or,
// with MHC_DEPLOY_RELEASE=trixie, Debian 13) container booted with systemd (harness.ts), deployed exactly as the README's "Deploy" section
// tells an operator: `mhc secrets init` and `mhc build --tar` on the build machine; the bundle
// rsync'd (ctl1, ctl2) or untarred (ctl3, cn1) into /opt/mhc; secrets.env to /etc/mhc/secrets.env
// (0600); root ssh keys between the controllers; the web applications' code under
// /opt/mhc/web/<service>/start.sh; then bin/start_multihead.sh on the VIP owner first, then the
// others, again where it said "pending", then bin/start_compute.sh. Nothing else is installed or
// started by the test. The scenarios of the issue follow, each asserted, with figures printed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { userInfo } from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import { compileText, ROOT, withoutAccounting, withTarget } from '../helpers.js';
import { TARGET_OSES, targetFacts } from '../../src/compiler/targets.js';
import type { Model } from '../../src/compiler/model.js';
import { ensureRoot, labPackages } from './rootfs.js';
import { DeployLab, must, now, sleep, sweepStaleDeploys, sys, until, type Result } from './harness.js';

const LAB_YAML = join(ROOT, 'test/deploy/lab.yaml');
const MHC = join(ROOT, 'bin/mhc.cjs');
const TOOLS = ['debootstrap', 'systemd-nspawn', 'nsenter', 'ip', 'mount', 'umount', 'rsync', 'tar', 'flock'];
const CLUSTER = 'mhc-deploy';

/**
 * MHC_DEPLOY_RELEASE=trixie boots Debian 13 nodes (a root of that release, the lab YAML's target
 * set to the matching target.os); default bookworm (Debian 12, the lab YAML as written).
 */
const RELEASE = process.env.MHC_DEPLOY_RELEASE ?? 'bookworm';
const OS = TARGET_OSES.find((os) => targetFacts(os).release === RELEASE);
if (!OS) throw new Error(`MHC_DEPLOY_RELEASE=${RELEASE}: one of ${TARGET_OSES.map((os) => targetFacts(os).release).join(', ')}`);

/**
 * Debian 13's slurmdbd (24.11.5) does not start against Debian 13's libmariadb3 (README "Targets":
 * a defect of the packages, asserted by the Slurm daemon test): on Debian 13 the lab runs Slurm
 * without accounting, and a job's end is read from slurmctld instead of sacct.
 */
const ACCOUNTING = OS !== 'debian13';

/** MHC_DEPLOY_ONLY=1,2 runs only those scenarios (later ones need the earlier ones). */
const ONLY = process.env.MHC_DEPLOY_ONLY?.split(',');
const scenario = (n: string) => it.skipIf(ONLY !== undefined && !ONLY.includes(n));

const figures: Record<string, unknown> = {};
const fig = (k: string, v: unknown) => {
  figures[k] = v;
  console.log(`[deploy] ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
};

let lab: DeployLab;
let model: Model;
let out: string;
let controllers: string[];
let compute: string[];
const t0 = now();
let runCount = 0;

/** The stand-in web application of a service: busybox httpd serving a health file on $PORT. */
const webApp = (name: string) => `#!/bin/sh
# stand-in for the ${name} application (the deploy lab): serves /health and ${name}'s paths on $PORT
exec busybox httpd -f -p "0.0.0.0:$PORT" -h /opt/mhc/web/${name}/www
`;

function installWebApps(node: string): void {
  for (const s of model.web!.services) {
    const dir = lab.path(node, `/opt/mhc/web/${s.name}`);
    for (const d of ['www', `www${s.path}`]) mkdirSync(join(dir, d), { recursive: true, mode: 0o755 });
    writeFileSync(join(dir, 'start.sh'), webApp(s.name), { mode: 0o755 });
    chmodSync(join(dir, 'start.sh'), 0o755);
    for (const f of ['www/health', `www${s.path}health`]) writeFileSync(join(dir, f), `${s.name} on ${node}: ok\n`, { mode: 0o644 });
  }
}

/** start_multihead.sh's phases that ended "pending" (from its summary). */
const pendingPhases = (r: Result): string[] => [...r.stdout.concat(r.stderr).matchAll(/Phase (\d) \((\w+)\): pending/g)].map((m) => `${m[1]} ${m[2]}`);

async function start(node: string, args: string[] = []): Promise<Result & { ms: number; pending: string[]; diagnosis: string }> {
  const t = now();
  const r = await lab.run(node, ['/opt/mhc/bin/start_multihead.sh', '--auto-confirm', '--no-color', ...args], { timeoutMs: 900_000 });
  const res = { ...r, ms: now() - t, pending: pendingPhases(r), diagnosis: '' };
  mkdirSync(join(lab.dir, 'logs'), { recursive: true });
  writeFileSync(join(lab.dir, 'logs', `${node}-start-${++runCount}.log`), `${r.stdout}\n--- stderr\n${r.stderr}`);
  const moved = /redis: (\d+) master\(s\) back where the plan puts them/.exec(r.stdout)?.[1];
  console.log(
    `[deploy] start_multihead.sh on ${node}: exit ${r.status} in ${res.ms} ms${res.pending.length ? `, pending: ${res.pending.join(', ')}` : ''}${moved ? `, ${moved} Redis master(s) moved back to plan` : ''}`,
  );
  if (r.status !== 0) {
    res.diagnosis = lab.diagnose(node);
    console.log(`--- ${node} stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n${res.diagnosis}`);
  }
  return res;
}

function sql(node: string, q: string): string {
  const r = lab.exec(node, ['mariadb', '-N', '-B', '-e', q]);
  if (r.status !== 0) throw new Error(`${node}: ${q}: ${r.stderr}`);
  return r.stdout.trim();
}
const wsrep = (node: string, k: string): string => sql(node, `SHOW GLOBAL STATUS LIKE '${k}'`).split('\t')[1] ?? '';

/** Boots a node; a compute node gets writable cgroups (harness.ts writableCgroups: nspawn's are read-only). */
async function boot(n: string): Promise<number> {
  const ms = await lab.boot(n);
  if (compute.includes(n)) lab.writableCgroups(n);
  return ms;
}

/** start_multihead.sh on each node in order, then again where it said pending, in the same order (3 rounds at most). */
async function startAll(order: string[]): Promise<{ runs: Record<string, string[]>; ms: Record<string, number> }> {
  const runs: Record<string, string[]> = {};
  const ms: Record<string, number> = {};
  let pending = order;
  for (let round = 0; round < 4 && pending.length; round++) {
    const still: string[] = [];
    for (const n of pending) {
      const r = await start(n);
      expect(r.status, `${n}: ${r.stderr.slice(-3000)}\n${r.diagnosis}`).toBe(0);
      (runs[n] ??= []).push(r.pending.length ? `pending ${r.pending.join(', ')}` : 'ok');
      ms[n] = (ms[n] ?? 0) + r.ms;
      if (r.pending.length) still.push(n);
    }
    pending = still;
  }
  expect(pending, 'still pending after 3 more rounds').toEqual([]);
  return { runs, ms };
}

/** Every controller's status_multihead.sh exits 0, and the Redis Cluster is laid out as planned. */
function allHealthy(): void {
  for (const n of controllers) {
    const r = lab.exec(n, ['/opt/mhc/bin/status_multihead.sh', '--no-color'], { timeoutMs: 60_000 });
    expect(r.status, `${n} status:\n${r.stdout}${r.stderr}`).toBe(0);
  }
  redisAsPlanned();
}

/**
 * On every controller the first Redis instance a master and the others replicas (the plan: losing
 * one node keeps every slot served), and every instance seeing cluster_state:ok with all slots
 * (one that does not answers its clients CLUSTERDOWN).
 */
function redisAsPlanned(): void {
  const r = model.redis!;
  if (r.mode !== 'cluster') return;
  const seen: string[] = [];
  const want: string[] = [];
  for (const n of controllers) {
    for (let i = 0; i <= r.replicas; i++) {
      const port = String(r.port + i);
      const cli = (...args: string[]) => lab.exec(n, ['redis-cli', '-p', port, ...args], { env: redisEnv() }).stdout;
      const ok = /cluster_state:ok/.test(cli('cluster', 'info')) && /cluster_slots_ok:16384/.test(cli('cluster', 'info'));
      seen.push(`${n}:${port} ${cli('role').split('\n')[0]} ${ok ? 'ok' : 'fail'}`);
      want.push(`${n}:${port} ${i === 0 ? 'master' : 'slave'} ok`);
    }
  }
  expect(seen).toEqual(want);
}

const bootstraps = () => controllers.map((n) => Number(lab.bash(n, "grep -c 'bootstrapping a new Galera cluster' /var/log/cluster_multihead_setup.log").stdout.trim() || 0)).reduce((a, b) => a + b, 0);

/** A row, a Redis key, a file on the volume: written before, read after. */
function writeRecords(id: number, tag: string): void {
  sql('ctl1', `CREATE DATABASE IF NOT EXISTS labdata; CREATE TABLE IF NOT EXISTS labdata.t (id INT PRIMARY KEY, v VARCHAR(40)); REPLACE INTO labdata.t VALUES (${id}, '${tag}')`);
  expect(redis('ctl1', 'set', `lab:${tag}`, tag)).toBe('OK');
  lab.must('ctl1', `echo '${tag}' >${model.gluster!.mountPoint}/lab-record-${id}`);
}
function expectRecords(id: number, tag: string, on: string, opts: { redis?: boolean } = {}): void {
  expect(sql(on, `SELECT v FROM labdata.t WHERE id = ${id}`)).toBe(tag);
  if (opts.redis !== false) expect(redis(on, 'get', `lab:${tag}`)).toBe(tag);
  expect(lab.must(on, `cat ${model.gluster!.mountPoint}/lab-record-${id}`).trim()).toBe(tag);
}

let secretValues: Map<string, string>;
const redisEnv = () => ({ REDISCLI_AUTH: secretValues.get(model.redis!.password.name)! });
/** redis-cli -c (follows the cluster's redirects) to the node's first instance. */
const redis = (node: string, ...args: string[]): string => lab.exec(node, ['redis-cli', '-c', '-p', String(model.redis!.port), ...args], { env: redisEnv() }).stdout.trim();
const vip = () => model.network.vip!.address;
const holders = () => controllers.filter((n) => lab.addrs(n).includes(vip()));

/** The units mhc starts on a node, with their main PIDs. */
function mainPids(n: string): Record<string, number> {
  const units = controllers.includes(n)
    ? [
        'glusterd',
        'mariadb',
        ...lab.must(n, "systemctl list-units --plain --no-legend 'redis-server@*' | awk '{print $1}'").split('\n').filter(Boolean),
        'munge',
        ...(ACCOUNTING ? ['slurmdbd'] : []),
        'slurmctld',
        'keepalived',
        'nginx',
        ...model.web!.services.map((x) => `mhc-web-${x.name}`),
      ]
    : ['munge', 'slurmd'];
  return Object.fromEntries(units.map((u) => [u, lab.mainPid(n, u)]));
}

/** inode and mtime of every file the bundle installs (seeds excepted: the daemons rewrite them), /etc/hosts and /etc/fstab. */
function fileStamps(n: string): string {
  const manifest = JSON.parse(readFileSync(lab.path(n, '/opt/mhc/manifest.json'), 'utf8')) as { files: { dest?: string }[] };
  const dests = manifest.files.flatMap((f) => (f.dest && !f.dest.endsWith('.seed') ? [f.dest] : []));
  return lab.must(n, `cd / && stat -c '%n %i %Y' -- "$@" /etc/hosts /etc/fstab /etc/munge/munge.key 2>&1 | sort`.replace('"$@"', dests.map((d) => `'${d}'`).join(' ')));
}

/** "ID|STATE|NODELIST" as sacct prints it, from slurmctld (scontrol show job) */
function jobFromSlurmctld(from: string, id: string): string {
  const o = lab.bash(from, `scontrol -o show job ${id}`).stdout;
  return `${id}|${/\bJobState=(\S+)/.exec(o)?.[1] ?? ''}|${/\bNodeList=(\S+)/.exec(o)?.[1] ?? ''}`;
}
async function sbatch(from: string, on = ''): Promise<{ id: string; ms: number; node: string }> {
  const t = now();
  // (sbatch waits while no slurmctld is in control: a backup takes over after SlurmctldTimeout)
  const id = (await lab.runBash(from, `sbatch --parsable -N1 ${on ? `-w ${on} ` : ''}-o /tmp/job-%j.out --wrap 'hostname; sleep 1'`, { timeoutMs: 180_000 })).stdout.trim().split(';')[0]!;
  expect(id, `sbatch on ${from}`).toMatch(/^\d+$/);
  const line = await until(
    `job ${id} to complete`,
    120_000,
    () => {
      const l = ACCOUNTING ? lab.bash(from, `sacct -n -P -X -j ${id} -o JobID,State,NodeList`).stdout.trim() : jobFromSlurmctld(from, id);
      return /\|COMPLETED\|/.test(l)
        ? l
        : /\|(FAILED|CANCELLED|NODE_FAIL|TIMEOUT)/.test(l)
          ? (() => {
              throw new Error(l);
            })()
          : undefined;
    },
    1000,
  );
  return { id, ms: now() - t, node: line.split('|')[2]! };
}

beforeAll(async () => {
  expect(userInfo().uid, 'the deploy lab boots containers and mounts overlays: run it as root').toBe(0);
  for (const t of TOOLS) expect(sys('bash', ['-c', `command -v ${t}`]).status, `${t} is missing: run scripts/setup-ci.sh`).toBe(0);
  const stale = sweepStaleDeploys();
  if (stale.length) console.log(`[deploy] removed what an earlier run left: ${stale.join(' ')}`);
  const written = readFileSync(LAB_YAML, 'utf8');
  const targeted = compileText(written).model.target.os === OS ? written : withTarget(written, OS);
  const text0 = ACCOUNTING ? targeted : withoutAccounting(targeted);
  const pkgs = labPackages(compileText(text0).model);
  const tRoot = now();
  const lower = process.env.MHC_DEPLOY_ROOT ?? ensureRoot(pkgs, (s) => console.log(`[deploy] ${s}`), RELEASE);
  fig('root', `${lower} (Debian ${RELEASE}, target ${OS}; ${pkgs.length} packages; ${now() - tRoot} ms to find or build)`);
  lab = new DeployLab(lower);
  const text = lab.subst(text0);
  model = compileText(text).model;
  controllers = model.controllers.map((c) => c.hostname);
  compute = model.computeNodes.map((c) => c.hostname);
  // --- on the build machine (README "Deploy", step 1)
  const yaml = join(lab.dir, 'cluster.yaml');
  writeFileSync(yaml, text);
  out = join(lab.dir, 'out');
  const secrets = join(lab.dir, 'secrets.env'); // outside out/, as the README says
  must('node', [MHC, 'secrets', 'init', yaml, '-o', secrets]);
  secretValues = new Map(
    readFileSync(secrets, 'utf8')
      .split('\n')
      .filter((l) => /^[A-Za-z_]\w*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  // compute nodes get only what their bundle lists, cut from the same file (README step 3)
  const computeSecrets = join(lab.dir, 'secrets-compute.env');
  must('node', [MHC, 'secrets', 'init', yaml, '--for', 'compute', '--from', secrets, '-o', computeSecrets]);
  must('node', [MHC, 'build', yaml, '-o', out, '--tar', '--quiet'], 60_000);
  fig('lab', `${lab.prefix}, subnet 10.214.${lab.octet}.0/24, VIP ${model.network.vip!.address}, run directory ${lab.dir}`);
  lab.create([...model.controllers.map((c) => ({ name: c.hostname, ip: c.ip })), ...model.computeNodes.map((c) => ({ name: c.hostname, ip: c.ip! }))]);
  const tBoot = now();
  const boots = await Promise.all([...lab.nodes.keys()].map(async (n) => [n, await boot(n)] as const));
  fig('boot ms', Object.fromEntries(boots));
  fig('boot all ms', now() - tBoot);
  // --- each node (README "Deploy", steps 2-4): bundle, secrets, ssh between controllers, web code
  for (const n of lab.nodes.keys()) {
    // the hostname the YAML gives it (the image says "vm")
    lab.must(n, `hostnamectl set-hostname ${n}`);
    const bundle = controllers.includes(n) ? n : 'compute';
    mkdirSync(lab.path(n, '/opt/mhc'), { recursive: true, mode: 0o755 });
    if (n === 'ctl1' || n === 'ctl2') {
      // rsync -a --exclude=/web/ out/<cluster>/<node>/ root@<node>:/opt/mhc/
      must('rsync', ['-a', '--exclude=/web/', `${out}/${CLUSTER}/${bundle}/`, `${lab.path(n, '/opt/mhc')}/`]);
    } else {
      // scp out/<cluster>-<node>.tar.gz root@<node>: ; tar -xzf … -C /opt/mhc --strip-components=1
      copyFileSync(`${out}/${CLUSTER}-${bundle}.tar.gz`, lab.path(n, `/root/${CLUSTER}-${bundle}.tar.gz`));
      lab.must(n, `tar -xzf /root/${CLUSTER}-${bundle}.tar.gz -C /opt/mhc --strip-components=1`);
    }
    // ssh root@<node> 'install -d -m 0700 /etc/mhc && umask 077 && cat >/etc/mhc/secrets.env' <secrets.env
    const mine = controllers.includes(n) ? secrets : computeSecrets;
    lab.must(n, 'install -d -m 0700 /etc/mhc && umask 077 && cat >/etc/mhc/secrets.env', { input: readFileSync(mine, 'utf8') });
  }
  // root ssh between the controllers (README: for --all-nodes and the Galera recovery)
  for (const n of controllers) lab.must(n, `[ -f /root/.ssh/id_ed25519 ] || ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_ed25519`);
  const keys = controllers.map((n) => readFileSync(lab.path(n, '/root/.ssh/id_ed25519.pub'), 'utf8')).join('');
  for (const n of controllers) {
    lab.must(n, 'umask 077 && cat >>/root/.ssh/authorized_keys', { input: keys });
    const known = controllers.map((p) => `${model.controllers.find((c) => c.hostname === p)!.ip}`).join(' ');
    lab.must(n, `for h in ${known}; do ssh-keyscan -T 5 "$h" 2>/dev/null; done >>/root/.ssh/known_hosts`, { timeoutMs: 60_000 });
  }
  for (const n of controllers) installWebApps(n);
  fig('setup ms', now() - t0);
}, 1_800_000);

afterAll(() => {
  fig('total lab ms', now() - t0);
  console.log(`[deploy] figures:\n${JSON.stringify(figures, null, 2)}`);
  lab?.teardown();
});

// --- day 2 (issue 15): bundles built with --plan-from, applied under load -----------------------

/** Builds `text` into DIR with the plan from FROM (a built tree), as the README's "Day 2" says; returns the build's own line about the plan. */
function buildDay2(name: string, text: string, from: string, extra: string[] = []): { out: string; planLine: string } {
  const yaml = join(lab.dir, `${name}.yaml`);
  writeFileSync(yaml, text);
  const dir = join(lab.dir, name);
  const r = sys('node', [MHC, 'build', yaml, '-o', dir, '--plan-from', from, ...extra], 60_000);
  if (r.status !== 0) throw new Error(`mhc build --plan-from: ${r.stdout}${r.stderr}`);
  return { out: join(dir, CLUSTER), planLine: r.stdout.split('\n').find((l) => l.startsWith('plan from')) ?? '' };
}
/** The new bundle beside the installed one on every controller (README: /opt/mhc-next, never over /opt/mhc). */
function copyNext(tree: string, to = '/opt/mhc-next', nodes = controllers): void {
  for (const n of nodes) {
    lab.must(n, `rm -rf ${to} && mkdir -p ${to}`);
    must('rsync', ['-a', '--exclude=/web/', `${tree}/${n}/`, `${lab.path(n, to)}/`]);
  }
}
/** The plan's order of controllers (plan/apply-plan.sh, PLAN_ORDER), compute bundles left out. */
const planOrder = (tree: string, nodes = controllers): string[] =>
  /^PLAN_ORDER=\((.*)\)$/m
    .exec(readFileSync(join(tree, nodes[0]!, 'plan/apply-plan.sh'), 'utf8'))![1]!
    .split(' ')
    .filter((x) => nodes.includes(x));
/** The plan's expected disruption per step (ctl1's plan file): "service: text; …". */
function predicted(tree: string, node = 'ctl1'): string {
  const arr = (name: string) =>
    sys('bash', ['-c', `source "$1"; printf '%s\\n' "\${${name}[@]}"`, '_', join(tree, node, 'plan/apply-plan.sh')])
      .stdout.trim()
      .split('\n');
  const svc = arr('PLAN_STEP_SERVICE');
  const dis = arr('PLAN_STEP_DISRUPTION');
  return svc.map((s, i) => `${s}: ${dis[i]}`).join('; ');
}
/** README "Day 2", compute nodes: the new compute bundle's tarball on the node, then start_compute.sh; returns ms. */
async function computeUpdate(n: string, tree: string): Promise<number> {
  const tar = `${CLUSTER}-compute.tar.gz`;
  copyFileSync(join(tree, '..', tar), lab.path(n, `/root/${tar}`));
  lab.must(n, `tar -xzf /root/${tar} -C /opt/mhc --strip-components=1`);
  const t = now();
  const r = await lab.run(n, ['/opt/mhc/bin/start_compute.sh'], { timeoutMs: 300_000 });
  expect(r.status, `${n}: ${r.stdout}${r.stderr}`).toBe(0);
  return now() - t;
}
/** The YAML a built day-2 tree came from (buildDay2 writes NAME.yaml beside NAME/). */
const yamlOf = (tree: string): string => readFileSync(join(lab.dir, `${basename(dirname(tree))}.yaml`), 'utf8');
/** From a controller: does each slurmctld answer (scontrol ping), every 200 ms, until stop(); the longest time none did. */
function ctldPings(from: string) {
  lab.must(from, 'touch /run/lab-ctld.on');
  const p = lab.runBash(
    from,
    `i=0; end=$((SECONDS + 1500)); while [[ -e /run/lab-ctld.on ]] && ((SECONDS < end)); do i=$((i + 1)); if timeout 5 scontrol ping 2>/dev/null | grep -q ' is UP'; then echo "$i $(date +%s%3N) ok"; else echo "$i $(date +%s%3N) fail"; fi; sleep 0.2; done`,
    { timeoutMs: 1_600_000 },
  );
  return {
    async stop(): Promise<{ lines: number; failed: number; maxGapMs: number }> {
      lab.must(from, 'rm -f /run/lab-ctld.on');
      const lines = (await p).stdout.trim().split('\n').filter(Boolean);
      return { lines: lines.length, failed: lines.filter((l) => l.endsWith(' fail')).length, maxGapMs: maxGap(lines) };
    },
  };
}
/** A membership scenario's start: the main PIDs of NODES, the load and (from ctl2) the slurmctld pings running, 3 s in. */
async function membershipLoad(nodes: readonly string[]) {
  const pidsBefore = Object.fromEntries(nodes.map((n) => [n, mainPids(n)]));
  const load = startLoad();
  const pings = ctldPings('ctl2');
  await sleep(3000);
  return { pidsBefore, load, pings };
}
async function apply(node: string, args: string[] = [], dir = '/opt/mhc-next'): Promise<Result & { ms: number }> {
  const t = now();
  const r = await lab.run(node, [`${dir}/bin/apply_multihead.sh`, '--auto-confirm', '--no-color', ...args], { timeoutMs: 900_000 });
  mkdirSync(join(lab.dir, 'logs'), { recursive: true });
  writeFileSync(join(lab.dir, 'logs', `${node}-apply-${++runCount}.log`), `${r.stdout}\n--- stderr\n${r.stderr}`);
  console.log(`[deploy] apply_multihead.sh ${args.join(' ')} on ${node}: exit ${r.status} in ${now() - t} ms`);
  return { ...r, ms: now() - t };
}

const LOAD_USER = 'labload';
const LOAD_PASS = 'labload-pass-7';
interface LoadReport {
  sql: { ok: number; fail: number; maxGapMs: number; lost: number };
  redis: { ok: number; fail: number; maxGapMs: number; lost: number };
  jobs: { submitted: number; bad: string[] };
  vip: { polls: number; notOne: number; two: number };
  galera: GaleraReport;
}
interface GaleraReport {
  polls: number;
  /** the fewest members Synced at one poll, and the fewest in the primary component serving (Synced, or an IST donor: Donor/Desynced) */
  minSynced: number;
  minServing: number;
  /** polls with fewer than 2 Synced, and what the members said at the first such poll */
  belowTwo: number;
  firstBelowTwo: string;
  /** polls where two members at once neither Synced nor donating (restarting, joining): a rolling restart never has one */
  twoDown: number;
}
function galeraReport(polls: string[][]): GaleraReport {
  const synced = (p: string[]) => p.filter((x) => x === 'Synced').length;
  const serving = (p: string[]) => p.filter((x) => x === 'Synced' || x === 'Donor/Desynced').length;
  const below = polls.filter((p) => synced(p) < 2);
  return {
    polls: polls.length,
    minSynced: Math.min(controllers.length, ...polls.map(synced)),
    minServing: Math.min(controllers.length, ...polls.map(serving)),
    belowTwo: below.length,
    firstBelowTwo: below[0] ? below[0].map((x, i) => `${controllers[i]}=${x || 'no answer'}`).join(' ') : '',
    twoDown: polls.filter((p) => p.length - serving(p) >= 2).length,
  };
}
/** The longest time between two successful writes, from "I EPOCH_MS ok|fail" lines. */
const maxGap = (lines: string[]): number => {
  const ts = lines.filter((l) => l.endsWith(' ok')).map((l) => Number(l.split(' ')[1]));
  return ts.slice(1).reduce((m, t, i) => Math.max(m, t - ts[i]!), 0);
};
/**
 * The load of the issue, for the whole of a scenario, from ctl3 (inside the lab): a row inserted
 * through the VIP every 100 ms, a Redis write (RPUSH, one key) every 100 ms, a short Slurm job every
 * 3 s; from the test: the VIP holders every 250 ms and, with `galera`, the Synced members every 1 s.
 * stop() ends it and checks that every acknowledged row and key is there.
 */
function startLoad(opts: { galera?: boolean } = {}) {
  const v = vip();
  const port = model.redis!.port;
  // a fresh table and list for each scenario: an id counts once (the writer's user made by the first)
  sql(
    'ctl1',
    `CREATE DATABASE IF NOT EXISTS labdata; CREATE USER IF NOT EXISTS '${LOAD_USER}'@'%' IDENTIFIED BY '${LOAD_PASS}'; GRANT ALL ON labdata.* TO '${LOAD_USER}'@'%'; DROP TABLE IF EXISTS labdata.load_w; CREATE TABLE labdata.load_w (id INT PRIMARY KEY, t DATETIME(3))`,
  );
  lab.exec('ctl1', ['redis-cli', '-c', '-p', String(port), 'del', 'lab:load'], { env: redisEnv() });
  lab.must('ctl3', 'touch /run/lab-load.on');
  // the Redis writer reads its password afresh at each write, as a client that switches does (scenario 10)
  lab.must('ctl3', 'umask 077 && cat >/run/lab-redis-pass', { input: redisEnv().REDISCLI_AUTH });
  const loop = (body: string) =>
    `i=0; end=$((SECONDS + 1500)); while [[ -e /run/lab-load.on ]] && ((SECONDS < end)); do i=$((i + 1)); if ${body}; then echo "$i $(date +%s%3N) ok"; else echo "$i $(date +%s%3N) fail"; fi; sleep 0.1; done`;
  const sqlP = lab.runBash('ctl3', loop(`timeout 5 mariadb -h ${v} -u ${LOAD_USER} -p${LOAD_PASS} --connect-timeout=3 labdata -e "INSERT INTO load_w VALUES ($i, NOW(3))" 2>/dev/null`), {
    timeoutMs: 1_600_000,
  });
  // a cluster client: every controller's instance is a seed, the first that answers takes the write (-c follows MOVED)
  const seeds = model.controllers.map((c) => c.ip).join(' ');
  const redisP = lab.runBash(
    'ctl3',
    loop(
      `export REDISCLI_AUTH=$(cat /run/lab-redis-pass); for h in ${seeds}; do r=$(timeout 3 redis-cli -c -h $h -p ${port} rpush lab:load $i 2>/dev/null) && [[ $r =~ ^[0-9]+$ ]] && break; r=''; done; [[ -n $r ]]`,
    ),
    {
      timeoutMs: 1_600_000,
      env: redisEnv(),
    },
  );
  const jobsP = lab.runBash(
    'ctl3',
    'end=$((SECONDS + 1500)); while [[ -e /run/lab-load.on ]] && ((SECONDS < end)); do timeout 30 sbatch --parsable -o /dev/null --wrap true 2>/dev/null | cut -d";" -f1 || echo fail; sleep 3; done',
    { timeoutMs: 1_600_000 },
  );
  const vipSeen: number[] = [];
  // Galera, every 500 ms: each member's wsrep_local_state_comment ('' when it does not answer)
  const galeraPolls: string[][] = [];
  const STATE_Q = 'mariadb -N -B -e "SHOW GLOBAL STATUS LIKE \'wsrep_local_state_comment\'" 2>/dev/null';
  let tick = 0;
  const timer = setInterval(() => {
    vipSeen.push(holders().length);
    if (opts.galera && tick++ % 2 === 0) galeraPolls.push(controllers.map((n) => lab.bash(n, STATE_Q).stdout.split('\t')[1]?.trim() ?? ''));
  }, 250);
  return {
    async stop(): Promise<LoadReport> {
      clearInterval(timer);
      lab.must('ctl3', 'rm -f /run/lab-load.on');
      const [sq, rd, jb] = await Promise.all([sqlP, redisP, jobsP]);
      const sqlLines = sq.stdout.trim().split('\n').filter(Boolean);
      const redisLines = rd.stdout.trim().split('\n').filter(Boolean);
      const okIds = (ls: string[]) => ls.filter((l) => l.endsWith(' ok')).map((l) => l.split(' ')[0]!);
      const rows = new Set(sql('ctl2', 'SELECT id FROM labdata.load_w').split('\n'));
      const keys = new Set(
        lab
          .exec('ctl2', ['redis-cli', '-c', '-p', String(port), 'lrange', 'lab:load', '0', '-1'], { env: redisEnv() })
          .stdout.trim()
          .split('\n'),
      );
      const ids = jb.stdout
        .trim()
        .split('\n')
        .filter((x) => /^\d+$/.test(x));
      // every job submitted ends COMPLETED (sacct; on Debian 13 from slurmctld)
      const ended = (id: string) => /\|(COMPLETED|FAILED|CANCELLED|NODE_FAIL|TIMEOUT)/.test(jobLine(id));
      try {
        await until('the load jobs to end', 120_000, () => ids.every(ended) || undefined, 2000);
      } catch (e) {
        // which job, and what slurmctld says of it
        const open = ids.filter((id) => !ended(id));
        throw new Error(
          `${String(e)}: ${open.map((id) => `${jobLine(id)} / ${lab.bash('ctl1', `scontrol -o show job ${id} | grep -o 'JobState=[^ ]*\\|Reason=[^ ]*\\|NodeList=[^ ]*' | tr '\\n' ' '`).stdout}`).join('; ')}\n${jobTrail(open[0]!)}`,
        );
      }
      const bad = ids.map(jobLine).filter((l) => !/\|COMPLETED\|/.test(l));
      return {
        sql: { ok: okIds(sqlLines).length, fail: sqlLines.length - okIds(sqlLines).length, maxGapMs: maxGap(sqlLines), lost: okIds(sqlLines).filter((i) => !rows.has(i)).length },
        redis: { ok: okIds(redisLines).length, fail: redisLines.length - okIds(redisLines).length, maxGapMs: maxGap(redisLines), lost: okIds(redisLines).filter((i) => !keys.has(i)).length },
        jobs: { submitted: ids.length, bad: [...bad, ...jb.stdout.split('\n').filter((x) => x === 'fail')] },
        vip: { polls: vipSeen.length, notOne: vipSeen.filter((x) => x !== 1).length, two: vipSeen.filter((x) => x > 1).length },
        galera: galeraReport(galeraPolls),
      };
    },
  };
}
/** What every daemon logged of a job that does not end, and the compute nodes' slurmstepd processes: the cause, in a CI log. */
function jobTrail(id: string): string {
  const grep = `grep -h -E 'JobId=${id}([^0-9]|$)|job ${id}([^0-9]|$)|StepId=${id}\\.' /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log 2>/dev/null | tail -n 40`;
  return [
    ...controllers.map((n) => `--- ${n}: slurmctld.log\n${lab.bash(n, grep).stdout}`),
    ...compute.map((n) => `--- ${n}: slurmd.log, slurmstepd\n${lab.bash(n, grep).stdout}${lab.bash(n, 'pgrep -a slurmstepd; tail -n 30 /var/log/slurm/slurmd.log').stdout}`),
  ].join('\n');
}
const jobLine = (id: string): string => (ACCOUNTING ? lab.bash('ctl1', `sacct -n -P -X -j ${id} -o JobID,State,NodeList`).stdout.trim() : jobFromSlurmctld('ctl1', id));
/** What every scenario of the issue asserts of the load: nothing acknowledged lost, the VIP never on two nodes, no job failed. */
function expectLoadKept(r: LoadReport): void {
  expect(r.sql.lost, 'rows acknowledged, then missing').toBe(0);
  expect(r.redis.lost, 'keys acknowledged, then missing').toBe(0);
  expect(r.sql.ok).toBeGreaterThan(10);
  expect(r.redis.ok).toBeGreaterThan(10);
  expect(r.vip.two, 'polls with the VIP on two nodes').toBe(0);
  expect(r.jobs.bad, 'jobs that did not complete').toEqual([]);
  expect(r.jobs.submitted).toBeGreaterThan(0);
}

let day2Tree = '';

describe.sequential('deploy lab', () => {
  scenario('1')('1 fresh deploy in seed 002 order: every controller healthy, compute runs a job, the VIP serves https', async () => {
    const tAll = now();
    const { runs, ms: perNode } = await startAll(controllers);
    fig('scenario 1: runs per node', runs);
    for (const n of compute) {
      const t = now();
      const r = await lab.run(n, ['/opt/mhc/bin/start_compute.sh'], { timeoutMs: 300_000 });
      expect(r.status, `${n}: ${r.stdout}${r.stderr}`).toBe(0);
      perNode[n] = now() - t;
    }
    fig('scenario 1: wall ms per node', perNode);
    fig('scenario 1: wall ms total', now() - tAll);

    allHealthy();
    // GlusterFS: one replica-3 volume, mounted on all three, holding StateSaveLocation
    const g = model.gluster!;
    const info = lab.must('ctl1', `gluster --mode=script volume info ${g.volumeName}`);
    expect(info).toMatch(/^Type: Replicate$/m);
    expect(info).toMatch(/^Number of Bricks: 1 x 3 = 3$/m);
    expect(info).toMatch(/^Status: Started$/m);
    for (const n of controllers) expect(lab.must(n, `findmnt -n -o FSTYPE ${g.mountPoint}`).trim(), n).toBe('fuse.glusterfs');
    const state = model.slurm!.stateSaveLocation;
    expect(state.startsWith(`${g.mountPoint}/`)).toBe(true);
    lab.must('ctl1', `echo "written on ctl1" >${g.mountPoint}/lab-probe`);
    for (const n of controllers) {
      expect(lab.must(n, `cat ${g.mountPoint}/lab-probe`).trim()).toBe('written on ctl1');
      expect(lab.must(n, `ls ${state}`)).toMatch(/clustername/);
    }
    fig('scenario 1: gluster', `${g.volumeName}: replica 3, 1 x 3 bricks, mounted on ${controllers.join(' ')}; StateSaveLocation ${state} on it`);
    // Galera: 3, all Synced
    const sizes = controllers.map((n) => `${n}=${wsrep(n, 'wsrep_cluster_size')}/${wsrep(n, 'wsrep_local_state_comment')}`);
    fig('scenario 1: galera', sizes);
    expect(sizes).toEqual(controllers.map((n) => `${n}=3/Synced`));
    // Redis: the cluster the scripts formed
    const ci = lab.exec('ctl1', ['redis-cli', '-p', String(model.redis!.port), 'cluster', 'info'], { env: redisEnv() }).stdout;
    expect(ci).toMatch(/^cluster_state:ok\r?$/m);
    const known = /cluster_known_nodes:(\d+)/.exec(ci)?.[1];
    fig('scenario 1: redis', `cluster_state:ok, ${known} nodes`);
    expect(Number(known)).toBe(6);
    // the VIP on its owner (keepalived preempts once the owner's check passes: a few seconds)
    const tVip = now();
    await until('the VIP on its owner', 60_000, () => holders().join() === model.vipOwner, 200);
    fig('scenario 1: VIP on its owner', `${model.vipOwner}, ${now() - tVip} ms after the last run`);
    // Slurm: a job on the compute node, in sacct (on Debian 13: from slurmctld, see ACCOUNTING)
    const job = await sbatch('ctl1');
    fig('scenario 1: job', job);
    expect(job.node).toBe(compute[0]);
    // configless: the compute node holds no slurm.conf of its own; slurmd runs from the copy the
    // controllers served it (slurmd's conf-cache, linked from /run/slurm/conf)
    if (model.slurm!.configless) {
      for (const n of compute) {
        expect(lab.bash(n, 'test -e /etc/slurm/slurm.conf').status, `${n}: /etc/slurm/slurm.conf`).not.toBe(0);
        const cached = lab.must(n, 'cat /run/slurm/conf/slurm.conf 2>/dev/null || cat /var/spool/slurmd/conf-cache/slurm.conf');
        expect(cached).toMatch(/^SlurmctldHost=ctl1/m);
        fig(`scenario 1: configless ${n}`, `no /etc/slurm/slurm.conf; slurmd runs from its conf-cache (${cached.split('\n').length} lines, served by slurmctld)`);
      }
    }
    // https://VIP/health through nginx and the stand-in application's units
    const health = lab.must('ctl2', `curl -sk --max-time 5 -o /dev/null -w '%{http_code}' https://${vip()}/health`).trim();
    const api = lab.must('ctl2', `curl -sk --max-time 5 https://${vip()}/api/health`).trim();
    fig('scenario 1: https', `https://${vip()}/health → ${health}; /api/health → ${api}`);
    expect(health).toBe('200');
    expect(api).toBe(`api on ${model.vipOwner}: ok`);
    for (const n of controllers) {
      const r = lab.exec(n, ['/usr/local/sbin/check_all_services.sh'], { timeoutMs: 20_000 });
      expect(r.status, `${n}: ${r.stderr}`).toBe(0);
    }
  });

  scenario('2')('2 idempotent re-run: exit 0 everywhere, no service restarted, no file rewritten, no second bootstrap', async () => {
    const nodesAll = [...controllers, ...compute];
    const pids = Object.fromEntries(nodesAll.map((n) => [n, mainPids(n)]));
    const stamps = Object.fromEntries(nodesAll.map((n) => [n, fileStamps(n)]));
    const uuid = wsrep('ctl1', 'wsrep_cluster_state_uuid');
    const before = bootstraps();
    expect(before).toBe(1);
    for (const v of Object.values(pids)) for (const [u, p] of Object.entries(v)) expect(p, u).toBeGreaterThan(0);
    const ms: Record<string, number> = {};
    for (const n of controllers) {
      const r = await start(n);
      expect(r.status, r.stderr).toBe(0);
      expect(r.pending).toEqual([]);
      ms[n] = r.ms;
    }
    for (const n of compute) {
      const t = now();
      const r = await lab.run(n, ['/opt/mhc/bin/start_compute.sh'], { timeoutMs: 120_000 });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      ms[n] = now() - t;
    }
    fig('scenario 2: re-run ms', ms);
    for (const n of nodesAll) {
      expect(mainPids(n), `${n}: main PIDs`).toEqual(pids[n]);
      expect(fileStamps(n), `${n}: files`).toBe(stamps[n]);
    }
    expect(bootstraps()).toBe(before);
    expect(wsrep('ctl1', 'wsrep_cluster_state_uuid')).toBe(uuid);
    fig(
      'scenario 2: unchanged',
      `${nodesAll.length} nodes: main PIDs of ${Object.values(pids).reduce((a, v) => a + Object.keys(v).length, 0)} units, every installed file (inode, mtime), 1 bootstrap, cluster uuid`,
    );
  });

  scenario('3')('3 planned maintenance: stop on the VIP owner moves the VIP, the backup slurmctld takes over, Galera stays Primary with 2; start again: IST rejoin, VIP back', async () => {
    const owner = model.vipOwner!;
    const next = controllers.find((n) => n !== owner)!;
    const since = Math.floor(Date.now() / 1000);
    const t = now();
    const stopping = lab.run(owner, ['/opt/mhc/bin/stop_multihead.sh', '--auto-confirm'], { timeoutMs: 300_000 });
    // the VIP: gone from the owner, then on the next-priority node
    let gone = 0;
    const moved = await until(
      'the VIP to move',
      120_000,
      () => {
        const h = holders();
        if (!gone && !h.includes(owner)) gone = now();
        return gone && h.length === 1 && h[0] !== owner ? h[0] : undefined;
      },
      50,
    );
    const moveMs = now() - gone;
    const r = await stopping;
    expect(r.status, r.stdout + r.stderr).toBe(0);
    fig('scenario 3: stop_multihead.sh ms', now() - t);
    fig('scenario 3: VIP move ms', `${moveMs} (${owner} → ${moved})`);
    expect(moved).toBe(next);
    expect(moveMs).toBeLessThan(5000);
    // Galera: Primary with 2
    expect(wsrep(next, 'wsrep_cluster_status')).toBe('Primary');
    expect(wsrep(next, 'wsrep_cluster_size')).toBe('2');
    // the backup slurmctld takes over: a job runs
    const job = await sbatch(next);
    fig('scenario 3: job with the backup slurmctld', job);
    expect(job.node).toBe(compute[0]);
    // start again: rejoins by IST, the VIP returns
    const back = await start(owner);
    expect(back.status, back.stderr).toBe(0);
    expect(back.pending).toEqual([]);
    const returned = await until('the VIP to return', 60_000, () => (holders().join() === owner ? now() : undefined), 100);
    fig('scenario 3: start again ms (VIP back after)', `${back.ms} (${returned - t} ms after the stop began)`);
    expect(wsrep(owner, 'wsrep_local_state_comment')).toBe('Synced');
    expect(wsrep(owner, 'wsrep_cluster_size')).toBe('3');
    const journal = lab.must(owner, `journalctl -u mariadb --since @${since} --no-pager -o cat`);
    const ist = /IST received|Receiving IST/.test(journal);
    const sst = /SST received|State transfer required|Running: 'wsrep_sst/.test(journal) && !ist;
    fig('scenario 3: rejoin', ist ? 'IST' : sst ? 'SST' : 'unknown');
    expect(ist).toBe(true);
    // its Redis master (taken over by its replica on the next node during the stop) is its own again
    redisAsPlanned();
  });

  scenario('4')('4 whole-cluster stop and start: Galera only from the node grastate.dat marks safe; every service and every record back', async () => {
    writeRecords(4, 'before the full stop');
    const jobs = lab.must('ctl1', 'sacct -n -P -X -S 2020-01-01 -o JobID').trim().split('\n').filter(Boolean);
    expect(jobs.length).toBeGreaterThan(0);
    // stop everything: ctl1, ctl3, then ctl2 last (so ctl2 is the one safe to bootstrap, not the VIP owner)
    const t = now();
    for (const n of ['ctl1', 'ctl3', 'ctl2']) {
      const r = await lab.run(n, ['/opt/mhc/bin/stop_multihead.sh', '--auto-confirm'], { timeoutMs: 300_000 });
      expect(r.status, `${n}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    fig('scenario 4: stop all ms', now() - t);
    const grastate = Object.fromEntries(controllers.map((n) => [n, lab.must(n, 'awk \'$1 == "safe_to_bootstrap:" { print $2 }\' /var/lib/mysql/grastate.dat').trim()]));
    fig('scenario 4: safe_to_bootstrap after the stop', grastate);
    expect(grastate).toEqual({ ctl1: '0', ctl2: '1', ctl3: '0' });
    // start in seed 002's order: ctl1 is not the safe one and says which node is
    const t2 = now();
    const before = bootstraps();
    const first = await start('ctl1');
    expect(first.status).toBe(1);
    expect(first.stderr).toMatch(/ctl2 has safe_to_bootstrap: 1: start it first/);
    expect(bootstraps()).toBe(before);
    const { runs } = await startAll(['ctl2', 'ctl1', 'ctl3']);
    fig('scenario 4: runs after ctl1 named ctl2', runs);
    fig('scenario 4: start all ms', now() - t2);
    expect(bootstraps()).toBe(before + 1);
    expect(lab.must('ctl2', "grep 'bootstrapping a new Galera cluster' /var/log/cluster_multihead_setup.log | tail -1")).toMatch(/from ctl2/);
    allHealthy();
    for (const n of controllers) expect(wsrep(n, 'wsrep_cluster_size')).toBe('3');
    await until('the VIP on its owner', 60_000, () => holders().join() === model.vipOwner, 200);
    // every record is back, read on other nodes than the one that wrote it
    expectRecords(4, 'before the full stop', 'ctl3');
    const after = lab.must('ctl1', 'sacct -n -P -X -S 2020-01-01 -o JobID').trim().split('\n').filter(Boolean);
    for (const j of jobs) expect(after).toContain(j);
    const job = await sbatch('ctl1');
    fig('scenario 4: records back', `row, key, file, ${jobs.length} job record(s); a new job ran on ${job.node}`);
  });

  scenario('5')('5 power loss: every controller killed at once, booted: Galera restores its primary component by itself, start brings the rest; nothing committed lost', async () => {
    writeRecords(5, 'before the power loss');
    const uuid = wsrep('ctl1', 'wsrep_cluster_state_uuid');
    const before = bootstraps();
    const t = now();
    await Promise.all(controllers.map((n) => lab.kill(n)));
    const boots = await Promise.all(controllers.map(async (n) => [n, await boot(n)] as const));
    fig('scenario 5: boot ms after the power loss', Object.fromEntries(boots));
    // mariadb.service is enabled (the start script enables it): at boot each member finds the
    // others of the last primary component in gvwstate.dat and they restore it (pc.recovery)
    const tPc = now();
    const primary = (n: string) => {
      try {
        return wsrep(n, 'wsrep_cluster_status') === 'Primary' && wsrep(n, 'wsrep_cluster_size') === '3';
      } catch {
        return false;
      }
    };
    await until('Galera to restore its primary component after the boot', 180_000, () => controllers.every(primary), 1000);
    fig('scenario 5: Galera primary with 3 after the boot', `${now() - tPc} ms after the last boot`);
    expect(wsrep('ctl2', 'wsrep_cluster_state_uuid')).toBe(uuid);
    const { runs } = await startAll(controllers);
    fig('scenario 5: runs', runs);
    expect(bootstraps(), 'no bootstrap: the cluster restored itself').toBe(before);
    allHealthy();
    await until('the VIP on its owner', 60_000, () => holders().join() === model.vipOwner, 200);
    // Redis persists by RDB snapshots (save 3600 1 / 300 100 / 60 10000): a key written seconds
    // before every node lost power is not on any disk (README: Power loss); what was saved is
    expectRecords(5, 'before the power loss', 'ctl2', { redis: false });
    if (sql('ctl2', 'SELECT COUNT(*) FROM labdata.t WHERE id = 4') === '1') expect(redis('ctl2', 'get', 'lab:before the full stop')).toBe('before the full stop');
    fig('scenario 5: the Redis key written just before', redis('ctl2', 'get', 'lab:before the power loss') === '' ? 'lost (not saved yet: RDB persistence)' : 'kept');
    const job = await sbatch('ctl1');
    fig('scenario 5: recovered ms', `${now() - t} (kill to every controller healthy; a job ran on ${job.node})`);
  });

  scenario('6')('6 backup and restore on the live cluster: a table dropped, Redis flushed, a file deleted on the volume; restore.sh --latest brings all back', async () => {
    const g = model.gluster!;
    const dir = model.backup.dir;
    // the data: a table, keys in every shard, a file on the volume
    sql('ctl1', "CREATE DATABASE IF NOT EXISTS labdata; CREATE TABLE labdata.s6 (id INT PRIMARY KEY, v VARCHAR(40)); INSERT INTO labdata.s6 VALUES (1, 'one'), (2, 'two'), (3, 'three')");
    const keys = Array.from({ length: 30 }, (_, i) => `lab:s6:${i}`);
    for (const k of keys) expect(redis('ctl1', 'set', k, `value of ${k}`)).toBe('OK');
    lab.must('ctl1', `mkdir -p ${g.mountPoint}/lab-s6 && echo 'on the volume' >${g.mountPoint}/lab-s6/data.txt`);
    // backup.sh on every controller (each snapshot holds that node's Redis instances)
    const backupMs: Record<string, number> = {};
    for (const n of controllers) {
      const t = now();
      const b = await lab.run(n, ['/opt/mhc/bin/backup.sh'], { timeoutMs: 300_000 });
      expect(b.status, `${n}: ${b.stdout}${b.stderr}`).toBe(0);
      backupMs[n] = now() - t;
    }
    const id = lab
      .must('ctl1', `readlink ${dir}/latest`)
      .trim()
      .replace(/^snapshots\//, '');
    expect(id).toMatch(/^\d{8}_\d{6}$/);
    const files = lab.must('ctl1', `cd ${dir}/snapshots/${id} && find . -type f | sort`).trim().split('\n');
    expect(files).toEqual(expect.arrayContaining(['./metadata.json', './configs.tar.gz', './mariadb/dump.sql.gz', './slurm_state.tar.gz', './glusterfs_data.tar.gz']));
    fig('scenario 6: backup.sh ms', backupMs);
    // the losses
    sql('ctl2', 'DROP TABLE labdata.s6');
    let flushed = 0;
    for (const n of controllers)
      for (const p of [model.redis!.port, model.redis!.port + 1]) {
        const r = lab.exec(n, ['redis-cli', '-p', String(p), 'role'], { env: redisEnv() }).stdout.split('\n')[0];
        if (r === 'master') {
          expect(lab.exec(n, ['redis-cli', '-p', String(p), 'flushall'], { env: redisEnv() }).stdout.trim()).toBe('OK');
          flushed++;
        }
      }
    expect(flushed).toBe(3);
    lab.must('ctl3', `rm ${g.mountPoint}/lab-s6/data.txt`);
    expect(redis('ctl2', 'get', keys[0]!)).toBe('');
    // the README's procedure: slurmctld only where the state is restored; ctl1 restores
    // everything (the database and the volume for all), the others their Redis instances
    const t = now();
    for (const n of ['ctl2', 'ctl3']) {
      const r = await lab.run(n, ['/opt/mhc/bin/stop_multihead.sh', '--service', 'slurm', '--auto-confirm'], { timeoutMs: 300_000 });
      expect(r.status, `${n}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    const dry = lab.exec('ctl1', ['/opt/mhc/bin/restore.sh', '--latest', '--dry-run'], { timeoutMs: 120_000 });
    expect(dry.status, dry.stdout + dry.stderr).toBe(0);
    const full = await lab.run('ctl1', ['/opt/mhc/bin/restore.sh', '--latest', '--auto-confirm'], { timeoutMs: 600_000 });
    expect(full.status, full.stdout + full.stderr).toBe(0);
    expect(full.stdout).toMatch(/restore of \d{8}_\d{6} finished: configs mariadb redis slurm_state glusterfs_data/);
    for (const n of ['ctl2', 'ctl3']) {
      const r = await lab.run(n, ['/opt/mhc/bin/restore.sh', '--latest', '--items', 'redis', '--auto-confirm'], { timeoutMs: 300_000 });
      expect(r.status, `${n}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    await startAll(['ctl2', 'ctl3']);
    fig('scenario 6: restore ms', `${now() - t} (slurm stopped on ctl2 and ctl3, restore --latest on ctl1, --items redis on ctl2 and ctl3, start on ctl2 and ctl3)`);
    // all back, read on other nodes
    expect(sql('ctl3', 'SELECT GROUP_CONCAT(v ORDER BY id) FROM labdata.s6')).toBe('one,two,three');
    await until('the Redis cluster ok', 60_000, () => /^cluster_state:ok\r?$/m.test(redis('ctl2', 'cluster', 'info')), 500);
    const missing = keys.filter((k) => redis('ctl2', 'get', k) !== `value of ${k}`);
    expect(missing).toEqual([]);
    expect(lab.must('ctl2', `cat ${g.mountPoint}/lab-s6/data.txt`).trim()).toBe('on the volume');
    allHealthy();
    const job = await sbatch('ctl1');
    fig('scenario 6: back', `table (3 rows), ${keys.length} keys in 3 shards, the file on the volume; a job ran on ${job.node}`);
  });

  scenario('7')('7 cluster_info.sh --all-nodes and web_health_check.sh --all-nodes from ctl1 show every node', () => {
    const ci = lab.exec('ctl1', ['/opt/mhc/bin/cluster_info.sh', '--all-nodes'], { timeoutMs: 120_000 });
    expect(ci.status, ci.stdout + ci.stderr).toBe(0);
    for (const n of controllers) expect(ci.stdout).toContain(n);
    const w = lab.exec('ctl1', ['/opt/mhc/bin/web_health_check.sh', '--all-nodes', '--no-color'], { timeoutMs: 120_000 });
    expect(w.status, w.stdout + w.stderr).toBe(0);
    for (const n of controllers) expect(w.stdout).toContain(n);
    const st = lab.exec('ctl1', ['/opt/mhc/bin/status_multihead.sh', '--all-nodes', '--format', 'compact', '--no-color'], { timeoutMs: 120_000 });
    expect(st.status, st.stdout + st.stderr).toBe(0);
    for (const n of controllers) expect(st.stdout).toContain(n);
    fig(
      'scenario 7',
      `cluster_info: ${ci.stdout.split('\n').length} lines; web_health_check: ${w.stdout.split('\n').filter((l) => /yes|healthy/i.test(l)).length} healthy lines; status --all-nodes exit 0`,
    );
  });

  scenario('8')('8 day 2, live: a dynamic Galera variable and a mutable Redis setting under load; a stale plan refused first; no daemon restarted, every value read back', async () => {
    const base = readFileSync(join(lab.dir, 'cluster.yaml'), 'utf8');
    const live = base
      .replace(/slave_threads: 2/, 'slave_threads: 4')
      .replace(/^redis:\n/m, 'redis:\n  maxmemory: 256mb\n  maxmemory_policy: allkeys-lru\n')
      .replace('    mount_point: /mnt/gluster\n', '    mount_point: /mnt/gluster\n    options: { performance.cache-size: 64MB }\n');
    expect(live).toMatch(/performance.cache-size/);
    expect(live).not.toBe(base);
    // 6. a stale plan: built from a YAML the cluster does not run
    const other = buildDay2('day2-other', base.replace(/slurmctld_timeout: 20/, 'slurmctld_timeout: 30'), join(lab.dir, 'cluster.yaml'));
    const stale = buildDay2('day2-stale', live, join(other.out, '..', '..', 'day2-other.yaml'));
    copyNext(stale.out, '/opt/mhc-stale');
    const pidsBefore = Object.fromEntries(controllers.map((n) => [n, mainPids(n)]));
    const stampsBefore = Object.fromEntries(controllers.map((n) => [n, fileStamps(n)]));
    const refused = await apply('ctl3', [], '/opt/mhc-stale');
    fig(
      'scenario 8: stale plan',
      `exit ${refused.status}: ${refused.stderr
        .split('\n')
        .find((l) => /stale plan/.test(l))
        ?.slice(0, 200)}`,
    );
    expect(refused.status).toBe(3);
    expect(refused.stderr).toMatch(/stale plan/);
    expect(mainPids('ctl3')).toEqual(pidsBefore.ctl3);
    expect(fileStamps('ctl3')).toBe(stampsBefore.ctl3);
    // 1. the live change, from the tree the cluster runs
    const d2 = buildDay2('day2-live', live, out + '/' + CLUSTER);
    fig('scenario 8: plan', d2.planLine);
    copyNext(d2.out);
    const order = planOrder(d2.out);
    expect(order).toEqual(['ctl3', 'ctl2', 'ctl1']);
    const dry = await apply(order[0]!, ['--dry-run']);
    expect(dry.status, dry.stdout + dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would SET GLOBAL wsrep_slave_threads/);
    const load = startLoad();
    await sleep(3000);
    const ms: Record<string, number> = {};
    for (const n of order) {
      const r = await apply(n);
      expect(r.status, `${n}: ${r.stdout.slice(-3000)}${r.stderr}`).toBe(0);
      ms[n] = r.ms;
    }
    await sleep(3000);
    const rep = await load.stop();
    fig('scenario 8: apply ms per node', ms);
    fig('scenario 8: load', rep);
    fig(
      'scenario 8: predicted / measured',
      `predicted: ${predicted(d2.out)} / measured: longest write gap ${rep.sql.maxGapMs} ms (SQL through the VIP), ${rep.redis.maxGapMs} ms (Redis); ${rep.vip.notOne} of ${rep.vip.polls} VIP polls without exactly one holder`,
    );
    expectLoadKept(rep);
    expect(rep.vip.notOne, 'polls without exactly one VIP holder').toBe(0);
    for (const n of controllers) {
      expect(mainPids(n), `${n}: main PIDs`).toEqual(pidsBefore[n]);
      expect(sql(n, "SHOW GLOBAL VARIABLES LIKE 'wsrep_slave_threads'").split('\t')[1]).toBe('4');
      expect(lab.must(n, `gluster --mode=script volume get ${model.gluster!.volumeName} performance.cache-size`)).toMatch(/^performance\.cache-size\s+64MB\s*$/m);
      for (const p of [model.redis!.port, model.redis!.port + 1]) {
        const got = lab
          .exec(n, ['redis-cli', '-p', String(p), 'config', 'get', 'maxmemory*'], { env: redisEnv() })
          .stdout.trim()
          .split('\n');
        expect(got, `${n}:${p}`).toEqual(expect.arrayContaining(['maxmemory', String(256 * 1024 * 1024), 'maxmemory-policy', 'allkeys-lru']));
      }
    }
    allHealthy();
    day2Tree = d2.out;
    fig(
      'scenario 8: values read back',
      `wsrep_slave_threads 4 on ${controllers.length} members; maxmemory 268435456 and allkeys-lru on ${controllers.length * 2} Redis instances; performance.cache-size 64MB on the volume (gluster volume get on every node); main PIDs of every unit unchanged`,
    );
  });

  scenario('9')(
    '9 day 2, rolling restarts under load: Galera (gcache), Redis (io-threads) and slurmctld (SchedulerType), one member at a time; the apply killed mid-restart on ctl2 resumes',
    async () => {
      expect(day2Tree, 'scenario 8 runs first').not.toBe('');
      const live = readFileSync(join(lab.dir, 'day2-live.yaml'), 'utf8');
      const next = live
        .replace(/gcache_size: 64M/, 'gcache_size: 96M')
        .replace(/^redis:\n/m, 'redis:\n  io_threads: 2\n')
        .replace(/slurmctld_timeout: 20/, 'slurmctld_timeout: 25\n  scheduler_type: builtin');
      expect(next).toMatch(/scheduler_type: builtin/);
      const d2 = buildDay2('day2-restart', next, day2Tree);
      fig('scenario 9: plan', d2.planLine);
      copyNext(d2.out);
      const order = planOrder(d2.out);
      expect(order).toEqual(['ctl3', 'ctl2', 'ctl1']);
      const before = Object.fromEntries(controllers.map((n) => [n, lab.mainPid(n, 'mariadb')]));
      const pidsBefore = Object.fromEntries(controllers.map((n) => [n, mainPids(n)]));
      const load = startLoad({ galera: true });
      await sleep(3000);
      const ms: Record<string, number> = {};
      for (const n of order) {
        if (n !== 'ctl2') {
          const r = await apply(n);
          expect(r.status, `${n}: ${r.stdout.slice(-3000)}${r.stderr}`).toBe(0);
          ms[n] = r.ms;
          continue;
        }
        // 5. killed while its mariadb restarts, then run again
        const t = now();
        const first = apply(n);
        await until('ctl2 mariadb restarting under the apply', 300_000, () => lab.mainPid(n, 'mariadb') !== before[n] || undefined, 100);
        lab.bash(n, "pkill -KILL -f 'apply_multihead.sh|start_multihead.sh'");
        const killed = await first;
        expect(killed.status).not.toBe(0);
        const again = await apply(n);
        expect(again.status, `${n}: ${again.stdout.slice(-3000)}${again.stderr}`).toBe(0);
        expect(again.stdout).toMatch(/resuming plan/);
        fig(
          'scenario 9: killed and resumed on ctl2',
          again.stdout
            .split('\n')
            .filter((l) => /resuming|not again|step \d/.test(l))
            .join(' | '),
        );
        ms[n] = now() - t;
      }
      await sleep(3000);
      const rep = await load.stop();
      fig('scenario 9: apply ms per node', ms);
      fig('scenario 9: load', rep);
      const g = rep.galera;
      fig(
        'scenario 9: predicted / measured',
        `predicted: ${predicted(d2.out)} / measured: at the worst of ${g.polls} Galera polls ${g.minSynced} Synced and ${g.minServing} serving (Synced or IST donor); ${g.belowTwo} poll(s) below 2 Synced${g.firstBelowTwo ? ` (first: ${g.firstBelowTwo})` : ''}; longest SQL write gap ${rep.sql.maxGapMs} ms, Redis ${rep.redis.maxGapMs} ms; ${rep.vip.notOne} of ${rep.vip.polls} VIP polls without exactly one holder`,
      );
      expectLoadKept(rep);
      // one member at a time: never two down at once, never fewer than 2 serving the primary component
      expect(g.twoDown, 'polls with two members down at once').toBe(0);
      expect(g.minServing, 'members serving at the worst poll').toBeGreaterThanOrEqual(2);
      for (const n of controllers) {
        expect(lab.mainPid(n, 'mariadb'), `${n}: mariadb restarted`).not.toBe(before[n]);
        expect(sql(n, "SHOW GLOBAL VARIABLES LIKE 'wsrep_provider_options'")).toMatch(/gcache\.size = 96M/);
        expect(wsrep(n, 'wsrep_cluster_size')).toBe('3');
      }
      expect(lab.must('ctl1', 'scontrol show config | grep -i "^SlurmctldTimeout"')).toMatch(/25 sec/);
      expect(lab.must('ctl1', 'scontrol show config | grep -i "^SchedulerType"')).toMatch(/sched\/builtin/);
      for (const n of controllers) {
        const now9 = mainPids(n);
        for (const u of Object.keys(now9).filter((x) => x.startsWith('redis-server@') || x === 'slurmctld')) expect(now9[u], `${n}: ${u} restarted`).not.toBe(pidsBefore[n]![u]);
        // munged is left alone: only its key restarts it
        expect(now9.munge, `${n}: munge`).toBe(pidsBefore[n]!.munge);
        for (const p of [model.redis!.port, model.redis!.port + 1])
          expect(
            lab
              .exec(n, ['redis-cli', '-p', String(p), 'config', 'get', 'io-threads'], { env: redisEnv() })
              .stdout.trim()
              .split('\n')[1],
            `${n}:${p}`,
          ).toBe('2');
      }
      allHealthy();
      day2Tree = d2.out;
    },
  );

  scenario('10')(
    "10 day 2, secret rotation under load: the Redis password (both valid while consumers switch, then the old one dropped), the database root password (ALTER USER once), keepalived's auth_pass (every node reloaded at once), the SST user's and slurmdbd's passwords (both valid while each node switches); no daemon restarted but the web services and slurmdbd",
    async () => {
      const r = model.redis!;
      const oldRedis = secretValues.get(r.password.name)!;
      const dbName = model.galera!.rootPassword.name;
      const oldDb = secretValues.get(dbName)!;
      const fresh = (n: number) => Array.from({ length: n }, () => 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'[Math.floor(Math.random() * 57)]).join('');
      const newRedis = fresh(32);
      const newDb = fresh(32);
      // keepalived's auth_pass: at most 8 characters
      const kaName = model.network.vip!.authPass.name;
      const oldKa = secretValues.get(kaName)!;
      const newKa = fresh(8);
      // the database users: the SST user (mariabackup) and slurmdbd's
      const sstName = model.galera!.sstPassword.name;
      const dbdName = model.slurm!.accounting?.storagePass.name;
      const oldSst = secretValues.get(sstName)!;
      const newSst = fresh(32);
      const oldDbd = dbdName ? secretValues.get(dbdName)! : '';
      const newDbd = fresh(32);
      const next = new Map([[r.password.name, newRedis], [dbName, newDb], [kaName, newKa], [sstName, newSst], ...(ACCOUNTING && dbdName ? [[dbdName, newDbd] as [string, string]] : [])]);
      // the operator's first step: the new values in secrets.env on every controller
      for (const n of controllers) {
        const text = readFileSync(lab.path(n, '/etc/mhc/secrets.env'), 'utf8')
          .split('\n')
          .map((l) => {
            const k = l.split('=')[0]!;
            return next.has(k) ? `${k}=${next.get(k)}` : l;
          })
          .join('\n');
        lab.must(n, 'umask 077 && cat >/etc/mhc/secrets.env', { input: text });
      }
      const pidsBefore = Object.fromEntries(controllers.map((n) => [n, mainPids(n)]));
      const load = startLoad();
      await sleep(3000);
      const rotate = async (node: string, args: string[]) => {
        const t = now();
        const res = await lab.run(node, ['/opt/mhc/bin/rotate_secret.sh', ...args, '--auto-confirm', '--no-color'], { timeoutMs: 600_000 });
        writeFileSync(join(lab.dir, 'logs', `${node}-rotate-${++runCount}.log`), `${res.stdout}\n--- stderr\n${res.stderr}`);
        console.log(`[deploy] rotate_secret.sh ${args.join(' ')} on ${node}: exit ${res.status} in ${now() - t} ms`);
        expect(res.status, `${node}: ${res.stdout.slice(-2000)}${res.stderr}`).toBe(0);
        for (const v of [oldRedis, newRedis, oldDb, newDb, oldKa, newKa, oldSst, newSst, oldDbd, newDbd].filter(Boolean)) expect(res.stdout + res.stderr).not.toContain(v);
        return now() - t;
      };
      const dry = await lab.run('ctl3', ['/opt/mhc/bin/rotate_secret.sh', r.password.name, '--dry-run', '--no-color'], { timeoutMs: 120_000 });
      expect(dry.status, dry.stdout + dry.stderr).toBe(0);
      const ms: Record<string, number> = {};
      for (const n of ['ctl3', 'ctl2', 'ctl1']) ms[n] = await rotate(n, [r.password.name]);
      // both passwords valid on every instance meanwhile
      const ping = (n: string, port: number, pw: string) => lab.exec(n, ['redis-cli', '-p', String(port), 'ping'], { env: { REDISCLI_AUTH: pw } }).stdout.trim();
      for (const n of controllers) for (const p of [r.port, r.port + 1]) expect([ping(n, p, oldRedis), ping(n, p, newRedis)], `${n}:${p}`).toEqual(['PONG', 'PONG']);
      // the consumers outside mhc switch (the lab's writer), then the old password goes
      lab.must('ctl3', 'umask 077 && cat >/run/lab-redis-pass', { input: newRedis });
      secretValues.set(r.password.name, newRedis);
      await sleep(2000);
      ms.finish = await rotate('ctl1', [r.password.name, '--finish']);
      ms.db = await rotate('ctl1', [dbName]);
      // keepalived: the new file on every node (not reloaded), then every node reloaded at once
      const kaPids = Object.fromEntries(controllers.map((n) => [n, lab.mainPid(n, 'keepalived')]));
      for (const n of ['ctl3', 'ctl2', 'ctl1']) ms[`keepalived ${n}`] = await rotate(n, [kaName]);
      ms['keepalived finish'] = await rotate('ctl1', [kaName, '--finish']);
      secretValues.set(kaName, newKa);
      await sleep(5000);
      for (const n of controllers) {
        expect(lab.must(n, 'cat /etc/keepalived/keepalived.conf')).toContain(`auth_pass "${newKa}"`);
        // reloaded, not restarted
        expect(lab.mainPid(n, 'keepalived'), `${n}: keepalived`).toBe(kaPids[n]);
      }
      expect(holders()).toEqual([model.vipOwner]);
      // the SST user and slurmdbd's: both passwords valid while each node switches, then the new one only
      const dbUsers = [
        { name: sstName, user: model.galera!.sstUser, tcp: false, oldPw: oldSst },
        ...(ACCOUNTING && dbdName ? [{ name: dbdName, user: model.slurm!.accounting!.storageUser, tcp: true, oldPw: oldDbd }] : []),
      ];
      const dbLogin = (n: string, user: string, tcp: boolean, pw: string) =>
        lab.exec(n, ['mariadb', ...(tcp ? ['--protocol=tcp', '-h', '127.0.0.1'] : ['--protocol=socket']), '-u', user, '-N', '-B', '-e', 'SELECT 1'], { env: { MYSQL_PWD: pw } }).status;
      for (const u of dbUsers) {
        for (const n of ['ctl3', 'ctl2', 'ctl1']) ms[`${u.name} ${n}`] = await rotate(n, [u.name]);
        for (const n of controllers) expect([dbLogin(n, u.user, u.tcp, u.oldPw), dbLogin(n, u.user, u.tcp, next.get(u.name)!)], `${n}: ${u.user}, old and new`).toEqual([0, 0]);
        ms[`${u.name} finish`] = await rotate('ctl1', [u.name, '--finish']);
        secretValues.set(u.name, next.get(u.name)!);
      }
      const rep = await load.stop();
      fig('scenario 10: rotate ms', ms);
      fig('scenario 10: load', rep);
      expectLoadKept(rep);
      expect(rep.vip.notOne, 'polls without exactly one VIP holder').toBe(0);
      for (const n of controllers) {
        for (const p of [r.port, r.port + 1]) {
          expect(ping(n, p, newRedis), `${n}:${p} new`).toBe('PONG');
          expect(ping(n, p, oldRedis), `${n}:${p} old`).not.toBe('PONG');
        }
        const as = (pw: string) => lab.exec(n, ['mariadb', '--protocol=tcp', '-h', '127.0.0.1', '-u', 'root', '-N', '-B', '-e', 'SELECT 1'], { env: { MYSQL_PWD: pw } }).status;
        expect(as(newDb), `${n}: root with the new password`).toBe(0);
        expect(as(oldDb), `${n}: root with the old password`).not.toBe(0);
        for (const u of dbUsers) {
          expect(dbLogin(n, u.user, u.tcp, next.get(u.name)!), `${n}: ${u.user} with the new password`).toBe(0);
          expect(dbLogin(n, u.user, u.tcp, u.oldPw), `${n}: ${u.user} with the old password`).not.toBe(0);
        }
        expect(lab.must(n, 'cat /etc/mysql/mariadb.conf.d/60-galera.cnf')).toContain(`:${newSst}"`);
        // the web services restart (their environment), slurmdbd (it reads StoragePass when it starts); nothing else
        const pids = mainPids(n);
        for (const [u, pid] of Object.entries(pids)) if (!u.startsWith('mhc-web-') && u !== 'slurmdbd') expect(pid, `${n}: ${u}`).toBe(pidsBefore[n]![u]);
        if (ACCOUNTING) expect(pids.slurmdbd, `${n}: slurmdbd restarted`).not.toBe(pidsBefore[n]!.slurmdbd);
      }
      if (ACCOUNTING) expect(lab.must('ctl1', 'sacctmgr -n -P show cluster format=cluster').trim()).toBe(model.slurm!.clusterName);
      allHealthy();
      fig(
        'scenario 10: after',
        `Redis: the new password on ${controllers.length * 2} instances, the old one refused; root: the new password on ${controllers.length} members (one ALTER USER), the old one refused; keepalived: the new auth_pass on ${controllers.length} nodes (reloaded at once, same PIDs, the VIP on ${model.vipOwner}); ${dbUsers.map((u) => u.user).join(' and ')}: the new password on every node, the old one refused; only the web services${ACCOUNTING ? ' and slurmdbd' : ''} restarted; predicted: no outage / measured: longest write gap ${rep.sql.maxGapMs} ms (SQL), ${rep.redis.maxGapMs} ms (Redis), ${rep.redis.fail} failed Redis writes, ${rep.vip.notOne} of ${rep.vip.polls} VIP polls without exactly one holder`,
      );
    },
  );
  scenario('11')(
    "11 day 2, a compute node added, then removed, under load: Slurm's procedure (the last controller restarts every slurmctld, the compute nodes go after); a job runs on the new node; the node leaving is drained first",
    async () => {
      expect(day2Tree, 'scenarios 8 and 9 run first').not.toBe('');
      const base = readFileSync(join(lab.dir, 'day2-restart.yaml'), 'utf8');
      const cn2 = { name: 'cn2', ip: `10.214.${lab.octet}.22` };
      const added = base.replace(/^( {2}- \{ hostname: cn1, [^\n]*\n)/m, `$1  - { hostname: cn2, ip: ${cn2.ip}, cpus: 1, memory: 1000 }\n`);
      expect(added).toContain('hostname: cn2');
      // the new node: booted, its secrets as on day 1 (README "Deploy", steps 1 and 3)
      lab.add([cn2]);
      compute.push(cn2.name);
      fig('scenario 11: cn2 boot ms', await boot(cn2.name));
      lab.must(cn2.name, `hostnamectl set-hostname ${cn2.name} && install -d -m 0755 /opt/mhc`);
      lab.must(cn2.name, 'install -d -m 0700 /etc/mhc && umask 077 && cat >/etc/mhc/secrets.env', { input: readFileSync(join(lab.dir, 'secrets-compute.env'), 'utf8') });
      const applyAll = async (tree: string, tag: string, ms: Record<string, number>) => {
        const order = planOrder(tree);
        expect(order).toEqual(['ctl3', 'ctl2', 'ctl1']);
        for (const n of order) {
          const r = await apply(n);
          expect(r.status, `${n}: ${r.stdout.slice(-3000)}${r.stderr}`).toBe(0);
          ms[`${tag} ${n}`] = r.ms;
          if (n === 'ctl1') return r.stdout;
        }
        return '';
      };
      const { pidsBefore, load, pings } = await membershipLoad(controllers);
      const ms: Record<string, number> = {};
      // --- add cn2
      const add = buildDay2('day2-add', added, day2Tree, ['--tar']);
      fig('scenario 11: plan (add)', add.planLine);
      expect(add.planLine).toMatch(/ctl3 ctl2 ctl1 compute/);
      copyNext(add.out);
      const predictedAdd = predicted(add.out);
      const last = await applyAll(add.out, 'add', ms);
      expect(last).toMatch(/every slurmctld runs with the new node list/);
      expect(last).toMatch(/on cn2, new, it is the first install/);
      for (const n of ['cn1', cn2.name]) ms[`add ${n}`] = await computeUpdate(n, add.out);
      await until('cn2 idle in sinfo', 120_000, () => /^(idle|mixed|allocated)/.test(lab.bash('ctl1', `sinfo -h -n ${cn2.name} -o %T`).stdout.trim()) || undefined, 1000);
      const job = await sbatch('ctl1', cn2.name);
      expect(job.node).toBe(cn2.name);
      fig('scenario 11: a job on the new node', job);
      // --- remove it again: the YAML as before
      const removed = buildDay2('day2-remove', base, add.out, ['--tar']);
      fig('scenario 11: plan (remove)', removed.planLine);
      copyNext(removed.out);
      const lastR = await applyAll(removed.out, 'remove', ms);
      expect(lastR).toMatch(/cn2 is drained \(State=\S+\): no job runs on it/);
      expect(lastR).toMatch(/on cn2, out of the cluster now: systemctl disable --now slurmd munge/);
      ms['remove cn1'] = await computeUpdate('cn1', removed.out);
      lab.must(cn2.name, 'systemctl disable --now slurmd munge');
      await sleep(3000);
      const [rep, ctld] = await Promise.all([load.stop(), pings.stop()]);
      fig('scenario 11: ms', ms);
      fig('scenario 11: load', rep);
      fig(
        'scenario 11: predicted / measured',
        `predicted: ${predictedAdd} / measured: the longest time no slurmctld answered scontrol ping ${ctld.maxGapMs} ms (${ctld.failed} of ${ctld.lines} pings failed); longest SQL write gap ${rep.sql.maxGapMs} ms, Redis ${rep.redis.maxGapMs} ms; ${rep.jobs.submitted} jobs submitted, ${rep.jobs.bad.length} not completed`,
      );
      expectLoadKept(rep);
      expect(rep.vip.notOne, 'polls without exactly one VIP holder').toBe(0);
      expect(lab.must('ctl1', 'sinfo -h -N -o %N').trim().split('\n')).toEqual(['cn1']);
      expect(lab.bash('ctl1', `scontrol show node ${cn2.name}`).status).not.toBe(0);
      // only slurmctld restarted on the controllers (twice); Galera, Redis, munge and the rest kept their PIDs
      for (const n of controllers) {
        const pids = mainPids(n);
        for (const [u, pid] of Object.entries(pids)) if (u !== 'slurmctld') expect(pid, `${n}: ${u}`).toBe(pidsBefore[n]![u]);
        expect(pids.slurmctld, `${n}: slurmctld`).not.toBe(pidsBefore[n]!.slurmctld);
      }
      await lab.poweroff(cn2.name);
      compute.pop();
      allHealthy();
      day2Tree = removed.out;
    },
  );

  scenario('12')(
    '12 day 2, a fourth controller added, then removed, under load: it joins (GlusterFS brick and replica 4, Galera SST, Redis master and replica with a share of the slots, backup slurmctld, keepalived BACKUP), then leaves (slots moved off, brick removed, its slurmctld stopped before the others restart, its services stopped and disabled)',
    async () => {
      expect(day2Tree, 'scenarios 8 and 9 run first').not.toBe('');
      const base = yamlOf(day2Tree);
      const ctl4 = { name: 'ctl4', ip: `10.214.${lab.octet}.14` };
      const added = base.replace(/^(compute_nodes:)/m, `  - hostname: ${ctl4.name}\n    ip: ${ctl4.ip}\n    priority: 70\n\n$1`).replace(/replica_count: 3/, 'replica_count: 4');
      expect(added).toMatch(/hostname: ctl4[\s\S]*replica_count: 4/);
      const old = [...controllers];
      const all = [...old, ctl4.name];
      // the new controller as on day 1 (README "Deploy", steps 1-3): booted, its bundle beside, the
      // cluster's secrets (as the controllers have them now: scenario 10 rotated some), root ssh to
      // and from every controller, the web applications' code
      lab.add([ctl4]);
      fig('scenario 12: ctl4 boot ms', await boot(ctl4.name));
      lab.must(ctl4.name, `hostnamectl set-hostname ${ctl4.name} && install -d -m 0755 /opt/mhc`);
      lab.must(ctl4.name, 'install -d -m 0700 /etc/mhc && umask 077 && cat >/etc/mhc/secrets.env', { input: readFileSync(lab.path('ctl1', '/etc/mhc/secrets.env'), 'utf8') });
      lab.must(ctl4.name, `install -d -m 0700 /root/.ssh && ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_ed25519`);
      const keys = all.map((n) => readFileSync(lab.path(n, '/root/.ssh/id_ed25519.pub'), 'utf8')).join('');
      const ips = [...model.controllers.map((c) => c.ip), ctl4.ip].join(' ');
      for (const n of all) {
        lab.must(n, 'umask 077 && cat >/root/.ssh/authorized_keys', { input: keys });
        lab.must(n, `for h in ${ips}; do ssh-keyscan -T 5 "$h" 2>/dev/null; done >/root/.ssh/known_hosts`, { timeoutMs: 60_000 });
      }
      installWebApps(ctl4.name);
      const { pidsBefore, load, pings } = await membershipLoad(old);
      const ms: Record<string, number> = {};
      const applyIn = async (tree: string, tag: string, order: string[]) => {
        expect(planOrder(tree, order)).toEqual(order);
        let last = '';
        for (const n of order) {
          const r = await apply(n);
          expect(r.status, `${n}: ${r.stdout.slice(-4000)}${r.stderr}`).toBe(0);
          ms[`${tag} ${n}`] = r.ms;
          last = r.stdout;
        }
        return last;
      };
      // --- add ctl4
      const add = buildDay2('day2-ctl-add', added, day2Tree, ['--tar']);
      fig('scenario 12: plan (add)', add.planLine);
      expect(add.planLine).toMatch(/ctl3 ctl2 ctl1 ctl4 compute/);
      copyNext(add.out, '/opt/mhc-next', all);
      const predictedAdd = predicted(add.out, 'ctl4');
      const joined = await applyIn(add.out, 'add', ['ctl3', 'ctl2', 'ctl1', ctl4.name]);
      expect(joined).toMatch(/ctl4 joined/);
      ms['add cn1'] = await computeUpdate('cn1', add.out);
      controllers.push(ctl4.name);
      const galeraSizes = all.map((n) => wsrep(n, 'wsrep_cluster_size'));
      expect(galeraSizes).toEqual(all.map(() => '4'));
      const vol = lab.must('ctl1', `gluster --mode=script volume info ${model.gluster!.volumeName}`);
      expect(vol).toMatch(/Number of Bricks: 1 x 4 = 4/);
      // the volume healed onto the new brick: the same files on ctl4's brick as on ctl1's
      const brickFiles = (n: string) => lab.must(n, `cd ${model.gluster!.brickPath} && find . -path ./.glusterfs -prune -o -type f -print | sort`);
      expect(brickFiles(ctl4.name)).toBe(brickFiles('ctl1'));
      const slots = lab.exec(ctl4.name, ['redis-cli', '-p', String(model.redis!.port), 'cluster', 'nodes'], { env: redisEnv() }).stdout;
      const mine = slots.split('\n').find((l) => / myself,master /.test(l)) ?? '';
      expect(mine, 'ctl4:6379 a master with slots').toMatch(/ \d+-\d+/);
      expect(lab.must('ctl1', 'scontrol ping').match(/ is UP/g)?.length).toBe(4);
      allHealthy();
      expect(holders()).toEqual([model.vipOwner]);
      fig(
        'scenario 12: after the add',
        `Galera ${galeraSizes.join('/')} members; ${vol.match(/Number of Bricks: .*/)?.[0]}, ${brickFiles(ctl4.name).split('\n').length} files healed onto ctl4's brick; ctl4:${model.redis!.port} master of ${mine.split(' ').slice(8).join(' ')}; 4 slurmctld UP`,
      );
      // --- remove it again: the YAML as before
      const removed = buildDay2('day2-ctl-remove', base, add.out, ['--tar']);
      fig('scenario 12: plan (remove)', removed.planLine);
      expect(removed.planLine).toMatch(/ctl3 ctl2 ctl1 compute/);
      copyNext(removed.out, '/opt/mhc-next', old);
      controllers.pop();
      const predictedRemove = predicted(removed.out);
      const left = await applyIn(removed.out, 'remove', ['ctl3', 'ctl2', 'ctl1']);
      expect(left).toMatch(/ctl4 left the cluster/);
      ms['remove cn1'] = await computeUpdate('cn1', removed.out);
      await sleep(3000);
      const [rep, ctld] = await Promise.all([load.stop(), pings.stop()]);
      fig('scenario 12: ms', ms);
      fig('scenario 12: load', rep);
      fig('scenario 12: predicted (add, the new node) / measured', `${predictedAdd} / see the load and the no-slurmctld figure below`);
      fig(
        'scenario 12: predicted (remove, the last controller) / measured',
        `${predictedRemove} / measured over the add and the remove: the longest time no slurmctld answered scontrol ping ${ctld.maxGapMs} ms (${ctld.failed} of ${ctld.lines} pings failed); longest SQL write gap ${rep.sql.maxGapMs} ms, Redis ${rep.redis.maxGapMs} ms (${rep.redis.fail} failed Redis writes); ${rep.jobs.submitted} jobs submitted, ${rep.jobs.bad.length} not completed; ${rep.vip.notOne} of ${rep.vip.polls} VIP polls without exactly one holder`,
      );
      expectLoadKept(rep);
      expect(rep.vip.notOne, 'polls without exactly one VIP holder').toBe(0);
      for (const n of old) expect(wsrep(n, 'wsrep_cluster_size'), `${n}: Galera size`).toBe('3');
      expect(lab.must('ctl1', `gluster --mode=script volume info ${model.gluster!.volumeName}`)).toMatch(/Number of Bricks: 1 x 3 = 3/);
      expect(lab.must('ctl1', 'gluster --mode=script pool list')).not.toMatch(/ctl4/);
      expect(lab.must('ctl1', 'scontrol ping').match(/ is UP/g)?.length).toBe(3);
      const known = lab.exec('ctl1', ['redis-cli', '-p', String(model.redis!.port), 'cluster', 'info'], { env: redisEnv() }).stdout;
      expect(known).toMatch(/cluster_known_nodes:6/);
      // ctl4: nothing of the cluster runs, nothing starts at its next boot
      for (const u of ['mariadb', 'slurmctld', 'keepalived', 'nginx', 'glusterd', `redis-server@mhc-${model.redis!.port}`]) {
        expect(lab.bash(ctl4.name, `systemctl is-active ${u}`).stdout.trim(), `ctl4: ${u}`).not.toBe('active');
        expect(lab.bash(ctl4.name, `systemctl is-enabled ${u}`).stdout.trim(), `ctl4: ${u} enabled`).not.toBe('enabled');
      }
      // Galera and Redis on the others kept their PIDs (slurmctld restarted, web services with their environment)
      for (const n of old) {
        const pids = mainPids(n);
        for (const u of ['mariadb', 'glusterd', 'munge', ...Object.keys(pids).filter((x) => x.startsWith('redis-server@'))]) expect(pids[u], `${n}: ${u}`).toBe(pidsBefore[n]![u]);
      }
      await lab.poweroff(ctl4.name);
      allHealthy();
      day2Tree = removed.out;
    },
  );

  scenario('13')(
    '13 day 2, the munge key rotated under load: every node (controllers and the compute node) stages it and arms its switch for one moment; --finish on ctl1 keeps Slurm quiet around it (partitions DOWN, every slurmctld stopped until every controller switched); only munged and slurmctld restart; no job fails',
    async () => {
      const name = model.slurm!.mungeKey.name;
      const fresh = randomBytes(1024).toString('base64');
      // the operator's first step: the new value in secrets.env everywhere (the compute nodes' file cut from the same)
      for (const n of [...controllers, ...compute]) {
        const text = readFileSync(lab.path(n, '/etc/mhc/secrets.env'), 'utf8').replace(new RegExp(`^${name}=.*$`, 'm'), `${name}=${fresh}`);
        expect(text).toContain(fresh);
        lab.must(n, 'umask 077 && cat >/etc/mhc/secrets.env', { input: text });
      }
      const all = [...controllers, ...compute];
      const { pidsBefore, load, pings } = await membershipLoad(all);
      const T = Math.floor(Date.now() / 1000) + 45;
      const ms: Record<string, number> = {};
      const step = async (n: string, argv: string[]) => {
        const t = now();
        const r = await lab.run(n, argv, { timeoutMs: 300_000 });
        writeFileSync(join(lab.dir, 'logs', `${n}-munge-${++runCount}.log`), `${r.stdout}\n--- stderr\n${r.stderr}`);
        expect(r.status, `${n} ${argv.join(' ')}: ${r.stdout.slice(-2000)}${r.stderr}`).toBe(0);
        expect(r.stdout + r.stderr).not.toContain(fresh);
        ms[`${n} ${argv.slice(1).join(' ')}`] = now() - t;
        return r.stdout;
      };
      // README: --at on every controller, --munge-at on every compute node, the same moment
      for (const n of controllers) await step(n, ['/opt/mhc/bin/rotate_secret.sh', name, '--at', `@${T}`, '--auto-confirm', '--no-color']);
      for (const n of compute) await step(n, ['/opt/mhc/bin/start_compute.sh', '--munge-at', `@${T}`]);
      for (const n of all) expect(lab.must(n, 'systemctl list-timers --all --no-legend mhc-munge-switch.timer'), `${n}: armed`).toContain('mhc-munge-switch.timer');
      const out = await step('ctl1', ['/opt/mhc/bin/rotate_secret.sh', name, '--finish', '--auto-confirm', '--no-color']);
      expect(out).toMatch(/every controller runs the new key/);
      await sleep(5000);
      const [rep, ctld] = await Promise.all([load.stop(), pings.stop()]);
      // every node runs the new key: the same file, and a credential made on each decodes on the others
      const want = createHash('sha256').update(Buffer.from(fresh, 'base64')).digest('hex');
      const switchedAt: Record<string, number> = {};
      for (const n of all) {
        expect(lab.must(n, 'sha256sum /etc/munge/munge.key').split(' ')[0], `${n}: munge.key`).toBe(want);
        const j = lab.must(n, 'ls -d /var/lib/mhc/apply/munge-*').trim().split('\n').pop()!;
        switchedAt[n] = Number(lab.must(n, `date -r ${j}/munge-switched +%s%3N`).trim()) - T * 1000;
      }
      for (const a of all) for (const b of all) if (a !== b) expect(lab.bash(b, `printf '%s' '${lab.must(a, 'munge -n').trim()}' | unmunge >/dev/null`).status, `${a} → ${b}`).toBe(0);
      // what restarted: munged everywhere and slurmctld (stopped around the switch); slurmd, slurmdbd and the rest kept their PIDs
      for (const n of all) {
        const pids = mainPids(n);
        for (const [u, pid] of Object.entries(pids)) {
          if (u === 'munge' || u === 'slurmctld') expect(pid, `${n}: ${u} restarted`).not.toBe(pidsBefore[n]![u]);
          else expect(pid, `${n}: ${u}`).toBe(pidsBefore[n]![u]);
        }
      }
      const job = await sbatch('ctl2');
      expect(job.node).toBe(compute[0]);
      allHealthy();
      secretValues.set(name, fresh);
      fig('scenario 13: ms', ms);
      fig('scenario 13: load', rep);
      fig('scenario 13: switch ms after the moment, per node', switchedAt);
      fig(
        'scenario 13: predicted / measured',
        `no job launched across the switch, slurmctld stopped from 4 s before it until every controller has switched / the longest time no slurmctld answered scontrol ping ${ctld.maxGapMs} ms (${ctld.failed} of ${ctld.lines} pings failed); munged switched on ${all.length} nodes within ${Math.max(...Object.values(switchedAt)) - Math.min(...Object.values(switchedAt))} ms of each other; ${rep.jobs.submitted} jobs submitted, ${rep.jobs.bad.length} not completed; SQL gap ${rep.sql.maxGapMs} ms, Redis gap ${rep.redis.maxGapMs} ms; a job after it ran on ${job.node}`,
      );
      expectLoadKept(rep);
      expect(rep.vip.notOne, 'polls without exactly one VIP holder').toBe(0);
    },
  );
});
