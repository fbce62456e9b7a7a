// MariaDB judges the generated 60-galera.cnf. For every example (secrets embedded at the AWKWARD
// values), every MariaDB node's file: `mariadbd --defaults-file=F --help --verbose` accepts it
// (exit 0, no unknown variable) and reads back every value, the SST user:password exactly
// (also through my_print_defaults, which the SST scripts use); the same with Debian's whole
// /etc/mysql/mariadb.conf.d stack, where our file replaces Debian's 60-galera.cnf and wins over
// 50-server.cnf. Live runs (one network namespace per node, a bridge between them; mount and pid
// namespaces so everything dies with them): the first node bootstraps, the others join by a
// mariabackup SST that logs in with the awkward SST password from the generated file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AWKWARD, buildText, compileText, EXAMPLES, withTarget } from '../helpers.js';
import { daemonRoot, requireTool, ROOT_BUILD_MS, run, runFor, scratch } from './tools.js';
import { TARGET_OSES, type TargetOs } from '../../src/compiler/targets.js';
import { refusal } from '../../src/compiler/secrets.js';
import { clusterAddress, GALERA_PROVIDER, GALERA_SETTINGS } from '../../src/emitters/mariadb.js';
import type { BundleFile } from '../../src/compiler/bundle.js';
import type { Model } from '../../src/compiler/model.js';

const CNF = 'files/etc/mysql/mariadb.conf.d/60-galera.cnf';
const EXAMPLE_FILES = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const FALLBACK = `x'"\\&$ #/y`;

function build(text: string, sst?: string): { model: Model; files: Map<string, BundleFile>; sst: string } {
  const model = compileText(text).model;
  const embed = Object.fromEntries(
    model.secrets.map((s) => {
      const v = s.name === 'GALERA_SST_PASSWORD' && sst !== undefined ? sst : ((AWKWARD as Record<string, string>)[s.name] ?? FALLBACK);
      if (s.name === 'GALERA_SST_PASSWORD') expect(refusal(s, v)).toBeUndefined();
      return [s.name, refusal(s, v) ? 'Plain-value-1' : v];
    }),
  );
  return {
    model,
    files: buildText(text, { embed }),
    sst: embed.GALERA_SST_PASSWORD!,
  };
}

/** mariadbd --help --verbose's variable table: name → value. */
function variables(out: string): Map<string, string> {
  const m = new Map<string, string>();
  const start = out.indexOf('\nVariables (--variable-name=value)');
  for (const line of out.slice(start).split('\n')) {
    const r = /^(\S+)\s+(.*)$/.exec(line);
    if (r) m.set(r[1]!, r[2]!);
  }
  return m;
}

function runAsync(cmd: string, args: string[], timeoutMs: number): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, out });
    });
  });
}

