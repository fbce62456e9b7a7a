// What a node accepts from manifest.json. lib/common.sh (manifest_read) refuses a whole bundle
// whose manifest lists one file it does not accept; these patterns are that rule. They live here
// and reach the template through commonContext (templates/lifecycle/lib/common.sh.hbs), and build.ts
// applies them to every file of every bundle: the compiler never writes a bundle the node refuses.
// `mhc audit` applies the same rule, and mhc's own allowlist of install directories
// (INSTALL_ROOTS), to every manifest of a tree.
// Each pattern is a POSIX extended regular expression (bash `[[ =~ ]]`) that is also a JavaScript
// RegExp with the same meaning: anchors, bracket expressions, groups, `?`, `+`, `*`, `{n}` only.
import { modeString, type BundleFile } from './bundle.js';

/**
 * An installed file's absolute path: "/"-separated names of letters, digits, ".", "_", "@", "+" and
 * "-", each with a character other than "." and never two dots in a row. So no `..` anywhere, no
 * `.` or empty segment, no trailing "/".
 */
export const DEST_RE = '^(/(\\.?[A-Za-z0-9_@+-])+\\.?)+$';
/** A file's owner or group: a system user name as useradd takes it. */
export const OWNER_RE = '^[a-z_][a-z0-9_.-]*$';
/** A file's mode in the manifest: four octal digits, no setuid, setgid or sticky bit. */
export const MODE_RE = '^0[0-7]{3}$';

const destPattern = new RegExp(DEST_RE);
const owner = new RegExp(OWNER_RE);
const mode = new RegExp(MODE_RE);

/** Why the node would refuse the manifest entry of this file, or undefined (files without a dest are not installed). */
export function nodeRefusal(f: Pick<BundleFile, 'dest' | 'mode' | 'owner' | 'group'>): string | undefined {
  if (f.dest === undefined) return undefined;
  if (!destPattern.test(f.dest)) return `bad dest path: ${f.dest}`;
  if (!mode.test(modeString(f.mode))) return `bad mode ${modeString(f.mode)} for files${f.dest}`;
  if (!owner.test(f.owner) || !owner.test(f.group)) return `bad owner ${f.owner}:${f.group} for files${f.dest}`;
  return undefined;
}

/**
 * Why `dest` is not an install path the node accepts, or undefined: the node's rule (DEST_RE),
 * with a reason a reader of `mhc audit` can act on.
 */
export function checkDest(dest: string): string | undefined {
  if (
    dest.startsWith('/') &&
    dest.length > 1 &&
    dest
      .split('/')
      .slice(1)
      .some((s) => s === '' || s === '.')
  )
    return 'it is not normalized (an empty or "." segment, or a trailing "/")';
  if (!dest.startsWith('/')) return 'it is not an absolute path';
  if (dest.includes('..')) return 'it holds ".." (the node refuses it)';
  if (!destPattern.test(dest)) return 'it holds a character outside A-Z a-z 0-9 . _ / @ + - (the node refuses it)';
  return undefined;
}

/**
 * The directories mhc installs into, and nothing else: every emitter's files land below one of
 * them. Notably absent: /root, /home, /etc/sudoers*, /etc/cron*, /etc/passwd|shadow|group,
 * /etc/ld.so.*, /etc/profile.d, /etc/pam.d, /etc/ssh, /etc/systemd/system-generators, /usr/bin,
 * /usr/lib, /lib — a manifest pointing there is not mhc's.
 */
export const INSTALL_ROOTS: readonly string[] = [
  '/etc/keepalived/',
  '/etc/mhc/',
  '/etc/munge/',
  '/etc/mysql/mariadb.conf.d/',
  '/etc/nginx/sites-available/',
  '/etc/nginx/sites-enabled/',
  '/etc/redis/',
  '/etc/slurm/',
  '/etc/systemd/system/',
  '/usr/local/sbin/',
];

/** Why an (acceptable) dest lies outside what mhc installs, or undefined when it is inside. */
export function installRootProblem(dest: string): string | undefined {
  const root = INSTALL_ROOTS.find((r) => dest.startsWith(r));
  if (!root) return `it is outside every directory mhc installs into (${INSTALL_ROOTS.join(', ')})`;
  if (root === '/etc/systemd/system/') {
    // units, timers and drop-ins only: no *.wants/ links, no generators
    const rest = dest.slice(root.length);
    if (!/^[A-Za-z0-9@._-]+\.(service|timer|socket|mount)(\.d\/[A-Za-z0-9._-]+\.conf)?$/.test(rest))
      return 'under /etc/systemd/system mhc installs only units, timers and their drop-ins (NAME.service, NAME.service.d/FILE.conf)';
  }
  return undefined;
}

/** The patterns as lib/common.sh receives them. */
export const NODE_RULES = { destRe: DEST_RE, ownerRe: OWNER_RE, modeRe: MODE_RE } as const;
