// Sandbox tests of the operations scripts (status_multihead.sh, backup.sh, restore.sh,
// cluster_info.sh, web_health_check.sh and lib/operations.sh): each example's controller bundle
// is written to a scratch dir, MHC_ROOT is a scratch root, and stub commands first on PATH play
// the daemons (healthy, degraded or down, from files in a state dir outside MHC_ROOT) and record
// their argv. Nothing contacts the network: ssh, curl, redis-cli and the MariaDB clients are stubs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { AWKWARD, buildFile, compileFile, EXAMPLES } from '../helpers.js';
import { formatSecretsEnv } from '../../src/compiler/secrets.js';
import type { BundleFile } from '../../src/compiler/bundle.js';
import { claimsDone } from './stub-path.js';
import type { Model } from '../../src/compiler/model.js';

const EXAMPLE_FILES = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const SCRIPTS = ['status_multihead.sh', 'backup.sh', 'restore.sh', 'cluster_info.sh', 'web_health_check.sh'];

const STUB_HEAD = `#!/bin/bash
S=$OPS_STATE
# one record, one write(2): peers' stubs run in parallel and must not interleave their lines
rec=\${0##*/}; for a in "$@"; do rec+=" [$a]"; done; printf '%s\\n' "$rec" >>"$S/calls.log"
`;
/** Stub commands: a daemon answers when its file exists in $OPS_STATE. */
const STUBS: Record<string, string> = {
  systemctl: `
args=(); for a in "$@"; do [[ $a == -* ]] || args+=("$a"); done
case \${args[0]} in
  is-active) [[ -e $S/all_active || -e $S/active/\${args[1]} ]] || exit 3 ;;
  stop) rm -f "$S/active/\${args[1]}" ;;
  start) mkdir -p "$S/active"; touch "$S/active/\${args[1]}" ;;
esac
# a Redis unit: its instance answers (or not) with it; redis-server@mhc.service is the base port
if [[ \${args[1]:-} == redis-server@mhc* ]]; then
  p=\${args[1]#redis-server@mhc}; p=\${p%.service}; p=\${p#-}; [[ -n $p ]] || p=$(cat "$S/redis_base_port")
  case \${args[0]} in stop) rm -f "$S/redis_up/$p" ;; start) touch "$S/redis_up/$p" ;; esac
fi
exit 0`,
  mariadb: `
# --help: the options of a client new enough for --sandbox, unless $S/db_no_sandbox (an old one)
if [[ " $* " == *" --help "* ]]; then
  [[ -e $S/db_no_sandbox ]] || printf '  --sandbox           Disallow commands that access the file system\\n'
  printf '  --silent            Be more silent.\\n'
  exit 0
fi
[[ -e $S/db_up ]] || { echo "ERROR 2002 (HY000): Can't connect to local server through socket" >&2; exit 1; }
q=''; cnf=''
while (($#)); do case $1 in -e) q=$2; shift ;; --defaults-file=*) cnf=\${1#*=} ;; esac; shift; done
[[ -z $cnf ]] || cp "$cnf" "$S/client.cnf"
if [[ -z $q ]]; then cat >>"$S/sql.log"; exit 0; fi
case $q in
  *wsrep_ready*) cat "$S/wsrep" ;;
  *schemata*) printf 'app_one\\napp_two\\n' ;;
  *wsrep_cluster_size*) printf 'wsrep_cluster_size\\t3\\n' ;;
esac`,
  'mariadb-dump': `
[[ -e $S/db_up ]] || { echo "mariadb-dump: Got error: 2002" >&2; exit 2; }
printf -- '-- MariaDB dump\\nCREATE DATABASE app_one;\\n'`,
  'redis-cli': `
port=6379; rdb=''; cmd=()
while (($#)); do case $1 in -p) port=$2; shift ;; -h) shift ;; --rdb) rdb=$2; shift ;; --no-auth-warning) ;; *) cmd+=("$1") ;; esac; shift; done
printf '%s\\n' "\${REDISCLI_AUTH-<unset>}" >"$S/redis_auth.$port"
[[ -e $S/redis_up/$port ]] || { echo "Could not connect to Redis at 127.0.0.1:$port: Connection refused"; exit 1; }
if [[ -n $rdb ]]; then printf 'REDIS0010fake-%s' "$port" >"$rdb"; echo "Transfer finished with success."; exit 0; fi
case "\${cmd[*],,}" in
  ping) echo PONG ;;
  "info replication") printf '# Replication\\r\\nrole:%s\\r\\nconnected_slaves:0\\r\\n' "$(cat "$S/redis_role.$port" 2>/dev/null || cat "$S/redis_role" 2>/dev/null || { [[ $port == "$(cat "$S/redis_base_port" 2>/dev/null)" ]] && echo master; } || echo slave)" ;;
  "cluster info")
    if [[ -e $S/cluster_fail.$port ]]; then printf 'cluster_state:fail\\r\\ncluster_slots_ok:10923\\r\\ncluster_size:3\\r\\ncluster_known_nodes:6\\r\\n'
    else printf 'cluster_state:ok\\r\\ncluster_slots_ok:16384\\r\\ncluster_size:3\\r\\ncluster_known_nodes:6\\r\\n'; fi ;;
  "cluster nodes") cat "$S/cluster_nodes.$port" 2>/dev/null ;;
  sentinel*) printf '10.0.0.1\\n6379\\n' ;;
  dbsize) echo 5 ;;
esac`,
  scontrol: `cat "$S/scontrol_ping" 2>/dev/null; [[ -e $S/scontrol_ping ]]`,
  gluster: `
[[ -e $S/gluster_up ]] || { echo "Connection failed. Please check if gluster daemon is operational."; exit 1; }
case "$*" in
  *"volume info"*) printf 'Volume Name: v\\nStatus: Started\\n' ;;
  *"peer status"*) printf 'Number of Peers: 2\\n' ;;
esac`,
  ip: `cat "$S/ip_addr" 2>/dev/null || true`,
  curl: `[[ -e $S/web_up ]] || { echo "curl: (7) Failed to connect" >&2; printf '000 0.001'; exit 7; }; printf '200 0.002'`,
  mountpoint: `[[ -e $S/mounted ]] || exit 32`,
  // the real tar; with $S/tar_file_changed, an archive made exits 1 as GNU tar does when a file
  // changed while it was read (slurmctld rewriting its state during a backup)
  tar: `/usr/bin/tar "$@" || exit; [[ -e $S/tar_file_changed && " $* " == *" -czf "* ]] && exit 1; exit 0`,
  ssh: `[[ -e $S/ssh_hang ]] && exec sleep 60; echo "ssh: connect to host: No route to host" >&2; exit 255`,
};

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mhc-ops-sandbox-'));
  const stubs = join(dir, 'stubs');
  mkdirSync(stubs);
  for (const [n, body] of Object.entries(STUBS)) writeFileSync(join(stubs, n), STUB_HEAD + body + '\n', { mode: 0o755 });
  writeFileSync(join(stubs, 'mysql'), '#!/bin/bash\nexec mariadb "$@"\n', {
    mode: 0o755,
  });
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Node {
  bundle: string;
  root: string;
  state: string;
  model: Model;
  host: string;
}
let seq = 0;
const FALLBACK = `x'"\\&$ #/y z`;
/** The secrets.env value of NAME: the AWKWARD one, else an awkward fallback. */
const value = (name: string): string => (AWKWARD as Record<string, string>)[name] ?? FALLBACK;
/** One controller's bundle on disk, a scratch root with its files installed and secrets.env. */
function setup(example: string, host?: string): Node {
  const c = compileFile(join(EXAMPLES, example));
  const model = c.model;
  const files = buildFile(join(EXAMPLES, example));
  const h = host ?? model.controllers[0]!.hostname;
  const base = join(dir, `n${seq++}`);
  const bundle = join(base, 'bundle');
  const root = join(base, 'root');
  const state = join(base, 'state');
  for (const [p, f] of files as Map<string, BundleFile>) {
    if (!p.startsWith(`${h}/`)) continue;
    const rel = p.slice(h.length + 1);
    mkdirSync(dirname(join(bundle, rel)), { recursive: true });
    writeFileSync(join(bundle, rel), f.content, { mode: f.mode });
    if (rel.startsWith('files/')) {
      const dest = join(root, rel.slice(6).replace(/\.seed$/, ''));
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, f.content, { mode: f.mode });
    }
  }
  mkdirSync(join(root, 'etc', 'mhc'), { recursive: true });
  writeFileSync(join(root, 'etc', 'mhc', 'secrets.env'), formatSecretsEnv(model.secrets, new Map(model.secrets.map((x) => [x.name, value(x.name)]))), { mode: 0o600 });
  mkdirSync(join(state, 'redis_up'), { recursive: true });
  // the Slurm state (on the shared mount) as the backup finds it
  if (model.slurm) {
    mkdirSync(join(root, model.slurm.stateSaveLocation), { recursive: true });
    writeFileSync(join(root, model.slurm.stateSaveLocation, 'job_state'), 'state v1');
  }
  return { bundle, root, state, model, host: h };
}

