// A fake node for the generated bash scripts: a scratch MHC_ROOT, stub commands first on PATH
// that record their argv and keep a little state (units active/enabled, Galera, Redis, gluster,
// mounts, VIP, packages) in a state directory OUTSIDE MHC_ROOT, so a test can hash the root tree
// and read the calls. Generic: the lifecycle tests and the operations tests may both use it.
// Nothing here ever opens a network connection: the TCP probe of lib/common.sh (timeout bash -c
// 'exec 3<>/dev/tcp/HOST/PORT') is answered by the `timeout` stub from $STUB_STATE/up/HOST:PORT.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync, lstatSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { BundleFile } from '../../src/compiler/bundle.js';

const PROLOGUE = `#!/bin/bash
# stub: records its argv (words separated by \\x1f, the call ended by \\x1e) and acts on $STUB_STATE
S=$STUB_STATE
# one record, one write(2): stubs running in parallel must not interleave their records
rec=\${0##*/}; for a in "$@"; do rec+=$'\\x1f'$a; done; printf '%s\\x1e\\n' "$rec" >>"$STUB_LOG"
`;

/** Stub bodies (bash), run after PROLOGUE. Each may read and change files under $S. */
export const STUBS: Record<string, string> = {
  systemctl: `
args=()
now=0 sig='' quiet=0
for a in "$@"; do
  case $a in
    --now) now=1 ;;
    --quiet | -q) quiet=1 ;;
    --signal=*) sig=\${a#*=} ;;
    -*) ;;
    *) args+=("$a") ;;
  esac
done
cmd=\${args[0]:-}
units=("\${args[@]:1}")
norm() { [[ $1 == *.* ]] && printf '%s' "$1" || printf '%s.service' "$1"; }
mkdir -p "$S/active" "$S/enabled"
rc=0
case $cmd in
  is-active)
    for u in "\${units[@]}"; do
      u=$(norm "$u")
      # $S/dies/UNIT: started fine, active for one query, then gone (a daemon that exits at once)
      if [[ -e $S/dies/$u && -e $S/active/$u ]]; then
        if [[ -e $S/died-once/$u ]]; then rm -f "$S/active/$u"; else mkdir -p "$S/died-once"; touch "$S/died-once/$u"; fi
      fi
      # as systemctl prints it (unless --quiet); $S/activating/UNIT: a Restart= waiting to fire
      state=inactive
      if [[ -e $S/active/$u ]]; then state=active; elif [[ -e $S/activating/$u ]]; then state=activating; fi
      ((quiet)) || echo "$state"
      [[ $state == active ]] || rc=3
    done ;;
  is-enabled) for u in "\${units[@]}"; do [[ -e $S/enabled/$(norm "$u") ]] || rc=1; done ;;
  start | restart)
    for u in "\${units[@]}"; do
      u=$(norm "$u")
      [[ ! -e $S/fail-start/$u ]] || { rc=1; continue; }
      touch "$S/active/$u"
      [[ $u != mariadb.service ]] || rm -f "$S/wsrep_status"
    done ;;
  stop)
    for u in "\${units[@]}"; do
      u=$(norm "$u")
      if [[ -e $S/hang-stop/$u ]]; then sleep 30; fi
      rm -f "$S/active/$u" "$S/activating/$u"
      # a transient timer (systemd-run) stopped before it fires: it never does
      [[ $u != *.timer || ! -e $S/timers/\${u%.timer}.pid ]] || kill "$(cat "$S/timers/\${u%.timer}.pid")" 2>/dev/null || true
      # a keepalived that stops gives the VIP up ($S/keepalived-keeps-vip: one killed hard does not)
      [[ $u != keepalived.service || -e $S/keepalived-keeps-vip ]] || rm -f "$S/vip"
    done ;;
  enable) for u in "\${units[@]}"; do u=$(norm "$u"); touch "$S/enabled/$u"; ((now)) && touch "$S/active/$u"; done ;;
  disable) for u in "\${units[@]}"; do u=$(norm "$u"); rm -f "$S/enabled/$u"; ((now)) && rm -f "$S/active/$u"; done ;;
  # $S/restarts/UNIT: Restart=on-failure: a kill leaves it waiting to start again
  kill) for u in "\${units[@]}"; do u=$(norm "$u"); rm -f "$S/active/$u" "$S/hang-stop/$u"; [[ ! -e $S/restarts/$u ]] || { mkdir -p "$S/activating"; touch "$S/activating/$u"; }; done ;;
  reload) for u in "\${units[@]}"; do [[ -e $S/active/$(norm "$u") ]] || rc=1; done ;;
  show)
    # show -p ActiveState --value UNIT (the one property the scripts read); $S/settles/UNIT: an
    # activating unit is active from the next query on (a start that finishes)
    u=$(norm "\${units[-1]}")
    if [[ -e $S/active/$u ]]; then
      echo active
    elif [[ -e $S/activating/$u ]]; then
      echo activating
      [[ ! -e $S/settles/$u ]] || { rm -f "$S/activating/$u"; touch "$S/active/$u"; }
    else
      echo inactive
    fi ;;
  daemon-reload | reset-failed) ;;
  *) rc=0 ;;
esac
exit $rc
`,
  timeout: `
# the TCP probe: answered from $S/up/HOST:PORT, never a real connection
for ((i = 1; i <= $#; i++)); do
  if [[ \${!i} == *'/dev/tcp/'* ]]; then
    j=$((i + 1)) k=$((i + 2))
    [[ -e $S/up/\${!j}:\${!k} ]]
    exit
  fi
done
exec /usr/bin/timeout "$@"
`,
  'dpkg-query': `
p=\${*: -1}
[[ -e $S/pkg-missing/$p ]] && exit 1
printf 'installed'
`,
  'apt-get': `
if [[ " $* " == *" install "* ]]; then for p in "$@"; do rm -f "$S/pkg-missing/$p"; done; fi
exit 0
`,
  mariadb: `
mkdir -p "$S"
active=0; [[ -e $S/active/mariadb.service ]] && active=1
q='' user=''
while (($#)); do
  case $1 in
    -e) q=$2; shift ;;
    -e*) q=\${1#-e} ;;
    -u) user=$2; shift ;;
  esac
  shift
done
# $S/dbpass/USER: the one password USER logs in with (MYSQL_PWD); an ALTER USER of USER lifts it
if [[ -n $user && -e $S/dbpass/$user ]]; then
  [[ \${MYSQL_PWD:-} == "$(cat "$S/dbpass/$user")" ]] || { echo "ERROR 1045 (28000): Access denied for user '$user'" >&2; exit 1; }
fi
if [[ -z $q ]]; then
  ((active)) || exit 1
  q=$(cat)
  printf '%s\\n' "$q" >>"$S/sql.log"
  alter_re="^ALTER USER '([^']+)'@"
  [[ ! $q =~ $alter_re ]] || rm -f "$S/dbpass/\${BASH_REMATCH[1]}"
  # a user's stored hash (mysql.global_priv)
  [[ $q != *JSON_EXISTS* ]] || { cat "$S/dbhash" 2>/dev/null || echo '*0123456789ABCDEF0123456789ABCDEF01234567'; exit 0; }
  # SET GLOBAL NAME = VALUE is kept in $S/vars/NAME, which SHOW GLOBAL VARIABLES LIKE 'NAME' reads
  # ($S/set-refused: a server that refuses every SET GLOBAL)
  set_re='^SET GLOBAL ([a-z_]+) = (.*)$' show_re="^SHOW GLOBAL VARIABLES LIKE '([a-z_]+)'"
  if [[ $q =~ $set_re ]]; then
    [[ ! -e $S/set-refused ]] || { echo "ERROR 1238 (HY000): Variable is a read only variable" >&2; exit 1; }
    v=\${BASH_REMATCH[2]}; q1="'"; [[ $v != "$q1"*"$q1" ]] || v=\${v:1:-1}
    mkdir -p "$S/vars"; printf '%s' "$v" >"$S/vars/\${BASH_REMATCH[1]}"
  elif [[ $q =~ $show_re ]]; then
    printf '%s\\t%s\\n' "\${BASH_REMATCH[1]}" "$(cat "$S/vars/\${BASH_REMATCH[1]}" 2>/dev/null)"
  fi
  exit 0
fi
((active)) || { echo "ERROR 2002 (HY000): Can't connect to local server" >&2; exit 1; }
case $q in
  *wsrep_cluster_status*) printf 'wsrep_cluster_status\\t%s\\n' "$(cat "$S/wsrep_status" 2>/dev/null || echo Primary)" ;;
  *wsrep_local_state_comment*) printf 'wsrep_local_state_comment\\t%s\\n' "$(cat "$S/wsrep_state" 2>/dev/null || echo Synced)" ;;
  *wsrep_cluster_size*) printf 'wsrep_cluster_size\\t3\\n' ;;
  *) ;;
esac
exit 0
`,
  galera_new_cluster: `
[[ ! -e $S/fail-start/mariadb.service ]] || exit 1
mkdir -p "$S/active"; touch "$S/active/mariadb.service"; rm -f "$S/wsrep_status"
echo bootstrap >>"$S/galera.log"
`,
  galera_recovery: `
[[ -e $S/recovered ]] || exit 1
echo "WSREP: Recovered position $(cat "$S/recovered")"
echo "--wsrep_start_position=$(cat "$S/recovered")"
`,
  ssh: `
# ssh [opts] user@host cmd…: answers from $S/ssh/HOST (the remote command's output), else unreachable
host=''
while (($#)); do
  case $1 in
    -o | -p | -i | -l) shift ;;
    -*) ;;
    *) host=\${1#*@}; break ;;
  esac
  shift
done
[[ -n $host && -e $S/ssh/$host ]] || { echo "ssh: connect to host $host: Connection timed out" >&2; exit 255; }
cat "$S/ssh/$host"
# the remote unmunge of a credential: $S/unmunge-fails, another key there
[[ " $* " != *unmunge* || ! -e $S/unmunge-fails ]] || { echo "unmunge: Error: Invalid credential" >&2; exit 1; }
`,
  gluster: `
mkdir -p "$S/gluster"
args=()
for a in "$@"; do [[ $a == --mode=* ]] || args+=("$a"); done
set -- "\${args[@]}"
case "$1 $2" in
  "pool list")
    printf 'UUID\\tHostname\\tState\\n'
    [[ -e $S/gluster/peers ]] && while read -r h; do printf '%s\\t%s\\tConnected \\n' "uuid-$h" "$h"; done <"$S/gluster/peers"
    printf 'uuid-self\\tlocalhost\\tConnected \\n' ;;
  "peer probe") echo "$3" >>"$S/gluster/peers"; echo "peer probe: success" ;;
  "peer detach") grep -vxF -- "$3" "$S/gluster/peers" >"$S/gluster/peers.new"; mv "$S/gluster/peers.new" "$S/gluster/peers"; echo "peer detach: success" ;;
  "volume info")
    [[ -e $S/gluster/volume ]] || { echo "Volume $3 does not exist" >&2; exit 1; }
    printf 'Volume Name: %s\\nStatus: %s\\n' "$3" "$(cat "$S/gluster/volume")"
    # $S/gluster/bricks: HOST:PATH a line (none listed when absent)
    [[ ! -e $S/gluster/bricks ]] || awk '{ printf "Brick%d: %s\\n", NR, $0 }' "$S/gluster/bricks"
    if [[ -d $S/gluster/options ]]; then echo 'Options Reconfigured:'; for f in "$S/gluster/options"/*; do [[ -e $f ]] && printf '%s: %s\\n' "\${f##*/}" "$(cat "$f")"; done; fi; : ;;
  "volume status")
    [[ $(cat "$S/gluster/volume" 2>/dev/null) == Started ]] || { echo "Volume $3 is not started" >&2; exit 1; }
    printf 'Status of volume: %s\\nGluster process TCP Port RDMA Port Online Pid\\n' "$3"
    # $S/gluster/bricks-online: how many of the three bricks are online (default all)
    on=$(cat "$S/gluster/bricks-online" 2>/dev/null || echo 3)
    for i in 1 2 3; do if ((i <= on)); then printf 'Brick h%s:/b 49152 0 Y 424%s\\n' "$i" "$i"; else printf 'Brick h%s:/b N/A N/A N N/A\\n' "$i"; fi; done ;;
  "volume create") echo Created >"$S/gluster/volume"; echo "volume create: $3: success" ;;
  # add-brick / remove-brick VOL replica N BRICK… [force]
  "volume add-brick") for b in "\${@:6}"; do [[ $b == force ]] || echo "$b" >>"$S/gluster/bricks"; done; echo "volume add-brick: success" ;;
  "volume remove-brick")
    for b in "\${@:6}"; do [[ $b == force ]] || { grep -vxF -- "$b" "$S/gluster/bricks" >"$S/gluster/bricks.new"; mv "$S/gluster/bricks.new" "$S/gluster/bricks"; }; done
    echo "volume remove-brick commit force: success" ;;
  "volume start") echo Started >"$S/gluster/volume"; echo "volume start: $3: success" ;;
  # options: $S/gluster/options/KEY holds the value set (gluster's default "(default)" otherwise)
  "volume set") mkdir -p "$S/gluster/options"; printf '%s' "$5" >"$S/gluster/options/$4"; echo "volume set: success" ;;
  "volume reset") rm -f "$S/gluster/options/$4"; echo "volume reset: success" ;;
  "volume get") printf 'Option                                  Value\n------                                  -----\n%-40s%s\n' "$4" "$(cat "$S/gluster/options/$4" 2>/dev/null || echo '(default)')" ;;
  # heal VOL info summary: $S/gluster/heal-pending entries on the first brick (default none)
  "volume heal") for i in 1 2 3; do printf 'Brick h%s:/b\nStatus: Connected\nTotal Number of entries: %s\n\n' "$i" "$( ((i == 1)) && cat "$S/gluster/heal-pending" 2>/dev/null || echo 0)"; done ;;
  *) ;;
esac
`,
  mountpoint: `
p=\${*: -1}
[[ -e $S/mounted ]] && grep -qxF -- "$p" "$S/mounted"
`,
  mount: `
p=\${*: -1}
[[ $p == /* && $p != "$MHC_ROOT"* ]] && p=$MHC_ROOT$p
echo "$p" >>"$S/mounted"
# like mount.glusterfs: a client process stays behind (with every fd the caller gave it)
[[ ! -e $S/mount-daemon ]] || { sleep 20 </dev/null >/dev/null 2>&1 & }
`,
  umount: `
p=\${*: -1}
[[ -e $S/mounted ]] && grep -vxF -- "$p" "$S/mounted" >"$S/mounted.new"; mv -f "$S/mounted.new" "$S/mounted" 2>/dev/null
exit 0
`,
  'redis-cli': `
mkdir -p "$S"
printf '%s\\n' "\${REDISCLI_AUTH-<unset>}" >>"$S/redis-auth"
h=127.0.0.1 p=6379 rest=() x=0
while (($#)); do
  case $1 in
    -h) h=$2; shift ;;
    -p) p=$2; shift ;;
    -x) x=1 ;;
    --no-auth-warning) ;;
    *) rest+=("$1") ;;
  esac
  shift
done
# -x: the last argument is stdin
((x == 0)) || rest+=("$(cat)")
case "\${rest[*]}" in
  # CONFIG SET KEY VALUE is kept in $S/redis-config/PORT/KEY, which CONFIG GET KEY reads
  "config set "*) mkdir -p "$S/redis-config/$p"; printf '%s' "\${rest[3]}" >"$S/redis-config/$p/\${rest[2]}"; echo "$p \${rest[2]}" >>"$S/redis-config-sets"; echo OK ;;
  "acl setuser "* | "config rewrite" | "sentinel config set "* | "sentinel flushconfig") echo "\${rest[*]}" | sed 's/ [>][^ ]*$/ >(a secret)/' >>"$S/redis-acl"; echo OK ;;
  "sentinel ckquorum "*) echo "OK 3 usable Sentinels. Quorum and failover authorization can be reached" ;;
  # SENTINEL SET MASTER OPTION VALUE is kept in $S/sentinel/MASTER/OPTION, which SENTINEL MASTER lists
  # ($S/sentinel-refused: a Sentinel that refuses it)
  "sentinel set "*)
    [[ ! -e $S/sentinel-refused ]] || { echo "ERR Invalid argument"; exit 0; }
    mkdir -p "$S/sentinel/\${rest[2]}"; printf '%s' "\${rest[4]}" >"$S/sentinel/\${rest[2]}/\${rest[3]}"; echo "\${rest[*]}" >>"$S/sentinel-sets"; echo OK ;;
  "sentinel master "*) printf 'name\n%s\n' "\${rest[2]}"; for f in "$S/sentinel/\${rest[2]}"/*; do [[ -e $f ]] && printf '%s\n%s\n' "\${f##*/}" "$(cat "$f")"; done; printf 'flags\nmaster\n' ;;
  "config get "*) printf '%s\\n%s\\n' "\${rest[2]}" "$(cat "$S/redis-config/$p/\${rest[2]}" 2>/dev/null)" ;;
  ping) [[ -e $S/redis-down/$h:$p ]] && exit 1; echo PONG ;;
  "cluster info")
    [[ -e $S/redis-down/$h:$p ]] && exit 1
    # $S/redis-info-H:P: that instance's own view (else: all ok once $S/redis-cluster exists)
    if [[ -e $S/redis-info-$h:$p ]]; then cat "$S/redis-info-$h:$p"
    elif [[ -e $S/redis-cluster ]]; then printf 'cluster_state:ok\r\ncluster_slots_ok:16384\r\n'
    else printf 'cluster_state:fail\r\ncluster_slots_ok:0\r\n'; fi
    # $S/redis-known: the instances already belong to a cluster of that many nodes
    [[ ! -e $S/redis-known ]] || echo "cluster_known_nodes:$(cat "$S/redis-known")" ;;
  "cluster myid") printf '%040d\\n' "$p" ;;
  # $S/redis-nodes-PORT: that instance's CLUSTER NODES; a failover makes it master, and with
  # $S/redis-force-works (else only TAKEOVER) the cluster ok
  "cluster nodes") cat "$S/redis-nodes-$p" 2>/dev/null ;;
  "cluster failover force" | "cluster failover takeover")
    echo "$p \${rest[2]}" >>"$S/redis-failovers"
    if [[ \${rest[2]} == takeover || -e $S/redis-force-works ]]; then touch "$S/redis-master-$p" "$S/redis-cluster"; fi
    echo OK ;;
  # a plain CLUSTER FAILOVER (coordinated, the master up) always works
  "cluster failover")
    echo "$h:$p failover" >>"$S/redis-failovers"
    rm -f "$S/redis-slave-$h:$p"
    echo OK ;;
  # role: master, unless $S/redis-slave-H:P or $S/redis-slave-PORT (until a failover there)
  role)
    if [[ -e $S/redis-master-$p ]]; then echo master
    elif [[ -e $S/redis-slave-$h:$p || -e $S/redis-slave-$p ]]; then printf 'slave\\n127.0.0.1\\n6379\\nconnected\\n100\\n'
    else echo master; fi ;;
  "--cluster create"*) touch "$S/redis-cluster" ;;
  save) echo OK ;;
  *) ;;
esac
`,
  sacctmgr: `
mkdir -p "$S"
# like sacctmgr: adding a cluster that exists says so and exits 1
if [[ " $* " == *" add cluster "* ]]; then
  if grep -qx -- "\${*: -1}" "$S/sacct-clusters" 2>/dev/null; then echo " This cluster \${*: -1} already exists.  Not adding."; exit 1; fi
  echo "\${*: -1}" >>"$S/sacct-clusters"; exit 0
fi
# $S/sacct-show-fails: "show cluster" times out (slurmdbd still starting)
if [[ " $* " == *" show cluster "* && -e $S/sacct-show-fails ]]; then exit 1; fi
if [[ " $* " == *" show cluster "* ]]; then cat "$S/sacct-clusters" 2>/dev/null; exit 0; fi
`,
  scontrol: `
# ping: $S/scontrol-ping when it exists (one line per slurmctld); [-o] show node N: the first line
# of $S/slurm-nodes/N ("NodeName=N State=MIXED"), dropped while others follow (the state moves on),
# unknown without the file; update NodeName=N State=DRAIN: $S/drained/N; show partition: each
# $S/partitions/P holds P's State (update PartitionName=P State=S sets it; every update in
# $S/partition-updates)
[[ $1 != -o ]] || shift
case $1 in
  ping) cat "$S/scontrol-ping" 2>/dev/null || echo "Slurmctld(primary) at x is UP" ;;
  show)
    if [[ $2 == partition ]]; then
      for f in "$S/partitions"/*; do [[ -e $f ]] && echo "PartitionName=\${f##*/} AllowGroups=ALL Default=NO State=$(cat "$f") TotalCPUs=8"; done
      exit 0
    fi
    f=$S/slurm-nodes/$3
    [[ $2 != node || -e $f ]] || { echo "Node $3 not found"; exit 1; }
    if [[ $2 == node ]]; then head -n 1 "$f"; (($(wc -l <"$f") <= 1)) || sed -i 1d "$f"; fi ;;
  update)
    [[ " $* " != *" State=DRAIN "* || $2 != NodeName=* ]] || { mkdir -p "$S/drained"; n=\${2#NodeName=}; touch "$S/drained/$n"; }
    if [[ $2 == PartitionName=* ]]; then echo "\${2#PartitionName=} \${3#State=}" >>"$S/partition-updates"; mkdir -p "$S/partitions"; printf '%s' "\${3#State=}" >"$S/partitions/\${2#PartitionName=}"; fi ;;
esac
exit 0
`,
  sdiag: `
# the agent queue: $S/agent-queue lines, one consumed per look (default 0)
if [[ -s $S/agent-queue ]]; then q=$(head -n 1 "$S/agent-queue"); sed -i 1d "$S/agent-queue"; else q=0; fi
printf '*******************************************************\nServer thread count:  3\nAgent queue size:     %s\nAgent count:          0\n' "$q"
`,
  ip: `
# ip -o addr show dev IFACE | ip addr add|del ADDR dev IFACE
if [[ " $* " == *" addr show "* ]]; then
  [[ -e $S/vip ]] && printf '2: %s    inet %s scope global secondary %s\\n' "\${*: -1}" "$(cat "$S/vip")" "\${*: -1}"
  exit 0
fi
if [[ " $* " == *" addr del "* ]]; then rm -f "$S/vip"; fi
exit 0
`,
  getent: `
if [[ $1 == passwd && -e $S/users/$2 ]]; then echo "$2:x:999:999::/nonexistent:/usr/sbin/nologin"; exit 0; fi
if [[ $1 == group && -e $S/users/$2 ]]; then echo "$2:x:999:"; exit 0; fi
exec /usr/bin/getent "$@"
`,
  useradd: `
mkdir -p "$S/users"; touch "$S/users/\${*: -1}"
`,
  openssl: `
out='' key=''
while (($#)); do
  case $1 in -out) out=$2; shift ;; -keyout) key=$2; shift ;; esac
  shift
done
[[ -n $out ]] && echo "-----BEGIN CERTIFICATE-----" >"$out"
[[ -n $key ]] && echo "-----BEGIN PRIVATE KEY-----" >"$key"
exit 0
`,
  // a transient timer: --on-active=SECS … -- CMD… runs CMD SECS later, detached (its output in
  // $S/timer-UNIT.log), as systemd would; $S/systemd-run-fails: it cannot
  'systemd-run': `
[[ ! -e $S/systemd-run-fails ]] || exit 1
secs=0 unit=run
while (($#)); do
  case $1 in
    --on-active=*) secs=\${1#*=} secs=\${secs%s} ;;
    --unit=*) unit=\${1#*=} ;;
    --) shift; break ;;
  esac
  shift
done
mkdir -p "$S/timers" "$S/active"; printf '%s\\n' "$secs" >"$S/timers/$unit"; touch "$S/active/$unit.timer"
# (systemd starts the unit: it inherits no descriptor of the caller, such as a lock's)
for fd in /proc/self/fd/*; do fd=\${fd##*/}; ((fd <= 2)) || eval "exec $fd>&-" 2>/dev/null; done
(sleep "$secs"; rm -f "$S/active/$unit.timer"; "$@") </dev/null >"$S/timer-$unit.log" 2>&1 &
echo $! >"$S/timers/$unit.pid"
exit 0
`,
  // munge -n: a credential; unmunge: $S/unmunge-fails: it cannot decode it (another key)
  munge: `echo "MUNGE:AwQFAAC0stub0credential=:"\n`,
  unmunge: `cat >/dev/null; [[ ! -e $S/unmunge-fails ]]\n`,
  // sinfo -h -N -o '%N %t': $S/sinfo's lines
  sinfo: `cat "$S/sinfo" 2>/dev/null; exit 0\n`,
  nginx: `exit 0\n`,
  // --config-test -f FILE: $S/keepalived-bad: the file is refused (as keepalived does: exit 5)
  keepalived: `[[ ! -e $S/keepalived-bad ]] || { echo "(\${*: -1}: Line 38) Unknown keyword 'vrrp_instanc'"; exit 5; }\n`,
};

