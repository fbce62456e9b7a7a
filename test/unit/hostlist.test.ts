// Hostlist expressions: compress() and expand() are inverses on sets of names, in natural
// order. (What Slurm itself reads is checked against scontrol in test/daemons/slurm.test.ts.)
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compress, count, expand, HostlistError, MAX_EXPANDED_HOSTNAMES, naturalCompare } from '../../src/compiler/hostlist.js';
import { compile } from '../../src/compiler/compile.js';
import { formatText } from '../../src/compiler/diagnostics.js';
import { EXAMPLES } from '../helpers.js';

const roundTrip = (names: string[]) => {
  const expr = compress(names);
  expect(new Set(expand(expr))).toEqual(new Set(names));
  expect(expand(expr)).toHaveLength(new Set(names).size);
  return expr;
};

describe('hostlist compress', () => {
  it('collapses consecutive names into one range', () => {
    expect(roundTrip(['n01', 'n02', 'n03'])).toBe('n[01-03]');
    expect(roundTrip(['node001', 'node002', 'node003', 'node004'])).toBe('node[001-004]');
  });
  it('keeps gaps as separate ranges and single numbers', () => {
    expect(roundTrip(['n1', 'n2', 'n3', 'n5', 'n7', 'n8'])).toBe('n[1-3,5,7-8]');
    expect(roundTrip(['r01n01', 'r01n02', 'r01n03', 'r01n05'])).toBe('r01n[01-03,05]');
  });
  it('a single name stays a plain name; duplicates count once', () => {
    expect(roundTrip(['viz01'])).toBe('viz01');
    expect(roundTrip(['n1', 'n1', 'n2'])).toBe('n[1-2]');
    expect(compress([])).toBe('');
  });
  it('zero-padded numbers keep their width; widths never share a range', () => {
    expect(roundTrip(['n08', 'n09', 'n10'])).toBe('n[08-10]');
    expect(roundTrip(['n01', 'n02', 'n001'])).toBe('n[01-02],n001');
    expect(roundTrip(['n1', 'n05'])).toBe('n1,n05');
    expect(roundTrip(['n098', 'n099', 'n100', 'n1000'])).toBe('n[098-100],n1000');
  });
  it('unpadded numbers share one range across digit counts', () => {
    expect(roundTrip(['n9', 'n10', 'n11'])).toBe('n[9-11]');
    expect(roundTrip(['n0', 'n1', 'n2'])).toBe('n[0-2]');
  });
  it('several prefixes, prefixes ending in digits, names without digits', () => {
    expect(roundTrip(['b2', 'a1', 'b1', 'a2'])).toBe('a[1-2],b[1-2]');
    expect(roundTrip(['r01n01', 'r01n02', 'r02n01'])).toBe('r01n[01-02],r02n01');
    expect(roundTrip(['rack1-node07', 'rack1-node08'])).toBe('rack1-node[07-08]');
    expect(roundTrip(['login', 'n1', 'n2', 'admin'])).toBe('admin,login,n[1-2]');
  });
  it('suffixes after the number round-trip (Slurm itself rejects them: see slurmHostlist)', () => {
    expect(roundTrip(['n01-ib', 'n02-ib', 'n03-ib'])).toBe('n[01-03]-ib');
    roundTrip(['n01-ib', 'n02-ib', 'n01', 'n02', 'm1a', 'm2a']);
  });
  it('output follows natural order, whatever the input order', () => {
    expect(compress(['n10', 'n9', 'n2'])).toBe('n[2,9-10]');
    expect(compress(['gpu002', 'node001', 'gpu001'])).toBe('gpu[001-002],node001');
  });
  it('10,000 names round-trip, with and without gaps, shuffled', () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `node${String(i + 1).padStart(5, '0')}`);
    const shuffled = [...names].sort((a, b) => ((a.charCodeAt(8) * 7919 + a.charCodeAt(9)) % 13) - ((b.charCodeAt(8) * 7919 + b.charCodeAt(9)) % 13) || a.localeCompare(b));
    expect(roundTrip(shuffled)).toBe('node[00001-10000]');
    const gappy = names.filter((_, i) => i % 3 !== 0);
    const expr = roundTrip(gappy);
    expect(expr.startsWith('node[00002-00003,00005-00006,')).toBe(true);
    const unpadded = Array.from({ length: 10_000 }, (_, i) => `cn${i}`);
    expect(roundTrip(unpadded)).toBe('cn[0-9999]');
  });
});

