#!/usr/bin/env bash
# systemctl for test/daemons/backup-restore.test.ts: systemd is not PID 1 here, so this plays the
# service manager of the scratch daemons (backup-restore-lab.sh): is-active, stop and start of
# the units the generated scripts use. Every call is logged to run/systemctl.log. Other units are
# inactive; other verbs succeed and do nothing.
S=@S@ NS=@NS@
printf '%s\n' "$*" >>"$S/run/systemctl.log"
args=()
for a in "$@"; do [[ $a == --* ]] || args+=("$a"); done
verb=${args[0]:-} unit=${args[1]:-}
lab() { bash "$S/lab.sh" "$S" "$NS" "$@"; }
case "$verb $unit" in
  "is-active mariadb.service") lab mariadb-alive || exit 3 ;;
  "is-active redis-sentinel@mhc.service") lab sentinel-alive || exit 3 ;;
  "is-active redis-server@"*.service)
    n=${unit#redis-server@}
    lab redis-alive "${n%.service}" || exit 3
    ;;
  "is-active "*) exit 3 ;;
  "stop redis-server@"*.service)
    n=${unit#redis-server@}
    lab redis-stop "${n%.service}"
    ;;
  "start redis-server@"*.service)
    n=${unit#redis-server@}
    lab redis-start "${n%.service}"
    ;;
  *) exit 0 ;;
esac
