// The safe character sets for values that end up in shell scripts and config files.
// A value that fails one of these is rejected with its line:col; it is never emitted.
import { parseIPv4 } from './net.js';
import { OWNER_RE } from './node-rules.js';

const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** RFC 1123 host label (what `hostname` may be and what Slurm NodeName accepts). */
export const isHostname = (s: string): boolean => LABEL.test(s);

/** A DNS name: dot-separated RFC 1123 labels, at most 253 characters. */
export const isDomain = (s: string): boolean => s.length <= 253 && s.split('.').every((l) => LABEL.test(l));

export const isIPv4 = (s: string): boolean => parseIPv4(s) !== undefined;

/**
 * Names used in paths, unit names and config values (cluster, volume, partition, web service …):
 * no two dots in a row and no dot at the end, so that `<name>.env` or `<name>/` never holds `..`
 * (the node refuses such a path: node-rules.ts).
 */
export const isSafeName = (s: string): boolean => /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(s) && !s.includes('..') && !s.endsWith('.');

/** A system user that owns installed files (slurm_user): what the node accepts as an owner, at most 32 characters (useradd). */
export const isUserName = (s: string): boolean => s.length <= 32 && new RegExp(OWNER_RE).test(s);

/** A Linux network interface name: the kernel holds at most 15 bytes (IFNAMSIZ 16 with NUL). */
export const isInterfaceName = (s: string): boolean => /^[A-Za-z0-9][A-Za-z0-9._-]{0,14}$/.test(s);

/** Absolute path without shell metacharacters, `..`, `//` or a trailing slash. */
export const isCleanAbsPath = (s: string): boolean =>
  /^\/[A-Za-z0-9._\/-]*$/.test(s) && !s.split('/').some((seg) => seg === '..' || seg === '.') && !s.includes('//') && (s === '/' || !s.endsWith('/')) && s.length <= 4096;

/** `${NAME}` — the whole value is a reference to a secret. */
export const SECRET_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/**
 * Directories of the system, of mhc itself and of the daemons mhc runs. The scripts create a data
 * directory, give it to its service user with mode 0700 and, on a restore, move it aside and
 * remove it: a data path (backup_dir, state_save_location, brick_path, mount_point) may therefore
 * be none of these, nor an ancestor of one (`/usr` holds `/usr/bin`, `/` holds everything).
 */
export const SYSTEM_DIRS: readonly string[] = [
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/media',
  '/mnt',
  '/opt',
  '/opt/mhc',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/snap',
  '/srv',
  '/sys',
  '/tmp',
  '/usr',
  '/usr/bin',
  '/usr/games',
  '/usr/include',
  '/usr/lib',
  '/usr/lib32',
  '/usr/lib64',
  '/usr/libexec',
  '/usr/libx32',
  '/usr/local',
  '/usr/local/bin',
  '/usr/local/etc',
  '/usr/local/games',
  '/usr/local/include',
  '/usr/local/lib',
  '/usr/local/libexec',
  '/usr/local/man',
  '/usr/local/sbin',
  '/usr/local/share',
  '/usr/local/src',
  '/usr/sbin',
  '/usr/share',
  '/usr/src',
  '/var',
  '/var/backups',
  '/var/backups/mhc',
  '/var/cache',
  '/var/crash',
  '/var/lib',
  '/var/lib/glusterd',
  '/var/lib/mhc',
  '/var/lib/mhc-web',
  '/var/lib/munge',
  '/var/lib/mysql',
  '/var/lib/redis',
  '/var/local',
  '/var/lock',
  '/var/log',
  '/var/mail',
  '/var/opt',
  '/var/run',
  '/var/spool',
  '/var/spool/cron',
  '/var/tmp',
  '/var/www',
];

/**
 * Trees that hold no data directory at all: kernel file systems (/proc, /sys, /dev), ones emptied
 * at boot or by systemd-tmpfiles (/run, /tmp, /var/tmp), the boot partition, and configuration.
 */
export const NO_DATA_UNDER: readonly string[] = ['/boot', '/dev', '/etc', '/proc', '/run', '/sys', '/tmp', '/var/lock', '/var/run', '/var/tmp'];

/** Is `inner` equal to `outer` or inside it? Both clean absolute paths (isCleanAbsPath). */
export const within = (inner: string, outer: string): boolean => inner === outer || outer === '/' || inner.startsWith(`${outer}/`);

/**
 * Why a clean absolute path (isCleanAbsPath) cannot be a data directory, or undefined when it can.
 * Paths that are not clean are refused by isCleanAbsPath first (`//etc/`, `/etc/.`, `/var/../etc`
 * are never normalized into something else: they are refused as written).
 */
export function dataPathProblem(p: string): string | undefined {
  const why = 'mhc creates a data directory, gives it to its service user with mode 0700 and replaces it on a restore';
  if (p === '/') return `the root directory cannot be a data directory (${why})`;
  if (SYSTEM_DIRS.includes(p)) return `a system directory cannot be a data directory (${why})`;
  const under = NO_DATA_UNDER.find((d) => within(p, d));
  if (under) {
    const what =
      under === '/etc' ? 'configuration' : under === '/boot' ? 'the boot partition' : ['/proc', '/sys', '/dev'].includes(under) ? 'a kernel file system' : 'emptied at boot or by systemd-tmpfiles';
    return `a data directory cannot lie under ${under} (${what})`;
  }
  const inside = SYSTEM_DIRS.find((d) => d !== '/' && within(d, p));
  if (inside) return `it contains the system directory ${inside}; a data directory must be a directory of its own (${why})`;
  return undefined;
}
