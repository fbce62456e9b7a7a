// The copy/paste scan behind test/unit/duplicates.test.ts: jscpd (a devDependency; since 5.x a
// self-contained binary, run offline) over TypeScript, shell scripts and the bash templates
// (templates/**/*.sh.hbs read as bash; the other templates are config files and are skipped).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { ROOT } from './helpers.js';

/** What is scanned, and how (the test and UPDATE_DUPLICATES=1 use the same). */
export const SCANNED = ['src', 'test', 'templates'];
export const MIN_LINES = 6;
const ARGS = [
  '--min-lines',
  String(MIN_LINES),
  '--format',
  'typescript,bash',
  // a template named x.sh.hbs is a bash script with {{…}} in it: bash's tokenizer reads it well
  '--formats-exts',
  'bash:sh,bash,hbs',
  '--pattern',
  // bash templates: x.sh.hbs, and the executables without an ending under sbin/ (mhc-keepalived-notify)
  '{**/*.{ts,sh,sh.hbs},**/sbin/*.hbs}',
  // .gitignore already keeps these out; explicit, so a scan of a copy without it is the same
  '--ignore',
  '**/node_modules/**,**/generated/**,**/artifacts/**,**/dist/**',
  '--reporters',
  'json',
  '--absolute',
  '--silent',
  '--no-tips',
  '--no-colors',
];

export interface Fragment {
  /** relative to the scanned root, '/'-separated */
  readonly file: string;
  readonly start: number;
  readonly end: number;
}

export interface Clone {
  readonly format: string;
  readonly lines: number;
  readonly a: Fragment;
  readonly b: Fragment;
  /** not among the fingerprints given to scan() */
  readonly isNew: boolean;
}

export interface Scan {
  readonly clones: readonly Clone[];
  /** files scanned, per format */
  readonly sources: Readonly<Record<string, number>>;
}

/** The committed budget: test/duplicates-budget.json. */
export interface Budget {
  readonly '//': string;
  readonly clones: number;
  /** jscpd's baseline fingerprints of the clones counted: the ones not among them are reported as new */
  readonly fingerprints: Readonly<Record<string, number>>;
}

export const BUDGET_FILE = join(ROOT, 'test', 'duplicates-budget.json');
export const BUDGET_HOWTO =
  'jscpd clones of at least 6 lines in src, test and templates/**/*.sh.hbs. The test fails when there are more than "clones". To lower it: factor a clone out (npx jscpd --min-lines 6 --format typescript,bash --formats-exts bash:sh,bash,hbs --pattern "**/*.{ts,sh,sh.hbs}" src test templates lists them), then UPDATE_DUPLICATES=1 npx vitest run test/unit/duplicates.test.ts rewrites this file; never raise it to let a new copy in.';

const jscpd = join(ROOT, 'node_modules', 'jscpd', 'run-jscpd.js');

/**
 * Runs jscpd over `paths` (relative to `root`). `fingerprints` mark the known clones (the others
 * are new); with `update`, the fingerprints of this scan are returned as well.
 */
export function scan(root: string, paths: readonly string[], fingerprints: Readonly<Record<string, number>> = {}, update = false): Scan & { fingerprints?: Record<string, number> } {
  const dir = mkdtempSync(join(tmpdir(), 'mhc-jscpd-'));
  try {
    const baseline = join(dir, 'baseline.json');
    writeFileSync(baseline, JSON.stringify({ version: 1, fingerprints }));
    const r = spawnSync(process.execPath, [jscpd, ...ARGS, '--output', dir, '--baseline', baseline, ...(update ? ['--update-baseline'] : []), ...paths], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (r.status !== 0) throw new Error(`jscpd failed (exit ${r.status}): ${r.stderr || r.stdout || r.error}`);
    const report = JSON.parse(readFileSync(join(dir, 'jscpd-report.json'), 'utf8')) as {
      duplicates: { format: string; lines: number; isNew?: boolean; firstFile: { name: string; start: number; end: number }; secondFile: { name: string; start: number; end: number } }[];
      statistics: { formats: Record<string, { sources: number }> };
    };
    const rel = (p: string) => (isAbsolute(p) ? relative(root, p) : p).split('\\').join('/');
    const frag = (f: { name: string; start: number; end: number }): Fragment => ({ file: rel(f.name), start: f.start, end: f.end });
    const clones = report.duplicates.map((d) => ({ format: d.format, lines: d.lines, a: frag(d.firstFile), b: frag(d.secondFile), isNew: !!d.isNew }));
    const sources = Object.fromEntries(Object.entries(report.statistics.formats).map(([k, v]) => [k, v.sources]));
    const out: Scan & { fingerprints?: Record<string, number> } = { clones, sources };
    if (update) out.fingerprints = (JSON.parse(readFileSync(baseline, 'utf8')) as { fingerprints: Record<string, number> }).fingerprints;
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const formatClone = (c: Clone): string => `${c.a.file}:${c.a.start}-${c.a.end} = ${c.b.file}:${c.b.start}-${c.b.end} (${c.lines} lines, ${c.format})`;

/** Why `s` breaks `budget` (more clones than it allows; the new ones listed), or undefined. */
export function overBudget(s: Scan, budget: Pick<Budget, 'clones'>): string | undefined {
  if (s.clones.length <= budget.clones) return undefined;
  const fresh = s.clones.filter((c) => c.isNew);
  // without new fingerprints (a budget lowered by hand), every clone is a suspect
  const listed = fresh.length ? fresh : s.clones;
  return [
    `${s.clones.length} duplicated blocks of ${MIN_LINES}+ lines, the budget (test/duplicates-budget.json) allows ${budget.clones}; ${fresh.length ? 'new' : 'all'}:`,
    ...listed.map((c) => `  ${formatClone(c)}`),
    'factor the copy out rather than raise the budget',
  ].join('\n');
}
