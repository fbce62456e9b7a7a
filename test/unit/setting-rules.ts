// The checks every per-setting rule table (a descriptor's settings()) must pass, for the tests of
// the services that have one: every key its template writes has a rule and no rule is dead, the
// descriptor hands the table out for that file, and the file's own rule is the strictest of them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { CHANGE_ACTIONS, type ChangeAction, type ServiceDescriptor, type SettingRule } from '../../src/emitters/service.js';
import { ROOT } from '../helpers.js';

/** The keys of `template` (a path under templates/): the first group of `keyRe` on each line. */
export function templateKeys(template: string, keyRe: RegExp): Set<string> {
  const text = readFileSync(join(ROOT, 'templates', template), 'utf8');
  return new Set([...text.matchAll(keyRe)].map((m) => m[1]!));
}

export function expectSettingRules(d: ServiceDescriptor, dest: string, rules: Readonly<Record<string, SettingRule>>, keys: ReadonlySet<string>): void {
  expect(keys.size).toBeGreaterThan(10);
  expect(
    [...keys].filter((k) => !(k in rules)),
    'keys without a rule',
  ).toEqual([]);
  expect(
    Object.keys(rules).filter((k) => !keys.has(k)),
    'rules for keys mhc never writes',
  ).toEqual([]);
  expect(d.settings(dest)).toBe(rules);
  const rank = (a: ChangeAction) => CHANGE_ACTIONS.indexOf(a);
  expect(rank(d.change(dest).action)).toBe(Math.max(...Object.values(rules).map((r) => rank(r.action))));
}
