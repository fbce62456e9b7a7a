// What a node accepts from manifest.json. lib/common.sh (manifest_read) refuses a whole bundle
// whose manifest lists one file it does not accept; these patterns are that rule. They live here
// and reach the template through commonContext (templates/lifecycle/common.sh.hbs), and build.ts
// applies them to every file of every bundle: the compiler never writes a bundle the node refuses.
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

const dest = new RegExp(DEST_RE);
const owner = new RegExp(OWNER_RE);
const mode = new RegExp(MODE_RE);

/** Why the node would refuse the manifest entry of this file, or undefined (files without a dest are not installed). */
export function nodeRefusal(f: Pick<BundleFile, 'dest' | 'mode' | 'owner' | 'group'>): string | undefined {
  if (f.dest === undefined) return undefined;
  if (!dest.test(f.dest)) return `bad dest path: ${f.dest}`;
  if (!mode.test(modeString(f.mode))) return `bad mode ${modeString(f.mode)} for files${f.dest}`;
  if (!owner.test(f.owner) || !owner.test(f.group)) return `bad owner ${f.owner}:${f.group} for files${f.dest}`;
  return undefined;
}

/** The patterns as lib/common.sh receives them. */
export const NODE_RULES = { destRe: DEST_RE, ownerRe: OWNER_RE, modeRe: MODE_RE } as const;
