// The safe character sets for values that end up in shell scripts and config files.
// A value that fails one of these is rejected with its line:col; it is never emitted.
import { parseIPv4 } from './net.js';

const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** RFC 1123 host label (what `hostname` may be and what Slurm NodeName accepts). */
export const isHostname = (s: string): boolean => LABEL.test(s);

/** A DNS name: dot-separated RFC 1123 labels, at most 253 characters. */
export const isDomain = (s: string): boolean => s.length <= 253 && s.split('.').every((l) => LABEL.test(l));

export const isIPv4 = (s: string): boolean => parseIPv4(s) !== undefined;

/** Names used in paths, unit names and config values (cluster, volume, partition, user …). */
export const isSafeName = (s: string): boolean => /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(s);

/** A Linux network interface name: the kernel holds at most 15 bytes (IFNAMSIZ 16 with NUL). */
export const isInterfaceName = (s: string): boolean => /^[A-Za-z0-9][A-Za-z0-9._-]{0,14}$/.test(s);

/** Absolute path without shell metacharacters, `..`, `//` or a trailing slash. */
export const isCleanAbsPath = (s: string): boolean =>
  /^\/[A-Za-z0-9._\/-]*$/.test(s) && !s.split('/').some((seg) => seg === '..' || seg === '.') && !s.includes('//') && (s === '/' || !s.endsWith('/')) && s.length <= 4096;

/** `${NAME}` — the whole value is a reference to a secret. */
export const SECRET_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