describe('hostlist expand', () => {
  it('expands ranges, lists and plain names in order', () => {
    expect(expand('n[01-03,7],login1')).toEqual(['n01', 'n02', 'n03', 'n7', 'login1']);
    expect(expand('n[8-11]')).toEqual(['n8', 'n9', 'n10', 'n11']);
    expect(expand('n[098-100]')).toEqual(['n098', 'n099', 'n100']);
  });
  it('refuses malformed expressions and runaway sizes', () => {
    expect(() => expand('n[1-2')).toThrow(HostlistError);
    expect(() => expand('n1-2]')).toThrow(HostlistError);
    expect(() => expand('n[3-1]')).toThrow(/backwards/);
    expect(() => expand('n[1-2]x[1-2]')).toThrow(/one \[range\]/);
    expect(() => expand('n[a-b]')).toThrow(/bad range/);
    expect(() => expand('a,,b')).toThrow(/empty name/);
    expect(() => expand('n[1-99999999]', 1000)).toThrow(/more than 1000/);
    // refused before anything is allocated, however large
    expect(() => expand(`n[0-${'9'.repeat(40)}]`)).toThrow(/more than 1000000 names/);
    expect(() => expand('a,b,c,d', 3)).toThrow(/more than 3/);
  });
  it('counts without expanding', () => {
    expect(count('n[01-03,7],login1')).toBe(5n);
    expect(count(`n[0-${'9'.repeat(30)}]`)).toBe(10n ** 30n);
    expect(() => count('n[3-1]')).toThrow(/backwards/);
  });
});

describe('the cap on expanded host names in one file (issue 12, item 9)', () => {
  const main = readFileSync(join(EXAMPLES, 'my_multihead_cluster.yaml'), 'utf8');
  const withPartitions = (parts: string) => main.replace(/  partitions:\n(    - .*\n)+/, `  partitions:\n${parts}`);

  it('30 partitions of n[000001-999999] (2 KB of YAML) are refused at the list that crosses the cap, with line:col, before any is expanded', () => {
    const parts = Array.from({ length: 30 }, (_, i) => `    - { name: p${i}, nodes: "n[000001-999999]" }\n`).join('');
    const text = withPartitions(parts);
    expect(text.length).toBeLessThan(4096);
    const c = compile('bomb.yaml', Buffer.from(text, 'utf8'));
    const out = formatText('bomb.yaml', c.loaded.source, c.diagnostics);
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes('name: p1,'));
    expect(out).toContain(
      `bomb.yaml:${line + 1}:${lines[line]!.indexOf('"') + 1}: error[E323]: partition "p1": the hostlist brings the node lists to 1999998 names in all (this one: 999999); mhc expands at most 1,000,000 in one file`,
    );
    expect(c.diagnostics.map((d) => d.code)).toEqual(['E323']);
    expect(c.model).toBeUndefined();
  });

  it('one list beyond the cap is refused; lists within it in all are expanded as before', () => {
    const one = compile('one.yaml', Buffer.from(withPartitions(`    - { name: big, nodes: "n[1-${MAX_EXPANDED_HOSTNAMES + 1}]" }\n`), 'utf8'));
    expect(formatText('one.yaml', one.loaded.source, one.diagnostics)).toMatch(/error\[E323\]: partition "big": the hostlist expands to 1000001 names/);
    const ok = compile('ok.yaml', Buffer.from(withPartitions(`    - { name: batch, nodes: "node[001-004],gpu[001-002]", default: true }\n    - { name: debug, nodes: ALL }\n`), 'utf8'));
    expect(ok.diagnostics.filter((d) => d.code === 'E323')).toEqual([]);
    expect(ok.model?.slurm?.partitions.find((p) => p.name === 'batch')?.nodes).toHaveLength(6);
  });
});

describe('natural order', () => {
  it('numbers compare by value, then by width', () => {
    const l = ['n10', 'n2', 'n01', 'n1', 'a', 'n001'];
    expect([...l].sort(naturalCompare)).toEqual(['a', 'n1', 'n01', 'n001', 'n2', 'n10']);
  });

  it('agrees with the plain definition (runs split by a regex, numbers as BigInt) on 20,000 random pairs', () => {
    const reference = (a: string, b: string): number => {
      const pa = a.match(/(\d+)|(\D+)/g) ?? [];
      const pb = b.match(/(\d+)|(\D+)/g) ?? [];
      for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
        const [x, y] = [pa[i]!, pb[i]!];
        if (/^\d/.test(x) && /^\d/.test(y)) {
          if (BigInt(x) !== BigInt(y)) return BigInt(x) < BigInt(y) ? -1 : 1;
          if (x.length !== y.length) return x.length - y.length;
        } else if (x !== y) return x < y ? -1 : 1;
      }
      return pa.length - pb.length;
    };
    // a small deterministic generator: short names over digits (zeros often), letters and "-"
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const alphabet = '0001239n-a';
    const name = () => Array.from({ length: rnd(8) }, () => alphabet[rnd(alphabet.length)]).join('') + (rnd(3) ? '12345678901234567890'.slice(rnd(20)) : '');
    for (let k = 0; k < 20000; k++) {
      const [a, b] = [name(), name()];
      expect(Math.sign(naturalCompare(a, b)), `${a} vs ${b}`).toBe(Math.sign(reference(a, b)));
    }
  });
});
