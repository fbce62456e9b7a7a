// Configless Slurm (slurm.configless: true): the controllers' slurm.conf serves the compute nodes
// (enable_configless), slurmd starts with --conf-server listing the controllers in SlurmctldHost
// order, the compute bundle holds only what must still be pushed, and `mhc audit` knows the rules.
import { describe, expect, it } from 'vitest';
import { auditTree } from '../../src/review/audit.js';
import type { RawFile } from '../../src/review/side.js';
import { BASE, edit, treeFiles, V } from '../review/fixtures.js';
import { buildText, compileText } from '../helpers.js';

const CONFIGLESS = edit(BASE, 'slurm:\n', 'slurm:\n  configless: true\n');
const a305 = (files: RawFile[]) => auditTree('out/rev', files, [], V).findings.filter((f) => f.code === 'A305');

describe('configless Slurm', () => {
  it('is off by default', () => {
    expect(compileText(BASE).model.slurm!.configless).toBe(false);
    expect(buildText(BASE).get('compute/files/etc/slurm/slurm.conf')).toBeDefined();
    expect(buildText(BASE).get('c1/files/etc/slurm/slurm.conf')!.content).not.toContain('enable_configless');
  });

  it('controllers enable it; the compute bundle holds the munge key, the hosts block, slurmd options and its drop-in only', () => {
    const files = buildText(CONFIGLESS);
    const model = compileText(CONFIGLESS).model;
    expect(files.get('c1/files/etc/slurm/slurm.conf')!.content).toMatch(/^SlurmctldParameters=enable_configless$/m);
    const compute = [...files.keys()].filter((p) => p.startsWith('compute/files/')).sort();
    expect(compute).toEqual([
      'compute/files/etc/default/slurmd',
      'compute/files/etc/mhc/hosts',
      'compute/files/etc/munge/munge.key.b64',
      'compute/files/etc/systemd/system/slurmd.service.d/10-mhc.conf',
    ]);
    // Debian 12's slurmd.service: ConditionPathExists=/etc/slurm/slurm.conf, which a configless node lacks
    expect(files.get('compute/files/etc/systemd/system/slurmd.service.d/10-mhc.conf')!.content).toMatch(/^\[Unit\]\nConditionPathExists=\n$/m);
    const servers = model.slurm!.controllers.map((c) => `${c.hostname}:6817`).join(',');
    expect(files.get('compute/files/etc/default/slurmd')!.content).toContain(`SLURMD_OPTIONS="--conf-server ${servers}"\n`);
  });

  it('audit: A305 for a served file in the compute bundle; slurm.conf alike on the controllers only', () => {
    const clean = treeFiles(CONFIGLESS);
    expect(a305(clean)).toEqual([]);
    expect(auditTree('out/rev', clean, [], V).findings.filter((f) => f.code === 'A301')).toEqual([]);
    const conf = clean.find((f) => f.path === 'c1/files/etc/slurm/slurm.conf')!;
    const shipped = [...clean, { ...conf, path: 'compute/files/etc/slurm/slurm.conf' }];
    expect(a305(shipped).map((f) => f.message)).toEqual(['/etc/slurm/slurm.conf is in the compute bundle, but slurm.configless is on']);
    const noServer = clean.filter((f) => f.path !== 'compute/files/etc/default/slurmd');
    expect(a305(noServer).map((f) => f.message)).toEqual(['slurm.configless is on, but the compute bundle does not start slurmd with --conf-server']);
    const noDropin = clean.filter((f) => f.path !== 'compute/files/etc/systemd/system/slurmd.service.d/10-mhc.conf');
    expect(a305(noDropin).map((f) => f.message)).toEqual(["slurm.configless is on, but the compute bundle does not reset slurmd.service's ConditionPathExists=/etc/slurm/slurm.conf"]);
  });
});
