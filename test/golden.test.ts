// Each examples/*.yaml compiles to test/golden/<example>/: first the list of paths with mode and
// owner (INDEX), then every file's content.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build, allTargets } from '../src/compiler/build.js';
import { modeString } from '../src/compiler/bundle.js';
import { MHC_VERSION } from '../src/generated/version.js';
import { compileFile, EXAMPLES, ROOT } from './helpers.js';
import { golden, listTree, UPDATE, writeTree } from './golden-util.js';
import { buildText } from './helpers.js';
import { syntheticCluster } from '../bench/synthetic.mjs';

const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('golden bundles', () => {
  it('has the four examples the project promises', () => {
    expect(examples).toEqual(['five_controllers.yaml', 'my_multihead_cluster.yaml', 'slurm_only.yaml', 'two_controllers.yaml']);
  });
  for (const ex of examples) {
    const name = ex.replace(/\.yaml$/, '');
    const dir = join(ROOT, 'test', 'golden', name);
    it(`${ex} compiles to test/golden/${name}/`, () => {
      const c = compileFile(join(EXAMPLES, ex));
      const r = build({ model: c.model, literals: c.literals!, inputSha256: c.inputSha256, mhcVersion: MHC_VERSION, targets: allTargets(c.model) });
      expect(r.diagnostics).toEqual([]);
      const files = r.files!;
      const index = files.map((f) => `${modeString(f.mode)} ${f.owner}:${f.group} ${f.path}`).join('\n') + '\n';
      const tree = new Map<string, string>([['INDEX', index], ...files.map((f) => [`tree/${f.path}`, f.content] as [string, string])]);
      writeTree(dir, tree);
      // paths and modes first: a missing or extra file is reported before any content diff
      expect(index).toBe(golden(join(dir, 'INDEX'), index));
      expect(listTree(join(dir, 'tree'))).toEqual(files.map((f) => f.path).sort());
      for (const f of files) {
        expect(f.content, f.path).toBe(UPDATE ? f.content : readFileSync(join(dir, 'tree', f.path), 'utf8'));
      }
    });
  }

  // deploy/ at 10,000 compute nodes (bench/synthetic): the fan-out files only (the bundles of this
  // cluster are the examples' kind; its groups, inventory and genders are what 10,000 nodes change)
  it('the synthetic 5 + 10,000 node cluster: deploy/ compiles to test/golden/synthetic-10000/', () => {
    const dir = join(ROOT, 'test', 'golden', 'synthetic-10000');
    const files = [...buildText(syntheticCluster(10000)).values()].filter((f) => f.path.startsWith('deploy/'));
    const index = files.map((f) => `${modeString(f.mode)} ${f.owner}:${f.group} ${f.path}`).join('\n') + '\n';
    writeTree(dir, new Map<string, string>([['INDEX', index], ...files.map((f) => [`tree/${f.path}`, f.content] as [string, string])]));
    expect(index).toBe(golden(join(dir, 'INDEX'), index));
    expect(listTree(join(dir, 'tree'))).toEqual(files.map((f) => f.path).sort());
    for (const f of files) expect(f.content, f.path).toBe(UPDATE ? f.content : readFileSync(join(dir, 'tree', f.path), 'utf8'));
  });
});
