// Manifests: every entry must be one mhc could have written — a path inside the bundle, a dest
// the node accepts and inside the directories mhc installs into, a plain octal mode, an owner
// and group of a daemon mhc configures. The node installs whatever its manifest.json lists as
// root, so a tampered manifest (files/../../x, /root/.ssh/authorized_keys, mode 4755) is code
// execution on every node it reaches.
import { checkDest, installRootProblem } from '../../compiler/node-rules.js';
import type { AuditContext, AuditRule, Finding } from '../audit.js';

/** The accounts mhc's files are owned by (user and group alike): see the emitters. */
export function knownOwners(ctx: AuditContext): Set<string> {
  return new Set(['root', 'redis', 'munge', 'mysql', ctx.model?.slurm?.slurmUser ?? 'slurm']);
}

/** Why a manifest `path` is not a file inside the bundle, or undefined. */
export function pathProblem(path: string): string | undefined {
  if (path.startsWith('/')) return 'it is an absolute path';
  const segs = path.split('/');
  if (segs.includes('..')) return 'it holds ".." (it may point outside the bundle)';
  if (segs.some((s) => s === '' || s === '.')) return 'it is not normalized (an empty or "." segment)';
  if (!/^[A-Za-z0-9._/@+-]+$/.test(path)) return 'it holds a character outside A-Z a-z 0-9 . _ / @ + -';
  if (!/^(bin|lib|files)\//.test(path)) return 'it is outside bin/, lib/ and files/';
  return undefined;
}

const WHY_TAMPER =
  'start_multihead.sh installs every entry of manifest.json as root: an entry mhc did not write can place a file anywhere on the node (an SSH key for root, a sudoers rule, a cron job) or copy one from outside the bundle';
const FIX = 'rebuild the tree from the reviewed YAML; find out who edited manifest.json';

export const manifest: AuditRule = {
  name: 'manifest',
  codes: ['A506', 'A507', 'A508', 'A509'],
  check(ctx) {
    const out: Finding[] = [];
    const side = ctx.side;
    if (!side) return out;
    const owners = knownOwners(ctx);
    for (const b of side.bundles.values()) {
      for (const e of b.manifest?.files ?? []) {
        const at = ctx.at(undefined, { node: b.name, path: 'manifest.json' });
        // --- A506: the path -----------------------------------------------------------------------
        const pp = pathProblem(e.path);
        if (pp) out.push(ctx.finding('A506', at, `manifest entry path ${JSON.stringify(e.path)}: ${pp}`, WHY_TAMPER, FIX));
        else if (!b.files.has(e.path))
          out.push(
            ctx.finding(
              'A506',
              at,
              `manifest entry path ${JSON.stringify(e.path)} names no file of the bundle`,
              'the node refuses a manifest listing a file the bundle lacks: nothing is installed on this node',
              FIX,
            ),
          );
        // --- A507: the dest -----------------------------------------------------------------------
        if (e.path.startsWith('files/') || e.dest !== undefined) {
          const dest = e.dest;
          let dp: string | undefined;
          if (dest === undefined) dp = 'a file under files/ has no dest';
          else dp = checkDest(dest) ?? installRootProblem(dest) ?? (dest !== e.path.slice('files'.length) ? `it is not the file's place under files/ (${e.path.slice('files'.length)})` : undefined);
          if (dp) out.push(ctx.finding('A507', at, `manifest dest ${JSON.stringify(dest ?? '')}: ${dp}`, WHY_TAMPER, FIX));
        }
        // --- A508: the mode -----------------------------------------------------------------------
        if (e.mode === undefined || !/^0[0-7]{3}$/.test(e.mode)) {
          const special = e.mode !== undefined && /^0?[1-7][0-7]{3}$/.test(e.mode);
          out.push(
            ctx.finding(
              'A508',
              at,
              `manifest mode ${JSON.stringify(e.mode ?? '')}: ${special ? 'a setuid, setgid or sticky bit' : 'not an octal mode 0NNN'}`,
              special
                ? 'a setuid or setgid file installed by root runs with raised privileges for whoever starts it'
                : 'the node refuses a manifest with a mode it cannot read: nothing is installed on this node',
              FIX,
            ),
          );
        } else if ((parseInt(e.mode, 8) & 0o002) !== 0) {
          out.push(ctx.finding('A508', at, `manifest mode ${e.mode} is world-writable`, 'any local user can change the installed file: a script or config that root or a daemon reads', FIX));
        }
        // --- A509: owner and group ------------------------------------------------------------------
        const bad = [e.owner, e.group].filter((x) => x === undefined || !owners.has(x));
        if (bad.length) {
          out.push(
            ctx.finding(
              'A509',
              at,
              `manifest owner ${e.owner ?? '(none)'}:${e.group ?? '(none)'}: ${[...new Set(bad.map((x) => x ?? '(none)'))].join(', ')} is not an account mhc installs files for (${[...owners].sort().join(', ')})`,
              'a file owned by another account can be changed by it; an unknown account may be one an attacker created',
              FIX,
            ),
          );
        }
      }
    }
    return out;
  },
};
