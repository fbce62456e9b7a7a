// mhc init, in memory: for a matrix of options the starting file validates without errors, builds,
// names its secrets as ${NAME} references, carries normalize's defaults and the schema's
// explanations, and is canonical as written. Bad options are problems, never a file.
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { allTargets, build } from '../../src/compiler/build.js';
import { secretsOf } from '../../src/compiler/bundle.js';
import { compile } from '../../src/compiler/compile.js';
import { fmt } from '../../src/compiler/fmt.js';
import { valueAt } from '../../src/compiler/fold.js';
import { DEFAULT_COMPUTE_NODES, DEFAULT_SCHEMA, DEFAULT_SERVICES, init, MAX_INIT_COMPUTE_NODES, type InitOptions } from '../../src/compiler/init.js';
import { expand } from '../../src/compiler/hostlist.js';
import type { Path } from '../../src/compiler/locate.js';
import { SERVICES, type ServiceKey } from '../../src/compiler/model.js';
import { DEFAULTS } from '../../src/compiler/normalize.js';
import { describeKey, MAX_PRIORITY, shapesAt } from '../../src/compiler/schema.js';
import { compileText } from '../helpers.js';

function text(o: InitOptions): string {
  const r = init(o);
  if (!('text' in r)) throw new Error(`init refused ${JSON.stringify(o)}: ${r.problems.join('; ')}`);
  return r.text;
}
const problems = (o: InitOptions): readonly string[] => {
  const r = init(o);
  return 'problems' in r ? r.problems : [];
};
const off = (...s: ServiceKey[]): Partial<Record<ServiceKey, boolean>> => Object.fromEntries(s.map((k) => [k, false]));

const MATRIX: InitOptions[] = [
  {},
  { controllers: 1 },
  { controllers: 2 },
  { controllers: 5, computeNodes: 'cn[001-064]' },
  { controllers: 11, computeNodes: 'r1n[01-40],gpu[1-4]' },
  { controllers: 3, computeNodes: false },
  { services: { web: true } },
  { controllers: 2, services: { web: true } },
  { services: off('glusterfs') },
  { services: off('mariadb') },
  { services: off('redis') },
  { services: off('keepalived') },
  { controllers: 4, services: off('keepalived', 'redis') },
  { services: off('slurm') },
  { services: { ...off('slurm', 'glusterfs', 'mariadb', 'redis', 'keepalived'), web: true }, controllers: 1 },
  { services: off('glusterfs', 'mariadb', 'redis', 'keepalived', 'web'), controllers: 1, computeNodes: 'node1' },
  { name: 'Lab_2.a', controllers: 3, computeNodes: 'n[0001-2000]' },
  { controllers: MAX_PRIORITY, computeNodes: false, services: off('glusterfs', 'mariadb', 'redis') },
];

/** The ${NAME} references in a text. */
const refs = (t: string) => [...new Set([...t.matchAll(/\$\{([A-Z_0-9]+)\}/g)].map((m) => m[1]!))].sort();

