// Daemon checks must fail, never skip, when a tool is missing (CI installs them all).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRoot } from '../deploy/rootfs.js';
import { targetFacts, type TargetOs } from '../../src/compiler/targets.js';

export function requireTool(name: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  if (r.status !== 0 || !p) throw new Error(`${name} is not installed: run scripts/setup-ci.sh (apt packages) first`);
  return p;
}

export const scratch = (tag: string): string => mkdtempSync(join(tmpdir(), `mhc-${tag}-`));

export function run(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 20000, env: opts.env ?? process.env });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export { execFileSync };

/** The Debian release this machine runs (scripts/setup-ci.sh installs its daemons). */
export const HOST_RELEASE = 'bookworm';

/**
 * The daemons the tests run for a release other than this machine's, as Debian packages: they
 * come from a root made by debootstrap (test/deploy/rootfs.ts, cached under /var/cache/mhc-deploy
 * and keyed by release and this list; built once, under a lock, a few minutes).
 */
export const DAEMON_PACKAGES = [
  'galera-4',
  'iproute2',
  'keepalived',
  'mariadb-backup',
  'mariadb-client',
  'mariadb-server',
  'munge',
  'nginx',
  'redis-server',
  'redis-tools',
  'slurm-client',
  'slurmctld',
  'slurmd',
  'slurmdbd',
  'systemd',
] as const;

/** How long a beforeAll may take to build a missing root (ensureRoot's own bound). */
export const ROOT_BUILD_MS = 1_600_000;

/** The root whose programs are this target's daemons: undefined for this machine's own release. */
export function daemonRoot(os: TargetOs, log: (s: string) => void = (s) => console.log(`[daemons] ${s}`)): string | undefined {
  const release = targetFacts(os).release;
  if (release === HOST_RELEASE) return undefined;
  return ensureRoot([...DAEMON_PACKAGES], log, release);
}

// Runs as: unshare --mount --propagation private bash ENTER ROOT DIR… -- ARGV…
// A private mount namespace in which ROOT, under a tmpfs overlay (writable, so a daemon may
// write /etc/hosts or /var/lib; the cached root itself is never written), gets /proc, /sys, /dev,
// an empty /run and /tmp, and the host directories DIR… at their own paths; then ARGV runs
// chrooted into it. Every mount lives and dies with the namespace (the tmpfs hides the host's
// /mnt in this namespace only).
const ENTER = String.raw`set -Eeuo pipefail
mount -t tmpfs tmpfs /mnt
mkdir /mnt/upper /mnt/work /mnt/root
mount -t overlay overlay -o "lowerdir=$1,upperdir=/mnt/upper,workdir=/mnt/work" /mnt/root
r=/mnt/root
shift
mount -t proc proc "$r/proc"
mount --rbind /sys "$r/sys"
mount --rbind /dev "$r/dev"
mount -t tmpfs -o mode=0755 tmpfs "$r/run"
mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
[[ -e $r/etc/hosts ]] || printf '127.0.0.1 localhost\n' >"$r/etc/hosts"
while (($#)) && [[ $1 != -- ]]; do
  mkdir -p -- "$r$1"
  mount --bind -- "$1" "$r$1"
  shift
done
shift
exec chroot "$r" "$@"
`;

/**
 * ARGV as the target's daemons run it: unchanged for this machine's release; else in a private
 * mount namespace, chrooted into the target's root, with the host directories `binds` (scratch
 * directories under /tmp) bound at their own paths. The one way the daemon tests run a program
 * "of release R".
 */
export function forTarget(os: TargetOs, argv: readonly string[], binds: readonly string[]): string[] {
  const root = daemonRoot(os);
  if (!root) return [...argv];
  return ['unshare', '--mount', '--propagation', 'private', 'bash', '-c', ENTER, 'enter', root, ...binds, '--', ...argv];
}

/** run() for the target's daemons (see forTarget). */
export function runFor(os: TargetOs, cmd: string, args: string[], binds: readonly string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {
  const [c, ...a] = forTarget(os, [cmd, ...args], binds);
  return run(c!, a, opts);
}
