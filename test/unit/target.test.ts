// target.os: the OS release the bundles are for. Default debian12; the Model carries the release's
// facts (targets.ts), manifest.json records the release, `mhc init --target` writes it, `mhc fmt
// --canonical` places it after cluster:, and emitters choose by the facts (nginx's http2).
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/compile.js';
import { fmt } from '../../src/compiler/fmt.js';
import { init } from '../../src/compiler/init.js';
import { describeKey } from '../../src/compiler/schema.js';
import { TARGET_OSES, targetFacts } from '../../src/compiler/targets.js';
import { buildText, compileText, withTarget } from '../helpers.js';

const BASE = `cluster: { name: t }
network: { vip: 10.9.0.100 }
controllers:
  - { hostname: c1, ip: 10.9.0.11 }
  - { hostname: c2, ip: 10.9.0.12 }
  - { hostname: c3, ip: 10.9.0.13 }
web: { services: [dashboard] }
`;
const D13 = `${BASE}target: { os: debian13 }\n`;
const SITE = 'c1/files/etc/nginx/sites-available/mhc.conf';

describe('target.os', () => {
  it('defaults to debian12 (bookworm: Slurm 22.05, nginx 1.22); debian13 is trixie (Slurm 24.11, nginx 1.26)', () => {
    expect(compileText(BASE).model.target).toEqual(targetFacts('debian12'));
    expect(compileText(BASE).model.target).toMatchObject({ os: 'debian12', release: 'bookworm', versions: { slurm: '22.05', nginx: '1.22', mariadb: '10.11', redis: '7.0' } });
    expect(compileText(D13).model.target).toMatchObject({ os: 'debian13', release: 'trixie', versions: { slurm: '24.11', nginx: '1.26', mariadb: '11.8', redis: '8.0' } });
    expect(Object.isFrozen(compileText(D13).model.target.versions)).toBe(true);
  });

  it('refuses an unknown release with its line and the ones it knows', () => {
    const c = compile('t.yaml', Buffer.from(`${BASE}target: { os: ubuntu2404 }\n`));
    expect(c.model).toBeUndefined();
    const e = c.diagnostics.find((d) => d.severity === 'error')!;
    expect(e.message).toMatch(/debian12.*debian13/);
    expect(c.loaded.source!.position(e.span!.start).line).toBe(BASE.split('\n').length);
    expect(compile('t.yaml', Buffer.from(`${BASE}target: { release: trixie }\n`)).model).toBeUndefined();
  });

  it('is described in the schema (mhc init and the JSON Schema show it)', () => {
    expect(describeKey(['target'])).toBeTruthy();
    expect(describeKey(['target', 'os'])).toMatch(/debian12.*debian13/);
  });

  it('every manifest.json and cluster.json record it', () => {
    for (const [text, os] of [
      [BASE, 'debian12'],
      [D13, 'debian13'],
    ] as const) {
      const files = buildText(text);
      const manifests = [...files.values()].filter((f) => f.path.endsWith('/manifest.json'));
      expect(manifests.length).toBe(3);
      for (const m of manifests) expect(JSON.parse(m.content).target, m.path).toBe(os);
      expect(JSON.parse(files.get('cluster.json')!.content).target.os).toBe(os);
    }
  });

  it('nginx: `listen 443 ssl http2` for 1.22, `listen 443 ssl` + `http2 on` from 1.25.1', () => {
    const s12 = buildText(BASE).get(SITE)!.content;
    const s13 = buildText(D13).get(SITE)!.content;
    expect(s12).toContain('    listen 443 ssl http2;\n');
    expect(s12).not.toMatch(/http2 on;/);
    expect(s13).toContain('    listen 443 ssl;\n    http2 on;\n');
    expect(s13).not.toMatch(/listen .*http2/);
    // nothing else differs between the two sites
    expect(s13.replace('    listen 443 ssl;\n    http2 on;\n', '    listen 443 ssl http2;\n')).toBe(s12);
  });

  it('mhc init writes it (--target), after cluster:, and refuses an unknown one', () => {
    for (const os of TARGET_OSES) {
      const r = init({ target: os });
      if (!('text' in r)) throw new Error(r.problems.join('; '));
      expect(r.text).toMatch(new RegExp(`\\ntarget:\\n(?:  #.*\\n)*  os: ${os}\\n`));
      expect(r.text.indexOf('\ntarget:')).toBeGreaterThan(r.text.indexOf('\ncluster:'));
      expect(r.text.indexOf('\ntarget:')).toBeLessThan(r.text.indexOf('\nnetwork:'));
      expect(compileText(r.text).model.target.os).toBe(os);
    }
    const bad = init({ target: 'debian11' });
    expect('problems' in bad && bad.problems.join(' ')).toMatch(/--target "debian11": one of debian12, debian13/);
  });

  it('mhc fmt --canonical moves it after cluster: and keeps it', () => {
    const r = fmt('t.yaml', Buffer.from(D13), { canonical: true });
    expect(r.text).toBeDefined();
    expect(r.text!.indexOf('target:')).toBeLessThan(r.text!.indexOf('network:'));
    expect(compileText(r.text!).model.target.os).toBe('debian13');
  });

  it('withTarget (the daemon tests) sets it on any example text', () => {
    expect(compileText(withTarget(BASE, 'debian13')).model.target.os).toBe('debian13');
    expect(compileText(withTarget(D13, 'debian12')).model.target.os).toBe('debian12');
  });
});
