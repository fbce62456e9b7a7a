// The pure core stays pure: only the modules below touch the filesystem, the environment
// (process.*, the locale), the clock or randomness. Everything else gets its inputs from them, so
// the same YAML builds the same bytes anywhere. The checker is test/purity-check.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fg from 'fast-glob';
import { describe, expect, it } from 'vitest';
import { checkPurity, findImpurities, formatImpurity } from '../purity-check.js';
import { ROOT } from '../helpers.js';

/** The impure modules, each with why. Keep it short: move an impurity to a caller here rather than add a file. */
const ALLOWED: Readonly<Record<string, string>> = {
  'src/cli.ts': 'the command line: stdout/stderr, process.env (SOURCE_DATE_EPOCH, --embed-secrets, NO_COLOR), the current directory, the random values of `mhc secrets init`',
  'src/main.ts': 'the entry point: process.argv and the exit status',
  'src/compiler/load.ts': 'reads the files the user names (readInput); parseSource beside it is pure',
  'src/compiler/write.ts': 'writes out/ atomically: the filesystem, umask and uid, random temporary names',
  'src/compiler/pack.ts': 'packs the tarballs with archiver; its Date is the fixed SOURCE_DATE_EPOCH mtime, not the clock',
  'src/review/tree-source.ts': "the review side's reader of built trees, tarballs and `git show REF:PATH` (the current directory, child_process)",
};

function sources(): Map<string, string> {
  const files = fg.sync('src/**/*.ts', { cwd: ROOT, onlyFiles: true });
  return new Map(files.map((f) => [f, readFileSync(join(ROOT, f), 'utf8')]));
}

describe('purity', () => {
  it('only the allowlisted modules touch the filesystem, the environment, the clock or randomness', () => {
    const files = sources();
    // a glob that finds nothing must not pass
    expect(files.size).toBeGreaterThan(50);
    expect(files.has('src/compiler/compile.ts') && files.has('src/emitters/slurm.ts') && files.has('src/generated/templates.ts')).toBe(true);
    const { violations, stale } = checkPurity(files, ALLOWED);
    expect(violations.map(formatImpurity).join('\n'), 'impure uses outside the allowlist of test/unit/purity.test.ts (move them to the caller: cli.ts, load, write or pack)').toBe('');
    expect(stale, 'allowlisted files that are pure now: drop them from ALLOWED').toEqual([]);
    expect(
      Object.keys(ALLOWED).filter((f) => !files.has(f)),
      'allowlisted files that do not exist',
    ).toEqual([]);
  });
});

describe('the purity checker', () => {
  // every line ending in `// impure` must be reported (at that line), no other line
  const SYNTHETIC = [
    "import { readFileSync } from 'node:fs'; // impure",
    "import * as fs2 from 'fs/promises'; // impure",
    "import 'node:child_process'; // impure",
    "export { tmpdir } from 'node:os'; // impure",
    "import os = require('os'); // impure",
    "import { createHash, randomBytes } from 'node:crypto'; // impure",
    "import { randomUUID as id } from 'crypto'; // impure",
    "import * as crypto2 from 'node:crypto'; // impure",
    "import { createHash as h2 } from 'node:crypto';",
    "import type { Stats } from 'node:fs';",
    "import { type Dirent } from 'node:fs';",
    "import { join } from 'node:path';",
    "import glob from 'fast-glob'; // impure",
    'export const home = process.env.HOME; // impure',
    "export const argv = process['argv']; // impure",
    'export const { cwd } = process; // impure',
    'export const now = Date.now(); // impure',
    'export const d = new Date(); // impure',
    'export const r = Math.random(); // impure',
    "export const r2 = Math['random'](); // impure",
    'export const t = performance.now(); // impure',
    'setTimeout(() => undefined, 1); // impure',
    'export const g = (globalThis as any).process; // impure',
    "export const m = await import('node:fs'); // impure",
    "export const c = require('child_process'); // impure",
    'export const u = crypto.randomUUID(); // impure',
    'export const meta = import.meta.url; // impure',
    "export const sorted = ['b', 'a'].sort((a, b) => a.localeCompare(b)); // impure",
    'export const big = (1234567).toLocaleString(); // impure',
    "export const fine = (1234567).toLocaleString('en-US');",
    "export const fineSort = ['b', 'a'].sort((a, b) => a.localeCompare(b, 'en'));",
    'export class Later extends Date {} // impure',
    'export let when: Date | undefined;',
    'export type P = typeof process;',
    "export type CP = typeof import('node:child_process');",
    'export interface I { Date: Date; process: string; random(): number }',
    'export const o = { process: 1, Date: 2, random: Math.floor(2.5) };',
    'export const p = o.process + o.Date;',
    "export const s = 'process.env.HOME, Date.now(), Math.random()';",
    '// process.env in a comment, new Date() too',
    'export function f(stdout: { write(s: string): void }) { stdout.write(String(createHash)); }',
  ];
  const text = SYNTHETIC.join('\n') + '\n';
  const expected = SYNTHETIC.flatMap((l, i) => (l.endsWith('// impure') ? [i + 1] : []));

  it('reports every impure line of a synthetic source, and no other', () => {
    const found = findImpurities('src/compiler/synthetic.ts', text);
    expect([...new Set(found.map((f) => f.line))].sort((a, b) => a - b)).toEqual(expected);
    // what it says names the use
    const at = (line: number) => found.filter((f) => f.line === line).map((f) => f.what);
    expect(at(1)).toEqual(["imports 'node:fs' (the filesystem)"]);
    expect(at(6)).toEqual(["imports randomBytes from 'node:crypto' (randomness)"]);
    expect(at(14)).toEqual(['process.env (the environment)']);
    expect(at(19)).toEqual(['Math.random (randomness)']);
  });

  it('names file:line:col of an impure use added to a pure module, unless the module is allowlisted', () => {
    const pure = readFileSync(join(ROOT, 'src', 'compiler', 'quote.ts'), 'utf8');
    const lines = pure.split('\n').length;
    const broken = new Map([['src/compiler/quote.ts', `${pure}export const home = () => process.env.HOME;\n`]]);
    expect(checkPurity(new Map([['src/compiler/quote.ts', pure]]), {}).violations).toEqual([]);
    const { violations } = checkPurity(broken, {});
    expect(violations.map(formatImpurity)).toEqual([`src/compiler/quote.ts:${lines}:27: process.env (the environment)`]);
    expect(checkPurity(broken, { 'src/compiler/quote.ts': 'test' })).toEqual({ violations: [], stale: [] });
    // an allowlisted module with nothing impure left is reported stale
    expect(checkPurity(new Map([['src/compiler/quote.ts', pure]]), { 'src/compiler/quote.ts': 'test' }).stale).toEqual(['src/compiler/quote.ts']);
  });
});
