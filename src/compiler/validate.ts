// validate: plain data → typed Input, or diagnostics for every schema problem, each with its
// line:col. `x-*` keys are users' own notes and are removed first.
import type { z } from 'zod';
import { diag, type Diagnostic } from './diagnostics.js';
import { didYouMean } from './did-you-mean.js';
import { pathText } from './fold.js';
import type { Locator, Path } from './locate.js';
import { inputSchema, shapesAt, type Input } from './schema.js';
import type { Code } from './codes.js';

/**
 * Keys that act through an object's prototype chain (`__proto__` sets the prototype when
 * assigned; `constructor` and `prototype` name what every object inherits). No key of the input
 * schema has these names, and a variable of `environment:` may not have them either.
 */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The loaded data as zod reads it: `x-*` keys (users' own notes) removed, prototype keys refused
 * (E201) and removed, every mapping rebuilt without a prototype, so no key of the input can reach
 * Object.prototype or supply a value through it.
 */
export function prepare(v: unknown, path: Path, loc: Locator, ds: Diagnostic[]): unknown {
  if (Array.isArray(v)) return v.map((x, i) => prepare(x, [...path, i], loc, ds));
  if (v && typeof v === 'object') {
    const out = Object.create(null) as Record<string, unknown>;
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith('x-')) continue;
      if (PROTOTYPE_KEYS.has(k)) {
        ds.push(
          diag(
            'E201',
            `unknown key "${k}" in ${pathText(path) || 'the top level'}`,
            loc([...path, k], { at: 'key' }),
            `"${k}" is reserved: JavaScript objects give it a meaning of their own (no setting of mhc has this name)`,
          ),
        );
        continue;
      }
      out[k] = prepare(x, [...path, k], loc, ds);
    }
    return out;
  }
  return v;
}

/** The keys a mapping at `path` may have (for "did you mean"). */
function keysAt(path: Path): string[] {
  return [...new Set(shapesAt(path).flatMap((shape) => Object.keys(shape)))].filter((k) => k !== '$schema');
}

function valueAt(root: unknown, path: Path): unknown {
  return resolveAt(root, path).value;
}

/**
 * The value at `path` and the part of the path that exists in the data. A path may run past a
 * plain value when the schema rewrote it (`vip: 1.2.3.4` is read as `vip: {address: …}`);
 * then the plain value and its own path are returned.
 */
function resolveAt(root: unknown, path: Path): { value: unknown; path: Path } {
  let v: unknown = root;
  for (let i = 0; i < path.length; i++) {
    if (v === null || typeof v !== 'object') return i > 0 && v !== undefined ? { value: v, path: path.slice(0, i) } : { value: undefined, path };
    v = Object.hasOwn(v, path[i]!) ? (v as Record<string | number, unknown>)[path[i] as string] : undefined;
  }
  return { value: v, path };
}

