// mhc fmt, in memory: the rewritten file builds byte-identical bundles (every example, every seed
// that builds), is idempotent, keeps every comment and every value, and is in the canonical shape.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlias, isMap, isScalar, Lexer, parseDocument, visit, type Pair } from 'yaml';
import { allTargets, build } from '../../src/compiler/build.js';
import { bytesOf, type BundleFile } from '../../src/compiler/bundle.js';
import { compile } from '../../src/compiler/compile.js';
import { fmt } from '../../src/compiler/fmt.js';
import { NODE_SPELLINGS, SPELLINGS, VALUE_SPELLINGS, valueAt } from '../../src/compiler/fold.js';
import type { Path } from '../../src/compiler/locate.js';
import { shapesAt } from '../../src/compiler/schema.js';
import { EXAMPLES, REFUSED_SEEDS, ROOT, SEED_INPUTS, SEEDS } from '../helpers.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'fmt');
const EXAMPLE_INPUTS = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => join(EXAMPLES, f));
const FMT_FIXTURES = readdirSync(FIXTURES)
  .sort()
  .map((f) => join(FIXTURES, f));
/** Every example, every seed that builds (REFUSED_SEEDS do not: see below), and fmt's own fixtures. */
const INPUTS = [...EXAMPLE_INPUTS, ...SEED_INPUTS, ...FMT_FIXTURES];
const name = (p: string) => p.slice(ROOT.length + 1);
const read = (p: string) => readFileSync(p, 'utf8');

