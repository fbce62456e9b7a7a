// Where a bundle file may be installed on a node. `checkDest` is the rule the node itself applies
// to every manifest dest (manifest_read in templates/lifecycle/common.sh.hbs: "bad dest path"),
// plus normalization, which the node's pattern implies but does not state. `installRootProblem`
// is mhc's own allowlist: the directories its emitters write into (test/unit/dest-rule.test.ts
// builds every example and checks that every emitted dest falls inside it, and that every prefix
// is used). `mhc audit` applies both to every manifest of a tree. Pure.

/** The node's pattern for a dest (common.sh manifest_read). */
export const NODE_DEST = /^\/[A-Za-z0-9._/@+-]+$/;
/** The node's pattern for a manifest path of an installable file (common.sh manifest_read). */
export const NODE_PATH = /^files\/[A-Za-z0-9._/@+-]+$/;

/** Why `dest` is not an acceptable install path, or undefined when it is. */
export function checkDest(dest: string): string | undefined {
  if (!dest.startsWith('/')) return 'it is not an absolute path';
  if (!NODE_DEST.test(dest)) return 'it holds a character outside A-Z a-z 0-9 . _ / @ + - (the node refuses it)';
  if (dest.includes('..')) return 'it holds ".." (the node refuses it)';
  if (
    dest.endsWith('/') ||
    dest
      .split('/')
      .slice(1)
      .some((s) => s === '' || s === '.')
  )
    return 'it is not normalized (an empty or "." segment, or a trailing "/")';
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
