// The install allowlist is derived from what the emitters emit: every dest of every example (and
// of the variants that switch on what the examples leave off) lies inside it, the node's rule
// accepts it, and every allowed directory is used by some build.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkDest, INSTALL_ROOTS, installRootProblem } from '../../src/compiler/node-rules.js';
import { buildText, EXAMPLES } from '../helpers.js';

const texts = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => readFileSync(join(EXAMPLES, f), 'utf8'));
const MAIN = readFileSync(join(EXAMPLES, 'my_multihead_cluster.yaml'), 'utf8');

describe('dest rule', () => {
  it('every emitted dest passes checkDest and lies inside INSTALL_ROOTS; every root is used', () => {
    const used = new Set<string>();
    for (const t of [...texts, MAIN.replace('mode: auto', 'mode: sentinel')]) {
      for (const f of buildText(t).values()) {
        if (!f.dest) continue;
        expect(checkDest(f.dest), f.dest).toBeUndefined();
        expect(installRootProblem(f.dest), f.dest).toBeUndefined();
        used.add(INSTALL_ROOTS.find((r) => f.dest!.startsWith(r))!);
      }
    }
    expect([...used].sort()).toEqual([...INSTALL_ROOTS].sort());
  });

  it('refuses relative, unnormalized and odd-character dests, and places mhc never writes', () => {
    for (const d of ['etc/x', '/etc/mhc/../x', '/etc/mhc//x', '/etc/mhc/./x', '/etc/mhc/', '/etc/mhc/x y', '/etc/mhc/\u001b']) expect(checkDest(d), d).toBeDefined();
    for (const d of [
      '/root/.ssh/authorized_keys',
      '/etc/sudoers',
      '/etc/sudoers.d/x',
      '/etc/cron.d/x',
      '/etc/shadow',
      '/etc/ld.so.preload',
      '/etc/profile.d/x.sh',
      '/etc/systemd/system-generators/x',
      '/etc/systemd/system/x.target.wants/y.service',
      '/usr/bin/x',
      '/etc/mhcx/y',
    ])
      expect(installRootProblem(d), d).toBeDefined();
    expect(installRootProblem('/etc/systemd/system/redis-server@mhc.service.d/mhc-umask.conf')).toBeUndefined();
  });
});