function format(text: string, canonical: boolean): string {
  const r = fmt('in.yaml', Buffer.from(text, 'utf8'), { canonical });
  if (r.text === undefined) throw new Error(`fmt refused it: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r.text;
}

/** Every bundle of the cluster in memory (with the input's sha256, or the one given), literal secrets embedded. */
function bundles(text: string, inputSha256?: string): Map<string, BundleFile> {
  const c = compile('in.yaml', Buffer.from(text, 'utf8'));
  if (!c.model) throw new Error(`does not compile: ${c.diagnostics.map((d) => d.message).join('; ')}`);
  const sha = inputSha256 ?? c.inputSha256;
  const r = build({ model: c.model, literals: c.literals!, inputSha256: sha, mhcVersion: '0.0.0-test', targets: allTargets(c.model), embedFrom: {} });
  if (!r.files) {
    // a literal secret is missing for --embed-secrets: build with placeholders
    const p = build({ model: c.model, literals: c.literals!, inputSha256: sha, mhcVersion: '0.0.0-test', targets: allTargets(c.model) });
    return new Map(p.files!.map((f) => [f.path, f]));
  }
  return new Map(r.files.map((f) => [f.path, f]));
}

function expectSameBundles(a: Map<string, BundleFile>, b: Map<string, BundleFile>): void {
  expect([...b.keys()]).toEqual([...a.keys()]);
  for (const [path, f] of a) {
    const g = b.get(path)!;
    expect({ path, mode: g.mode, owner: g.owner, group: g.group }).toEqual({ path, mode: f.mode, owner: f.owner, group: f.group });
    expect(bytesOf(g).equals(bytesOf(f)), path).toBe(true);
  }
}

/** The comments of a YAML text, as the YAML lexer sees them (a `#` inside a value is none). */
const comments = (text: string): string[] => [...new Lexer().lex(text)].filter((t) => t.startsWith('#')).sort();

const dataOf = (text: string): unknown => parseDocument(text, { merge: true }).toJS({ maxAliasCount: 100 });

describe('mhc fmt: the rewritten file builds byte-identical bundles', () => {
  for (const input of INPUTS) {
    for (const canonical of [true, false]) {
      it(`${name(input)}${canonical ? ' --canonical' : ''}`, () => {
        const text = read(input);
        const out = format(text, canonical);
        const before = bundles(text);
        // with the same input sha256 (it is the one thing in the bundles that names the YAML's bytes), every file is the same
        expectSameBundles(before, bundles(out, compile('in.yaml', Buffer.from(text)).inputSha256));
        // with its own, only the manifests' input_sha256 differs (and so SHA256SUMS' lines of the manifests)
        const after = bundles(out);
        for (const [path, f] of before) {
          const g = after.get(path)!;
          if (path.endsWith('/manifest.json')) {
            const [x, y] = [JSON.parse(f.content), JSON.parse(g.content)];
            if (out !== text) expect(y.input_sha256).not.toBe(x.input_sha256);
            expect({ ...y, input_sha256: '' }).toEqual({ ...x, input_sha256: '' });
          } else if (path === 'SHA256SUMS') {
            const others = (s: string) => s.split('\n').filter((l) => !l.endsWith('/manifest.json'));
            expect(others(g.content)).toEqual(others(f.content));
          } else expect(g.content, path).toBe(f.content);
        }
      });
    }
  }

  it(`refuses what does not build, with compile's diagnostics (the seeds in REFUSED_SEEDS: ${Object.keys(REFUSED_SEEDS).join(', ')})`, () => {
    for (const [seed, code] of Object.entries(REFUSED_SEEDS)) {
      const r = fmt(seed, readFileSync(join(SEEDS, seed)), { canonical: true });
      expect(r.text).toBeUndefined();
      expect(r.diagnostics.map((d) => d.code)).toEqual([code]);
      expect(r.diagnostics[0]!.span).toBeDefined();
    }
    for (const bad of ['cluster: [', '\u0000', 'cluster:\n  name: x\ncontrollers:\n  - hostname: a\n    ip: 1.2.3\n', '']) {
      const r = fmt('bad.yaml', Buffer.from(bad));
      expect(r.text).toBeUndefined();
      expect(r.diagnostics.length).toBeGreaterThan(0);
      expect(r.diagnostics.every((d) => d.severity === 'error')).toBe(true);
    }
  });
});

describe('mhc fmt: idempotent, comments and values kept', () => {
  for (const input of INPUTS) {
    it(`${name(input)}: fmt(fmt(x)) = fmt(x), both modes; every comment survives`, () => {
      const text = read(input);
      for (const canonical of [true, false]) {
        const once = format(text, canonical);
        const twice = fmt('in.yaml', Buffer.from(once), { canonical });
        expect(twice.text).toBe(once);
        expect(twice.changed).toBe(false);
        expect(comments(once)).toEqual(comments(text));
      }
      // layout only: the same data, key for key
      expect(dataOf(format(text, false))).toEqual(dataOf(text));
    });
  }

  it('the examples without a second spelling are canonical already, and the main example is formatted', () => {
    const main = read(join(EXAMPLES, 'my_multihead_cluster.yaml'));
    expect(fmt('m.yaml', Buffer.from(main), { canonical: true }).changed).toBe(false);
    expect(fmt('m.yaml', Buffer.from(main)).changed).toBe(false);
    expect(fmt('f.yaml', readFileSync(join(EXAMPLES, 'five_controllers.yaml')), { canonical: true }).changed).toBe(true);
  });

  it('the fixtures carry comments, so the comment check above checks something', () => {
    for (const f of [join(SEEDS, 'seed002-deployment-guide.yaml'), join(FIXTURES, 'aliases.yaml'), join(FIXTURES, 'hostile.yaml')]) expect(comments(read(f)).length, f).toBeGreaterThan(2);
  });

  it('CRLF line ends and a BOM become LF and nothing, the data the same', () => {
    const text = read(join(FIXTURES, 'hostile.yaml'));
    const crlf = `\ufeff${text.replace(/\n/g, '\r\n')}`;
    for (const canonical of [false, true]) {
      const r = fmt('crlf.yaml', Buffer.from(crlf, 'utf8'), { canonical });
      expect(r.changed).toBe(true);
      expect(r.text).toBe(format(text, canonical));
    }
  });

  it('a comment stays with its key when the key moves, on its line or above it', () => {
    const out = format(read(join(FIXTURES, 'aliases.yaml')), true);
    expect(out).toMatch(/\n {2}# the root password\n {2}password: \$\{DB_ROOT_PASSWORD\}\n/);
    expect(out).toMatch(/\n# nodes key line\n# inside nodes\ncontrollers: # the controller list\n/);
    expect(out).toMatch(/\n {4}ip: 10\.1\.0\.2 # the second\n/);
    expect(out).toMatch(/\n {4}address: 10\.1\.0\.100 # the VIP\n/);
    expect(out).toMatch(/\n# backups, the seed 003 way\nbackup:\n {2}backup_dir: \/srv\/backups\n {2}# two weeks\n {2}retention_days: 14\n/);
    expect(out).toMatch(/^# yaml-language-server: \$schema=/);
    expect(out.endsWith('\n# the end\n')).toBe(true);
  });

  it('hostile values keep their value and their spelling: quotes, # in values, escapes, block scalars, unicode', () => {
    const text = read(join(FIXTURES, 'hostile.yaml'));
    for (const canonical of [false, true]) {
      const out = format(text, canonical);
      const [a, b] = [dataOf(text) as Record<string, unknown>, dataOf(out) as Record<string, unknown>];
      for (const k of Object.keys(a).filter((k) => k.startsWith('x-') || k === 'environment' || k === 'redis' || k === 'web')) expect(b[k], k).toEqual(a[k]);
      // escapes are written as they were: no raw bidi override or bell reaches the file
      expect(out).toContain(String.raw`"\U0001F600 漢字 ünïcødé \x07 \u202e bidi"`);
      expect(out).not.toMatch(/[\u0007\u202e]/);
      for (const spelt of [`'it''s "quoted" # not a comment & \\ / $HOME ✓'`, 'NUMBER: 0x1F', 'x-null: ~', 'x-bool: True', 'x-plain: a # b', `'a: b, c'`, '    line one   \n', '   more indented\n'])
        expect(out).toContain(spelt);
    }
  });
});

describe('mhc fmt --canonical: the canonical shape', () => {
  /** The mappings of the canonical output, with their data path. */
  function mappings(text: string): { path: Path; keys: string[] }[] {
    const out: { path: Path; keys: string[] }[] = [];
    const doc = parseDocument(text);
    const walk = (n: unknown, path: Path): void => {
      if (isMap(n)) {
        out.push({ path, keys: (n.items as Pair[]).map((p) => String((p.key as { value: unknown }).value)) });
        for (const p of n.items as Pair[]) walk(p.value, [...path, String((p.key as { value: unknown }).value)]);
      } else if (n && typeof n === 'object' && 'items' in n) (n.items as unknown[]).forEach((x, i) => walk(x, [...path, i]));
    };
    walk(doc.contents, []);
    return out;
  }

  for (const input of INPUTS) {
    it(`${name(input)}: canonical spellings only, keys in the schema's order, no anchors, aliases or merge keys`, () => {
      const out = format(read(input), true);
      const data = dataOf(out);
      for (const s of Object.values(SPELLINGS)) if (!('onlyWith' in s) || valueAt(data, s.onlyWith) !== undefined) expect(valueAt(data, s.other), s.other.join('.')).toBeUndefined();
      for (const list of [SPELLINGS.controllers.canonical, SPELLINGS.compute.canonical]) {
        for (const node of (valueAt(data, list) as unknown[] | undefined) ?? []) for (const s of Object.values(NODE_SPELLINGS)) expect(valueAt(node, s.other)).toBeUndefined();
      }
      for (const v of VALUE_SPELLINGS) {
        const at = (d: unknown, p: readonly string[]): unknown[] =>
          !p.length ? [d] : p[0] === '*' ? ((d as unknown[] | undefined) ?? []).flatMap((x) => at(x, p.slice(1))) : at(valueAt(d, [p[0]!]), p.slice(1));
        for (const x of at(data, v.path).filter((x) => x !== undefined)) expect((v.canonical as (y: unknown) => unknown)(x)).toBe(x);
      }
      expect(typeof valueAt(data, ['network', 'vip'])).not.toBe('string');
      for (const { path, keys } of mappings(out)) {
        const order = [...new Set(shapesAt(path).flatMap((s) => Object.keys(s)))];
        const ranks = keys.map((k) => (order.includes(k) ? order.indexOf(k) : order.length));
        expect(ranks, `${path.join('.')}: ${keys.join(', ')}`).toEqual([...ranks].sort((a, b) => a - b));
      }
      let found = 0;
      visit(parseDocument(out, { merge: true }), {
        Alias: () => void found++,
        Node: (_, n) => void ('anchor' in n && n.anchor && found++),
        Pair: (_, p) => void (isScalar(p.key) && typeof p.key.value === 'symbol' && found++),
      });
      expect(found).toBe(0);
      expect(isAlias(parseDocument(out).contents)).toBe(false);
    });
  }

  it('every rewrite has an input that needs it (so the checks above check something)', () => {
    const inputs = INPUTS.map((f) => ({ text: read(f), data: dataOf(read(f)) }));
    const nodes = (d: unknown) => [
      ...((valueAt(d, ['controllers']) as unknown[]) ?? []),
      ...((valueAt(d, ['compute_nodes']) as unknown[]) ?? []),
      ...((valueAt(d, ['nodes', 'controllers']) as unknown[]) ?? []),
      ...((valueAt(d, ['nodes', 'compute_nodes']) as unknown[]) ?? []),
    ];
    for (const s of Object.values(SPELLINGS))
      expect(
        inputs.some((i) => valueAt(i.data, s.other) !== undefined),
        s.other.join('.'),
      ).toBe(true);
    for (const s of Object.values(NODE_SPELLINGS))
      expect(
        inputs.some((i) => nodes(i.data).some((n) => valueAt(n, s.other) !== undefined)),
        s.other.join('.'),
      ).toBe(true);
    for (const needed of ['<<: [*hw, *big]', '<<: *hw', 'services: *all', 'vip: 10.1.0.100', 'databases, mariadb', 'accounting_storage/slurmdbd', 'UNLIMITED']) {
      expect(
        inputs.some((i) => i.text.includes(needed)),
        needed,
      ).toBe(true);
    }
  });

  it("merge keys merge as YAML does: the mapping's own keys first, then the earlier source", () => {
    const out = dataOf(format(read(join(FIXTURES, 'aliases.yaml')), true)) as { compute_nodes: Record<string, unknown>[] };
    expect(out.compute_nodes).toEqual([
      { hostname: 'c1', ip: '10.1.1.1', cpus: 16, memory: 64000 },
      { hostname: 'c2', cpus: 32, memory: 64000, tmp_disk: 100 },
      { hostname: 'c3', cpus: 64, memory: 128000, tmp_disk: 100 },
    ]);
  });

  it('two spellings with the same value become one, the comments of both kept', () => {
    const text = 'cluster:\n  name: two\ncontrollers:\n  - hostname: a\n    ip: 10.0.0.1 # one\n    ip_address: 10.0.0.1 # two\n    services: { slurm: true }\n';
    const out = format(text, true);
    expect(out).toBe('cluster:\n  name: two\ncontrollers:\n  - hostname: a\n    # two\n    ip: 10.0.0.1 # one\n    services: { slurm: true }\n');
  });

  it("the file's first comment stays first when its section moves", () => {
    const text = '# yaml-language-server: $schema=x.json\nnodes:\n  controllers:\n    - { hostname: a, ip: 10.0.0.1, services: { slurm: true } }\ncluster:\n  name: moved\n';
    expect(format(text, true)).toBe('# yaml-language-server: $schema=x.json\ncluster:\n  name: moved\ncontrollers:\n  - { hostname: a, ip: 10.0.0.1, services: { slurm: true } }\n');
  });
});

describe('mhc fmt: random edits of every example', () => {
  function rng(seed: number) {
    return () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
  }
  const PIECES = ['# c\n', ' # c', '\n', '  ', "'", '"', 'x-n: 1\n', '&a ', '*a', '\n\n', '- ', '{ }'];
  for (const input of EXAMPLE_INPUTS) {
    it(`${name(input)}: every edit that still compiles is formatted (never refused), idempotently`, () => {
      const text = read(input);
      const r = rng(text.length);
      let compiled = 0;
      for (let i = 0; i < 150; i++) {
        const at = Math.floor(r() * text.length);
        const t = r() < 0.5 ? text.slice(0, at) + PIECES[Math.floor(r() * PIECES.length)] + text.slice(at) : text.slice(0, at) + text.slice(at + 1 + Math.floor(r() * 4));
        if (!compile('e.yaml', Buffer.from(t)).model) continue;
        compiled++;
        for (const canonical of [true, false]) {
          const once = format(t, canonical);
          expect(format(once, canonical), `edit ${i}`).toBe(once);
        }
      }
      expect(compiled).toBeGreaterThan(10);
    });
  }
});