/** One recorded call: the command and its words; line: the words joined by spaces. */
export interface Call {
  cmd: string;
  args: string[];
  line: string;
}

export interface FakeNode {
  /** scratch directory holding everything below */
  dir: string;
  /** MHC_ROOT */
  root: string;
  /** the stub directory (first on PATH) */
  bin: string;
  /** stub state, outside root */
  state: string;
  /** the calls log */
  log: string;
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** every recorded call so far */
  calls(): Call[];
  /** forgets the recorded calls */
  clearCalls(): void;
  /** writes a state file (relative to state) */
  set(path: string, content?: string): void;
  has(path: string): boolean;
  /** removes the scratch directory */
  cleanup(): void;
}

/** Mutating calls: what a healthy re-run and a dry run must never make. */
export function mutating(c: Call): boolean {
  const a = c.args;
  switch (c.cmd) {
    case 'systemctl':
      return ['start', 'restart', 'stop', 'enable', 'disable', 'reload', 'daemon-reload', 'kill'].includes(a.find((x) => !x.startsWith('-')) ?? '');
    case 'apt-get':
    case 'galera_new_cluster':
    case 'useradd':
    case 'openssl':
    case 'mount':
    case 'umount':
      return true;
    case 'gluster':
      return /(peer probe|volume (create|start|set|reset))/.test(c.line);
    case 'redis-cli':
      return /--cluster (create|add-node)| save$| flushall/.test(c.line);
    case 'sacctmgr':
      return / add /.test(c.line);
    case 'scontrol':
      return a[0] === 'reconfigure' || a[0] === 'update';
    case 'ip':
      return /addr (add|del)/.test(c.line);
    case 'mariadb':
      return !a.includes('-e') || a.some((x) => /FLUSH|CREATE|ALTER|GRANT|DROP/i.test(x));
    default:
      return false;
  }
}

