#!/usr/bin/env bash
# backup-restore-lab.sh S NS CMD ARGS…: the scratch daemons of test/daemons/backup-restore.test.ts,
# all in the network namespace NS (created by `up`, deleted by `down`): one MariaDB (the node's
# generated 60-galera.cnf, bootstrapped as a one-node Galera cluster) and the node's Redis
# instances (+ Sentinel) from their installed files. S holds root/ (MHC_ROOT, the bundle's files
# installed as the start script installs them), run/ (pid files, logs, dbpw, redispw).
# Only scratch paths are overridden: datadir, socket, pid file, log, and Redis's include path
# (the installed run-time files include /etc/redis/mhc/…, which lives under root/ here).
# Every wait is bounded.
set -Eeuo pipefail
S=$1 NS=$2 cmd=$3
shift 3
R=$S/root
RUN=$S/run
MY=$S/mysqlrun
DBPW=$(cat "$RUN/dbpw" 2>/dev/null || true)
REDISPW=$(cat "$RUN/redispw" 2>/dev/null || true)
inns() { ip netns exec "$NS" "$@"; }
alive() { [[ -s $1 ]] && kill -0 "$(<"$1")" 2>/dev/null; }
dead() { ! alive "$1"; }
wait_until() {
  local i
  for ((i = 0; i < $1 * 5; i++)); do
    "${@:2}" && return 0
    sleep 0.2
  done
  return 1
}
sql_nopw() { inns mariadb --no-defaults --protocol=socket --socket="$R/run/mysqld/mysqld.sock" -uroot --batch --skip-column-names -e "$1"; }
sql() { MYSQL_PWD=$DBPW inns mariadb --no-defaults --protocol=socket --socket="$R/run/mysqld/mysqld.sock" -uroot --batch --skip-column-names -e "$1"; }
# the Redis instances of the node: NAME of each /etc/redis/redis-NAME.conf
instances() {
  local f
  for f in "$R"/etc/redis/redis-*.conf; do
    [[ -e $f ]] || continue
    f=${f##*/redis-}
    echo "${f%.conf}"
  done
}
port_of() { sed -n 's/^port //p' "$(sed -n 's/^include //p' "$R/etc/redis/redis-$1.conf" | sed "s#^/#$R/#")"; }
rcli_port() { REDISCLI_AUTH=$REDISPW inns redis-cli --no-auth-warning -h 127.0.0.1 -p "$1" "${@:2}"; }
redis_up() { [[ $(rcli_port "$(port_of "$1")" ping 2>/dev/null) == PONG ]]; }
redis_start() {
  local name=$1
  sed "s#^include /etc/#include $R/etc/#" "$R/etc/redis/redis-$name.conf" >"$RUN/redis-$name.run.conf"
  inns redis-server "$RUN/redis-$name.run.conf" --dir "$R/var/lib/redis" --pidfile "$RUN/redis-$name.pid" \
    --logfile "$RUN/redis-$name.log" --daemonize yes
  wait_until 20 alive "$RUN/redis-$name.pid"
  wait_until 30 redis_up "$name"
}
redis_stop() {
  alive "$RUN/redis-$1.pid" || return 0
  kill -TERM "$(<"$RUN/redis-$1.pid")"
  wait_until 30 dead "$RUN/redis-$1.pid"
}
# Sentinel requires its password: the credential in its static file's requirepass (plain hex)
sentinel_auth() { sed -n 's/^requirepass "\(.*\)"$/\1/p' "$R/etc/redis/mhc/sentinel.conf"; }
sentinel_up() { [[ $(REDISCLI_AUTH=$(sentinel_auth) inns redis-cli --no-auth-warning -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]; }
sentinel_start() {
  local conf=$R/etc/redis/sentinel-mhc.conf sport
  [[ -e $conf ]] || return 0
  sport=$(sed -n 's/^port //p' "$R/etc/redis/mhc/sentinel.conf")
  sed "s#^include /etc/#include $R/etc/#" "$conf" >"$RUN/sentinel.run.conf"
  mkdir -p "$RUN/sentinel"
  inns redis-server "$RUN/sentinel.run.conf" --sentinel --dir "$RUN/sentinel" --pidfile "$RUN/sentinel.pid" \
    --logfile "$RUN/sentinel.log" --daemonize yes
  wait_until 20 alive "$RUN/sentinel.pid"
  wait_until 20 sentinel_up "$sport"
}
sql_quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g")"; }

case $cmd in
  up) # up IP…: the node's addresses (on lo, inside NS only)
    ip netns add "$NS"
    inns ip link set lo up
    for ip in "$@"; do [[ $ip == 127.* ]] || inns ip addr add "$ip/32" dev lo; done
    mkdir -p "$RUN" "$S/mysql" "$MY" "$R/run/mysqld" "$R/var/lib/redis"
    chown mysql:mysql "$S/mysql" "$MY" "$R/run/mysqld"
    printf '!include %s\n[mysqld]\ndatadir = %s\nsocket = %s\npid-file = %s\nlog-error = %s\nuser = mysql\n' \
      "$R/etc/mysql/mariadb.conf.d/60-galera.cnf" "$S/mysql" "$R/run/mysqld/mysqld.sock" "$MY/mysqld.pid" "$MY/mysqld.err" >"$RUN/my.cnf"
    mariadb-install-db --defaults-file="$RUN/my.cnf" --wsrep-on=OFF >"$RUN/install-db.log" 2>&1
    inns setsid mariadbd --defaults-file="$RUN/my.cnf" --wsrep-new-cluster </dev/null >/dev/null 2>&1 &
    if ! wait_until 90 eval 'sql_nopw "select 1" >/dev/null 2>&1'; then
      tail -30 "$MY/mysqld.err" >&2
      exit 1
    fi
    # root logs in with the (awkward) password only: the scripts must hand it over intact
    sql_nopw "ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD($(sql_quote "$DBPW"))"
    for name in $(instances); do redis_start "$name"; done
    # cluster mode: this one node serves every slot, so its master takes writes
    first=$(instances | head -n1)
    if grep -q '^cluster-enabled yes' "$R/etc/redis/mhc/redis-$(port_of "$first").conf" 2>/dev/null; then
      rcli_port "$(port_of "$first")" cluster addslotsrange 0 16383 >/dev/null
      wait_until 30 eval '[[ $(rcli_port "$(port_of "$first")" cluster info | tr -d "\r" | sed -n "s/^cluster_state://p") == ok ]]'
    fi
    sentinel_start
    echo UP
    ;;
  sql) sql "$1" ;;
  rcli) rcli_port "$(port_of "$(instances | head -n1)")" "$@" ;;
  instances) instances ;;
  redis-start) redis_start "$1" ;;
  redis-stop) redis_stop "$1" ;;
  redis-alive) alive "$RUN/redis-$1.pid" ;;
  sentinel-alive) alive "$RUN/sentinel.pid" ;;
  mariadb-alive) alive "$MY/mysqld.pid" ;;
  down)
    pids=("$RUN"/redis-*.pid "$RUN/sentinel.pid" "$MY/mysqld.pid")
    for p in "${pids[@]}"; do
      if alive "$p"; then kill -TERM "$(<"$p")" || true; fi
    done
    for p in "${pids[@]}"; do
      wait_until 40 dead "$p" || kill -KILL "$(<"$p")" 2>/dev/null || true
    done
    ip netns del "$NS" 2>/dev/null || true
    ;;
  *)
    echo "backup-restore-lab.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
