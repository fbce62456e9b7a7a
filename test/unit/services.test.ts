// The service registry (src/emitters/services.ts): every service's descriptor, owned by its
// emitter, is the one place the scripts, the health check, the backup and the port table read.
// These tests hold the registry to that: complete, consistent, and what the bundles carry.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVICES } from '../../src/compiler/model.js';
import { EMITTERS } from '../../src/emitters/index.js';
import { backupItems, checksOf, phases, selectable, services, servicesHere } from '../../src/emitters/services.js';
import { CHANGE_ACTIONS } from '../../src/emitters/service.js';
import { BundleFiles, CompilerBug } from '../../src/compiler/bundle.js';
import { EXAMPLES, buildFile, compileFile } from '../helpers.js';

const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => join(EXAMPLES, f));

describe('the service registry', () => {
  it('lists the Model services in start order, then the node-wide backup, with phases 1…n after phase 0', () => {
    expect(selectable().map((d) => d.key)).toEqual([...SERVICES]);
    expect(services().map((d) => d.key)).toEqual([...SERVICES, 'backup']);
    expect(phases().map((p) => p.number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(phases().map((p) => p.name)).toEqual(['infrastructure', 'storage', 'database', 'redis', 'slurm', 'keepalived', 'web', 'backup']);
  });

  it('no name means two services: keys, aliases and phase names are unique', () => {
    const names = services().flatMap((d) => [d.key, ...d.aliases]);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(phases().map((p) => p.name)).size).toBe(phases().length);
    const items = backupItems();
    expect(new Set(items).size).toBe(items.length);
  });

  it("each service emitter names its descriptor, and every installed file gets its descriptor's change rule", () => {
    const owned = EMITTERS.flatMap((e) => (e.service ? [e.service.key] : []));
    for (const d of selectable()) expect(owned, d.key).toContain(d.key);
    for (const ex of examples) {
      for (const f of buildFile(ex).values()) {
        if (!f.dest) continue;
        expect(CHANGE_ACTIONS, f.path).toContain(f.from.change?.action);
        expect(f.from.change!.rule.length, f.path).toBeGreaterThan(10);
      }
    }
  });

  it('lib/facts.sh carries the registry: labels, aliases, units, phases and packages of each node', () => {
    for (const ex of examples) {
      const { model } = compileFile(ex);
      const files = buildFile(ex);
      for (const c of model.controllers) {
        const facts = files.get(`${c.hostname}/lib/facts.sh`)!.content;
        expect(facts).toContain(`declare -gra MHC_ALL_SERVICES=(${SERVICES.join(' ')})`);
        expect(facts).toContain("[mariadb]='MariaDB Galera'");
        expect(facts).toContain('[database]=mariadb');
        const here = servicesHere(model, c);
        const flags = phases().map((p) => (p.key === '' || here.some((d) => d.key === p.key) ? 1 : 0));
        expect(facts, c.hostname).toContain(`declare -gra MHC_PHASE_HERE=(${flags.join(' ')})`);
        for (const d of here) {
          const units = d.units(model, c);
          expect(units.length, `${c.hostname} ${d.key}`).toBeGreaterThan(0);
          expect(facts).toContain(`[${d.key}]=${units.length > 1 ? `'${units.join(' ')}'` : units[0]}`);
        }
      }
    }
  });

  it('the health check asks exactly what the descriptors say, in phase order', () => {
    for (const ex of examples) {
      const { model } = compileFile(ex);
      for (const c of model.controllers) {
        const list = checksOf(model, c);
        const order = list.map((k) => services().findIndex((d) => d.key === k.service));
        expect(order, c.hostname).toEqual([...order].sort((a, b) => a - b));
        for (const k of list) expect(c.services as readonly string[], k.name).toContain(k.service);
      }
    }
  });
});

describe('provenance', () => {
  const writer = (name: string) => ({ name, service: { key: 'x', change: () => ({ action: 'none' as const, rule: 'test rule' }) } });

  it('a second writer of one path is refused, and the message names both emitters', () => {
    const b = new BundleFiles('n');
    b.add(writer('alpha'), { path: 'files/etc/x.conf', content: 'a' });
    expect(() => b.add(writer('beta'), { path: 'files/etc/x.conf', content: 'b' })).toThrow(new CompilerBug('two emitters wrote n/files/etc/x.conf: alpha and beta'));
  });

  it('an installed file needs a change rule: from its service, or its own', () => {
    const b = new BundleFiles('n');
    expect(() => b.add({ name: 'lone' }, { path: 'files/etc/y', content: 'y' })).toThrow(/lone wrote files\/etc\/y without saying what a change to it needs/);
    const f = b.add({ name: 'lone' }, { path: 'files/etc/z', content: 'z', change: { action: 'reload', rule: 'r' } });
    expect(f.from).toEqual({ emitter: 'lone', change: { action: 'reload', rule: 'r' } });
    // a script is the node's: no service, no change action
    expect(b.add(writer('alpha'), { path: 'bin/s.sh', content: 's' }).from).toEqual({ emitter: 'alpha' });
  });
});
