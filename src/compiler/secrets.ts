// Secrets by reference. Files carry placeholders; the node fills them from secrets.env.
// `mhc build --embed-secrets` fills them at build time instead. Pure: values and randomness
// are passed in by the CLI.
import { createHash } from 'node:crypto';
import { dqEscape } from './quote.js';
import type { SecretSpec } from './model.js';

/** How a value is written where the placeholder stands. */
export type SecretEncoding = 'raw' | 'dq' | 'slurm' | 'sentinel' | 'keepalived';

/**
 * `@@MHC_SECRET:NAME@@` (raw), `@@MHC_SECRET:NAME:dq@@` (inside a double-quoted string) or
 * `@@MHC_SECRET:NAME:slurm@@` (a whole Slurm config value, quotes included: slurmConfValue) or
 * `@@MHC_SECRET:NAME:sentinel@@` (not the value but a credential derived from it: sentinelCredential) or
 * `@@MHC_SECRET:NAME:keepalived@@` (a whole keepalived.conf word, quotes included: keepalivedConfValue).
 */
export const PLACEHOLDER = /@@MHC_SECRET:([A-Za-z_][A-Za-z0-9_]*)(?::(raw|dq|slurm|sentinel|keepalived))?@@/g;

export function placeholder(name: string, enc: SecretEncoding = 'raw'): string {
  return enc === 'raw' ? `@@MHC_SECRET:${name}@@` : `@@MHC_SECRET:${name}:${enc}@@`;
}

/** Secret names a text refers to, sorted and unique. */
export function secretsIn(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(PLACEHOLDER)) out.add(m[1]!);
  return [...out].sort();
}

/**
 * A value written after `Key=` in a Slurm config file (slurm.conf, slurmdbd.conf), as Slurm
 * 22.05's parser (src/common/parse_config.c) reads it back exactly, or undefined when it cannot.
 * The parser drops everything after an unescaped `#`, then removes every backslash and keeps the
 * character after it (so `\\` and `\#` are the only escapes), then takes the value as
 * `"[^"]*"` (may hold spaces, never a double quote) or as `[^[:space:]]+`. So: a value without
 * a double quote is written quoted; one with a double quote is written bare, which needs it to
 * have no whitespace and not to be wholly enclosed in double quotes (`"abc"` would lose them).
 * Checked against slurmdbd 22.05 reading StoragePass (test/daemons/slurm.test.ts).
 */
