// Each examples/*.yaml compiles to test/golden/<example>.txt, and the 5 + 10,000 node synthetic
// cluster's deploy/ to test/golden/synthetic-10000.txt: every file with its mode and owner, a file
// identical to one printed before written as a reference to it (test/golden-util.ts). A mismatch
// lists every differing path with a short diff.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, allTargets } from '../src/compiler/build.js';
import type { Diagnostic } from '../src/compiler/diagnostics.js';
import { MHC_VERSION } from '../src/generated/version.js';
import { compileFile, EXAMPLES, ROOT } from './helpers.js';
import { compareGolden, forGolden, readSnapshots, renderSnapshots, writeSnapshots, type GoldenSet } from './golden-util.js';
import { buildText } from './helpers.js';
import { syntheticCluster } from '../bench/synthetic.mjs';

const GOLDEN = join(ROOT, 'test', 'golden');
const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const SYNTHETIC = 'synthetic-10000';

// built once for all the snapshots: a file may refer to its first copy in an earlier one
const sets: GoldenSet[] = [];
const diagnostics = new Map<string, readonly Diagnostic[]>();
let actual = new Map<string, string>();
let committed = new Map<string, string>();

beforeAll(() => {
  for (const ex of examples) {
    const name = ex.replace(/\.yaml$/, '');
    const c = compileFile(join(EXAMPLES, ex));
    const r = build({ model: c.model, literals: c.literals!, inputSha256: c.inputSha256, mhcVersion: MHC_VERSION, targets: allTargets(c.model) });
    diagnostics.set(name, r.diagnostics);
    sets.push({ name, source: `examples/${ex}`, files: forGolden(r.files ?? [], { mhcVersion: MHC_VERSION, inputSha256: c.inputSha256 }) });
  }
  // deploy/ at 10,000 compute nodes (bench/synthetic): the fan-out files only (the bundles of this
  // cluster are the examples' kind; its groups, inventory and genders are what 10,000 nodes change)
  const deploy = [...buildText(syntheticCluster(10000)).values()].filter((f) => f.path.startsWith('deploy/'));
  sets.push({ name: SYNTHETIC, source: "bench/synthetic.mjs's 5 + 10,000 node cluster (deploy/ only)", files: forGolden(deploy, { mhcVersion: '0.0.0-test' }) });
  actual = renderSnapshots(sets);
  writeSnapshots(GOLDEN, actual);
  committed = readSnapshots(GOLDEN);
});

const check = (name: string): void => {
  const report = compareGolden(name, committed, actual.get(name)!, sets.find((s) => s.name === name)!.files);
  if (report) throw new Error(report);
};

describe('golden bundles', () => {
  it('has the four examples the project promises', () => {
    expect(examples).toEqual(['five_controllers.yaml', 'my_multihead_cluster.yaml', 'slurm_only.yaml', 'two_controllers.yaml']);
  });
  for (const ex of examples) {
    const name = ex.replace(/\.yaml$/, '');
    it(`${ex} compiles to test/golden/${name}.txt`, () => {
      expect(diagnostics.get(name)).toEqual([]);
      check(name);
    });
  }
  it(`the synthetic 5 + 10,000 node cluster: deploy/ compiles to test/golden/${SYNTHETIC}.txt`, () => check(SYNTHETIC));

  it('test/golden holds these snapshots and nothing else', () => {
    expect([...committed.keys()].sort()).toEqual([...actual.keys()].sort());
    expect(readdirSync(GOLDEN).sort()).toEqual([...actual.keys()].map((n) => `${n}.txt`).sort());
  });

  // a tool upgrade or a new day must not touch a golden: mhc's version is a token (forGolden), and
  // nothing else names a version of the tools that made it, or a date
  it('no tool version and no date in the goldens', () => {
    const version = (pkg: string): string => (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
    const tools: Record<string, string> = {
      mhc: MHC_VERSION,
      node: process.versions.node,
      vitest: version('vitest'),
      typescript: version('typescript'),
      esbuild: version('esbuild'),
      handlebars: version('handlebars'),
    };
    const npm = /\bnpm\/(\d+\.\d+\.\d+)/.exec(process.env.npm_config_user_agent ?? '')?.[1];
    if (npm) tools.npm = npm;
    const exact = (v: string) => new RegExp(`(?<![\\w.])v?${v.replace(/\./g, '\\.')}(?![\\w.])`);
    for (const [name, text] of actual) {
      for (const [tool, v] of Object.entries(tools)) expect(exact(v).test(text), `${name}: ${tool} ${v}`).toBe(false);
      expect(text, name).not.toMatch(/\b(19|20)\d\d-[01]\d-[0-3]\d\b/);
    }
  });
});