// glive.sh SCRATCH SQL_QUOTED_SST_PASSWORD CNF1 IP1 CNF2 IP2 …: node 1 bootstraps and creates the
// SST user, the others join one by one (SST from a synced member).
const LIVE = `# glive.sh SCRATCH SQLPW NODE1_CNF NODE1_IP NODE2_CNF NODE2_IP ...
set -Eeuo pipefail
# a command that fails says which (the test prints this output)
trap 'echo "live.sh: line $LINENO: exit $?: $BASH_COMMAND"' ERR
s=$1 sqlpw=$2; shift 2
mkdir -p "$s"; chmod 755 "$s"
ip link add br0 type bridge; ip link set br0 up
mkdir -p /run/netns; mount -t tmpfs tmpfs /run/netns
i=0; names=(); ips=()
while (($#)); do
  cnf=$1 addr=$2; shift 2; i=$((i+1)); n=g$i; names+=("$n"); ips+=("$addr")
  ip netns add "$n"
  ip link add "v$i" type veth peer name eth0 netns "$n"
  ip link set "v$i" master br0 up
  ip -n "$n" link set lo up; ip -n "$n" link set eth0 up
  ip -n "$n" addr add "$addr/32" dev eth0
  ip -n "$n" route add default dev eth0
  d=$s/$n; mkdir -p "$d/data" "$d/run"; chown -R mysql:mysql "$d"; chmod 755 "$d"
  printf '!include %s\\n[mysqld]\\ndatadir = %s/data\\nsocket = %s/run/mysqld.sock\\npid-file = %s/run/mysqld.pid\\nlog-error = %s/run/err.log\\nuser = mysql\\n' "$cnf" "$d" "$d" "$d" "$d" > "$d/my.cnf"
done
sql() { ip netns exec "$1" mariadb --defaults-file="$s/$1/my.cnf" --socket="$s/$1/run/mysqld.sock" -uroot -N -e "$2"; }
wait_sql() { for _ in $(seq 300); do sql "$1" 'select 1' >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "TIMEOUT $1"; tail -30 "$s/$1/run/err.log"; return 1; }
# bootstrap the first node
mariadb-install-db --defaults-file="$s/g1/my.cnf" --wsrep-on=OFF >"$s/install.log" 2>&1 || { tail -30 "$s/install.log"; exit 1; }
ip netns exec g1 mariadbd --defaults-file="$s/g1/my.cnf" --wsrep-new-cluster &
wait_sql g1
sql g1 "CREATE USER 'mhc_sst'@'localhost' IDENTIFIED BY '$sqlpw'; GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO 'mhc_sst'@'localhost'; CREATE DATABASE mhc_t; CREATE TABLE mhc_t.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO mhc_t.t VALUES (1, 'from-g1');"
for ((k=2; k<=\${#names[@]}; k++)); do
  n=g$k
  ip netns exec "$n" mariadbd --defaults-file="$s/$n/my.cnf" &
  wait_sql "$n" || { echo "--- donor log"; tail -20 "$s/g1/run/err.log"; exit 1; }
  # wait until synced
  for _ in $(seq 150); do [[ $(sql "$n" "show status like 'wsrep_local_state_comment'" | cut -f2) == Synced ]] && break; sleep 0.2; done
done
echo "SIZE $(sql g1 "show status like 'wsrep_cluster_size'" | cut -f2)"
# which variables the running server lets SET GLOBAL change (GALERA_SETTINGS' "dynamic")
sql g1 "SELECT LOWER(VARIABLE_NAME), READ_ONLY FROM information_schema.SYSTEM_VARIABLES" | sed 's/^/VAR /'
for n in "\${names[@]}"; do echo "ROW $n $(sql "$n" 'select v from mhc_t.t where id=1') $(sql "$n" "show status like 'wsrep_local_state_comment'" | cut -f2)"; done
grep -h 'mariabackup SST completed on joiner' "$s"/g*/run/err.log || true
`;

let dir = '';
beforeAll(() => {
  for (const t of ['mariadbd', 'my_print_defaults', 'mariadb-install-db', 'mariadb', 'mariadb-backup', 'socat', 'unshare', 'ip']) requireTool(t);
  // the provider named in every generated file must exist where Debian's galera-4 puts it
  expect(existsSync(GALERA_PROVIDER), GALERA_PROVIDER).toBe(true);
  dir = scratch('mariadb');
  // mariadbd, mariadb-install-db and the SST scripts run as mysql: they must reach their files
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'live.sh'), LIVE);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
// the other targets' daemons: their cached root, built (minutes, once, under a lock) when missing
beforeAll(() => void TARGET_OSES.forEach((os) => daemonRoot(os)), ROOT_BUILD_MS);

/** What mariadbd --help --verbose prints for wsrep_sst_auth from 11.x on (10.11 prints the value). */
const SST_AUTH_MASK = '********';
const judged = Object.fromEntries(TARGET_OSES.map((os) => [os, 0])) as Record<TargetOs, number>;
afterAll(() => console.log(`mariadbd judged 60-galera.cnf files: ${JSON.stringify(judged)}`));

