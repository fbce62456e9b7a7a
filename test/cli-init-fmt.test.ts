// mhc init and mhc fmt as users run them: the bundled dist/mhc.cjs in a child process.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, ROOT, SEED_INPUTS } from './helpers.js';

const MHC = join(ROOT, 'bin', 'mhc.cjs');
function mhc(args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, [MHC, ...args], { encoding: 'utf8', cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' }, timeout: 60000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const tmp = (t: string) => mkdtempSync(join(tmpdir(), `mhc-cli-${t}-`));
const noTrace = (s: string) => expect(s).not.toMatch(/\bat .*\.cjs:\d+/);

it('init and fmt have --help (exit 0)', () => {
  for (const c of ['init', 'fmt']) {
    const h = mhc([c, '--help']);
    expect(h.code, c).toBe(0);
    expect(h.out).toMatch(new RegExp(`Usage: mhc ${c}`));
  }
});

describe('mhc init', () => {
  it('prints a starting file on stdout that validate, secrets init, build and fmt --check accept', () => {
    const dir = tmp('init');
    const r = mhc(['init', '--controllers', '3', '--compute-nodes', 'cn[001-064]', '--web'], dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^# yaml-language-server: \$schema=my_multihead_cluster\.schema\.json\n/);
    writeFileSync(join(dir, 'c.yaml'), r.out);
    expect(mhc(['validate', 'c.yaml'], dir).out).toMatch(/valid \(3 controllers, 64 compute nodes\)/);
    const s = mhc(['secrets', 'init', 'c.yaml', '-o', 's.env'], dir);
    expect(s.code).toBe(0);
    const referenced = [...new Set([...r.out.matchAll(/^\s+\w+: \$\{([A-Z_]+)\}$/gm)].map((m) => m[1]!))];
    expect(referenced.length).toBeGreaterThanOrEqual(5);
    for (const name of referenced) expect(s.out, name).toContain(name);
    expect(mhc(['build', 'c.yaml', '-q'], dir).code).toBe(0);
    expect(readdirSync(join(dir, 'out', 'my-cluster')).sort()).toEqual(expect.arrayContaining(['ctl1', 'ctl2', 'ctl3', 'compute']));
    expect(mhc(['fmt', '--check', '--canonical', 'c.yaml'], dir).code).toBe(0);
  });

  it('-o writes the file (0644) and refuses to replace one (exit 2) unless --force', () => {
    const dir = tmp('init-o');
    const f = join(dir, 'c.yaml');
    const a = mhc(['init', '-o', f]);
    expect(a.code).toBe(0);
    expect(a.out).toMatch(/wrote .*c\.yaml; next: mhc secrets init/);
    expect(statSync(f).mode & 0o777).toBe(0o644);
    writeFileSync(f, 'mine\n');
    const b = mhc(['init', '-o', f]);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/exists; pass --force/);
    expect(readFileSync(f, 'utf8')).toBe('mine\n');
    expect(mhc(['init', '-o', f, '--force', '--no-redis']).code).toBe(0);
    expect(readFileSync(f, 'utf8')).toMatch(/\n# redis:\n/);
    expect(mhc(['init', '-o', join(dir, 'nodir', 'x', 'c.yaml')]).code).toBe(0);
  });

  it('bad options are usage errors (exit 2) with a message, and write nothing', () => {
    const dir = tmp('init-bad');
    for (const [args, want] of [
      [['--controllers', '0'], /--controllers must be a whole number from 1 to 254/],
      [['--controllers', '255'], /from 1 to 254, not 255/],
      [['--controllers', 'three'], /--controllers must be a whole number/],
      [['--compute-nodes', 'cn[1-'], /--compute-nodes cn\[1-: unbalanced/],
      [['--compute-nodes', 'cn[1-2]', '--no-slurm'], /needs Slurm/],
      [['--bogus'], /unknown option/],
    ] as [string[], RegExp][]) {
      const r = mhc(['init', ...args, '-o', join(dir, 'c.yaml')]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(want);
      noTrace(r.err);
      expect(existsSync(join(dir, 'c.yaml'))).toBe(false);
    }
  });

  it('prints the warnings of what it wrote', () => {
    const r = mhc(['init', '--controllers', '2']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/mhc init: warning: two Galera nodes/);
  });
});

describe('mhc fmt', () => {
  it('--check: 0 for files already formatted (the examples), 1 with a line per file and a diff', () => {
    const main = join(EXAMPLES, 'my_multihead_cluster.yaml');
    expect(mhc(['fmt', '--check', '--canonical', main]).code).toBe(0);
    const five = join(EXAMPLES, 'five_controllers.yaml');
    expect(mhc(['fmt', '--check', five, main]).code).toBe(0);
    const r = mhc(['fmt', '--check', '--canonical', five, main, ...SEED_INPUTS]);
    expect(r.code).toBe(1);
    const lines = r.err.trim().split('\n');
    expect(lines.every((l) => /: not canonical \(mhc fmt --canonical .* rewrites it\)$/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith(`${five}:`))).toBe(true);
    expect(lines.some((l) => l.startsWith(`${main}:`))).toBe(false);
    expect(r.out).toContain(`--- ${five}\n+++ ${five} (canonical)\n@@ `);
    expect(r.out).toMatch(/\n-nodes:\n/);
  });

  it('rewrites in place atomically, keeping the mode and a symbolic link; then --check passes; a second run changes nothing', () => {
    const dir = tmp('fmt');
    const f = join(dir, 'five.yaml');
    cpSync(join(EXAMPLES, 'five_controllers.yaml'), f);
    chmodSync(f, 0o640);
    symlinkSync('five.yaml', join(dir, 'link.yaml'));
    const r = mhc(['fmt', '--canonical', 'link.yaml'], dir);
    expect(r.code).toBe(0);
    expect(r.out).toBe('link.yaml: rewritten (canonical)\n');
    expect(lstatSync(join(dir, 'link.yaml')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'link.yaml'))).toBe('five.yaml');
    expect(statSync(f).mode & 0o7777).toBe(0o640);
    expect(readFileSync(f, 'utf8')).toMatch(/\ncontrollers:\n {2}- hostname: ctl1\n {4}ip: 172\.16\.10\.11\n/);
    expect(readdirSync(dir).sort()).toEqual(['five.yaml', 'link.yaml']); // no temporary file left
    expect(mhc(['fmt', '--check', '--canonical', 'five.yaml'], dir).code).toBe(0);
    const again = mhc(['fmt', '--canonical', 'five.yaml'], dir);
    expect([again.code, again.out]).toEqual([0, '']);
    expect(mhc(['validate', 'five.yaml'], dir).code).toBe(0);
  });

  it('--stdout prints instead of writing', () => {
    const dir = tmp('fmt-stdout');
    const f = join(dir, 'two.yaml');
    cpSync(join(EXAMPLES, 'two_controllers.yaml'), f);
    const before = readFileSync(f, 'utf8');
    const r = mhc(['fmt', '--canonical', '--stdout', f]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\n {2}vip:\n {4}address: 10\.20\.0\.100\n {4}netmask: 255\.255\.255\.0\n {4}interface: ens18\n/);
    expect(readFileSync(f, 'utf8')).toBe(before);
  });

  it('an invalid file gets the diagnostics (file:line:col, the line, a caret) and exit 1, and is left as it is', () => {
    const dir = tmp('fmt-bad');
    const f = join(dir, 'bad.yaml');
    const text = 'cluster:\n  name: x\ncontrollers:\n  - hostname: a\n    ip: 1.2.3\n  - hostname: b\n    ip: 1.2.3.256\n';
    writeFileSync(f, text);
    const r = mhc(['fmt', '--canonical', f]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${f}:5:9: error[E209]`);
    expect(r.err).toContain(' 5 |     ip: 1.2.3\n   |         ^^^^^\n');
    expect(r.err).toContain(`${f}:7:9: error[E209]`);
    expect(r.err).toMatch(/is not valid: 2 errors, 0 warnings; it was left as it is/);
    noTrace(r.err);
    expect(readFileSync(f, 'utf8')).toBe(text);
    expect(readdirSync(dir)).toEqual(['bad.yaml']);
  });

  it('usage and I/O errors: 2 and 3; with several files the worst code wins and every file is done', () => {
    const dir = tmp('fmt-io');
    expect(mhc(['fmt']).code).toBe(2);
    expect(mhc(['fmt', '--check', '--stdout', join(EXAMPLES, 'slurm_only.yaml')]).code).toBe(2);
    const missing = mhc(['fmt', join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/cannot read .*nope\.yaml: no such file/);
    expect(mhc(['fmt', dir]).code).toBe(3);
    const f = join(dir, 'two.yaml');
    cpSync(join(EXAMPLES, 'two_controllers.yaml'), f);
    const both = mhc(['fmt', '--canonical', join(dir, 'nope.yaml'), f]);
    expect(both.code).toBe(3);
    expect(both.out).toContain('two.yaml: rewritten (canonical)');
  });
});
