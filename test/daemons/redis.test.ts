// Redis judges the generated files. For every example (secrets embedded at the AWKWARD values):
// every Redis node's files are installed as the start script does (seeds without their .seed
// suffix) into a private /etc/redis, each instance starts from its run-time file, answers AUTH
// with the configured password (and refuses a wrong one), survives CONFIG REWRITE and a restart
// from the rewritten file; Sentinel starts, logs in as its ACL user and restarts from the file
// it rewrote. Live runs (one network namespace per node, a bridge between them): Sentinel
// replicates, fails over and restarts from its own files; a Redis Cluster built from the plan
// keeps every slot when a node dies. Only this node's files override: port/dir/pidfile/logfile/
// daemonize on the command line. Everything runs under unshare (mount, net, pid): the node
// addresses exist only there, and every process dies with the namespace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AWKWARD, buildText, compileText, EXAMPLES } from '../helpers.js';
import { requireTool, scratch } from './tools.js';
import { refusal, sentinelCredential } from '../../src/compiler/secrets.js';
import type { BundleFile } from '../../src/compiler/bundle.js';
import type { Model } from '../../src/compiler/model.js';

const EXAMPLE_FILES = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const FALLBACK = `x'"\\&$ #/y`;

/** AWKWARD values (Redis's must be taken as they are); other consumers' refusals get a plain value. */
function embedFor(model: Model): Record<string, string> {
  return Object.fromEntries(
    model.secrets.map((s) => {
      const v = (AWKWARD as Record<string, string>)[s.name] ?? FALLBACK;
      if (s.name === 'REDIS_PASSWORD') expect(refusal(s, v)).toBeUndefined();
      return [s.name, refusal(s, v) ? 'Plain-value-1' : v];
    }),
  );
}

function build(text: string): {
  model: Model;
  files: Map<string, BundleFile>;
  password: string;
} {
  const model = compileText(text).model;
  const embed = embedFor(model);
  return {
    model,
    files: buildText(text, { embed }),
    password: embed[model.redis!.password.name]!,
  };
}

/** The node's /etc/redis as the start script installs it: seeds lose their suffix. */
function installEtc(files: Map<string, BundleFile>, node: string, dir: string): void {
  const prefix = `${node}/files/etc/redis/`;
  for (const [p, f] of files) {
    if (!p.startsWith(prefix)) continue;
    const dest = join(dir, p.slice(prefix.length).replace(/\.seed$/, ''));
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, f.content, { mode: f.mode });
  }
}