function typeName(v: unknown): string {
  if (v === null) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the text ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return `${v}`;
  return typeof v;
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function toDiagnostic(issue: z.core.$ZodIssue, data: unknown, loc: Locator): Diagnostic[] {
  const path = issue.code === 'unrecognized_keys' ? (issue.path as Path) : resolveAt(data, issue.path as Path).path;
  const where = pathText(path) || 'the top level';
  switch (issue.code) {
    case 'unrecognized_keys': {
      return issue.keys.map((k) => {
        const known = keysAt(path);
        const guess = didYouMean(k, known);
        return diag(
          'E201',
          `unknown key "${k}" in ${where}`,
          loc([...path, k], { at: 'key' }),
          guess ? `did you mean "${guess}"?` : known.length ? `expected one of: ${known.join(', ')} (or an x-… key for your own notes)` : undefined,
        );
      });
    }
    case 'invalid_type': {
      const v = valueAt(data, path);
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (v === undefined) {
        const key = path[path.length - 1];
        return [diag('E204', `missing required key "${String(key)}" in ${pathText(path.slice(0, -1)) || 'the top level'}`, loc(path.slice(0, -1)))];
      }
      let hint: string | undefined;
      if (issue.expected === 'boolean' && typeof v === 'string' && /^(yes|no|on|off|y|n|true|false)$/i.test(v)) hint = 'write true or false (YAML 1.2 reads yes/no/on/off as text)';
      if (issue.expected === 'number' && typeof v === 'string' && /^\d+$/.test(v)) hint = 'remove the quotes';
      return [diag('E202', `${where} must be ${expected}, not ${typeName(v)}`, loc(path), hint)];
    }
    case 'too_small':
    case 'too_big': {
      const v = valueAt(data, path);
      const bound = issue.code === 'too_small' ? `at least ${issue.minimum}` : `at most ${issue.maximum}`;
      if (typeof v === 'string') return [diag('E203', `${where} must be ${issue.code === 'too_small' ? 'non-empty' : `${bound} characters long`}`, loc(path))];
      if (Array.isArray(v)) return [diag('E203', `${where} must have ${bound} entries`, loc(path))];
      return [diag('E203', `${where} is ${typeName(v).replace(/^the number /, '')}, but must be ${bound}`, loc(path))];
    }
    case 'invalid_value': {
      const v = valueAt(data, path);
      const opts = issue.values.map((x) => JSON.stringify(x));
      const guess = typeof v === 'string' ? didYouMean(v, issue.values.map(String)) : undefined;
      return [
        diag('E205', `${where} is ${typeName(v)}; expected ${opts.length === 1 ? opts[0] : `one of ${opts.join(', ')}`}`, loc(path), guess ? `did you mean ${JSON.stringify(guess)}?` : undefined),
      ];
    }
    case 'invalid_format': {
      const v = valueAt(data, path);
      return [diag('E205', `${where} is ${typeName(v)}; expected ${issue.message}`, loc(path))];
    }
    case 'invalid_union': {
      const v = valueAt(data, path);
      // report the branch that got furthest: the one with the deepest issue path
      const branches = issue.errors.filter((b) => b.length);
      if (branches.length) {
        const sameType = branches.find((b) => b.every((i) => i.code !== 'invalid_type' || i.path.length > 0));
        const chosen = sameType ?? branches[0]!;
        return chosen.flatMap((i) => toDiagnostic({ ...i, path: [...path, ...i.path] } as z.core.$ZodIssue, data, loc));
      }
      return [diag('E202', `${where} has the wrong type (${typeName(v)})`, loc(path))];
    }
    case 'custom': {
      const code = ((issue.params as { code?: Code } | undefined)?.code ?? 'E205') as Code;
      const v = valueAt(data, path);
      return [diag(code, `${where} ${typeof v === 'string' ? JSON.stringify(v) : typeName(v)}: ${issue.message}`, loc(path))];
    }
    default:
      return [diag('E205', `${where}: ${issue.message}`, loc(path))];
  }
}

export function validate(value: unknown, loc: Locator): { input?: Input; diagnostics: Diagnostic[] } {
  const refused: Diagnostic[] = [];
  const data = prepare(value, [], loc, refused);
  const r = inputSchema.safeParse(data);
  if (r.success && !refused.length) return { input: r.data, diagnostics: [] };
  const ds = [...refused, ...(r.success ? [] : r.error.issues.flatMap((i) => toDiagnostic(i, data, loc)))];
  // A misspelt required key shows up twice (unknown "hostnme", missing "hostname"): keep the
  // unknown-key error, which carries the did-you-mean hint.
  const suggested = new Set(ds.filter((d) => d.code === 'E201' && d.hint).map((d) => `${d.span?.start}|${/"([^"]+)"/.exec(d.hint!)?.[1]}`));
  return {
    diagnostics: ds.filter((d) => !(d.code === 'E204' && suggested.has(`${d.span?.start}|${/"([^"]+)"/.exec(d.message)?.[1]}`))),
  };
}