/** Every daemon of the node up and healthy. */
function healthy(n: Node): void {
  const s = n.state;
  writeFileSync(join(s, 'all_active'), '');
  writeFileSync(join(s, 'db_up'), '');
  const members = (n.model.galera?.members.length ?? 0) + (n.model.galera?.arbitrator ? 1 : 0);
  writeFileSync(join(s, 'wsrep'), `wsrep_cluster_size\t${members}\nwsrep_cluster_status\tPrimary\nwsrep_local_state_comment\tSynced\nwsrep_ready\tON\n`);
  const r = n.model.redis;
  if (r) {
    writeFileSync(join(s, 'redis_base_port'), String(r.port));
    for (const p of [r.port, r.port + 1, r.port + 2, r.sentinel.port]) writeFileSync(join(s, 'redis_up', String(p)), '');
  }
  writeFileSync(join(s, 'scontrol_ping'), `Slurmctld(primary) at ${n.host} is UP\n`);
  writeFileSync(join(s, 'gluster_up'), '');
  writeFileSync(join(s, 'mounted'), '');
  writeFileSync(join(s, 'web_up'), '');
  if (n.model.network.vip) writeFileSync(join(s, 'ip_addr'), `2: eth0    inet ${n.model.network.vip.address}/24 scope global eth0\n`);
}