export function slurmConfValue(value: string): string | undefined {
  if (/[\u0000-\u001f\u007f]/.test(value)) return undefined;
  const escaped = value.replace(/\\/g, '\\\\').replace(/#/g, '\\#');
  if (!value.includes('"')) return `"${escaped}"`;
  if (/\s/.test(value) || /^"[^"]*"$/.test(value)) return undefined;
  return escaped;
}

/**
 * The password Redis Sentinel logs in with (ACL user mhc-sentinel), derived from the Redis
 * password: lowercase hex SHA-256 of `mhc-redis-sentinel:` + value (UTF-8). Sentinel's config
 * rewrite writes `sentinel auth-pass` unquoted (Redis 7.0), so a password with a space or a
 * quote would make sentinel.conf unreadable after the first rewrite; 64 hex digits survive it.
 * On the node: printf 'mhc-redis-sentinel:%s' "$value" | sha256sum | cut -c1-64
 */
export function sentinelCredential(value: string): string {
  return createHash('sha256').update(`mhc-redis-sentinel:${value}`, 'utf8').digest('hex');
}

/**
 * Why keepalived 2.2 cannot read `value` back exactly as the `auth_pass` word of keepalived.conf,
 * or undefined when it can. keepalived reads a line in three passes (lib/parser.c): decomment()
 * ends the line at `#` or `!` outside double quotes and skips a backslash together with the
 * character after it (so `\"` does not close a quote); then `${NAME}` and `$NAME ` are replaced
 * when NAME is defined, inside quotes too, and the predefined names all start with `_` (`${_HASH}`
 * becomes `#`, `${_PWD}` the config directory); then the words are split: a word starting with
 * `"` runs to the next `"`, backslashes kept, no escapes. So the value is written in double quotes
 * (spaces, `#`, `!`, `'`, `{`, `}` and lone backslashes are then taken literally) and cannot hold a
 * double quote, end in an odd number of backslashes (the last would escape the closing quote) or
 * contain `$_`/`${_`. auth_pass keeps at most 8 bytes (the VRRPv2 field). Checked with keepalived
 * 2.2.7's configuration dump (test/daemons/keepalived.test.ts).
 */
export function keepalivedAuthProblem(value: string): string | undefined {
  if (value.includes('"')) return 'keepalived.conf (auth_pass) cannot hold a double quote: its parser ends every word at one, escaped or not';
  if (/(?:^|[^\\])(?:\\\\)*\\$/.test(value)) return 'keepalived.conf (auth_pass) cannot hold a value ending in a backslash: it would escape the closing quote';
  if (/\$\{?_/.test(value)) return 'keepalived.conf (auth_pass) would replace "$_" or "${_": keepalived substitutes its predefined parameters (${_PWD}, ${_HASH}, …) even inside quotes';
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > 8) return `it is ${bytes} bytes long in UTF-8; keepalived auth_pass takes at most 8 bytes`;
  return undefined;
}

/** The `auth_pass` word of keepalived.conf (quotes included), or undefined: keepalivedAuthProblem. */
export function keepalivedConfValue(value: string): string | undefined {
  if (/[\u0000-\u001f\u007f]/.test(value) || keepalivedAuthProblem(value) !== undefined) return undefined;
  return `"${value}"`;
}

export function encode(value: string, enc: SecretEncoding): string {
  if (enc === 'sentinel') return sentinelCredential(value);
  if (enc === 'keepalived') {
    const v = keepalivedConfValue(value);
    if (v === undefined) throw new Error('a secret refused by refusal() reached encode(keepalived)');
    return v;
  }
  if (enc === 'slurm') {
    const v = slurmConfValue(value);
    if (v === undefined) throw new Error('a secret refused by refusal() reached encode(slurm)');
    return v;
  }
  return enc === 'dq' ? dqEscape(value) : value;
}

/** Replaces every placeholder with its encoded value (the function form keeps `$&` etc. literal). */
export function fill(text: string, values: ReadonlyMap<string, string>): string {
  return text.replace(PLACEHOLDER, (whole, name: string, enc: SecretEncoding | undefined) => {
    const v = values.get(name);
    return v === undefined ? whole : encode(v, enc ?? 'raw');
  });
}

export interface Resolution {
  readonly values: Map<string, string>;
  readonly missing: string[];
}

/** environment: values in the YAML first, then the process environment. */
export function resolve(names: readonly string[], literals: ReadonlyMap<string, string>, env: Readonly<Record<string, string | undefined>>): Resolution {
  const values = new Map<string, string>();
  const missing: string[] = [];
  for (const n of names) {
    // own properties only: `constructor`, `toString`, … of a plain object are not values
    const v = literals.get(n) ?? (Object.hasOwn(env, n) ? env[n] : undefined);
    if (v === undefined || v === '') missing.push(n);
    else values.set(n, v);
  }
  return { values, missing };
}

/** Why a value cannot be used for a secret, or undefined when it can. */
export function refusal(spec: SecretSpec, value: string): string | undefined {
  if (value === '') return 'it is empty';
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'it contains a control character (newline, tab, …)';
  if (spec.maxLength !== undefined && [...value].length > spec.maxLength) return `it is ${[...value].length} characters long; ${spec.purpose.split(';')[0]} takes at most ${spec.maxLength}`;
  if (spec.kind === 'binary' && !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return 'it must be base64 (it is decoded on the node)';
  if (spec.slurmConf && slurmConfValue(value) === undefined) {
    return 'slurmdbd.conf (StoragePass) cannot hold it: the Slurm parser takes a value with whitespace only inside double quotes, which it cannot escape; use no double quote together with whitespace, and do not enclose the whole value in double quotes';
  }
  if (spec.slurmConf && value.length > 1000) return 'it is longer than slurmdbd.conf (StoragePass) takes: lines are limited to 1024 characters';
  if (spec.keepalivedAuth) return keepalivedAuthProblem(value);
  return undefined;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh value for `spec` from the given random bytes source (unbiased: rejection sampling). */
export function generate(spec: SecretSpec, randomBytes: (n: number) => Uint8Array): string {
  if (spec.kind === 'binary') return Buffer.from(randomBytes(spec.length)).toString('base64');
  let out = '';
  while (out.length < spec.length) {
    for (const b of randomBytes(spec.length * 2)) {
      if (b < 248 && out.length < spec.length) out += ALPHABET[b % 62];
    }
  }
  return out;
}

/** secrets.env: NAME=value lines, read by lib/common.sh on the node (value = rest of the line). */
export function formatSecretsEnv(specs: readonly SecretSpec[], values: ReadonlyMap<string, string>): string {
  let out = '# secrets.env — generated by `mhc secrets init`. Keep it mode 0600; never commit it.\n';
  out += '# Format: NAME=value (everything after the first "=" is the value, taken literally).\n';
  for (const s of specs) {
    const v = values.get(s.name) ?? '';
    // one line per secret: a line break would add a NAME=value line of its own (refusal refuses it first)
    if (/[\r\n]/.test(v)) throw new Error(`a secret refused by refusal() reached secrets.env: ${s.name} holds a line break`);
    out += `\n# ${s.purpose}${s.maxLength ? ` (at most ${s.maxLength} characters)` : ''}\n`;
    out += `${s.name}=${v}\n`;
  }
  return out;
}

/** Reads secrets.env as the node does: NAME=value lines, value = the rest of the line, literally. */
export function parseSecretsEnv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.replace(/\r$/, ''));
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}