describe('mariadbd accepts every generated 60-galera.cnf', () => {
  // every example for every target, judged by that release's mariadbd and its packaged conf.d
  for (const [ex, os] of EXAMPLE_FILES.flatMap((e) => TARGET_OSES.map((os) => [e, os] as const))) {
    const text = withTarget(readFileSync(join(EXAMPLES, ex), 'utf8'), os);
    if (!compileText(text).model.galera) continue;
    it(`${ex} [${os}]: every MariaDB node`, () => {
      const { model, files, sst } = build(text);
      const confDir = join(daemonRoot(os) ?? '/', 'etc/mysql/mariadb.conf.d');
      const g = model.galera!;
      for (const m of g.members) {
        const file = files.get(`${m.hostname}/${CNF}`)!;
        const d = join(dir, ex, m.hostname);
        mkdirSync(d, { recursive: true });
        const cnf = join(d, '60-galera.cnf');
        writeFileSync(cnf, file.content, { mode: file.mode });
        expect(file.content).toContain(`wsrep_provider = ${GALERA_PROVIDER}\n`);

        const r = runFor(os, 'mariadbd', [`--defaults-file=${cnf}`, '--help', '--verbose'], [dir], { timeoutMs: 30000 });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).not.toMatch(/unknown (variable|option)|\[ERROR\]/i);
        // a warning is a finding, but for this machine's open-files limit
        expect(r.stderr.split('\n').filter((l) => /\[Warning\]/.test(l) && !/max_open_files/.test(l))).toEqual([]);
        judged[os]++;
        const v = variables(r.stdout);
        expect(v.get('wsrep-on')).toBe('TRUE');
        expect(v.get('wsrep-provider')).toBe(GALERA_PROVIDER);
        expect(v.get('wsrep-cluster-name')).toBe(g.clusterName);
        expect(v.get('wsrep-cluster-address')).toBe(clusterAddress(g));
        expect(v.get('wsrep-node-address')).toBe(m.ip);
        expect(v.get('wsrep-node-name')).toBe(m.hostname);
        expect(v.get('wsrep-sst-method')).toBe(g.sstMethod);
        // MariaDB 11.8 prints it masked (********); the exact value: my_print_defaults below
        expect([`${g.sstUser}:${sst}`, SST_AUTH_MASK]).toContain(v.get('wsrep-sst-auth'));
        expect(v.get('wsrep-provider-options')).toBe(`gcache.size=${g.gcacheSize};gcache.recover=yes`);
        expect(v.get('wsrep-slave-threads')).toBe(String(g.slaveThreads));
        expect(v.get('binlog-format')).toBe('ROW');
        expect(v.get('default-storage-engine')).toBe('InnoDB');
        expect(v.get('innodb-autoinc-lock-mode')).toBe('2');
        expect(v.get('bind-address')).toBe('0.0.0.0');

        // what the SST scripts read (my_print_defaults): the exact value, one option per line
        const pd = runFor(os, 'my_print_defaults', [`--defaults-file=${cnf}`, 'mysqld', 'galera'], [dir], { timeoutMs: 10000 });
        expect(pd.status, pd.stderr).toBe(0);
        expect(pd.stdout.split('\n')).toContain(`--wsrep_sst_auth=${g.sstUser}:${sst}`);

        // inside Debian's stack: our file replaces the package's 60-galera.cnf, after 50-server.cnf
        const confd = join(d, 'mariadb.conf.d');
        mkdirSync(confd, { recursive: true });
        for (const f of readdirSync(confDir)) if (f.endsWith('.cnf')) copyFileSync(join(confDir, f), join(confd, f));
        writeFileSync(join(confd, '60-galera.cnf'), file.content, {
          mode: file.mode,
        });
        writeFileSync(join(d, 'my.cnf'), `[client-server]\n!includedir ${confd}/\n`);
        const s = runFor(os, 'mariadbd', [`--defaults-file=${join(d, 'my.cnf')}`, '--help', '--verbose'], [dir], { timeoutMs: 30000 });
        expect(s.status, s.stderr).toBe(0);
        const sv = variables(s.stdout);
        expect(sv.get('bind-address')).toBe('0.0.0.0');
        expect(sv.get('wsrep-cluster-address')).toBe(clusterAddress(g));
        expect([`${g.sstUser}:${sst}`, SST_AUTH_MASK]).toContain(sv.get('wsrep-sst-auth'));
      }
    }, 120000);
  }

  it('SST passwords with every kind of awkward character read back exactly', () => {
    const text = readFileSync(join(EXAMPLES, 'two_controllers.yaml'), 'utf8');
    const values = [
      AWKWARD.GALERA_SST_PASSWORD,
      ' lead',
      'trail ',
      '"',
      '\\',
      '"quoted"',
      "'single'",
      'a\\nb\\s\\t',
      '#x',
      'x # y',
      '!include /etc/passwd',
      'a=b;c',
      `${'ü'.repeat(250)}\\"#${'x'.repeat(740)}`,
    ];
    for (const [i, value] of values.entries()) {
      const { files } = build(text, value);
      const cnf = join(dir, `hostile-${i}.cnf`);
      writeFileSync(cnf, files.get(`head1/${CNF}`)!.content);
      const pd = run('my_print_defaults', [`--defaults-file=${cnf}`, 'galera'], { timeoutMs: 10000 });
      expect(pd.stdout.split('\n'), JSON.stringify(value)).toContain(`--wsrep_sst_auth=mhc_sst:${value}`);
      const r = run('mariadbd', [`--defaults-file=${cnf}`, '--help', '--verbose'], { timeoutMs: 30000 });
      expect(r.status, r.stderr).toBe(0);
    }
  }, 120000);
});

