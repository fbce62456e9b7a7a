// Copy/paste stays in check: no more duplicated blocks (jscpd, 6+ lines) in src, test and the bash
// templates than test/duplicates-budget.json allows. UPDATE_DUPLICATES=1 rewrites the budget to
// the current count (refused under CI): lower it when a clone is factored out.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fg from 'fast-glob';
import { describe, expect, it } from 'vitest';
import { BUDGET_FILE, BUDGET_HOWTO, formatClone, overBudget, scan, SCANNED, type Budget } from '../duplicates.js';
import { ROOT } from '../helpers.js';

describe('duplicated lines', () => {
  it('no more clones than test/duplicates-budget.json allows', () => {
    if (process.env.UPDATE_DUPLICATES) {
      if (process.env.CI) throw new Error('UPDATE_DUPLICATES is refused under CI');
      const now = scan(ROOT, SCANNED, {}, true);
      const budget: Budget = { '//': BUDGET_HOWTO, clones: now.clones.length, fingerprints: now.fingerprints ?? {} };
      writeFileSync(BUDGET_FILE, `${JSON.stringify(budget, null, 2)}\n`);
    }
    const budget = JSON.parse(readFileSync(BUDGET_FILE, 'utf8')) as Budget;
    const s = scan(ROOT, SCANNED, budget.fingerprints);
    // the scan read what it should: every TypeScript file of src and test, every bash template
    expect(s.sources.typescript).toBeGreaterThan(100);
    expect(s.sources.bash).toBeGreaterThanOrEqual(fg.sync('templates/**/*.sh.hbs', { cwd: ROOT }).length);
    const why = overBudget(s, budget);
    if (why) expect.fail(why);
    if (s.clones.length < budget.clones) console.log(`duplicates: ${s.clones.length} clones, the budget says ${budget.clones}: lower it (UPDATE_DUPLICATES=1)`);
  });

  it('finds a block copied between TypeScript files and between bash templates, and names the new pairs', () => {
    const root = mkdtempSync(join(tmpdir(), 'mhc-dup-'));
    const put = (p: string, text: string) => {
      mkdirSync(dirname(join(root, p)), { recursive: true });
      writeFileSync(join(root, p), text);
    };
    const ts = Array.from({ length: 10 }, (_, i) => `  total += values[${i}] * weights[${i}] + offsets.get('k${i}')!;`).join('\n');
    put('src/a.ts', `export function a(values: number[], weights: number[], offsets: Map<string, number>): number {\n  let total = 0;\n${ts}\n  return total;\n}\n`);
    put('src/b.ts', `// b\n\nexport function b(values: number[], weights: number[], offsets: Map<string, number>): number {\n  let total = 0;\n${ts}\n  return total;\n}\n`);
    const sh = [
      'for f in {{sh files}}; do',
      '  if [[ -e $f ]]; then',
      '    cp -a -- "$f" "$DEST/${f##*/}"',
      '    echo "copied $f" >&2',
      '  else',
      '    echo "missing $f" >&2',
      '    status=1',
      '  fi',
      'done',
    ].join('\n');
    put('templates/x/one.sh.hbs', `#!/bin/bash\nset -euo pipefail\nDEST={{sh dest}}\nstatus=0\n${sh}\nexit $status\n`);
    put('templates/x/two.sh.hbs', `#!/bin/bash\n# two\nset -euo pipefail\nDEST={{sh other}}\nstatus=0\n${sh}\nexit "$status"\n`);
    put('templates/x/three.conf.hbs', `#!/bin/bash\nset -euo pipefail\nDEST={{sh dest}}\nstatus=0\n${sh}\nexit $status\n`); // not a script: not read
    const s = scan(root, ['src', 'templates']);
    // the whole function; the script from the first token after {{sh dest}} / {{sh other}} to its last common one
    // (three.conf.hbs, the same text in a config template, is not read: it would pair with one.sh.hbs)
    expect(s.clones.map(formatClone).sort()).toEqual(['src/a.ts:1-14 = src/b.ts:3-16 (14 lines, typescript)', 'templates/x/one.sh.hbs:3-14 = templates/x/two.sh.hbs:4-15 (12 lines, bash)']);
    expect(s.clones.every((c) => c.isNew)).toBe(true);
    // over a budget of 1, both pairs are named
    const why = overBudget(s, { clones: 1 });
    expect(why).toMatch(/^2 duplicated blocks of 6\+ lines, the budget \(test\/duplicates-budget\.json\) allows 1; new:\n/);
    for (const c of s.clones) expect(why).toContain(formatClone(c));
    expect(overBudget(s, { clones: 2 })).toBeUndefined();
    // with their fingerprints recorded, they are not new
    const known = scan(root, ['src', 'templates'], {}, true).fingerprints!;
    expect(scan(root, ['src', 'templates'], known).clones.some((c) => c.isNew)).toBe(false);
  });
});
