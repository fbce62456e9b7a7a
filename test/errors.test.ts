// Error messages are golden too: test/errors/<case>/input.yaml → expected.txt (what
// `mhc validate input.yaml` prints, then its exit status).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compiler/compile.js';
import { formatText, hasErrors, summaryLine } from '../src/compiler/diagnostics.js';
import { ROOT } from './helpers.js';
import { golden } from './golden-util.js';

const dir = join(ROOT, 'test', 'errors');
const cases = readdirSync(dir).sort();

export function validateOutput(bytes: Uint8Array): string {
  const c = compile('input.yaml', bytes);
  const ds = c.diagnostics;
  let out = formatText('input.yaml', c.loaded.source, ds);
  out += hasErrors(ds) ? `mhc: input.yaml is not valid: ${summaryLine(ds)}\nexit: 1\n` : `exit: 0\n`;
  return out;
}

describe('error goldens', () => {
  it('covers at least 50 cases', () => expect(cases.length).toBeGreaterThanOrEqual(50));
  for (const name of cases) {
    it(name, () => {
      const bytes = readFileSync(join(dir, name, 'input.yaml'));
      const actual = validateOutput(bytes);
      expect(actual).toBe(golden(join(dir, name, 'expected.txt'), actual));
      // every reported problem has a place: FILE:LINE:COL
      for (const line of actual.split('\n').filter((l) => /^input\.yaml:/.test(l))) expect(line).toMatch(/^input\.yaml:\d+:\d+: (error|warning)\[[EW]\d{3}\]: /);
      expect(actual).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/); // never a stack trace
    });
  }
  it('refuses an alias bomb quickly (a hang guard, not a benchmark)', () => {
    const t0 = performance.now();
    validateOutput(readFileSync(join(dir, 'alias-bomb', 'input.yaml')));
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