/** Runs a script in fresh mount/net/pid namespaces; resolves with its output (bounded). */
function inNamespaces(script: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('unshare', ['--net', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc', 'bash', script, ...args], { env: { ...process.env, ...env } });
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

// One node alone: its address on loopback, its files over /etc/redis.
const NODE = `# rnode.sh ETC IP WORK SENTINEL(0|1) MASTER_LOCAL(0|1) PORT...   env: PW, SPW (sentinel credential), SPORT, MNAME
set -Eeuo pipefail
etc=$1 ip=$2 work=$3 sentinel=$4 masterlocal=$5; shift 5
ip link set lo up
ip addr add "$ip/32" dev lo
mount --bind "$etc" /etc/redis
cli() { REDISCLI_AUTH="$PW" redis-cli --no-auth-warning -h "$ip" "$@"; }
wait_pong() { # port [args]
  local p=$1; shift
  for _ in $(seq 100); do [[ $(cli -p "$p" "$@" PING 2>/dev/null) == PONG ]] && return 0; sleep 0.1; done
  echo "TIMEOUT $p"; return 1
}
start() { # name port
  mkdir -p "$work/$1"
  redis-server "/etc/redis/redis-$1.conf" --dir "$work/$1" --pidfile "$work/$1/pid" --logfile "$work/$1/log" --daemonize yes
  wait_pong "$2" || { cat "$work/$1/log"; exit 1; }
}
for port in "$@"; do
  name=$( [[ $sentinel == 1 ]] && echo mhc || echo "mhc-$port")
  start "$name" "$port"
  echo "PING $port $(cli -p "$port" PING)"
  echo "LOOPBACK $port $(REDISCLI_AUTH="$PW" redis-cli --no-auth-warning -h 127.0.0.1 -p "$port" PING)"
  echo "NOAUTH $port $(redis-cli -h "$ip" -p "$port" PING 2>&1 | head -c 6)"
  echo "WRONG $port $(REDISCLI_AUTH="x$PW" redis-cli --no-auth-warning -h "$ip" -p "$port" PING 2>&1 | head -c 9)"
  [[ $(cli -p "$port" --raw CONFIG GET requirepass | sed -n 2p) == "$PW" ]] && echo "REQUIREPASS $port ok"
  [[ $(cli -p "$port" --raw CONFIG GET masterauth | sed -n 2p) == "$PW" ]] && echo "MASTERAUTH $port ok"
  echo "CONF $port $(cli -p "$port" --raw CONFIG GET cluster-enabled | sed -n 2p) $(cli -p "$port" --raw CONFIG GET cluster-announce-ip | sed -n 2p) $(cli -p "$port" --raw CONFIG GET replica-announce-ip | sed -n 2p) $(cli -p "$port" --raw CONFIG GET bind | sed -n 2p)"
  if [[ $sentinel == 1 ]]; then echo "SENTINEL_USER $port $(redis-cli --no-auth-warning -h "$ip" -p "$port" --user mhc-sentinel --pass "$SPW" PING) $(redis-cli --no-auth-warning -h "$ip" -p "$port" --user mhc-sentinel --pass "$SPW" FLUSHALL 2>&1 | head -c 6)"; fi
  echo "REWRITE $port $(cli -p "$port" CONFIG REWRITE)"
  cli -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
  for _ in $(seq 50); do [[ -e $work/$name/pid ]] || break; sleep 0.1; done
  start "$name" "$port"
  echo "RESTARTED $port $(cli -p "$port" PING) $(grep -cx '# Generated by CONFIG REWRITE' "/etc/redis/redis-$name.conf")"
done
if [[ $sentinel == 1 ]]; then
  sp=$SPORT
  mkdir -p "$work/sentinel"
  ssta() { redis-server /etc/redis/sentinel-mhc.conf --sentinel --dir "$work/sentinel" --pidfile "$work/sentinel/pid" --logfile "$work/sentinel/log" --daemonize yes; for _ in $(seq 100); do [[ $(redis-cli -h "$ip" -p $sp PING 2>/dev/null) == PONG ]] && return 0; sleep 0.1; done; echo "TIMEOUT sentinel"; cat "$work/sentinel/log"; exit 1; }
  ssta
  echo "SENTINEL_PING $(redis-cli -h "$ip" -p $sp PING)"
  echo "SENTINEL_MASTER $(redis-cli -h "$ip" -p $sp SENTINEL get-master-addr-by-name "$MNAME" | tr '\\n' ' ')"
  if [[ $masterlocal == 1 ]]; then
    for _ in $(seq 50); do cli -p "$1" CLIENT LIST | grep -q 'user=mhc-sentinel' && break; sleep 0.1; done
    echo "SENTINEL_LOGIN $(cli -p "$1" CLIENT LIST | grep -c 'user=mhc-sentinel')"
  fi
  echo "SENTINEL_FLUSH $(redis-cli -h "$ip" -p $sp SENTINEL FLUSHCONFIG)"
  redis-cli -h "$ip" -p $sp SHUTDOWN >/dev/null 2>&1 || true
  for _ in $(seq 50); do [[ -e $work/sentinel/pid ]] || break; sleep 0.1; done
  ssta
  echo "SENTINEL_RESTARTED $(redis-cli -h "$ip" -p $sp PING) $(grep -c 'auth-pass' /etc/redis/sentinel-mhc.conf)"
fi
echo DONE
`;

// Several nodes: one network namespace each (address on eth0, a veth into a bridge), and each
// daemon sees its own node's files at /etc/redis (a bind mount in the daemon's mount namespace).
const LIVE = `# rlive.sh MODE WORK NODE_ETC NODE_IP ...   env: PW, PORT, SPORT, MNAME   (MODE: sentinel|cluster)
set -Eeuo pipefail
mode=$1 work=$2; shift 2
ip link add br0 type bridge; ip link set br0 up
mkdir -p /run/netns; mount -t tmpfs tmpfs /run/netns
etcs=(); ips=(); n=0
while (($#)); do
  n=$((n+1)); etcs[n]=$1; ips[n]=$2; shift 2
  ip netns add "n$n"
  ip link add "v$n" type veth peer name eth0 netns "n$n"
  ip link set "v$n" master br0 up
  ip -n "n$n" link set lo up; ip -n "n$n" link set eth0 up
  ip -n "n$n" addr add "\${ips[n]}/32" dev eth0; ip -n "n$n" route add default dev eth0
done
# in node i's network and with its /etc/redis
on() { local i=$1; shift; ip netns exec "n$i" sh -c 'mount --bind "$0" /etc/redis && exec "$@"' "\${etcs[i]}" "$@"; }
cli() { local i=$1; shift; ip netns exec "n$i" env REDISCLI_AUTH="$PW" redis-cli --no-auth-warning -h "\${ips[i]}" "$@"; }
scli() { local i=$1; shift; ip netns exec "n$i" redis-cli -h "\${ips[i]}" -p "$SPORT" "$@"; }
until_() { # tries cmd...: retry every 0.2 s
  local t=$1; shift
  for _ in $(seq "$t"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "TIMEOUT $*"; return 1
}
pong() { [[ $(cli "$1" -p "$2" PING) == PONG ]]; }
start() { # node name port
  mkdir -p "$work/n$1/$2"
  on "$1" redis-server "/etc/redis/redis-$2.conf" --dir "$work/n$1/$2" --pidfile "$work/n$1/$2/pid" --logfile "$work/n$1/$2/log" --daemonize yes
  until_ 100 pong "$1" "$3" || { cat "$work/n$1/$2/log"; exit 1; }
}
stop() { cli "$1" -p "$3" SHUTDOWN NOSAVE >/dev/null 2>&1 || true; until_ 50 test ! -e "$work/n$1/$2/pid"; }
info() { cli "$1" -p "$2" INFO "$3" | tr -d '\\r' | sed -n "s/^$4://p"; }
is() { [[ $("\${@:2}") == "$1" ]]; }

if [[ $mode == sentinel ]]; then
  sstart() {
    mkdir -p "$work/n$1/sentinel"
    on "$1" redis-server /etc/redis/sentinel-mhc.conf --sentinel --dir "$work/n$1/sentinel" --pidfile "$work/n$1/sentinel/pid" --logfile "$work/n$1/sentinel/log" --daemonize yes
    until_ 100 is PONG scli "$1" PING || { cat "$work/n$1/sentinel/log"; exit 1; }
  }
  smaster() { scli "$1" SENTINEL get-master-addr-by-name "$MNAME" | head -1; }
  sfield() { scli "$1" SENTINEL master "$MNAME" | awk -v k="$2" 'NR%2==1 && $0==k {getline; print; exit}'; }
  for ((i=1; i<=n; i++)); do start "$i" mhc "$PORT"; done
  for ((i=2; i<=n; i++)); do until_ 100 is up info "$i" "$PORT" replication master_link_status; echo "REPLICA n$i $(info "$i" "$PORT" replication master_host) $(info "$i" "$PORT" replication master_link_status)"; done
  for ((i=1; i<=n; i++)); do sstart "$i"; done
  for ((i=1; i<=n; i++)); do
    until_ 150 is $((n-1)) sfield "$i" num-other-sentinels
    until_ 150 is $((n-1)) sfield "$i" num-slaves
    echo "SENTINEL n$i master=$(smaster "$i") slaves=$(sfield "$i" num-slaves) sentinels=$(sfield "$i" num-other-sentinels) flags=$(sfield "$i" flags)"
  done
  echo "SENTINEL_LOGINS $(cli 1 -p "$PORT" CLIENT LIST | grep -c 'user=mhc-sentinel')"
  # the master's redis dies; the sentinels (all alive) promote a replica
  stop 1 mhc "$PORT"
  moved() { [[ $(smaster "$1") != "\${ips[1]}" ]]; }
  for ((i=1; i<=n; i++)); do until_ 200 moved "$i"; done
  new=$(smaster 1); k=0
  for ((i=2; i<=n; i++)); do [[ \${ips[i]} == "$new" ]] && k=$i; done
  echo "FAILOVER $new k=$k $(info "$k" "$PORT" replication role)"
  until_ 100 grep -qx '# Generated by CONFIG REWRITE' "\${etcs[k]}/redis-mhc.conf"
  echo "PROMOTED_FILE replicaof=$(grep -c '^replicaof' "\${etcs[k]}/redis-mhc.conf")"
  # the promoted instance restarts from its rewritten file
  stop "$k" mhc "$PORT"; start "$k" mhc "$PORT"
  echo "PROMOTED_RESTART $(cli "$k" -p "$PORT" PING) $(info "$k" "$PORT" replication role)"
  # every sentinel restarts from the file it rewrote
  for ((i=1; i<=n; i++)); do
    scli "$i" SHUTDOWN >/dev/null 2>&1 || true
    until_ 50 test ! -e "$work/n$i/sentinel/pid"
    sstart "$i"
  done
  for ((i=1; i<=n; i++)); do echo "SENTINEL_RESTART n$i $(scli "$i" PING) master=$(smaster "$i")"; done
  # the old master returns from its run-time file and is turned into a replica of the new one
  start 1 mhc "$PORT"
  until_ 300 is "$new" info 1 "$PORT" replication master_host
  until_ 100 is up info 1 "$PORT" replication master_link_status
  echo "OLD_MASTER $(info 1 "$PORT" replication role) $(info 1 "$PORT" replication master_host) $(info 1 "$PORT" replication master_link_status)"
  until_ 100 grep -q "^replicaof $new $PORT" "\${etcs[1]}/redis-mhc.conf"
  stop 1 mhc "$PORT"; start 1 mhc "$PORT"
  until_ 100 is up info 1 "$PORT" replication master_link_status
  echo "OLD_MASTER_RESTART $(info 1 "$PORT" replication role) $(info 1 "$PORT" replication master_host)"
else
  . "$work/cluster-plan"
  ports=() # ports of every node's instances: from the etc dir
  for ((i=1; i<=n; i++)); do
    for f in "\${etcs[i]}"/redis-mhc-*.conf; do p=\${f##*-}; p=\${p%.conf}; start "$i" "mhc-$p" "$p"; done
  done
  ip netns exec n1 env REDISCLI_AUTH="$PW" redis-cli --no-auth-warning --cluster create "\${MHC_REDIS_CLUSTER_MASTERS[@]}" --cluster-replicas 0 --cluster-yes >"$work/create.log" 2>&1 || { cat "$work/create.log"; exit 1; }
  for pair in "\${MHC_REDIS_CLUSTER_REPLICAS[@]}"; do
    r=\${pair%%=*} m=\${pair#*=}
    id=$(ip netns exec n1 env REDISCLI_AUTH="$PW" redis-cli --no-auth-warning -h "\${m%:*}" -p "\${m#*:}" CLUSTER MYID)
    ip netns exec n1 env REDISCLI_AUTH="$PW" redis-cli --no-auth-warning --cluster add-node "$r" "$m" --cluster-slave --cluster-master-id "$id" >>"$work/create.log" 2>&1 || { cat "$work/create.log"; exit 1; }
  done
  ninst=$(( \${#MHC_REDIS_CLUSTER_MASTERS[@]} + \${#MHC_REDIS_CLUSTER_REPLICAS[@]} ))
  node_of() { local a=$1 j; for ((j=1; j<=n; j++)); do if [[ \${ips[j]} == "\${a%:*}" ]]; then echo "$j"; fi; done; }
  for pair in "\${MHC_REDIS_CLUSTER_REPLICAS[@]}"; do
    r=\${pair%%=*} m=\${pair#*=}; j=$(node_of "$r")
    until_ 150 is up info "$j" "\${r#*:}" replication master_link_status
    echo "PAIR $r -> $(info "$j" "\${r#*:}" replication master_host):$(info "$j" "\${r#*:}" replication master_port) want $m"
  done
  cstate() { cli "$1" -p "$2" CLUSTER INFO | tr -d '\\r' | sed -n "s/^$3://p"; }
  for ((i=1; i<=n; i++)); do until_ 150 is ok cstate "$i" "$PORT" cluster_state; done
  echo "FORMED $(cli 1 -p "$PORT" CLUSTER INFO | tr -d '\\r' | grep -E 'cluster_state|cluster_slots_ok|cluster_known_nodes' | tr '\\n' ' ')"
  for k in $(seq 100); do cli 2 -p "$PORT" -c SET "key$k" "val$k" >/dev/null; done
  # node 1 dies (all its instances)
  for f in "\${etcs[1]}"/redis-mhc-*.conf; do p=\${f##*-}; p=\${p%.conf}; stop 1 "mhc-$p" "$p"; done
  # settled: no instance of the dead node owns a slot any more, and every slot is served
  ok() {
    ! cli 2 -p "$PORT" CLUSTER NODES | awk -v ip="\${ips[1]}" 'index($2, ip ":") == 1 && NF > 8' | grep -q . &&
      [[ $(cstate 2 "$PORT" cluster_state) == ok && $(cstate 2 "$PORT" cluster_slots_ok) == 16384 ]]
  }
  until_ 300 ok
  echo "AFTER_LOSS $(cli 2 -p "$PORT" CLUSTER INFO | tr -d '\\r' | grep -E 'cluster_state|cluster_slots_ok|cluster_slots_pfail|cluster_slots_fail' | tr '\\n' ' ')"
  good=0; for k in $(seq 100); do [[ $(cli 2 -p "$PORT" -c GET "key$k" 2>/dev/null) == "val$k" ]] && good=$((good+1)); done
  echo "KEYS $good"
fi
echo DONE
`;

let dir = '';
beforeAll(() => {
  for (const t of ['redis-server', 'redis-cli', 'unshare', 'ip', 'mount', 'sha256sum']) requireTool(t);
  dir = scratch('redis');
  writeFileSync(join(dir, 'node.sh'), NODE);
  writeFileSync(join(dir, 'live.sh'), LIVE);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const lines = (out: string, tag: string): string[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith(`${tag} `))
    .map((l) => l.slice(tag.length + 1).trim());

describe('redis-server and Sentinel accept every generated file', () => {
  for (const ex of EXAMPLE_FILES) {
    const text = readFileSync(join(EXAMPLES, ex), 'utf8');
    if (!compileText(text).model.redis) continue;
    it(`${ex}: every node starts, answers AUTH, restarts from its rewritten files`, async () => {
      const { model, files, password } = build(text);
      const r = model.redis!;
      const sentinel = r.mode === 'sentinel';
      const runs = r.members.map(async (m, i) => {
        const etc = join(dir, ex, m.hostname, 'etc');
        const work = join(dir, ex, m.hostname, 'work');
        mkdirSync(work, { recursive: true });
        installEtc(files, m.hostname, etc);
        const ports = readdirSync(etc)
          .filter((f) => /^redis-mhc.*\.conf$/.test(f))
          .map((f) => {
            const c = readFileSync(join(etc, 'mhc', f.replace(/^redis-mhc-?/, sentinel ? 'redis' : 'redis-')), 'utf8');
            return Number(/^port (\d+)$/m.exec(c)![1]);
          });
        expect(ports.length).toBe(sentinel ? 1 : 1 + r.replicas);
        const res = await inNamespaces(
          join(dir, 'node.sh'),
          [etc, m.ip, work, sentinel ? '1' : '0', i === 0 ? '1' : '0', ...ports.map(String)],
          {
            PW: password,
            SPW: sentinelCredential(password),
            SPORT: String(r.sentinel.port),
            MNAME: r.sentinel.masterName,
          },
          60000,
        );
        return { m, i, ports, ...res };
      });
      for (const { m, i, ports, status, out } of await Promise.all(runs)) {
        expect(status, `${m.hostname}:\n${out}`).toBe(0);
        expect(out, m.hostname).toContain('DONE');
        for (const p of ports) {
          expect(lines(out, 'PING')).toContain(`${p} PONG`);
          expect(lines(out, 'LOOPBACK')).toContain(`${p} PONG`);
          expect(lines(out, 'NOAUTH')).toContain(`${p} NOAUTH`);
          expect(lines(out, 'WRONG')).toContain(`${p} AUTH fail`);
          expect(lines(out, 'REQUIREPASS')).toContain(`${p} ok`);
          expect(lines(out, 'MASTERAUTH')).toContain(`${p} ok`);
          expect(lines(out, 'CONF')).toContain(sentinel ? `${p} no  ${m.ip} ${m.ip} 127.0.0.1` : `${p} yes ${m.ip} ${m.ip} ${m.ip} 127.0.0.1`);
          expect(lines(out, 'REWRITE')).toContain(`${p} OK`);
          expect(lines(out, 'RESTARTED')).toContain(`${p} PONG 1`);
          // Sentinel's ACL user logs in with the derived credential and may not do anything else
          if (sentinel) expect(lines(out, 'SENTINEL_USER')).toContain(`${p} PONG NOPERM`);
        }
        if (sentinel) {
          expect(lines(out, 'SENTINEL_PING')).toEqual(['PONG']);
          expect(lines(out, 'SENTINEL_MASTER')).toEqual([`${r.members[0]!.ip} ${r.port}`]);
          // on the master's node Sentinel reaches the instance: it logged in as mhc-sentinel
          if (i === 0) expect(Number(lines(out, 'SENTINEL_LOGIN')[0])).toBeGreaterThan(0);
          expect(lines(out, 'SENTINEL_FLUSH')).toEqual(['OK']);
          expect(lines(out, 'SENTINEL_RESTARTED')[0]).toMatch(/^PONG [1-9]/);
        }
      }
    }, 120000);
  }
});

describe('live: the generated files form a working Redis', () => {
  const MAIN = readFileSync(join(EXAMPLES, 'my_multihead_cluster.yaml'), 'utf8');
  const cases: { name: string; text: string }[] = [
    {
      name: 'two_controllers.yaml (sentinel)',
      text: readFileSync(join(EXAMPLES, 'two_controllers.yaml'), 'utf8'),
    },
    {
      name: 'my_multihead_cluster.yaml with mode: sentinel',
      text: MAIN.replace('mode: auto', 'mode: sentinel'),
    },
    { name: 'my_multihead_cluster.yaml (cluster)', text: MAIN },
    {
      name: 'five_controllers.yaml (cluster)',
      text: readFileSync(join(EXAMPLES, 'five_controllers.yaml'), 'utf8'),
    },
  ];
  it.concurrent.each(cases)(
    '$name',
    async ({ name, text }) => {
      const { model, files, password } = build(text);
      const r = model.redis!;
      const base = join(dir, 'live', name.replace(/[^A-Za-z0-9]+/g, '_'));
      const args: string[] = [];
      for (const m of r.members) {
        const etc = join(base, m.hostname);
        installEtc(files, m.hostname, etc);
        args.push(etc, m.ip);
      }
      const work = join(base, 'work');
      mkdirSync(work, { recursive: true });
      if (r.mode === 'cluster') writeFileSync(join(work, 'cluster-plan'), files.get(`${r.members[0]!.hostname}/files/etc/mhc/redis/cluster-plan`)!.content);
      const res = await inNamespaces(
        join(dir, 'live.sh'),
        [r.mode, work, ...args],
        {
          PW: password,
          PORT: String(r.port),
          SPORT: String(r.sentinel.port),
          MNAME: r.sentinel.masterName,
        },
        150000,
      );
      expect(res.status, res.out).toBe(0);
      expect(res.out).toContain('DONE');
      const out = res.out;
      const [first, ...others] = r.members;
      if (r.mode === 'sentinel') {
        // every replica linked to the VIP owner's instance with the (awkward) masterauth
        expect(lines(out, 'REPLICA')).toEqual(others.map((_, i) => `n${i + 2} ${first!.ip} up`));
        for (let i = 1; i <= r.members.length; i++) {
          expect(lines(out, 'SENTINEL')).toContain(`n${i} master=${first!.ip} slaves=${others.length} sentinels=${others.length} flags=master`);
        }
        expect(Number(lines(out, 'SENTINEL_LOGINS')[0])).toBeGreaterThanOrEqual(r.members.length);
        // failover to a replica; Sentinel recorded it in the promoted instance's run-time file
        const fo = lines(out, 'FAILOVER')[0]!;
        expect(others.map((m) => m.ip)).toContain(fo.split(' ')[0]);
        expect(fo).toMatch(/ master$/);
        expect(lines(out, 'PROMOTED_FILE')).toEqual(['replicaof=0']);
        expect(lines(out, 'PROMOTED_RESTART')).toEqual(['PONG master']);
        // every Sentinel restarts from the file it rewrote (auth-pass written unquoted)
        for (let i = 1; i <= r.members.length; i++) expect(lines(out, 'SENTINEL_RESTART')).toContain(`n${i} PONG master=${fo.split(' ')[0]}`);
        // the old master comes back as a replica, also after a restart from its rewritten file
        expect(lines(out, 'OLD_MASTER')).toEqual([`slave ${fo.split(' ')[0]} up`]);
        expect(lines(out, 'OLD_MASTER_RESTART')).toEqual([`slave ${fo.split(' ')[0]}`]);
      } else {
        for (const pair of lines(out, 'PAIR')) {
          const [have, want] = pair.split(' -> ')[1]!.split(' want ');
          expect(have).toBe(want);
        }
        expect(lines(out, 'PAIR')).toHaveLength(r.members.length * r.replicas);
        expect(lines(out, 'FORMED')).toEqual([`cluster_state:ok cluster_slots_ok:16384 cluster_known_nodes:${r.members.length * (1 + r.replicas)}`]);
        expect(lines(out, 'AFTER_LOSS')).toEqual(['cluster_state:ok cluster_slots_ok:16384 cluster_slots_pfail:0 cluster_slots_fail:0']);
        expect(lines(out, 'KEYS')).toEqual(['100']);
      }
    },
    180000,
  );
});
