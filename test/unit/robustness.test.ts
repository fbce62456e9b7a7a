// No input, however broken, produces a stack trace or an internal error: random edits of every
// example (deterministic seed, bounded count) must always end in diagnostics or a model.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/compile.js';
import { formatText } from '../../src/compiler/diagnostics.js';
import { build, allTargets } from '../../src/compiler/build.js';
import { EXAMPLES } from '../helpers.js';
import { parseSource } from '../../src/compiler/load.js';
import { makeLocator } from '../../src/compiler/locate.js';
import { prepare, PROTOTYPE_KEYS } from '../../src/compiler/validate.js';
import type { Diagnostic } from '../../src/compiler/diagnostics.js';

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

const PIECES = ['\t', ':', '- ', '{', '}', '[', ']', '"', "'", '&a ', '*a', '#', '\n', '  ', '${X}', '0', '-1', '999999', 'true', 'null', '~', '!!str ', '\u0000', '\uFFFD', 'server1', '10.0.0.1'];

describe('robustness', () => {
  for (const ex of readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'))) {
    it(`${ex}: 300 random edits never crash the compiler`, () => {
      const text = readFileSync(join(EXAMPLES, ex), 'utf8');
      const r = rng(ex.length * 7919);
      for (let i = 0; i < 300; i++) {
        let t = text;
        const edits = 1 + Math.floor(r() * 3);
        for (let k = 0; k < edits; k++) {
          const at = Math.floor(r() * t.length);
          const kind = r();
          if (kind < 0.4) t = t.slice(0, at) + t.slice(at + 1 + Math.floor(r() * 8));
          else if (kind < 0.8) t = t.slice(0, at) + PIECES[Math.floor(r() * PIECES.length)] + t.slice(at);
          else {
            const nl = t.indexOf('\n', at);
            t = t.slice(0, at) + t.slice(nl < 0 ? t.length : nl + 1); // drop the rest of a line
          }
        }
        const c = compile('fuzz.yaml', Buffer.from(t, 'utf8'));
        const out = formatText('fuzz.yaml', c.loaded.source, c.diagnostics);
        expect(out, t).not.toMatch(/internal error/);
        if (c.model) {
          const b = build({ model: c.model, literals: c.literals!, inputSha256: c.inputSha256, mhcVersion: 't', targets: allTargets(c.model) });
          expect(b.files?.length ?? 0, t).toBeGreaterThan(0);
        } else expect(c.diagnostics.some((d) => d.severity === 'error')).toBe(true);
      }
    });
  }
});

describe('prototype keys', () => {
  it('the data zod reads has no prototype at any depth, and no prototype key', () => {
    const loaded = parseSource('t.yaml', Buffer.from('cluster: { name: d }\n__proto__: { x: 1 }\ncontrollers:\n  - { hostname: a, services: { constructor: true } }\n'));
    const ds: Diagnostic[] = [];
    const data = prepare(loaded.value, [], makeLocator(loaded.doc), ds) as Record<string, unknown>;
    expect(ds.map((d) => d.code)).toEqual(['E201', 'E201']);
    const walk = (v: unknown): void => {
      if (!v || typeof v !== 'object') return;
      if (!Array.isArray(v)) {
        expect(Object.getPrototypeOf(v)).toBeNull();
        for (const k of PROTOTYPE_KEYS) expect(Object.hasOwn(v, k)).toBe(false);
      }
      Object.values(v).forEach(walk);
    };
    walk(data);
    expect((data as { x?: unknown }).x).toBeUndefined();
  });
});