describe('live: Galera forms from the generated files, joiners by mariabackup SST', () => {
  const cases = ['two_controllers.yaml', 'my_multihead_cluster.yaml'];
  it.concurrent.each(cases)(
    '%s',
    async (ex) => {
      const { model, files, sst } = build(readFileSync(join(EXAMPLES, ex), 'utf8'));
      const g = model.galera!;
      const base = join(dir, 'live', ex);
      mkdirSync(base, { recursive: true });
      const args: string[] = [];
      for (const m of g.members) {
        const cnf = join(base, `${m.hostname}.cnf`);
        writeFileSync(cnf, files.get(`${m.hostname}/${CNF}`)!.content, {
          mode: 0o600,
        });
        args.push(cnf, m.ip);
      }
      // the SST user as the database phase creates it (SQL string: backslash and quote escaped)
      const sql = sst.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
      const res = await runAsync('unshare', ['--net', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc', 'bash', join(dir, 'live.sh'), join(base, 'work'), sql, ...args], 240000);
      expect(res.status, res.out.slice(-6000)).toBe(0);
      const out = res.out.split('\n');
      expect(out).toContain(`SIZE ${g.members.length}`);
      for (let i = 1; i <= g.members.length; i++) expect(out).toContain(`ROW g${i} from-g1 Synced`);
      // each setting's rule says "dynamic" exactly when this server lets SET GLOBAL change it
      const readOnly = new Map(out.filter((l) => l.startsWith('VAR ')).map((l) => l.slice(4).split('\t') as [string, string]));
      expect(readOnly.size).toBeGreaterThan(300);
      for (const [k, r] of Object.entries(GALERA_SETTINGS)) expect(readOnly.get(k.replace(/-/g, '_')), k).toBe(r.dynamic ? 'NO' : 'YES');
      // every joiner got its data by SST (mariabackup logged in with the password from the file)
      expect(out.filter((l) => l.includes('mariabackup SST completed on joiner'))).toHaveLength(g.members.length - 1);
    },
    300000,
  );
});
