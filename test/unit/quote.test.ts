// The quoting module against hostile strings: every value must come back out of bash (and out
// of a C-style double-quoted string) exactly as it went in, and must never execute.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dq, dqEscape, isOneLine, shellQuote, shellQuoteAlways } from '../../src/compiler/quote.js';
import { AWKWARD } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mhc-quote-'));
const marker = join(dir, 'pwned');
export const HOSTILE = [
  'server3;reboot',
  `$(touch ${marker})`,
  `\`touch ${marker}\``,
  `'; touch ${marker}; '`,
  `"; touch ${marker}; "`,
  '& \\ / \' " $ # `',
  '  leading and trailing  ',
  '*',
  '~root',
  '-n',
  '',
  '$HOME ${HOME} $((1+1))',
  "it's",
  'a\\"b',
  'üñí©ødé ✓',
  '!!',
  ...Object.values(AWKWARD),
];

describe('shellQuote', () => {
  it('round-trips every hostile string through bash and never executes it', () => {
    for (const quote of [shellQuote, shellQuoteAlways]) {
      const script = HOSTILE.map((s) => `printf '%s\\0' ${quote(s)}`).join('\n');
      const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout.split('\0').slice(0, -1)).toEqual(HOSTILE);
    }
    expect(existsSync(marker)).toBe(false);
  });
  it('leaves plainly safe words unquoted', () => {
    expect(shellQuote('server1')).toBe('server1');
    expect(shellQuote('/etc/slurm/slurm.conf')).toBe('/etc/slurm/slurm.conf');
    expect(shellQuote('a b')).toBe(`'a b'`);
  });
});

describe('dq', () => {
  it('escapes backslash and double quote so a C-style reader recovers the value', () => {
    for (const s of HOSTILE) {
      const q = dq(s);
      expect(q.startsWith('"') && q.endsWith('"')).toBe(true);
      // decode like redis/MariaDB do: \\ → \, \" → "
      const decoded = q.slice(1, -1).replace(/\\(.)/g, '$1');
      expect(decoded).toBe(s);
      expect(dqEscape(s)).toBe(q.slice(1, -1));
    }
  });
  it('isOneLine refuses control characters', () => {
    expect(isOneLine('a b')).toBe(true);
    expect(isOneLine('a\nb')).toBe(false);
    expect(isOneLine('a\tb')).toBe(false);
  });
});
