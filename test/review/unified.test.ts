// The Myers line diff and unified hunks: minimal, reversible, and in diff -u's format.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffLines, hunks, splitLines, unifiedDiff, type Hunk } from '../../src/review/unified.js';

/** Applies hunks to `a` (what patch(1) does). */
function apply(a: string[], hs: Hunk[]): string[] {
  const out: string[] = [];
  let i = 0;
  for (const h of hs) {
    const start = h.oldLines ? h.oldStart - 1 : h.oldStart;
    while (i < start) out.push(a[i++]!);
    for (const l of h.lines) {
      if (l.kind === '+') out.push(l.text);
      else {
        expect(a[i]).toBe(l.text);
        i++;
        if (l.kind === ' ') out.push(l.text);
      }
    }
  }
  while (i < a.length) out.push(a[i++]!);
  return out;
}

function lcs(a: string[], b: string[]): number {
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) dp[i]![j] = a[i - 1] === b[j - 1] ? dp[i - 1]![j - 1]! + 1 : Math.max(dp[i - 1]![j]!, dp[i]![j - 1]!);
  return dp[a.length]![b.length]!;
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('unified diff', () => {
  it('is minimal (edit distance = n + m − 2·LCS) and reversible on 500 random pairs', () => {
    const r = rng(42);
    for (let t = 0; t < 500; t++) {
      const alpha = 'abcde'.slice(0, 2 + Math.floor(r() * 4));
      const mk = () => Array.from({ length: Math.floor(r() * 25) }, () => alpha[Math.floor(r() * alpha.length)]!);
      const a = mk();
      const b = mk();
      const ops = diffLines(a, b);
      expect(ops.filter((o) => o.kind !== 'insert').map((o) => o.line)).toEqual(a);
      expect(ops.filter((o) => o.kind !== 'delete').map((o) => o.line)).toEqual(b);
      expect(ops.filter((o) => o.kind !== 'equal').length).toBe(a.length + b.length - 2 * lcs(a, b));
      for (const ctx of [0, 1, 3]) expect(apply(a, hunks(a, b, ctx))).toEqual(b);
    }
  });

  it('writes the same hunks as GNU diff -u for a typical config change', () => {
    const a = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`);
    const b = [...a];
    b[4] = 'changed 5';
    b.splice(20, 1);
    b.splice(33, 0, 'inserted');
    const dir = mkdtempSync(join(tmpdir(), 'mhc-unified-'));
    writeFileSync(join(dir, 'a'), a.join('\n') + '\n');
    writeFileSync(join(dir, 'b'), b.join('\n') + '\n');
    const gnu = spawnSync('diff', ['-u', 'a', 'b'], {
      cwd: dir,
      encoding: 'utf8',
    }).stdout;
    const ours = unifiedDiff('a', 'b', a.join('\n') + '\n', b.join('\n') + '\n');
    const body = (s: string) =>
      s
        .split('\n')
        .filter((l) => !l.startsWith('---') && !l.startsWith('+++'))
        .join('\n');
    expect(body(ours)).toBe(body(gnu));
  });

  it('handles empty files, additions and removals like diff -u (-0,0 / +0,0)', () => {
    expect(unifiedDiff('a', 'b', '', 'x\ny\n')).toBe('--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n');
    expect(unifiedDiff('a', 'b', 'x\n', '')).toBe('--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n');
    expect(unifiedDiff('a', 'b', 'same\n', 'same\n')).toBe('');
    expect(splitLines('a\nb\n')).toEqual(['a', 'b']);
  });

  it('merges changes closer than 2×context into one hunk and splits farther ones', () => {
    const a = Array.from({ length: 30 }, (_, i) => `${i}`);
    const near = [...a];
    near[5] = 'x';
    near[11] = 'y'; // 5 equal lines between: ≤ 6
    expect(hunks(a, near)).toHaveLength(1);
    const far = [...a];
    far[5] = 'x';
    far[13] = 'y'; // 7 equal lines between: > 6
    expect(hunks(a, far)).toHaveLength(2);
  });
});

describe('unified diff on large inputs', () => {
  it('two unrelated 20000-line files: bounded work, still a correct diff', () => {
    const a = Array.from({ length: 20000 }, (_, i) => `a${i}`);
    const b = Array.from({ length: 20000 }, (_, i) => `b${i}`);
    const t = Date.now();
    const ops = diffLines(a, b);
    expect(Date.now() - t).toBeLessThan(10_000);
    expect(ops.filter((o) => o.kind !== 'insert').map((o) => o.line)).toEqual(a);
    expect(ops.filter((o) => o.kind !== 'delete').map((o) => o.line)).toEqual(b);
  });
});
