#!/usr/bin/env bash
# Installs the Debian packages the test suite judges generated files with (and the deploy
# lab builds and boots its Debian nodes with: debootstrap, systemd-nspawn; the daemon tests make
# the other target's daemons (Debian 13) with debootstrap too, once, in their beforeAll: a cached
# root under /var/cache/mhc-deploy, about 3.5 minutes and 700 MB; the report's browser test opens
# its pages with: chromium; the fan-out files are judged with, and the scale lab runs:
# clustershell, pdsh, genders, ansible-core, openssh-server). Idempotent.
# A missing tool makes the daemon tests fail (never skip), so CI runs this first.
set -Eeuo pipefail
pkgs=(nginx keepalived redis-server mariadb-server galera-4 mariadb-backup
      slurmctld slurmd slurmdbd slurm-client munge shellcheck bats iproute2
      openssl systemd curl procps gcc libc6-dev socat util-linux rsync
      debootstrap systemd-container chromium
      clustershell pdsh genders ansible-core openssh-server)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's postinst scripts may start daemons; the tests start their own on scratch ports.
for s in nginx keepalived redis-server mariadb munge slurmctld slurmd slurmdbd; do
  pkill -x "$s" 2>/dev/null || true
done
pkill -x mariadbd 2>/dev/null || true
echo "setup-ci: all packages present"