/** Reads a calls log. */
export function readCalls(log: string): Call[] {
  return readFileSync(log, 'utf8')
    .split('\x1e\n')
    .filter(Boolean)
    .map((rec) => {
      const w = rec.split('\x1f');
      return { cmd: w[0]!, args: w.slice(1), line: w.join(' ') };
    });
}

export function fakeNode(tag: string, stubs: Record<string, string> = STUBS): FakeNode {
  const dir = mkdtempSync(join(tmpdir(), `mhc-${tag}-`));
  const root = join(dir, 'root');
  const bin = join(dir, 'stubs');
  const state = join(dir, 'state');
  const log = join(dir, 'calls.log');
  for (const d of [root, bin, state]) mkdirSync(d, { recursive: true });
  writeFileSync(log, '');
  for (const [name, body] of Object.entries(stubs)) {
    writeFileSync(join(bin, name), PROLOGUE + body, { mode: 0o755 });
    chmodSync(join(bin, name), 0o755);
  }
  return {
    dir,
    root,
    bin,
    state,
    log,
    env: (extra = {}) => ({
      PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      HOME: dir,
      LANG: 'C.UTF-8',
      TMPDIR: dir,
      MHC_ROOT: root,
      STUB_STATE: state,
      STUB_LOG: log,
      ...extra,
    }),
    calls: () => readCalls(log),
    clearCalls: () => writeFileSync(log, ''),
    set: (path, content = '') => {
      mkdirSync(dirname(join(state, path)), { recursive: true });
      writeFileSync(join(state, path), content);
    },
    has: (path) => existsSync(join(state, path)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Writes one bundle directory (files of `files` under `<bundle>/`) to `dest`, with their modes. */
export function writeBundle(files: ReadonlyMap<string, BundleFile> | readonly BundleFile[], bundle: string, dest: string): void {
  const list = Array.isArray(files) ? files : [...(files as ReadonlyMap<string, BundleFile>).values()];
  for (const f of list) {
    if (!f.path.startsWith(`${bundle}/`)) continue;
    const p = join(dest, f.path.slice(bundle.length + 1));
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, f.content, { mode: f.mode });
    chmodSync(p, f.mode);
  }
}

/** sha256 over every path, mode, owner and content under `dir` (symlinks by target), skipping `skip` (relative paths). */
export function treeHash(dir: string, skip: readonly string[] = []): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const rel = relative(dir, p);
      if (skip.includes(rel)) continue;
      const st = lstatSync(p);
      h.update(`${rel}\0${st.mode}\0${st.uid}:${st.gid}\0`);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) h.update(readFileSync(p));
    }
  };
  if (statSync(dir).isDirectory()) walk(dir);
  return h.digest('hex');
}

