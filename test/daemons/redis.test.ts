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
import { AWKWARD, buildText, compileText, EXAMPLES, withTarget } from '../helpers.js';
import { daemonRoot, forTarget, requireTool, ROOT_BUILD_MS, run, scratch } from './tools.js';
import { TARGET_OSES, type TargetOs } from '../../src/compiler/targets.js';
import { refusal, sentinelCredential } from '../../src/compiler/secrets.js';
import type { BundleFile } from '../../src/compiler/bundle.js';
import type { Model } from '../../src/compiler/model.js';
import { REDIS_SETTINGS, SENTINEL_SETTINGS } from '../../src/emitters/redis.js';
import { STUBS, fakeNode, writeBundle } from '../scripts/stub-path.js';

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
  /** what Sentinel's clients give it: the credential derived from its own secret ('' in cluster mode) */
  sentinelAuth: string;
} {
  const model = compileText(text).model;
  const embed = embedFor(model);
  const sp = model.redis!.sentinel.password;
  return {
    model,
    files: buildText(text, { embed }),
    password: embed[model.redis!.password.name]!,
    sentinelAuth: sp ? sentinelCredential(embed[sp.name]!) : '',
  };
}

/** The UMask every Redis/Sentinel unit of the node gets from its drop-in (one per unit, all equal). */
function unitUmask(files: Map<string, BundleFile>, model: Model, node: string): string {
  const units = files.get(`${node}/files/etc/mhc/redis/instances`)!.content;
  const names = /^MHC_REDIS_UNITS=\((.*)\)$/m.exec(units)![1]!.split(' ');
  const masks = names.map((u) => {
    const f = [...files.values()].find((x) => x.path.startsWith(`${node}/files/etc/systemd/system/${u}.d/`));
    expect(f, `${node}: a drop-in for ${u}`).toBeDefined();
    return /^UMask=(\d+)$/m.exec(f!.content)?.[1];
  });
  expect(new Set(masks).size, node).toBe(1);
  expect(masks[0], node).toBeDefined();
  expect(model.redis).toBeDefined();
  return masks[0]!;
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
function inNamespaces(script: string, args: string[], env: Record<string, string>, timeoutMs: number, os: TargetOs = 'debian12'): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('unshare', ['--net', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc', ...forTarget(os, ['bash', script, ...args], [dir])], { env: { ...process.env, ...env } });
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
/** OPTION=VALUE for each Sentinel setting mhc changes by SENTINEL SET (SENTINEL_SETTINGS, and the seed's quorum), a value that differs from the file's. */
function sentinelSets(r: NonNullable<Model['redis']>): string[] {
  const now: Record<string, number> = { 'down-after-milliseconds': r.sentinel.downAfterMs, 'failover-timeout': r.sentinel.failoverTimeoutMs, 'parallel-syncs': 1 };
  const opts = Object.entries(SENTINEL_SETTINGS)
    .filter(([, s]) => s.dynamic && s.action === 'runtime')
    .map(([k]) => k.replace(/^sentinel=/, ''));
  expect(
    opts.every((o) => o in now),
    opts.join(' '),
  ).toBe(true);
  return [...opts.map((o) => `${o}=${now[o]! + 1}`), `quorum=${r.sentinel.quorum}`];
}
const NODE = `# rnode.sh ETC IP WORK SENTINEL(0|1) MASTER_LOCAL(0|1) PORT...   env: PW, SPW (sentinel credential), SAUTH (Sentinel's own), SPORT, MNAME, UMASK (the units' drop-in)
set -Eeuo pipefail
etc=$1 ip=$2 work=$3 sentinel=$4 masterlocal=$5; shift 5
umask "$UMASK"
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
  echo "MODE $port $(stat -c %a "/etc/redis/redis-$name.conf") $(grep -c '^requirepass' "/etc/redis/redis-$name.conf")"
  cli -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
  for _ in $(seq 50); do [[ -e $work/$name/pid ]] || break; sleep 0.1; done
  start "$name" "$port"
  echo "RESTARTED $port $(cli -p "$port" PING) $(grep -cx '# Generated by CONFIG REWRITE' "/etc/redis/redis-$name.conf")"
done
if [[ $sentinel == 1 ]]; then
  sp=$SPORT
  mkdir -p "$work/sentinel"
  scli() { REDISCLI_AUTH="$SAUTH" redis-cli --no-auth-warning -h "$ip" -p $sp "$@"; }
  anon() { redis-cli -h "$ip" -p $sp "$@" 2>&1 | head -c 6; }
  ssta() { redis-server /etc/redis/sentinel-mhc.conf --sentinel --dir "$work/sentinel" --pidfile "$work/sentinel/pid" --logfile "$work/sentinel/log" --daemonize yes; for _ in $(seq 100); do [[ $(scli PING 2>/dev/null) == PONG ]] && return 0; sleep 0.1; done; echo "TIMEOUT sentinel"; cat "$work/sentinel/log"; exit 1; }
  ssta
  echo "SENTINEL_PING $(scli PING)"
  # an anonymous client may not re-point, drop or add a master (nor anything else)
  echo "SENTINEL_ANON PING $(anon PING)"
  echo "SENTINEL_ANON SET $(anon SENTINEL SET "$MNAME" down-after-milliseconds 1)"
  echo "SENTINEL_ANON REMOVE $(anon SENTINEL REMOVE "$MNAME")"
  echo "SENTINEL_ANON MONITOR $(anon SENTINEL MONITOR mhc-evil 127.0.0.1 1 1)"
  echo "SENTINEL_ANON GETMASTER $(anon SENTINEL get-master-addr-by-name "$MNAME")"
  echo "SENTINEL_WRONG $(REDISCLI_AUTH="x$SAUTH" redis-cli --no-auth-warning -h "$ip" -p $sp PING 2>&1 | head -c 9)"
  echo "SENTINEL_MASTER $(scli SENTINEL get-master-addr-by-name "$MNAME" | tr '\\n' ' ')"
  echo "SENTINEL_DOWN_AFTER $(scli SENTINEL master "$MNAME" | awk '$0 == "down-after-milliseconds" {getline; print}')"
  # with the credential: the same commands work
  echo "SENTINEL_AUTH SET $(scli SENTINEL SET "$MNAME" down-after-milliseconds "$(scli SENTINEL master "$MNAME" | awk '$0 == "down-after-milliseconds" {getline; print}')")"
  echo "SENTINEL_AUTH MONITOR $(scli SENTINEL MONITOR mhc-probe 127.0.0.1 1 1)"
  echo "SENTINEL_AUTH REMOVE $(scli SENTINEL REMOVE mhc-probe)"
  # SSET "OPTION=VALUE …": what mhc changes by SENTINEL SET (each read back from SENTINEL MASTER);
  # SNOSET: what it restarts Sentinel for
  for kv in $SSET; do echo "SENTINEL_SET \${kv%%=*} $(scli SENTINEL SET "$MNAME" "\${kv%%=*}" "\${kv#*=}") $(scli SENTINEL master "$MNAME" | awk -v o="\${kv%%=*}" 'f { print; exit } $0 == o { f = 1 }')"; done
  for kv in $SNOSET; do echo "SENTINEL_NOSET \${kv%%=*} $(scli SENTINEL SET "$MNAME" "\${kv%%=*}" "\${kv#*=}" 2>&1 | head -c 3)"; done
  if [[ $masterlocal == 1 ]]; then
    for _ in $(seq 50); do cli -p "$1" CLIENT LIST | grep -q 'user=mhc-sentinel' && break; sleep 0.1; done
    echo "SENTINEL_LOGIN $(cli -p "$1" CLIENT LIST | grep -c 'user=mhc-sentinel')"
  fi
  echo "SENTINEL_FLUSH $(scli SENTINEL FLUSHCONFIG)"
  echo "SENTINEL_MODE $(stat -c %a /etc/redis/sentinel-mhc.conf) $(grep -c '^requirepass' /etc/redis/sentinel-mhc.conf)"
  scli SHUTDOWN >/dev/null 2>&1 || true
  for _ in $(seq 50); do [[ -e $work/sentinel/pid ]] || break; sleep 0.1; done
  ssta
  echo "SENTINEL_RESTARTED $(scli PING) $(grep -c 'auth-pass' /etc/redis/sentinel-mhc.conf) $(anon PING)"
fi
echo DONE
`;

/** bash for the multi-node scripts below: a bridge, and netns_add N IP: node N's network namespace, IP on its eth0, a veth into the bridge. */
const NETNS = `ip link add br0 type bridge; ip link set br0 up
mkdir -p /run/netns; mount -t tmpfs tmpfs /run/netns
netns_add() {
  ip netns add "n$1"
  ip link add "v$1" type veth peer name eth0 netns "n$1"
  ip link set "v$1" master br0 up
  ip -n "n$1" link set lo up; ip -n "n$1" link set eth0 up
  ip -n "n$1" addr add "$2/32" dev eth0; ip -n "n$1" route add default dev eth0
}`;
// Several nodes: one network namespace each (address on eth0, a veth into a bridge), and each
// daemon sees its own node's files at /etc/redis (a bind mount in the daemon's mount namespace).
const LIVE = `# rlive.sh MODE WORK NODE_ETC NODE_IP ...   env: PW, SAUTH (Sentinel's credential), PORT, SPORT, MNAME   (MODE: sentinel|cluster)
set -Eeuo pipefail
mode=$1 work=$2; shift 2
${NETNS}
etcs=(); ips=(); n=0
while (($#)); do
  n=$((n+1)); etcs[n]=$1; ips[n]=$2; shift 2
  netns_add "$n" "\${ips[n]}"
done
# in node i's network and with its /etc/redis
on() { local i=$1; shift; ip netns exec "n$i" sh -c 'mount --bind "$0" /etc/redis && exec "$@"' "\${etcs[i]}" "$@"; }
cli() { local i=$1; shift; ip netns exec "n$i" env REDISCLI_AUTH="$PW" redis-cli --no-auth-warning -h "\${ips[i]}" "$@"; }
scli() { local i=$1; shift; ip netns exec "n$i" env REDISCLI_AUTH="$SAUTH" redis-cli --no-auth-warning -h "\${ips[i]}" -p "$SPORT" "$@"; }
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
  # the Sentinels log in to each other (sentinel-pass): each one's pings to every other are answered
  # (2 s after they met, so that a refused login shows: last-ok-ping-reply counts from first contact)
  sleep 2
  peers_ok() { scli "$1" SENTINEL sentinels "$MNAME" | awk 'NR%2==1 {k=$0; next} k=="flags" && $0!="sentinel" {bad=1} k=="last-ok-ping-reply" && $0+0>1200 {bad=1} END {exit bad}'; }
  for ((i=1; i<=n; i++)); do until_ 150 peers_ok "$i"; echo "SENTINEL_PEERS n$i ok"; done
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

const judged = Object.fromEntries(TARGET_OSES.map((os) => [os, 0])) as Record<TargetOs, number>;
afterAll(() => console.log(`redis-server judged instances: ${JSON.stringify(judged)}`));
// the other targets' daemons: their cached root, built (minutes, once, under a lock) when missing
beforeAll(() => void TARGET_OSES.forEach((os) => daemonRoot(os)), ROOT_BUILD_MS);

describe("each setting's rule (REDIS_SETTINGS) says dynamic exactly when redis-server takes CONFIG SET for it", () => {
  it('a real redis-server (no TCP: a unix socket) answers CONFIG SET of its own value for every key mhc writes', () => {
    const d = join(dir, 'config-set');
    mkdirSync(d, { recursive: true });
    // each key: CONFIG GET, then CONFIG SET of the same value (changes nothing); OK or the refusal
    const script = String.raw`set -u
d=$1; shift
redis-server --port 0 --unixsocket "$d/s.sock" --dir "$d" --save '' --daemonize yes --pidfile "$d/redis.pid" --logfile "$d/redis.log" >/dev/null
for _ in $(seq 50); do redis-cli -s "$d/s.sock" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
for k in "$@"; do
  v=$(redis-cli -s "$d/s.sock" --raw CONFIG GET "$k" | sed -n 2p)
  printf 'SET %s %s\n' "$k" "$(redis-cli -s "$d/s.sock" CONFIG SET "$k" "$v" 2>&1 | tr '\n' ' ')"
done
redis-cli -s "$d/s.sock" shutdown nosave >/dev/null 2>&1 || true`;
    const keys = Object.keys(REDIS_SETTINGS);
    const r = run('unshare', ['--net', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc', 'bash', '-c', script, 'config-set', d, ...keys], { timeoutMs: 30000 });
    expect(r.status, r.stderr).toBe(0);
    const answers = new Map(
      r.stdout
        .split('\n')
        .filter((l) => l.startsWith('SET '))
        .map((l) => [l.split(' ')[1]!, l.split(' ').slice(2).join(' ')]),
    );
    expect([...answers.keys()].sort()).toEqual([...keys].sort());
    for (const k of keys) {
      const a = answers.get(k)!;
      if (REDIS_SETTINGS[k]!.dynamic) expect(a.trim(), k).toBe('OK');
      else expect(a, k).toMatch(/can't set (immutable|protected) config/);
    }
  });
});

describe('redis-server and Sentinel accept every generated file', () => {
  // every example for every target, run by that release's redis-server
  for (const [ex, os] of EXAMPLE_FILES.flatMap((e) => TARGET_OSES.map((os) => [e, os] as const))) {
    const text = withTarget(readFileSync(join(EXAMPLES, ex), 'utf8'), os);
    if (!compileText(text).model.redis) continue;
    it(`${ex} [${os}]: every node starts, answers AUTH, restarts from its rewritten files`, async () => {
      const { model, files, password, sentinelAuth } = build(text);
      const r = model.redis!;
      const sentinel = r.mode === 'sentinel';
      const runs = r.members.map(async (m, i) => {
        const etc = join(dir, os, ex, m.hostname, 'etc');
        const work = join(dir, os, ex, m.hostname, 'work');
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
            SAUTH: sentinelAuth,
            SPORT: String(r.sentinel.port),
            MNAME: r.sentinel.masterName,
            UMASK: unitUmask(files, model, m.hostname),
            SSET: sentinelSets(r).join(' '),
            SNOSET: Object.entries(SENTINEL_SETTINGS)
              .filter(([, s]) => !s.dynamic)
              .map(([k]) => `${k.replace(/^sentinel=/, '')}=1`)
              .join(' '),
          },
          60000,
          os,
        );
        return { m, i, ports, ...res };
      });
      for (const { m, i, ports, status, out } of await Promise.all(runs)) {
        expect(status, `${m.hostname}:\n${out}`).toBe(0);
        judged[os] += ports.length;
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
          // the rewritten run-time file now holds requirepass: private to its owner
          expect(lines(out, 'MODE')).toContain(`${p} 600 1`);
          expect(lines(out, 'RESTARTED')).toContain(`${p} PONG 1`);
          // Sentinel's ACL user logs in with the derived credential and may not do anything else
          if (sentinel) expect(lines(out, 'SENTINEL_USER')).toContain(`${p} PONG NOPERM`);
        }
        if (sentinel) {
          expect(sentinelAuth).toMatch(/^[0-9a-f]{64}$/);
          expect(sentinelAuth).not.toBe(sentinelCredential(password));
          expect(lines(out, 'SENTINEL_PING')).toEqual(['PONG']);
          // anonymous clients are refused everything; the master stays where it was
          expect(lines(out, 'SENTINEL_ANON')).toEqual(['PING NOAUTH', 'SET NOAUTH', 'REMOVE NOAUTH', 'MONITOR NOAUTH', 'GETMASTER NOAUTH']);
          expect(lines(out, 'SENTINEL_WRONG')).toEqual(['AUTH fail']);
          expect(lines(out, 'SENTINEL_MASTER')).toEqual([`${r.members[0]!.ip} ${r.port}`]);
          expect(lines(out, 'SENTINEL_DOWN_AFTER')).toEqual([String(r.sentinel.downAfterMs)]);
          expect(lines(out, 'SENTINEL_AUTH')).toEqual(['SET OK', 'MONITOR OK', 'REMOVE OK']);
          // each setting mhc changes live: SENTINEL SET takes it and SENTINEL MASTER reads it back; the others it refuses
          expect(lines(out, 'SENTINEL_SET')).toEqual(sentinelSets(r).map((kv) => `${kv.split('=')[0]} OK ${kv.split('=')[1]}`));
          expect(lines(out, 'SENTINEL_NOSET')).toEqual(
            Object.entries(SENTINEL_SETTINGS)
              .filter(([, s]) => !s.dynamic)
              .map(([k]) => `${k.replace(/^sentinel=/, '')} ERR`),
          );
          // on the master's node Sentinel reaches the instance: it logged in as mhc-sentinel
          if (i === 0) expect(Number(lines(out, 'SENTINEL_LOGIN')[0])).toBeGreaterThan(0);
          expect(lines(out, 'SENTINEL_FLUSH')).toEqual(['OK']);
          expect(lines(out, 'SENTINEL_MODE')).toEqual(['600 1']);
          // restarted from its rewritten file (requirepass, sentinel-pass, auth-pass unquoted): still refuses anonymous clients
          expect(lines(out, 'SENTINEL_RESTARTED')[0]).toMatch(/^PONG [1-9]\d* NOAUTH$/);
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
      const { model, files, password, sentinelAuth } = build(text);
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
          SAUTH: sentinelAuth,
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
        expect(lines(out, 'SENTINEL_PEERS')).toEqual(r.members.map((_, i) => `n${i + 1} ok`));
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

// Sentinel's password, end to end on one node that runs only Redis (so the health check checks
// exactly the instance and Sentinel): the real daemons from the generated files, then the
// generated check_all_services.sh and status_multihead.sh with the real redis-cli.
const LAB_YAML = `cluster:
  name: sentinel-lab
controllers:
  - { hostname: lab1, ip: 127.0.0.11, services: { redis: true } }
redis:
  mode: sentinel
  password: \${REDIS_PASSWORD}
  port: 16379
  sentinel: { port: 36379 }
`;
const LAB = `# rlab.sh BUNDLE ROOT WORK   env: UMASK, SAUTH
set -Eeuo pipefail
B=$1 R=$2 W=$3
ip link set lo up
ip addr add 127.0.0.11/32 dev lo
mount --bind "$R/etc/redis" /etc/redis
umask "$UMASK"
redis-server /etc/redis/redis-mhc.conf --dir "$W" --pidfile "$W/r.pid" --logfile "$W/r.log" --daemonize yes
redis-server /etc/redis/sentinel-mhc.conf --sentinel --dir "$W" --pidfile "$W/s.pid" --logfile "$W/s.log" --daemonize yes
for _ in $(seq 100); do [[ $(REDISCLI_AUTH="$SAUTH" redis-cli --no-auth-warning -h 127.0.0.11 -p 36379 PING 2>/dev/null) == PONG ]] && break; sleep 0.1; done
echo "ANON_MONITOR $(redis-cli -h 127.0.0.11 -p 36379 SENTINEL MONITOR mhc-evil 127.0.0.1 1 1 2>&1 | head -c 6)"
check() { rc=0; env -i PATH="$PATH" MHC_ROOT="$R" "$R/usr/local/sbin/check_all_services.sh" -v >"$W/$1.out" 2>&1 || rc=$?; echo "CHECK $1 $rc"; sed "s/^/CHECKOUT $1 /" "$W/$1.out"; }
status() { rc=0; MHC_ROOT="$R" "$B/bin/status_multihead.sh" --service redis --format json --no-color >"$W/$1.json" 2>"$W/$1.err" || rc=$?; echo "STATUS $1 $rc"; }
check good
status good
# a Sentinel credential that no longer matches: the check and the status probe say so
cp "$R/etc/redis/mhc/sentinel.conf" "$W/sentinel.conf.saved"
sed -i 's/^requirepass .*/requirepass "not-the-credential"/' "$R/etc/redis/mhc/sentinel.conf"
check wrong
status wrong
echo DONE
`;

describe('Sentinel requires its password; the generated health check and status probe use it', () => {
  it('one Redis-only node on loopback (private network namespace)', async () => {
    const { model, files, sentinelAuth } = build(LAB_YAML);
    const base = join(dir, 'lab');
    const bundle = join(base, 'bundle');
    const root = join(base, 'root');
    const work = join(base, 'work');
    mkdirSync(work, { recursive: true });
    for (const f of files.values()) {
      if (!f.path.startsWith('lab1/')) continue;
      const rel = f.path.slice('lab1/'.length);
      for (const [d, p] of [[bundle, rel], ...(f.dest ? [[root, f.dest.replace(/\.seed$/, '').slice(1)]] : [])] as [string, string][]) {
        mkdirSync(dirname(join(d, p)), { recursive: true });
        writeFileSync(join(d, p), f.content, { mode: f.mode });
      }
    }
    writeFileSync(join(dir, 'lab.sh'), LAB);
    const res = await inNamespaces(join(dir, 'lab.sh'), [bundle, root, work], { UMASK: unitUmask(files, model, 'lab1'), SAUTH: sentinelAuth }, 60000);
    expect(res.status, res.out).toBe(0);
    expect(res.out).toContain('DONE');
    const out = res.out;
    expect(lines(out, 'ANON_MONITOR')).toEqual(['NOAUTH']);
    expect(lines(out, 'CHECK')).toEqual(['good 0', 'wrong 1']);
    expect(lines(out, 'CHECKOUT')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^good ok +redis:16379 +127\.0\.0\.11:16379 answers PONG$/),
        expect.stringMatching(/^good ok +redis:sentinel:36379 +127\.0\.0\.11:36379 answers PONG$/),
        'good all 2 checks passed',
        expect.stringMatching(/^wrong check_all_services\.sh: FAILED redis:sentinel:36379: 127\.0\.0\.11:36379: no PONG: .*(WRONGPASS|invalid username-password)/),
      ]),
    );
    expect(lines(out, 'CHECKOUT').filter((l) => l.startsWith('wrong') && l.includes('FAILED'))).toHaveLength(1);
    const good = JSON.parse(readFileSync(join(work, 'good.json'), 'utf8'));
    expect(lines(out, 'STATUS')).toEqual(['good 0', 'wrong 1']);
    expect(good.details.redis).toMatchObject({ state: 'running', sentinel: 'up, master 127.0.0.11:16379' });
    const wrong = JSON.parse(readFileSync(join(work, 'wrong.json'), 'utf8'));
    expect(wrong.details.redis.state).toBe('degraded');
    expect(wrong.details.redis.sentinel).toMatch(/^down: .*(WRONGPASS|invalid username-password)/);
  }, 90000);
});

// rotate_secret.sh on three Redis-only nodes in Sentinel mode, against the real redis-server and
// redis-sentinel: one network namespace each (as live.sh), each node's daemons on the files its
// root holds (the bundle's, filled with the old values), the script run in the node's namespace
// with MHC_ROOT at that root, the real redis-cli, and stubs for what the nodes' systemd and ssh
// would do (stub-path.ts: ssh answers "done" for every peer's journal). First the Redis password,
// then Sentinel's own; after each, a failover (or a Sentinel restart) shows the new credentials
// are the ones in use.
const ROT_YAML = `cluster:
  name: rot-lab
controllers:
  - { hostname: r1, ip: 10.231.0.11, services: { redis: true } }
  - { hostname: r2, ip: 10.231.0.12, services: { redis: true } }
  - { hostname: r3, ip: 10.231.0.13, services: { redis: true } }
redis:
  mode: sentinel
  password: \${REDIS_PASSWORD}
  sentinel: { down_after_milliseconds: 2000, failover_timeout: 10000 }
`;
const ROT = `# rrot.sh WORK (ROOT IP BUNDLE)...   env: PW NPW (Redis), SPW NSPW (the Sentinel user's), SAUTH NSAUTH (Sentinel's own), PORT SPORT MNAME UMASK STUBS
set -Eeuo pipefail
work=$1; shift
${NETNS}
roots=(); ips=(); bundles=(); n=0
while (($#)); do
  n=$((n+1)); roots[n]=$1; ips[n]=$2; bundles[n]=$3; shift 3
  netns_add "$n" "\${ips[n]}"
done
umask "$UMASK"
on() { local i=$1; shift; ip netns exec "n$i" sh -c 'mount --bind "$0" /etc/redis && exec "$@"' "\${roots[i]}/etc/redis" "$@"; }
cli() { local i=$1 pw=$2; shift 2; ip netns exec "n$i" env REDISCLI_AUTH="$pw" redis-cli --no-auth-warning -h "\${ips[i]}" "$@" 2>&1; }
as_user() { local i=$1 pw=$2; shift 2; ip netns exec "n$i" redis-cli --no-auth-warning -h "\${ips[i]}" -p "$PORT" --user mhc-sentinel --pass "$pw" "$@" 2>&1; }
# pong CMD…: PONG when CMD's answer is PONG, else NO (a refused password: NOAUTH, WRONGPASS)
pong() { [[ $("$@" 2>/dev/null | tr -d '\r') == PONG ]] && echo PONG || echo NO; }
scli() { local i=$1 pw=$2; shift 2; cli "$i" "$pw" -p "$SPORT" "$@"; }
until_() { local t=$1; shift; for _ in $(seq "$t"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "TIMEOUT $*"; return 1; }
is() { [[ $("\${@:2}") == "$1" ]]; }
info() { cli "$1" "$2" -p "$PORT" INFO replication | tr -d '\\r' | sed -n "s/^$3://p"; }
start() { mkdir -p "$work/n$1"; on "$1" redis-server /etc/redis/redis-mhc.conf --dir "$work/n$1" --pidfile "$work/n$1/pid" --logfile "$work/n$1/log" --daemonize yes; until_ 100 is PONG cli "$1" "$2" -p "$PORT" PING; }
stop() { cli "$1" "$2" -p "$PORT" SHUTDOWN NOSAVE >/dev/null || true; until_ 50 test ! -e "$work/n$1/pid"; }
sstart() { mkdir -p "$work/s$1"; on "$1" redis-server /etc/redis/sentinel-mhc.conf --sentinel --dir "$work/s$1" --pidfile "$work/s$1/pid" --logfile "$work/s$1/log" --daemonize yes; until_ 100 is PONG scli "$1" "$2" PING; }
sfield() { scli "$1" "$2" SENTINEL master "$MNAME" | awk -v k="$3" 'NR%2==1 && $0==k {getline; print; exit}'; }
smaster() { scli "$1" "$2" SENTINEL get-master-addr-by-name "$MNAME" | head -1; }
peers_ok() { scli "$1" "$2" SENTINEL sentinels "$MNAME" | awk 'NR%2==1 {k=$0; next} k=="flags" && $0!="sentinel" {bad=1} k=="last-ok-ping-reply" && $0+0>1500 {bad=1} END {exit bad}'; }
k=0
rot() { local i=$1; shift; k=$((k+1)); ip netns exec "n$i" env PATH="$STUBS:$PATH" MHC_ROOT="\${roots[i]}" bash "\${bundles[i]}/bin/rotate_secret.sh" "$@" --auto-confirm --no-color >"$work/rot-$k.log" 2>&1 || { echo "ROT_FAIL n$i $*"; tail -n 30 "$work/rot-$k.log"; exit 1; }; echo "ROT n$i $* ok"; }
for ((i=1; i<=n; i++)); do start "$i" "$PW"; done
for ((i=2; i<=n; i++)); do until_ 100 is up info "$i" "$PW" master_link_status; done
for ((i=1; i<=n; i++)); do sstart "$i" "$SAUTH"; done
for ((i=1; i<=n; i++)); do until_ 150 is $((n-1)) sfield "$i" "$SAUTH" num-other-sentinels; until_ 150 is $((n-1)) sfield "$i" "$SAUTH" num-slaves; done
echo "READY"
# --- the Redis password
for ((i=1; i<=n; i++)); do rot "$i" REDIS_PASSWORD --secrets "\${roots[i]}/etc/mhc/secrets-a.env"; done
for ((i=1; i<=n; i++)); do echo "A_BOTH n$i $(pong cli "$i" "$PW" -p "$PORT" PING) $(pong cli "$i" "$NPW" -p "$PORT" PING) $(pong as_user "$i" "$SPW" PING) $(pong as_user "$i" "$NSPW" PING)"; done
rot 1 REDIS_PASSWORD --finish --secrets "\${roots[1]}/etc/mhc/secrets-a.env"
for ((i=1; i<=n; i++)); do echo "A_AFTER n$i $(pong cli "$i" "$NPW" -p "$PORT" PING) $(pong cli "$i" "$PW" -p "$PORT" PING) $(pong as_user "$i" "$NSPW" PING) $(pong as_user "$i" "$SPW" PING)"; done
for ((i=1; i<=n; i++)); do echo "A_SENTINEL n$i $(sfield "$i" "$SAUTH" flags) $(scli "$i" "$SAUTH" SENTINEL ckquorum "$MNAME" | head -c 3)"; done
for ((i=2; i<=n; i++)); do echo "A_LINK n$i $(info "$i" "$NPW" master_link_status)"; done
# a failover needs the new credentials everywhere (Sentinel's auth-pass, the replicas' masterauth)
stop 1 "$NPW"
moved() { [[ $(smaster "$1" "$SAUTH") != "\${ips[1]}" ]]; }
for ((i=1; i<=n; i++)); do until_ 150 moved "$i"; done
new=$(smaster 2 "$SAUTH")
m=0; for ((i=2; i<=n; i++)); do [[ \${ips[i]} == "$new" ]] && m=$i; done
echo "A_FAILOVER $(info "$m" "$NPW" role)"
for ((i=2; i<=n; i++)); do [[ $i == "$m" ]] || { until_ 150 is "$new" info "$i" "$NPW" master_host; until_ 100 is up info "$i" "$NPW" master_link_status; echo "A_FOLLOWS n$i $(info "$i" "$NPW" master_link_status)"; }; done
# the old master back from its run-time file: the new password only, a replica of the new master
start 1 "$NPW"
until_ 300 is "$new" info 1 "$NPW" master_host
until_ 100 is up info 1 "$NPW" master_link_status
echo "A_OLD_MASTER $(info 1 "$NPW" role) $(info 1 "$NPW" master_link_status) $(pong cli 1 "$PW" -p "$PORT" PING)"
# --- Sentinel's own password
for ((i=1; i<=n; i++)); do rot "$i" REDIS_SENTINEL_PASSWORD --secrets "\${roots[i]}/etc/mhc/secrets-b.env"; done
for ((i=1; i<=n; i++)); do echo "B_BOTH n$i $(pong scli "$i" "$SAUTH" PING) $(pong scli "$i" "$NSAUTH" PING)"; done
rot 1 REDIS_SENTINEL_PASSWORD --finish --secrets "\${roots[1]}/etc/mhc/secrets-b.env"
for ((i=1; i<=n; i++)); do echo "B_AFTER n$i $(pong scli "$i" "$NSAUTH" PING) $(pong scli "$i" "$SAUTH" PING)"; done
sleep 2
for ((i=1; i<=n; i++)); do until_ 100 peers_ok "$i" "$NSAUTH"; echo "B_PEERS n$i ok"; done
# every Sentinel restarts from the file it flushed: the new credential only, the others still its peers
for ((i=1; i<=n; i++)); do scli "$i" "$NSAUTH" SHUTDOWN >/dev/null || true; until_ 50 test ! -e "$work/s$i/pid"; sstart "$i" "$NSAUTH"; done
sleep 2
for ((i=1; i<=n; i++)); do until_ 100 peers_ok "$i" "$NSAUTH"; echo "B_RESTART n$i $(pong scli "$i" "$NSAUTH" PING) $(pong scli "$i" "$SAUTH" PING) master=$(smaster "$i" "$NSAUTH")"; done
echo DONE
`;

describe('rotate_secret.sh against the real redis-server and redis-sentinel (Sentinel mode, three nodes)', () => {
  it('the Redis password, then Sentinel’s: both valid between the steps, the old refused after, a failover and restarts on the new ones', async () => {
    const text = ROT_YAML;
    const { model, files, password, sentinelAuth } = build(text);
    const embed = embedFor(model);
    const plain = buildText(text);
    const r = model.redis!;
    const NPW = `n3w'"\\ $(x) #pw`;
    const NSP = 'new-sentinel-secret-2';
    const base = join(dir, 'rot');
    const stubs = fakeNode('rot', Object.fromEntries(Object.entries(STUBS).filter(([k]) => k !== 'redis-cli')));
    for (const m of r.members) stubs.set(`ssh/${m.ip}`, '');
    const args: string[] = [];
    for (const m of r.members) {
      const root = join(base, m.hostname, 'root');
      const bundle = join(base, m.hostname, 'bundle');
      writeBundle([...plain.values()], m.hostname, bundle);
      for (const f of files.values()) {
        if (!f.path.startsWith(`${m.hostname}/`) || !f.dest) continue;
        const p = join(root, f.dest.replace(/\.seed$/, ''));
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, f.content, { mode: f.mode });
      }
      const env = (over: Record<string, string>) =>
        `${Object.entries({ ...embed, ...over })
          .map(([k, v]) => `${k}=${v}`)
          .join('\n')}\n`;
      writeFileSync(join(root, 'etc/mhc/secrets-a.env'), env({ REDIS_PASSWORD: NPW }), { mode: 0o600 });
      writeFileSync(join(root, 'etc/mhc/secrets-b.env'), env({ REDIS_PASSWORD: NPW, REDIS_SENTINEL_PASSWORD: NSP }), { mode: 0o600 });
      args.push(root, m.ip, bundle);
    }
    const work = join(base, 'work');
    mkdirSync(work, { recursive: true });
    writeFileSync(join(dir, 'rot.sh'), ROT);
    const res = await inNamespaces(
      join(dir, 'rot.sh'),
      [work, ...args],
      {
        PW: password,
        NPW,
        SPW: sentinelCredential(password),
        NSPW: sentinelCredential(NPW),
        SAUTH: sentinelAuth,
        NSAUTH: sentinelCredential(NSP),
        PORT: String(r.port),
        SPORT: String(r.sentinel.port),
        MNAME: r.sentinel.masterName,
        UMASK: unitUmask(files, model, r.members[0]!.hostname),
        STUBS: stubs.bin,
        STUB_STATE: stubs.state,
        STUB_LOG: stubs.log,
      },
      150000,
    );
    const calls = readFileSync(stubs.log, 'utf8');
    stubs.cleanup();
    expect(res.status, res.out).toBe(0);
    expect(res.out).toContain('DONE');
    const out = res.out;
    const ns = r.members.map((_, i) => `n${i + 1}`);
    expect(lines(out, 'A_BOTH')).toEqual(ns.map((n) => `${n} PONG PONG PONG PONG`));
    expect(lines(out, 'A_AFTER')).toEqual(ns.map((n) => `${n} PONG NO PONG NO`));
    expect(lines(out, 'A_SENTINEL')).toEqual(ns.map((n) => `${n} master OK`));
    expect(lines(out, 'A_LINK')).toEqual(ns.slice(1).map((n) => `${n} up`));
    expect(lines(out, 'A_FAILOVER')).toEqual(['master']);
    expect(lines(out, 'A_FOLLOWS')).toHaveLength(r.members.length - 2);
    expect(lines(out, 'A_OLD_MASTER')).toEqual(['slave up NO']);
    expect(lines(out, 'B_BOTH')).toEqual(ns.map((n) => `${n} PONG PONG`));
    expect(lines(out, 'B_AFTER')).toEqual(ns.map((n) => `${n} PONG NO`));
    expect(lines(out, 'B_PEERS')).toEqual(ns.map((n) => `${n} ok`));
    expect(lines(out, 'B_RESTART')).toEqual(ns.map((n) => expect.stringMatching(new RegExp(`^${n} PONG NO master=10\\.231\\.0\\.1[23]$`))));
    // no new value in argv (the stubs' record), the scripts' output or their log
    const logs = [
      calls,
      ...readdirSync(work)
        .filter((f) => f.startsWith('rot-'))
        .map((f) => readFileSync(join(work, f), 'utf8')),
      ...r.members.map((m) => readFileSync(join(base, m.hostname, 'root/var/log/cluster_multihead_apply.log'), 'utf8')),
    ];
    for (const v of [NPW, NSP, sentinelCredential(NPW), sentinelCredential(NSP)]) for (const l of logs) expect(l).not.toContain(v);
  }, 180000);
});