describe('mhc init: a matrix of options', () => {
  for (const o of MATRIX) {
    it(`${JSON.stringify(o)}: validates, builds, references its secrets, is canonical`, () => {
      const t = text(o);
      const c = compileText(t, 'init.yaml');
      expect(c.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const r0 = init(o);
      expect('warnings' in r0 && r0.warnings.length).toBe(c.diagnostics.length);
      const on = { ...DEFAULT_SERVICES, ...o.services };
      expect(c.model.controllers.length).toBe(o.controllers ?? 3);
      const computeExpected = o.computeNodes === false || (o.computeNodes === undefined && !on.slurm) ? [] : expand(o.computeNodes ?? DEFAULT_COMPUTE_NODES);
      expect(c.model.computeNodes.map((n) => n.hostname).sort()).toEqual([...computeExpected].sort());
      for (const s of SERVICES)
        expect(
          c.model.controllers.every((n) => n.services.includes(s) === on[s]),
          s,
        ).toBe(true);
      const r = build({ model: c.model, literals: c.literals!, inputSha256: c.inputSha256, mhcVersion: '0.0.0-test', targets: allTargets(c.model) });
      expect(r.diagnostics).toEqual([]);
      // what `mhc secrets init` writes: the secrets the bundles name; every ${NAME} of an enabled section is one
      const needed = secretsOf(r.files!);
      const data = parseDocument(t).toJS() as Record<string, unknown>;
      const active = refs(JSON.stringify(data));
      for (const name of active) expect(needed, name).toContain(name);
      expect(
        c.model.secrets
          .filter((s) => s.fromYaml)
          .map((s) => s.name)
          .sort(),
      ).toEqual(active.filter((n) => needed.includes(n)));
      // no literal secret: nothing but references
      expect(c.diagnostics.filter((d) => d.code === 'W304')).toEqual([]);
      // init writes the canonical shape in mhc's layout
      expect(fmt('init.yaml', Buffer.from(t), { canonical: true }).changed).toBe(false);
      expect(t).toBe(text(o)); // deterministic
    });
  }

  it('every section is there: written, or commented out when its service is off', () => {
    const others = ['nodes', 'web_services', 'shared_storage', '$schema'];
    const sections = Object.keys(shapesAt([])[0]!).filter((k) => !others.includes(k));
    for (const o of MATRIX) {
      const t = text(o);
      const data = parseDocument(t).toJS() as Record<string, unknown>;
      for (const s of sections) expect(Object.hasOwn(data, s) || t.includes(`\n# ${s}:`), `${JSON.stringify(o)}: ${s}`).toBe(true);
      const on = { ...DEFAULT_SERVICES, ...o.services };
      for (const [section, service] of [
        ['storage', 'glusterfs'],
        ['database', 'mariadb'],
        ['redis', 'redis'],
        ['slurm', 'slurm'],
        ['web', 'web'],
      ] as const) {
        expect(Object.hasOwn(data, section), `${JSON.stringify(o)}: ${section}`).toBe(on[service]);
      }
    }
  });

  it("the defaults written are normalize's DEFAULTS, each after the schema's explanation", () => {
    const t = text({ services: { web: true } });
    const data = parseDocument(t).toJS();
    let checked = 0;
    const walk = (d: unknown, path: Path): void => {
      if (d && typeof d === 'object') {
        for (const [k, v] of Object.entries(d)) walk(v, [...path, k]);
        return;
      }
      // network.vip.prefix is the example address plan's, not the default
      if (path.join('.') === 'network.vip.prefix') return;
      expect(valueAt(data, path), path.join('.')).toEqual(d);
      const key = String(path[path.length - 1]);
      expect(t, path.join('.')).toContain(`# ${describeKey(path)}\n${'  '.repeat(path.length - 1)}${key}:`);
      checked++;
    };
    walk(DEFAULTS, []);
    expect(checked).toBeGreaterThan(20);
    expect(t.startsWith(`# yaml-language-server: $schema=${DEFAULT_SCHEMA}\n`)).toBe(true);
    expect(text({ schema: 'https://example.com/s.json' })).toMatch(/^# yaml-language-server: \$schema=https:\/\/example\.com\/s\.json\n/);
  });

  it('the default cluster draws no warning; two controllers draw the quorum ones', () => {
    const w = (o: InitOptions) => {
      const r = init(o);
      return 'warnings' in r ? r.warnings : ['refused'];
    };
    expect(w({})).toEqual([]);
    expect(w({ controllers: 2 }).join('\n')).toMatch(/two Galera nodes cannot keep quorum/);
  });

  it("addresses are in 10.10.0.0/16 and after, the VIP in the controllers' subnet", () => {
    const c = compileText(text({ controllers: 3, computeNodes: 'cn[001-300]' }));
    expect(c.model.network.vip?.address).toBe('10.10.0.10');
    expect(c.model.controllers.map((n) => n.ip)).toEqual(['10.10.0.11', '10.10.0.12', '10.10.0.13']);
    const ips = c.model.computeNodes.map((n) => n.ip!);
    expect(ips[0]).toBe('10.10.1.1');
    expect(ips.some((ip) => /\.(0|255)$/.test(ip))).toBe(false);
    expect(new Set(ips).size).toBe(300);
  });
});

describe('mhc init: options it refuses (the CLI exits 2)', () => {
  const cases: [InitOptions, RegExp][] = [
    [{ controllers: 0 }, /--controllers must be a whole number from 1 to 254, not 0/],
    [{ controllers: MAX_PRIORITY + 1 }, /--controllers must be a whole number from 1 to 254, not 255/],
    [{ controllers: 2.5 }, /--controllers must be a whole number/],
    [{ controllers: Number.NaN }, /--controllers must be a whole number from 1 to 254 \(/],
    [{ computeNodes: 'cn[1-' }, /--compute-nodes cn\[1-: unbalanced "\[" in "cn\[1-"/],
    [{ computeNodes: 'cn[9-1]' }, /range 9-1 runs backwards/],
    [{ computeNodes: 'cn[a-b]' }, /bad range "a-b"/],
    [{ computeNodes: 'cn_[1-2]' }, /"cn_1" is not a valid hostname/],
    [{ computeNodes: `cn[1-${MAX_INIT_COMPUTE_NODES + 1}]` }, /expands to more than 100000 names/],
    [{ computeNodes: 'ctl[1-2]' }, /the options give a cluster mhc refuses: hostname "ctl1" is used twice/],
    [{ computeNodes: 'cn1', services: off('slurm') }, /compute nodes run slurmd, which needs Slurm/],
    [{ name: 'my cluster' }, /--name "my cluster": letters, digits/],
    [{ schema: 'a b' }, /--schema "a b": a path or URL without spaces/],
  ];
  for (const [o, want] of cases) {
    it(`${JSON.stringify(o)}`, () => {
      expect(problems(o).join('\n')).toMatch(want);
    });
  }

  it('a refused option never yields a file, and a valid one no problem', () => {
    for (const [o] of cases) expect('text' in init(o)).toBe(false);
    for (const o of MATRIX) expect(problems(o)).toEqual([]);
  });

  it('the controllers limit is the schema priority range, and it holds: MAX_PRIORITY keepalived controllers compile', () => {
    const c = compile('max.yaml', Buffer.from(text({ controllers: MAX_PRIORITY, computeNodes: false })));
    expect(c.model?.controllers.length).toBe(MAX_PRIORITY);
    expect(new Set(c.model!.controllers.map((n) => n.priority)).size).toBe(MAX_PRIORITY);
  });
});