/** Runs a script with bash, bounded. */
export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv, opts: { input?: string; timeoutMs?: number } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8', env, input: opts.input ?? '', timeout: opts.timeoutMs ?? 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Lines that report an action as done ('[SUCCESS] … stopped', '[INFO] installed …'), in past tense or as a state reached. */
const DONE =
  /\b(installed|mounted|unmounted|joined|bootstrapped|built|started|stopped|killed|deleted|removed|restored|replayed|replaced|changed|completed|created|scheduled|taken|saved|up|running|finished)\b/i;
/** What a dry run may report although it did nothing: what it observed, never what it did. */
const OBSERVED = [
  /^\[INFO\] (Starting|Finished) at: /,
  /^\[SUCCESS\] snapshot \S+: \d+ files, every checksum verified$/,
  /^\[INFO\] packages: all \d+ installed$/,
  /^\[INFO\] Dry run: nothing was changed$/,
  /^\[INFO\] Dry run: printing the commands that would change the node; changing nothing$/,
  /^\[INFO\] a safety snapshot of the current state is taken first$/,
  /^\[INFO\] snapshot: \S+ \(\w+, taken \S+ on \S+\)$/,
];
/** Every [SUCCESS]/[INFO] line of a dry run that claims an action: it must say 'would' (or be an observation). */
export function claimsDone(out: string): string[] {
  return out
    .split('\n')
    .filter((l) => /^\[(SUCCESS|INFO)\] /.test(l))
    .filter((l) => DONE.test(l) && !/\bwould\b/i.test(l) && !OBSERVED.some((re) => re.test(l)));
}
