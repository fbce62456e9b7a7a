// `mhc report` as users run it (bin/mhc.cjs; `npm test` builds it first): stdout or -o FILE,
// a YAML, a built tree or both, and the exit codes (1 invalid input, 2 usage, 3 I/O).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { BASE, edit } from './fixtures.js';

const MHC = join(ROOT, 'bin', 'mhc.cjs');
const dir = mkdtempSync(join(tmpdir(), 'mhc-report-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function mhc(...args: string[]) {
  const r = spawnSync(process.execPath, [MHC, ...args], { encoding: 'utf8', cwd: dir, env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('mhc report (CLI)', () => {
  writeFileSync(join(dir, 'a.yaml'), BASE);
  writeFileSync(join(dir, 'b.yaml'), edit(BASE, '  - { hostname: c3, ip: 10.9.0.13, priority: 80 }\n', ''));

  it('writes the page to stdout, or with -o to a file (0644, replaced on the next run), same bytes', () => {
    const r = mhc('report', 'a.yaml');
    expect(r.code).toBe(0);
    expect(r.out.startsWith('<!doctype html>')).toBe(true);
    expect(r.err).toBe('');
    const w = mhc('report', 'a.yaml', '-o', 'out/report.html');
    expect(w.code).toBe(0);
    expect(w.out).toBe(`wrote out/report.html (${Buffer.byteLength(r.out)} bytes)\n`);
    expect(readFileSync(join(dir, 'out', 'report.html'), 'utf8')).toBe(r.out);
    expect(statSync(join(dir, 'out', 'report.html')).mode & 0o777).toBe(0o644);
    expect(mhc('report', 'b.yaml', '-o', 'out/report.html').code).toBe(0);
    expect(readFileSync(join(dir, 'out', 'report.html'), 'utf8')).not.toBe(r.out);
  });

  it('OLD NEW: a YAML against a built tree', () => {
    expect(mhc('build', 'a.yaml', '-o', 'built', '--quiet').code).toBe(0);
    const r = mhc('report', 'built/rev', 'b.yaml');
    expect(r.code).toBe(0);
    expect(r.out).toContain('change from <b>built/rev (built tree)</b> to <b>b.yaml (cluster YAML)</b>');
    expect(r.out).toContain('controller c3 removed');
  });

  it('an invalid YAML: the diagnostics mhc validate prints, exit 1, no page', () => {
    writeFileSync(join(dir, 'bad.yaml'), edit(BASE, 'hostname: c2', 'hostnme: c2'));
    const v = mhc('validate', 'bad.yaml');
    const r = mhc('report', 'bad.yaml', '-o', 'bad.html');
    expect(r.code).toBe(1);
    expect(r.err).toBe(v.err);
    expect(r.err).toMatch(/^bad\.yaml:\d+:\d+: error\[E204\][^]*error\[E201\][^]*hint: did you mean "hostname"/);
    expect(r.out).toBe('');
    expect(() => statSync(join(dir, 'bad.html'))).toThrow();
    expect(mhc('report', 'a.yaml', 'bad.yaml').code).toBe(1);
  });

  it('a directory that is no tree, or a tree without cluster.json: exit 3 / 1', () => {
    mkdirSync(join(dir, 'empty'));
    expect(mhc('report', 'empty').code).toBe(3);
    mkdirSync(join(dir, 'nojson'));
    writeFileSync(join(dir, 'nojson', 'SHA256SUMS'), '');
    const r = mhc('report', 'nojson');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/nojson has no readable cluster\.json/);
  });

  it('usage and I/O errors: exit 2 and 3', () => {
    const h = mhc('report', '--help');
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/^Usage: mhc report \[options\] <input> \[new\]/);
    expect(mhc('report').code).toBe(2);
    expect(mhc('report', 'a.yaml', 'b.yaml', 'a.yaml').code).toBe(2);
    expect(mhc('report', 'missing.yaml').code).toBe(3);
    mkdirSync(join(dir, 'adir'));
    const r = mhc('report', 'a.yaml', '-o', 'adir');
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/refusing to replace adir/);
  });
});
