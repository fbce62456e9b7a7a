// A Debian root file system made once by debootstrap (minbase, systemd, the packages asked for),
// cached under /var/cache/mhc-deploy/root-<key>, where <key> is the sha256 of the release, mirror,
// variant and package list: the deploy lab's nodes (any release: bookworm, trixie) and the daemon
// tests' trixie daemons (test/daemons/tools.ts) both come from here. A missing (or half-built) root is
// rebuilt; two runs never build at once (flock); a build goes to a temporary directory renamed
// into place when complete. The package list comes from the bundles' own data (packagesOf() of
// src/emitters/services.ts and computePackages() of src/emitters/slurm.ts) plus the base tools below.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { computePackages } from '../../src/emitters/slurm.js';
import { packagesOf } from '../../src/emitters/services.js';
import type { Model } from '../../src/compiler/model.js';

export const CACHE = process.env.MHC_DEPLOY_CACHE ?? '/var/cache/mhc-deploy';
/** The Debian release of the default target (debian12). */
export const RELEASE = 'bookworm';
export const MIRROR = process.env.MHC_DEPLOY_MIRROR ?? 'http://deb.debian.org/debian';
/** A Debian node as an operator gets it (sshd: the scripts' --all-nodes log in to the peers), plus what the lab's stand-ins need (busybox: the web apps' runtime). */
export const BASE_PACKAGES = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'iproute2',
  'iputils-ping',
  'procps',
  'rsync',
  'tar',
  'gzip',
  'curl',
  'ca-certificates',
  'openssh-client',
  'openssh-server',
  'busybox',
  'less',
];
const COMPLETE = '.mhc-root-complete';
/**
 * Part of the cache key: raised when what a root holds changes, so a machine that keeps
 * /var/cache/mhc-deploy between runs (a CI runner) builds a new root instead of reusing one made
 * by an older version of this file.
 */
const ROOT_FORMAT = 2;

/** Every package a node of this cluster needs (controllers and compute), sorted, unique. */
export function labPackages(model: Model): string[] {
  const set = new Set(BASE_PACKAGES);
  for (const c of model.controllers) for (const x of packagesOf(model, c)) set.add(x);
  if (model.computeNodes.length) for (const x of computePackages(model)) set.add(x);
  return [...set].sort();
}

export function rootKey(pkgs: readonly string[], release: string = RELEASE): string {
  return createHash('sha256')
    .update(JSON.stringify({ format: ROOT_FORMAT, release, mirror: MIRROR, variant: 'minbase', pkgs }))
    .digest('hex')
    .slice(0, 16);
}

/** The script that builds the root under a lock (bash, so the lock is a plain flock on a file). */
const BUILD = String.raw`set -Eeuo pipefail
cache=$1 final=$2 release=$3 mirror=$4 include=$5
mkdir -p -- "$cache"
exec 9>>"$cache/.lock"
flock -w 1800 9 || { echo "another build holds $cache/.lock" >&2; exit 1; }
if [[ -e $final/.mhc-root-complete ]]; then
  # a root is only ever a read-only lower layer: one written to after it was made (a file newer
  # than its marker: a chroot or a daemon run on it by hand) is no longer what debootstrap made
  touched=$(find "$final" -xdev -newer "$final/.mhc-root-complete" ! -path "$final/.mhc-root-complete" -print -quit 2>/dev/null || true)
  [[ -n $touched ]] || exit 0
  echo "the cached root $final was written to after it was made ($touched): building it again" >&2
fi
# what a killed build left (we hold the lock: nobody else builds): debootstrap's mounts first
awk -v c="$cache/.build." 'index($5, c) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do umount -l -- "$m"; done
rm -rf --one-file-system -- "$cache"/.build.* "$final"
tmp=$(mktemp -d "$cache/.build.XXXXXX")
debootstrap --variant=minbase --include="$include" "$release" "$tmp/root" "$mirror" >"$tmp/debootstrap.log" 2>&1 || {
  tail -n 40 "$tmp/debootstrap.log" >&2
  rm -rf -- "$tmp"
  exit 1
}
r=$tmp/root
# each container gets its own machine id at boot (an empty file: systemd makes a transient one)
: >"$r/etc/machine-id"
rm -f -- "$r/var/lib/dbus/machine-id"
apt-get -o RootDir="$r" clean 2>/dev/null || rm -rf -- "$r"/var/cache/apt/archives/*.deb
printf '%s\n' "$include" | tr ',' '\n' >"$r/.mhc-root-packages"
touch -- "$r/.mhc-root-complete"
mv -T -- "$r" "$final"
rm -rf -- "$tmp"
`;

/** Nothing in the root is newer than its completion marker (the build script's check, without the lock). */
function untouched(root: string): boolean {
  const r = spawnSync('find', [root, '-xdev', '-newer', join(root, COMPLETE), '!', '-path', join(root, COMPLETE), '-print', '-quit'], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 && r.stdout.trim() === '';
}

/** The cached root of this release for these packages: built (minutes) when missing. Returns its directory. */
export function ensureRoot(pkgs: readonly string[], log: (s: string) => void = () => {}, release: string = RELEASE): string {
  const final = join(CACHE, `root-${rootKey(pkgs, release)}`);
  if (existsSync(join(final, COMPLETE)) && untouched(final)) return final;
  log(`building the Debian ${release} root ${final} (${pkgs.length} packages; a few minutes, once)`);
  const r = spawnSync('bash', ['-c', BUILD, 'build-root', CACHE, final, release, MIRROR, pkgs.join(',')], {
    encoding: 'utf8',
    timeout: 1_500_000,
    killSignal: 'SIGKILL',
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0 || !existsSync(join(final, COMPLETE))) throw new Error(`building the root failed (exit ${r.status}):\n${r.stderr}`);
  return final;
}
