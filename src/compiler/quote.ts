// The one quoting module: every value that enters a bash script or a config file passes
// through one of these functions (or is validated to a safe character set by formats.ts).
// Each function is total and round-trips any printable string; hostile-string tests cover them.

const SHELL_SAFE = /^[A-Za-z0-9_\/.,:=@%+-]+$/;

/** A bash word that expands to exactly `s` (single-quoted unless it is plainly safe). */
export function shellQuote(s: string): string {
  if (s !== '' && SHELL_SAFE.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Always single-quoted, even when safe: for values that must read as one literal word. */
export function shellQuoteAlways(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Body of a double-quoted string in C-like config syntaxes (redis.conf, MariaDB option files,
 * systemd Environment=): backslash and double quote escaped. The caller adds the quotes.
 */
export function dqEscape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/** A complete double-quoted string for those syntaxes. */
export function dq(s: string): string {
  return `"${dqEscape(s)}"`;
}

/** Refuses control characters anywhere a value becomes one line of a config file. */
export function isOneLine(s: string): boolean {
  return !/[\u0000-\u001f\u007f]/.test(s);
}

/** A YAML single-quoted scalar holding exactly `s` (one line; a quote is doubled). */
export function yamlQuote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