function sh(n: Node, script: string, args: string[], extra: Record<string, string> = {}, timeoutMs = 60000) {
  const r = spawnSync('bash', [join(n.bundle, 'bin', script), ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: {
      PATH: `${join(dir, 'stubs')}:${process.env.PATH}`,
      MHC_ROOT: n.root,
      OPS_STATE: n.state,
      HOME: n.state,
      LANG: 'C.UTF-8',
      ...extra,
    },
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const calls = (n: Node): string => (existsSync(join(n.state, 'calls.log')) ? readFileSync(join(n.state, 'calls.log'), 'utf8') : '');

/** sha256 of every path, type, mode and content under DIR (symlinks by target). */
function treeHash(d: string): string {
  const h = createHash('sha256');
  const walk = (p: string): void => {
    const st = lstatSync(p);
    h.update(`${relative(d, p)}\0${st.mode}\0`);
    if (st.isSymbolicLink()) h.update(readlinkSync(p));
    else if (st.isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e));
    else h.update(readFileSync(p));
  };
  walk(d);
  return h.digest('hex');
}

describe('status_multihead.sh', () => {
  for (const ex of EXAMPLE_FILES) {
    it(`${ex}: healthy → 0, degraded → 1, down → 2; JSON always valid; every format`, () => {
      const n = setup(ex);
      const services = n.model.controllers.find((c) => c.hostname === n.host)!.services;
      // down: nothing answers
      let r = sh(n, 'status_multihead.sh', ['--format', 'json']);
      expect(r.status, r.stderr).toBe(2);
      let j = JSON.parse(r.stdout);
      expect(j.overall).toBe('down');
      expect(Object.keys(j.services).sort()).toEqual([...services].sort());
      for (const s of services) expect(j.services[s], s).toBe('stopped');
      for (const f of ['full', 'compact']) expect(sh(n, 'status_multihead.sh', ['--format', f]).status).toBe(2);

      healthy(n);
      r = sh(n, 'status_multihead.sh', ['--format', 'json']);
      j = JSON.parse(r.stdout);
      expect(j.services, JSON.stringify(j.details, null, 1)).toEqual(Object.fromEntries(services.map((s) => [s, 'running'])));
      expect(r.status).toBe(0);
      expect(j).toMatchObject({
        hostname: n.host,
        overall: 'healthy',
        exit_code: 0,
      });
      const compact = sh(n, 'status_multihead.sh', ['--format', 'compact', '--no-color']);
      expect(compact.status).toBe(0);
      expect(compact.stdout).toContain(`[${n.host} (`);
      expect(compact.stdout).not.toMatch(/\x1b\[/);
      const full = sh(n, 'status_multihead.sh', []);
      expect(full.status).toBe(0);
      expect(full.stdout).toMatch(/=== Cluster Services ===/);
      expect(full.stdout).toMatch(/Overall: healthy/);

      // the Redis password reached redis-cli through REDISCLI_AUTH (secrets.env: the installed
      // redis.conf still holds a placeholder here), never argv
      if (services.includes('redis')) {
        const auth = readdirSync(n.state).filter((f) => f === `redis_auth.${n.model.redis!.port}`);
        expect(auth.length).toBeGreaterThan(0);
        expect(readFileSync(join(n.state, auth[0]!), 'utf8')).toBe(`${value(n.model.redis!.password.name)}\n`);
        expect(calls(n)).not.toContain(value(n.model.redis!.password.name));
      }
      if (services.includes('mariadb')) {
        // the root password goes through the 0600 option file, escaped for "…"
        const pw = value(n.model.galera!.rootPassword.name);
        expect(readFileSync(join(n.state, 'client.cnf'), 'utf8')).toContain(`password = "${pw.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
        expect(calls(n)).not.toContain(pw);
        // degraded: Galera lost a node
        writeFileSync(join(n.state, 'wsrep'), 'wsrep_cluster_size\t1\nwsrep_cluster_status\tPrimary\nwsrep_local_state_comment\tSynced\nwsrep_ready\tON\n');
        r = sh(n, 'status_multihead.sh', ['--format', 'json']);
        j = JSON.parse(r.stdout);
        expect(r.status).toBe(1);
        expect(j.services.mariadb).toBe('degraded');
        expect(j.details.mariadb.message).toMatch(/cluster size 1 of/);
        // the unit active but no answer: degraded; a --service filter shows that one only
        rmSync(join(n.state, 'db_up'));
        r = sh(n, 'status_multihead.sh', ['--format', 'json', '--service', 'database']);
        j = JSON.parse(r.stdout);
        expect(Object.keys(j.services)).toEqual(['mariadb']);
        expect(j.services.mariadb).toBe('degraded');
        expect(r.status).toBe(1);
      }
    });
  }

  it("Redis Cluster: every local instance's own view counts, and a master off its planned port is degraded", () => {
    // found by the deploy lab: the first instance saw cluster_state:ok while the node's other
    // instance answered CLUSTERDOWN; and after a whole-cluster stop one node held two masters
    const n = setup('my_multihead_cluster.yaml');
    const r0 = n.model.redis;
    if (r0?.mode !== 'cluster') return;
    healthy(n);
    const replica = r0.port + 1;
    let r = sh(n, 'status_multihead.sh', ['--format', 'json', '--service', 'redis']);
    expect(JSON.parse(r.stdout).services.redis, r.stdout).toBe('running');
    writeFileSync(join(n.state, `cluster_fail.${replica}`), '');
    r = sh(n, 'status_multihead.sh', ['--format', 'json', '--service', 'redis']);
    let j = JSON.parse(r.stdout);
    expect(r.status).toBe(1);
    expect(j.services.redis).toBe('degraded');
    expect(j.details.redis.message).toContain(`instance ${replica} sees cluster_state fail (cluster_slots_ok 10923)`);
    rmSync(join(n.state, `cluster_fail.${replica}`));
    writeFileSync(join(n.state, `redis_role.${replica}`), 'master');
    r = sh(n, 'status_multihead.sh', ['--format', 'json', '--service', 'redis']);
    j = JSON.parse(r.stdout);
    expect(j.services.redis).toBe('degraded');
    expect(j.details.redis.message).toContain(`instance ${replica} is a master, the plan makes it a slave`);
  });

  it('bad options → usage on stderr, exit 2 (every script)', () => {
    const n = setup('my_multihead_cluster.yaml');
    for (const s of SCRIPTS) {
      const r = sh(n, s, ['--bogus']);
      expect(r.status, s).toBe(2);
      expect(r.stderr, s).toMatch(/Usage:/);
      expect(sh(n, s, ['--help']).status, s).toBe(0);
    }
    for (const args of [['--format', 'xml'], ['--service', 'nope'], ['--watch', '0'], ['--format']]) expect(sh(n, 'status_multihead.sh', args).status, args.join(' ')).toBe(2);
    for (const args of [
      ['--retention', 'x'],
      ['--type', 'weird'],
      ['--items', 'configs,nope'],
    ])
      expect(sh(n, 'backup.sh', args).status, args.join(' ')).toBe(2);
    for (const args of [[], ['--latest', '--list'], ['--id', '2024'], ['--latest', '--only-configs', '--items', 'redis'], ['--latest', '--items', 'glusterfs_meta']])
      expect(sh(n, 'restore.sh', args).status, args.join(' ')).toBe(2);
    expect(sh(n, 'web_health_check.sh', ['--format', 'yaml']).status).toBe(2);
    expect(sh(n, 'cluster_info.sh', ['--format', 'yaml']).status).toBe(2);
  });

  it('--all-nodes: peers asked in parallel, a hanging ssh is bounded and reported unreachable', () => {
    const n = setup('my_multihead_cluster.yaml');
    healthy(n);
    writeFileSync(join(n.state, 'ssh_hang'), '');
    const t0 = Date.now();
    const r = sh(n, 'status_multihead.sh', ['--all-nodes', '--format', 'json'], { MHC_PEER_TIMEOUT: '4' });
    const took = Date.now() - t0;
    expect(took).toBeLessThan(15000);
    const j = JSON.parse(r.stdout);
    expect(j.nodes).toHaveLength(3);
    expect(j.nodes[0]).toMatchObject({
      hostname: 'server1',
      overall: 'healthy',
    });
    expect(j.nodes.slice(1).map((x: { reachable: boolean }) => x.reachable)).toEqual([false, false]);
    expect(j.nodes[1].error).toMatch(/no answer within 4 s/);
    expect(r.status).toBe(1);
    // both peers were asked (BatchMode, ConnectTimeout), the status command in argv
    const ssh = calls(n)
      .split('\n')
      .filter((l) => l.startsWith('ssh '));
    expect(ssh).toHaveLength(2);
    for (const l of ssh) expect(l).toMatch(/\[BatchMode=yes\].*\[ConnectTimeout=5\].*status_multihead\.sh\] \[--format\] \[json\]/);
    // text format: unreachable peers named
    rmSync(join(n.state, 'ssh_hang'));
    const t = sh(n, 'status_multihead.sh', ['--all-nodes', '--format', 'compact']);
    expect(t.stdout).toMatch(/\[server2 \(192\.168\.1\.102\)\]\n {2}● unreachable: ssh failed/);
    expect(t.status).toBe(1);
  }, 60000);

  it("--except HOST: that controller is not asked, passed on to the peers, and not counted in the Galera group's expected size", () => {
    const n = setup('my_multihead_cluster.yaml');
    healthy(n);
    writeFileSync(join(n.state, 'wsrep'), 'wsrep_cluster_size\t2\nwsrep_cluster_status\tPrimary\nwsrep_local_state_comment\tSynced\nwsrep_ready\tON\n');
    // two members of three: degraded, unless the third is left out
    expect(JSON.parse(sh(n, 'status_multihead.sh', ['--format', 'json']).stdout).services.mariadb).toBe('degraded');
    const r = sh(n, 'status_multihead.sh', ['--all-nodes', '--format', 'json', '--except', 'server3'], { MHC_PEER_TIMEOUT: '4' });
    const j = JSON.parse(r.stdout);
    expect(j.nodes.map((x: { hostname: string }) => x.hostname)).toEqual(['server1', 'server2']);
    expect(j.nodes[0].details.mariadb.message).toMatch(/Galera: 2 nodes/);
    const ssh = calls(n)
      .split('\n')
      .filter((l) => l.startsWith('ssh '));
    expect(ssh).toHaveLength(1);
    expect(ssh[0]).toMatch(/192\.168\.1\.102.*status_multihead\.sh\] \[--format\] \[json\] \[--no-color\] \[--except\] \[server3\]/);
  }, 60000);

  it('--watch refreshes until stopped', () => {
    const n = setup('slurm_only.yaml');
    healthy(n);
    const r = spawnSync('timeout', ['-s', 'INT', '3.5', 'bash', join(n.bundle, 'bin', 'status_multihead.sh'), '--watch', '1', '--format', 'compact'], {
      encoding: 'utf8',
      env: {
        PATH: `${join(dir, 'stubs')}:${process.env.PATH}`,
        MHC_ROOT: n.root,
        OPS_STATE: n.state,
      },
    });
    expect((r.stdout.match(/\[server1 \(/g) ?? []).length).toBeGreaterThanOrEqual(2);
  }, 20000);
});

describe('json_str (lib/operations.sh)', () => {
  it('hostile strings come out as JSON strings that parse back to themselves', () => {
    const n = setup('two_controllers.yaml');
    const hostile = [
      '',
      'plain',
      `"quoted" and 'single'`,
      'back\\slash \\" \\\\ end\\',
      'new\nline\r\ttab',
      '\u0001\u0002\u001f\u007f bell\u0007',
      '$(touch /tmp/x) `id` ${HOME} %s %n %%',
      '{"json": [1, 2]}',
      'ünïcödé ✓ 日本',
      '\\u0000 not a nul',
      AWKWARD.DB_ROOT_PASSWORD,
      AWKWARD.REDIS_PASSWORD,
      '& \\ / \' " $ # spaces  ',
    ];
    const lib = join(n.bundle, 'lib');
    for (const v of hostile) {
      const r = spawnSync('bash', ['-c', `source "$1/common.sh"; source "$1/facts.sh"; source "$1/operations.sh"; json_str "$V"; printf '\\n'; json_arr "$V" x "$V"`, 'x', lib], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, V: v, LANG: 'C.UTF-8' },
      });
      expect(r.status, r.stderr).toBe(0);
      const [one, arr] = r.stdout.split('\n');
      expect(JSON.parse(one!), JSON.stringify(v)).toBe(v);
      expect(JSON.parse(arr!)).toEqual([v, 'x', v]);
    }
  });
});

describe('backup.sh', () => {
  for (const ex of EXAMPLE_FILES) {
    it(`${ex}: snapshot layout, metadata.json with checksums, latest, retention`, () => {
      const n = setup(ex);
      healthy(n);
      const node = n.model.controllers.find((c) => c.hostname === n.host)!;
      const backups = join(n.root, n.model.backup.dir);
      const snaps = join(backups, 'snapshots');
      // an old snapshot (beyond the retention), a recent one, a leftover of an interrupted run
      const day = (d: number): string => {
        const t = new Date(Date.now() - d * 86400000);
        const p = (x: number) => String(x).padStart(2, '0');
        return `${t.getFullYear()}${p(t.getMonth() + 1)}${p(t.getDate())}_${p(t.getHours())}${p(t.getMinutes())}${p(t.getSeconds())}`;
      };
      const old = day(n.model.backup.retentionDays + 2);
      const recent = day(1);
      for (const id of [old, recent, `.${recent}.partial`]) mkdirSync(join(snaps, id), { recursive: true });

      // dry run: nothing written, nothing deleted
      const before = treeHash(n.root);
      const d = sh(n, 'backup.sh', ['--dry-run']);
      expect(d.status, d.stderr).toBe(0);
      expect(d.stdout).toMatch(/would take snapshot/);
      expect(d.stdout).toContain(`rm -rf -- ${snaps}/${old}`);
      expect(treeHash(n.root)).toBe(before);

      const r = sh(n, 'backup.sh', []);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const latest = readlinkSync(join(backups, 'latest'));
      expect(latest).toMatch(/^snapshots\/\d{8}_\d{6}$/);
      const id = latest.slice('snapshots/'.length);
      const snap = join(snaps, id);
      expect(statSync(snap).mode & 0o777).toBe(0o700);
      const meta = JSON.parse(readFileSync(join(snap, 'metadata.json'), 'utf8'));
      expect(meta).toMatchObject({
        id,
        type: 'full',
        hostname: n.host,
        cluster: n.model.cluster.name,
        complete: true,
        errors: [],
      });
      const here: Record<string, boolean> = {
        configs: true,
        mariadb: node.services.includes('mariadb'),
        redis: node.services.includes('redis'),
        slurm_state: node.services.includes('slurm'),
        glusterfs_meta: node.services.includes('glusterfs'),
      };
      const expected = n.model.backup.items.filter((i) => here[i]);
      expect(meta.skipped).toEqual(n.model.backup.items.filter((i) => !here[i]));
      expect(meta.items).toEqual(expected);
      for (const f of meta.files as {
        path: string;
        bytes: number;
        sha256: string;
      }[]) {
        const data = readFileSync(join(snap, f.path));
        expect(f.bytes).toBe(data.length);
        expect(f.sha256).toBe(createHash('sha256').update(data).digest('hex'));
      }
      const paths = meta.files.map((f: { path: string }) => f.path);
      expect(paths).toContain('configs.tar.gz');
      if (node.services.includes('mariadb')) {
        expect(paths).toContain('mariadb/dump.sql.gz');
        const dump = calls(n)
          .split('\n')
          .find((l) => l.startsWith('mariadb-dump '))!;
        for (const o of ['--single-transaction', '--routines', '--triggers', '--events', '--databases']) expect(dump).toContain(`[${o}]`);
        expect(dump).toContain('[app_one] [app_two]');
      }
      if (node.services.includes('redis')) expect(paths).toContain(`redis/${n.model.redis!.port}.rdb`);
      // retention: the old one and the leftover gone, the recent one kept
      expect(existsSync(join(snaps, old))).toBe(false);
      expect(existsSync(join(snaps, `.${recent}.partial`))).toBe(false);
      expect(existsSync(join(snaps, recent))).toBe(true);
      // no secret in any argv
      for (const v of Object.values(AWKWARD)) expect(calls(n)).not.toContain(v);
    });
  }

  it('a live state directory that changed while tar read it (tar exit 1) is a warning, not a failed item', () => {
    // found by the deploy lab: slurmctld renamed heartbeat.new while backup.sh read the state
    // directory; tar exited 1 and the snapshot was marked incomplete
    const n = setup('my_multihead_cluster.yaml');
    healthy(n);
    writeFileSync(join(n.state, 'tar_file_changed'), '');
    const r = sh(n, 'backup.sh', ['--items', 'slurm_state,glusterfs_data']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(/slurm_state\.tar\.gz: files of .* changed while they were read \(kept as read\)/);
    const latest = readlinkSync(join(n.root, '/var/backups/cluster/latest'));
    const meta = JSON.parse(readFileSync(join(n.root, '/var/backups/cluster', latest, 'metadata.json'), 'utf8'));
    expect(meta).toMatchObject({ complete: true, items: ['slurm_state', 'glusterfs_data'] });
  });

  it('an item failing: exit 1, the snapshot kept and marked incomplete, latest not moved', () => {
    const n = setup('my_multihead_cluster.yaml');
    healthy(n);
    let r = sh(n, 'backup.sh', []);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const backups = join(n.root, '/var/backups/cluster');
    const first = readlinkSync(join(backups, 'latest'));
    const meta = JSON.parse(readFileSync(join(backups, first, 'metadata.json'), 'utf8'));
    expect(meta.items).toEqual(['configs', 'glusterfs_meta', 'mariadb', 'redis', 'slurm_state']);
    rmSync(join(n.state, 'db_up'));
    spawnSync('sleep', ['1.1']);
    r = sh(n, 'backup.sh', []);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/mariadb: /);
    expect(readlinkSync(join(backups, 'latest'))).toBe(first);
    const ids = readdirSync(join(backups, 'snapshots')).filter((x) => !x.startsWith('.'));
    expect(ids).toHaveLength(2);
    const second = ids.find((x) => `snapshots/${x}` !== first)!;
    const m2 = JSON.parse(readFileSync(join(backups, 'snapshots', second, 'metadata.json'), 'utf8'));
    expect(m2).toMatchObject({ complete: false, errors: ['mariadb'] });
  });
});

describe('restore.sh', () => {
  function withSnapshot(ex = 'my_multihead_cluster.yaml'): {
    n: Node;
    id: string;
    snap: string;
  } {
    const n = setup(ex);
    healthy(n);
    const r = sh(n, 'backup.sh', []);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const id = readlinkSync(join(n.root, '/var/backups/cluster/latest')).slice('snapshots/'.length);
    spawnSync('sleep', ['1.1']);
    return { n, id, snap: join(n.root, '/var/backups/cluster/snapshots', id) };
  }

  it('--list shows the snapshots; --dry-run verifies and changes nothing', () => {
    const { n, id } = withSnapshot();
    const l = sh(n, 'restore.sh', ['--list']);
    expect(l.status).toBe(0);
    expect(l.stdout).toMatch(new RegExp(`^${id} +full +true .*configs, glusterfs_meta, mariadb, redis, slurm_state {2}\\(latest\\)$`, 'm'));
    const before = treeHash(n.root);
    const log0 = calls(n).length;
    const d = sh(n, 'restore.sh', ['--latest', '--dry-run']);
    expect(d.status, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/every checksum verified/);
    expect(d.stdout).toMatch(/\+ systemctl stop redis-server@mhc-6379\.service/);
    expect(treeHash(n.root)).toBe(before);
    expect(calls(n).slice(log0)).not.toMatch(/^systemctl \[stop\]/m);
  });

  it('full restore: safety snapshot first, then configs, the dump, the RDB (stop, replace, start), the Slurm state', () => {
    const { n, id } = withSnapshot();
    const conf = join(n.root, 'etc', 'mhc', 'hosts');
    const original = readFileSync(conf, 'utf8');
    writeFileSync(conf, 'changed\n');
    writeFileSync(join(n.root, 'mnt', 'gluster', 'slurm', 'state', 'job_state'), 'state v2');
    const r = sh(n, 'restore.sh', ['--id', id, '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(conf, 'utf8')).toBe(original);
    expect(readFileSync(join(n.root, 'mnt', 'gluster', 'slurm', 'state', 'job_state'), 'utf8')).toBe('state v1');
    expect(readFileSync(join(n.root, 'var', 'lib', 'redis', 'dump-6379.rdb'), 'utf8')).toBe('REDIS0010fake-6379');
    expect(readFileSync(join(n.state, 'sql.log'), 'utf8')).toContain('CREATE DATABASE app_one;');
    const c = calls(n);
    expect(c.indexOf('systemctl [stop] [redis-server@mhc-6379.service]')).toBeGreaterThan(-1);
    expect(c.indexOf('systemctl [start] [redis-server@mhc-6379.service]')).toBeGreaterThan(c.indexOf('systemctl [stop] [redis-server@mhc-6379.service]'));
    // the safety snapshot: a second snapshot of type pre-restore; latest unchanged
    const snaps = readdirSync(join(n.root, '/var/backups/cluster/snapshots')).filter((x) => x !== id);
    expect(snaps).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(n.root, '/var/backups/cluster/snapshots', snaps[0]!, 'metadata.json'), 'utf8')).type).toBe('pre-restore');
    expect(readlinkSync(join(n.root, '/var/backups/cluster/latest'))).toBe(`snapshots/${id}`);
    expect(r.stdout).toContain(`restore.sh --id ${snaps[0]} undoes this restore`);
  });

  it('a replica Redis instance is not restored; --only-configs touches configs only', () => {
    const { n } = withSnapshot();
    writeFileSync(join(n.state, 'redis_role'), 'slave');
    const r = sh(n, 'restore.sh', ['--latest', '--auto-confirm', '--items', 'redis']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/instance 6379 is a replica now/);
    expect(calls(n)).not.toMatch(/systemctl \[stop\]/);
    const o = sh(n, 'restore.sh', ['--latest', '--auto-confirm', '--only-configs']);
    expect(o.status, o.stderr).toBe(0);
    expect(o.stdout).toMatch(/items: configs$/m);
    expect(calls(n)).not.toMatch(/systemctl \[stop\]/);
  });

  it('checksums first: a changed, missing or unlisted-size file refuses the restore, naming it', () => {
    const { n, snap } = withSnapshot();
    const hosts = join(n.root, 'etc', 'mhc', 'hosts');
    writeFileSync(hosts, 'changed\n');
    const rdb = join(snap, 'redis', '6379.rdb');
    writeFileSync(rdb, 'REDIS0010fake-6378');
    let r = sh(n, 'restore.sh', ['--latest', '--auto-confirm']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/checksum mismatch for redis\/6379\.rdb/);
    expect(readFileSync(hosts, 'utf8')).toBe('changed\n');
    rmSync(rdb);
    r = sh(n, 'restore.sh', ['--latest', '--auto-confirm']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/redis\/6379\.rdb is missing/);
    writeFileSync(join(snap, 'metadata.json'), '{"broken": true}\n');
    r = sh(n, 'restore.sh', ['--latest', '--auto-confirm']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/metadata\.json is damaged/);
    expect(readFileSync(hosts, 'utf8')).toBe('changed\n');
    // without --auto-confirm, "no" cancels
    const { n: n2 } = withSnapshot('two_controllers.yaml');
    const c = spawnSync('bash', [join(n2.bundle, 'bin', 'restore.sh'), '--latest'], {
      encoding: 'utf8',
      input: 'no\n',
      env: {
        PATH: `${join(dir, 'stubs')}:${process.env.PATH}`,
        MHC_ROOT: n2.root,
        OPS_STATE: n2.state,
      },
    });
    expect(c.status).toBe(1);
    expect(c.stderr).toMatch(/restore cancelled/);
  });
  it("glusterfs_data: the volume's files without the Slurm state; a deleted and a changed file come back, a newer one stays", () => {
    const n = setup('my_multihead_cluster.yaml');
    healthy(n);
    const vol = join(n.root, 'mnt', 'gluster');
    mkdirSync(join(vol, 'shared', 'deep'), { recursive: true });
    writeFileSync(join(vol, 'shared', 'deep', 'a file'), 'v1\n', { mode: 0o640 });
    writeFileSync(join(vol, 'shared', 'keep'), 'keep\n');
    chownSync(join(vol, 'shared', 'deep', 'a file'), 4242, 4343);
    symlinkSync('deep/a file', join(vol, 'shared', 'link'));
    let r = sh(n, 'backup.sh', ['--items', 'glusterfs_data']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const id = readlinkSync(join(n.root, '/var/backups/cluster/latest')).slice('snapshots/'.length);
    const archive = join(n.root, '/var/backups/cluster/snapshots', id, 'glusterfs_data.tar.gz');
    const members = spawnSync('tar', ['-tzf', archive], { encoding: 'utf8' }).stdout.split('\n');
    expect(members).toContain('./shared/deep/a file');
    expect(members.filter((m) => m.startsWith('./slurm/state'))).toEqual([]);
    // the losses: a file deleted, one changed; one made since
    rmSync(join(vol, 'shared', 'deep', 'a file'));
    writeFileSync(join(vol, 'shared', 'keep'), 'changed\n');
    writeFileSync(join(vol, 'shared', 'newer'), 'made after the backup\n');
    spawnSync('sleep', ['1.1']);
    r = sh(n, 'restore.sh', ['--latest', '--items', 'glusterfs_data', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const back = statSync(join(vol, 'shared', 'deep', 'a file'));
    expect([readFileSync(join(vol, 'shared', 'deep', 'a file'), 'utf8'), back.mode & 0o777, back.uid, back.gid]).toEqual(['v1\n', 0o640, 4242, 4343]);
    expect(readFileSync(join(vol, 'shared', 'keep'), 'utf8')).toBe('keep\n');
    expect(readFileSync(join(vol, 'shared', 'link'), 'utf8')).toBe('v1\n');
    expect(readFileSync(join(vol, 'shared', 'newer'), 'utf8')).toBe('made after the backup\n');
    expect(r.stdout).toMatch(/glusterfs_data: \d+ entries of \/mnt\/gluster restored \(files made since are kept\)/);
    // not mounted: refused, naming the command
    rmSync(join(n.state, 'mounted'));
    r = sh(n, 'restore.sh', ['--latest', '--items', 'glusterfs_data', '--auto-confirm']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\/mnt\/gluster is not mounted: start_multihead\.sh --phase storage/);
  });

  it('glusterfs_data: an archive with a setuid file or a device is refused whole, even with matching checksums', () => {
    const n = setup('my_multihead_cluster.yaml');
    healthy(n);
    let r = sh(n, 'backup.sh', ['--items', 'glusterfs_data']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const id = readlinkSync(join(n.root, '/var/backups/cluster/latest')).slice('snapshots/'.length);
    const snap = join(n.root, '/var/backups/cluster/snapshots', id);
    // a crafted archive, its metadata.json rewritten to match
    const craft = mkdtempSync(join(dir, 'craft-'));
    writeFileSync(join(craft, 'rootshell'), '#!/bin/sh\n', { mode: 0o755 });
    chmodSync(join(craft, 'rootshell'), 0o4755);
    spawnSync('mknod', [join(craft, 'disk'), 'b', '8', '0']);
    expect(spawnSync('tar', ['-C', craft, '-czf', join(snap, 'glusterfs_data.tar.gz'), '.']).status).toBe(0);
    const data = readFileSync(join(snap, 'glusterfs_data.tar.gz'));
    const meta = readFileSync(join(snap, 'metadata.json'), 'utf8').replace(
      /\{"path": "glusterfs_data\.tar\.gz", "bytes": \d+, "sha256": "[0-9a-f]{64}"\}/,
      `{"path": "glusterfs_data.tar.gz", "bytes": ${data.length}, "sha256": "${createHash('sha256').update(data).digest('hex')}"}`,
    );
    writeFileSync(join(snap, 'metadata.json'), meta);
    spawnSync('sleep', ['1.1']);
    r = sh(n, 'restore.sh', ['--latest', '--items', 'glusterfs_data', '--auto-confirm']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/glusterfs_data\.tar\.gz: \.\/rootshell has a setuid or setgid bit/);
    expect(r.stderr).toMatch(/glusterfs_data\.tar\.gz: \.\/disk is a device, fifo or socket/);
    expect(existsSync(join(n.root, 'mnt', 'gluster', 'rootshell'))).toBe(false);
  });

  it('a Redis Cluster master: its replicas are told not to take over while it is restored, and let go after', () => {
    const { n, id } = withSnapshot();
    const [me, other, gone] = ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40)];
    writeFileSync(
      join(n.state, 'cluster_nodes.6379'),
      `${me} 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-5460\n${other} 10.0.0.2:6380@16380 slave ${me} 0 0 1 connected\n${gone} 10.0.0.3:6380@16380 slave,fail ${me} 0 0 1 disconnected\n`,
    );
    const r = sh(n, 'restore.sh', ['--id', id, '--items', 'redis', '--auto-confirm']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const c = calls(n).split('\n');
    const at = (re: RegExp) => c.findIndex((l) => re.test(l));
    const hold = at(/^redis-cli .*\[-h\] \[10\.0\.0\.2\] \[-p\] \[6380\] \[config\] \[set\] \[cluster-replica-no-failover\] \[yes\]/);
    const stop = at(/^systemctl \[stop\] \[redis-server@mhc-6379\.service\]/);
    const start = at(/^systemctl \[start\] \[redis-server@mhc-6379\.service\]/);
    const release = at(/^redis-cli .*\[-h\] \[10\.0\.0\.2\] \[-p\] \[6380\] \[config\] \[set\] \[cluster-replica-no-failover\] \[no\]/);
    expect(
      [hold, stop, start, release].every((i) => i >= 0),
      c.join('\n'),
    ).toBe(true);
    expect(hold < stop && stop < start && start < release).toBe(true);
    expect(c.some((l) => l.includes('[10.0.0.3]'))).toBe(false);
  });

  it('slurm_state is refused while slurmctld answers on another controller, naming it and the commands', () => {
    const { n, id } = withSnapshot();
    writeFileSync(join(n.state, 'scontrol_ping'), `Slurmctld(primary) at ${n.host} is UP\nSlurmctld(backup) at server2 is UP\nSlurmctld(backup) at server3 is DOWN\n`);
    const r = sh(n, 'restore.sh', ['--id', id, '--items', 'slurm_state', '--auto-confirm']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('slurm_state: slurmctld runs on server2 too (scontrol ping)');
    expect(r.stderr).toContain('run stop_multihead.sh --service slurm on server2, then restore.sh --id');
    expect(calls(n)).not.toMatch(/^systemctl \[stop\] \[slurmctld/m);
  });
});

describe('cluster_info.sh and web_health_check.sh', () => {
  for (const ex of EXAMPLE_FILES) {
    it(`${ex}: the controller table, JSON valid, web checks per node`, () => {
      const n = setup(ex);
      healthy(n);
      const t = sh(n, 'cluster_info.sh', []);
      expect(t.status, t.stderr).toBe(0);
      for (const c of n.model.controllers) expect(t.stdout).toMatch(new RegExp(`^\\| ${c.hostname} +\\| ${c.ip.replace(/\./g, '\\.')} +\\| (Active|Reachable|Unreachable) `, 'm'));
      expect(t.stdout).toContain('| Hostname   | IP              | Status      | Load   | GFS | MDB | RDS | SLM | WEB |');
      const j = JSON.parse(sh(n, 'cluster_info.sh', ['--format', 'json']).stdout);
      expect(j.controllers.map((c: { hostname: string }) => c.hostname).sort()).toEqual(n.model.controllers.map((c) => c.hostname).sort());

      const w = sh(n, 'web_health_check.sh', ['--all-nodes', '--format', 'json']);
      const wj = JSON.parse(w.stdout);
      const web = n.model.web;
      expect(wj.total).toBe(web ? web.members.length * (web.services.length + 1) : 0);
      expect(w.status).toBe(0);
      if (web) {
        rmSync(join(n.state, 'web_up'));
        const down = sh(n, 'web_health_check.sh', ['--all-nodes']);
        expect(down.status).toBe(2);
        expect(down.stdout).toMatch(/UNHEALTHY/);
      }
    });
  }
});

describe('shellcheck', () => {
  it('every operations script of every controller of every example is clean', async () => {
    const t = spawnSync('sh', ['-c', 'command -v shellcheck']);
    expect(t.status, 'shellcheck is not installed').toBe(0);
    const jobs: { what: string; files: string[] }[] = [];
    for (const ex of EXAMPLE_FILES) {
      const model = compileFile(join(EXAMPLES, ex)).model;
      for (const c of model.controllers) {
        const n = setup(ex, c.hostname);
        jobs.push({ what: `${ex} ${c.hostname}`, files: [...SCRIPTS.map((s) => join(n.bundle, 'bin', s)), join(n.bundle, 'lib', 'operations.sh')] });
      }
    }
    // one shellcheck per core at a time (each takes seconds: -x follows every source)
    const run = (files: string[]) =>
      new Promise<{ status: number | null; out: string }>((resolve) => {
        // no -P: the scripts say where their sources are; run from another cwd
        const p = spawn('shellcheck', ['-x', '-s', 'bash', ...files], { cwd: '/' });
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (out += d));
        const timer = setTimeout(() => p.kill('SIGKILL'), 240_000);
        p.on('close', (status) => {
          clearTimeout(timer);
          resolve({ status, out });
        });
      });
    const results: { what: string; status: number | null; out: string }[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(availableParallelism(), 4)) }, async () => {
        while (next < jobs.length) {
          const j = jobs[next++]!;
          results.push({ what: j.what, ...(await run(j.files)) });
        }
      }),
    );
    expect(results).toHaveLength(jobs.length);
    for (const r of results) expect(r.status, `${r.what}:\n${r.out}`).toBe(0);
  }, 600000);
});

describe('restore.sh: a snapshot is not trusted (issue 12)', () => {
  function withSnapshot(ex = 'my_multihead_cluster.yaml') {
    const n = setup(ex);
    healthy(n);
    const r = sh(n, 'backup.sh', []);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const id = readlinkSync(join(n.root, '/var/backups/cluster/latest')).slice('snapshots/'.length);
    spawnSync('sleep', ['1.1']);
    return { n, id, snap: join(n.root, '/var/backups/cluster/snapshots', id) };
  }
  /** Replaces a snapshot file and its size and sha256 in metadata.json (as a hostile snapshot would). */
  function plant(snap: string, rel: string, data: Buffer): void {
    writeFileSync(join(snap, rel), data);
    const meta = join(snap, 'metadata.json');
    const sha = createHash('sha256').update(data).digest('hex');
    const lines = readFileSync(meta, 'utf8')
      .split('\n')
      .map((l) => (l.startsWith(`    {"path": "${rel}", `) ? `    {"path": "${rel}", "bytes": ${data.length}, "sha256": "${sha}"}${l.endsWith(',') ? ',' : ''}` : l));
    writeFileSync(meta, lines.join('\n'));
  }

  it('Redis RDB: a link the redis user planted in /var/lib/redis does not aim the restore at another file', () => {
    const { n, id } = withSnapshot();
    // both instances masters now (restore.sh restores masters only): both RDBs are written
    writeFileSync(join(n.state, 'redis_role'), 'master');
    const lib = join(n.root, 'var', 'lib', 'redis');
    mkdirSync(lib, { recursive: true });
    const victim = join(n.state, 'victim');
    const victim2 = join(n.state, 'victim2');
    writeFileSync(victim, 'precious\n', { mode: 0o600 });
    writeFileSync(victim2, 'precious too\n', { mode: 0o600 });
    // the old fixed temporary name, and the destination itself, as links to files outside
    for (const p of [6379, 6380]) rmSync(join(lib, `dump-${p}.rdb`), { force: true });
    symlinkSync(victim, join(lib, 'dump-6379.rdb.mhc-restore'));
    symlinkSync(victim2, join(lib, 'dump-6380.rdb'));
    const r = sh(n, 'restore.sh', ['--id', id, '--auto-confirm', '--items', 'redis']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(readFileSync(victim2, 'utf8')).toBe('precious too\n');
    expect(statSync(victim).mode & 0o777).toBe(0o600);
    expect(statSync(victim2).mode & 0o777).toBe(0o600);
    for (const p of [6379, 6380]) {
      const f = join(lib, `dump-${p}.rdb`);
      expect(lstatSync(f).isFile(), f).toBe(true);
      expect(readFileSync(f, 'utf8')).toBe(`REDIS0010fake-${p}`);
      expect(lstatSync(f).mode & 0o777).toBe(0o660);
    }
    // no temporary left behind
    expect(readdirSync(lib).filter((x) => x.startsWith('.mhc-new.'))).toEqual([]);
  });

  it('configs.tar.gz: links, devices, fifos, setuid, foreign owners, absolute names, .. and paths outside the config paths are each refused, naming the member; nothing is installed', () => {
    const { n, id, snap } = withSnapshot();
    const src = join(n.state, 'hostile');
    const mk = (p: string, body = 'x\n', mode = 0o644) => {
      mkdirSync(dirname(join(src, p)), { recursive: true });
      writeFileSync(join(src, p), body, { mode });
    };
    mk('etc/mhc/hosts', '10.9.9.9 evil\n');
    mk('etc/cron.d/evil', '* * * * * root touch /tmp/pwned\n');
    mk('root/.ssh/authorized_keys', 'ssh-ed25519 AAAA evil\n');
    mk('etc/mhc/suid', 'x', 0o4755);
    mk('etc/mhc/foreign', 'x');
    symlinkSync('/etc/shadow', join(src, 'etc/mhc/link'));
    const t = (args: string[]) => {
      const r = spawnSync('tar', args, { cwd: src, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    };
    spawnSync('ln', [join(src, 'etc/mhc/hosts'), join(src, 'etc/mhc/hard')]);
    t(['-cf', '../h.tar', 'etc/mhc/hosts', 'etc/mhc/hard', 'etc/cron.d/evil', 'root/.ssh/authorized_keys', 'etc/mhc/suid', 'etc/mhc/link']);
    t(['-rf', '../h.tar', '--owner=12345', '--group=12345', 'etc/mhc/foreign']);
    spawnSync('mkfifo', [join(src, 'etc/mhc/fifo')]);
    spawnSync('mknod', [join(src, 'etc/mhc/dev'), 'c', '1', '3']);
    t(['-rf', '../h.tar', 'etc/mhc/fifo', 'etc/mhc/dev']);
    t(['-rf', '../h.tar', '--transform=s,^etc/mhc/hosts$,etc/mhc/../../root/dotdot,', 'etc/mhc/hosts']);
    t(['-rPf', '../h.tar', join(src, 'etc/mhc/hosts')]);
    const gz = spawnSync('gzip', ['-c', join(n.state, 'h.tar')]);
    plant(snap, 'configs.tar.gz', gz.stdout as Buffer);
    const hosts = join(n.root, 'etc/mhc/hosts');
    const before = readFileSync(hosts, 'utf8');
    const r = sh(n, 'restore.sh', ['--id', id, '--auto-confirm', '--items', 'configs']);
    expect(r.status, r.stdout + r.stderr).toBe(1);
    const e = r.stderr;
    expect(e).toMatch(/etc\/cron\.d\/evil is outside the paths/);
    expect(e).toMatch(/root\/\.ssh\/authorized_keys is outside the paths/);
    expect(e).toMatch(/etc\/mhc\/suid has a setuid/);
    expect(e).toMatch(/etc\/mhc\/link is a link/);
    expect(e).toMatch(/etc\/mhc\/hard is a link/);
    expect(e).toMatch(/etc\/mhc\/foreign belongs to uid\/gid 12345\/12345/);
    expect(e).toMatch(/etc\/mhc\/fifo is not a file or a directory/);
    expect(e).toMatch(/etc\/mhc\/dev is not a file or a directory/);
    expect(e).toMatch(/etc\/mhc\/\.\.\/\.\.\/root\/dotdot has a \. or \.\. component/);
    expect(e).toMatch(new RegExp(`${src.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/etc/mhc/hosts has an absolute name`));
    expect(e).toMatch(/configs\.tar\.gz: 10 member\(s\) refused/);
    // nothing installed: not even the one harmless member
    expect(readFileSync(hosts, 'utf8')).toBe(before);
    for (const p of ['etc/cron.d', 'root', 'etc/mhc/suid', 'etc/mhc/link', 'etc/mhc/fifo']) expect(existsSync(join(n.root, p)), p).toBe(false);
  });

  it("configs.tar.gz: a setgid directory (Debian's /etc/redis is 2770) is no reason to refuse; its files are restored", () => {
    const { n, id, snap } = withSnapshot();
    const src = join(n.state, 'setgid');
    mkdirSync(join(src, 'etc/mhc'), { recursive: true });
    writeFileSync(join(src, 'etc/mhc/hosts'), '10.9.9.1 restored\n', { mode: 0o644 });
    chmodSync(join(src, 'etc'), 0o755);
    chmodSync(join(src, 'etc/mhc'), 0o2775);
    const r0 = spawnSync('tar', ['-czf', '../s.tar.gz', '--owner=0', '--group=0', 'etc/mhc'], { cwd: src, encoding: 'utf8' });
    expect(r0.status, r0.stderr).toBe(0);
    expect(spawnSync('tar', ['-tvzf', join(n.state, 's.tar.gz')], { encoding: 'utf8' }).stdout).toMatch(/^drwxrwsr-x /m);
    plant(snap, 'configs.tar.gz', readFileSync(join(n.state, 's.tar.gz')));
    const r = sh(n, 'restore.sh', ['--id', id, '--auto-confirm', '--items', 'configs']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(join(n.root, 'etc/mhc/hosts'), 'utf8')).toBe('10.9.9.1 restored\n');
  });

  it('MariaDB: the dump is replayed with --sandbox; a client without it is refused', () => {
    const { n, id } = withSnapshot();
    let r = sh(n, 'restore.sh', ['--id', id, '--auto-confirm', '--items', 'mariadb']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(calls(n)).toMatch(/^mariadb \[--defaults-file=[^\]]*\] \[--sandbox\]$/m);
    writeFileSync(join(n.state, 'db_no_sandbox'), '');
    rmSync(join(n.state, 'sql.log'), { force: true });
    spawnSync('sleep', ['1.1']);
    r = sh(n, 'restore.sh', ['--id', id, '--auto-confirm', '--items', 'mariadb']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/mariadb has no --sandbox option .*refusing to replay/);
    expect(existsSync(join(n.state, 'sql.log'))).toBe(false);
  });
});

describe('--dry-run says what it would do, never that it did it (issue 12)', () => {
  it('backup.sh and restore.sh --dry-run: no line claims an action that was not taken', () => {
    const n = setup('my_multihead_cluster.yaml');
    healthy(n);
    const backups = join(n.root, n.model.backup.dir, 'snapshots');
    mkdirSync(join(backups, '20000101_000000'), { recursive: true });
    const b = sh(n, 'backup.sh', ['--dry-run']);
    expect(b.status, b.stderr).toBe(0);
    expect(claimsDone(b.stdout), b.stdout).toEqual([]);
    expect(b.stdout).toMatch(/1 snapshot\(s\) would be deleted/);
    expect(sh(n, 'backup.sh', []).status).toBe(0);
    spawnSync('sleep', ['1.1']);
    const r = sh(n, 'restore.sh', ['--latest', '--dry-run']);
    expect(r.status, r.stderr).toBe(0);
    expect(claimsDone(r.stdout), r.stdout + '\n' + claimsDone(r.stdout).join('\n')).toEqual([]);
    expect(r.stdout).toMatch(/would/);
  });
  it('the check itself finds a past-tense claim', () => {
    expect(claimsDone('[SUCCESS] storage: /mnt/gluster is mounted\n[INFO] would mount x\n[SUCCESS] database: joined the cluster (size )')).toHaveLength(2);
  });
});
