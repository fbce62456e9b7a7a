// A bug in mhc is an internal error: `mhc: internal error[E900]: …`, a line asking for a bug
// report, exit 4, the stack only with MHC_DEBUG=1 — and never mistaken for the input's fault (a
// YAML syntax error at 1:1) or for an I/O error (exit 3), which a failed system call still is.
// In process: main() with a module made to fail (vi.mock), so the product needs no test hook.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CompilerBug } from '../src/compiler/bundle.js';
import { EXAMPLES } from './helpers.js';

/** What the mocked modules do instead of their work, when set. */
const fault = vi.hoisted(() => ({
  build: undefined as (() => never) | undefined,
  checkRules: undefined as (() => never) | undefined,
  compareSides: undefined as (() => never) | undefined,
  printYaml: undefined as ((text: string) => string) | undefined,
}));

vi.mock('../src/compiler/build.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../src/compiler/build.js')>();
  return { ...m, build: (...a: Parameters<typeof m.build>) => (fault.build ? fault.build() : m.build(...a)) };
});
vi.mock('../src/compiler/rules.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../src/compiler/rules.js')>();
  return { ...m, checkRules: (...a: Parameters<typeof m.checkRules>) => (fault.checkRules ? fault.checkRules() : m.checkRules(...a)) };
});
vi.mock('../src/review/compare.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../src/review/compare.js')>();
  return { ...m, compareSides: (...a: Parameters<typeof m.compareSides>) => (fault.compareSides ? fault.compareSides() : m.compareSides(...a)) };
});
vi.mock('../src/compiler/yaml-print.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../src/compiler/yaml-print.js')>();
  return {
    ...m,
    printYaml: (...a: Parameters<typeof m.printYaml>) => {
      const text = m.printYaml(...a);
      return fault.printYaml ? fault.printYaml(text) : text;
    },
  };
});

const { EXIT, main } = await import('../src/cli.js');

const MAIN = join(EXAMPLES, 'my_multihead_cluster.yaml');
const HINT = 'mhc: this is a bug in mhc, not a problem with your input: please report it with the input and the command line (MHC_DEBUG=1 prints where it happened)\n';

async function run(argv: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  vi.stubEnv('MHC_DEBUG', undefined);
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  }
}

const tmp = () => mkdtempSync(join(tmpdir(), 'mhc-internal-'));

afterEach(() => {
  fault.build = fault.checkRules = fault.compareSides = undefined;
  fault.printYaml = undefined;
});

describe('internal errors (E900, exit 4)', () => {
  it('a CompilerBug in build: two lines, exit 4, nothing written, no stack trace', async () => {
    expect(EXIT.INTERNAL).toBe(4);
    fault.build = () => {
      throw new CompilerBug('two emitters wrote server1/files/etc/hosts');
    };
    const out = tmp();
    const r = await run(['build', MAIN, '-o', out]);
    expect(r.code).toBe(4);
    expect(r.err).toBe(`mhc: internal error[E900]: two emitters wrote server1/files/etc/hosts\n${HINT}`);
    expect(r.out).toBe('');
    expect(readdirSync(out)).toEqual([]);
  });

  it('MHC_DEBUG=1 adds the stack (and only then)', async () => {
    fault.build = () => {
      throw new CompilerBug('keepalived node server2 has no priority');
    };
    const quiet = await run(['build', MAIN, '-o', tmp()], { MHC_DEBUG: '0' });
    expect(quiet.err).not.toMatch(/\n\s+at /);
    const r = await run(['build', MAIN, '-o', tmp()], { MHC_DEBUG: '1' });
    expect(r.code).toBe(4);
    expect(r.err.startsWith(`mhc: internal error[E900]: keepalived node server2 has no priority\n${HINT}Error: keepalived node server2 has no priority\n`)).toBe(true);
    expect(r.err).toMatch(/\n\s+at .*internal-error\.test\.ts:\d+:\d+/); // where it was thrown
  });

  it('a bug while compiling is E900, not a YAML syntax error (E102) at 1:1', async () => {
    fault.checkRules = () => {
      throw new TypeError("Cannot read properties of undefined (reading 'hostname')");
    };
    for (const argv of [
      ['validate', MAIN],
      ['validate', MAIN, '--format', 'json'],
      ['build', MAIN, '-o', tmp()],
    ]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(4);
      expect(r.err).toBe(`mhc: internal error[E900]: Cannot read properties of undefined (reading 'hostname')\n${HINT}`);
      expect(r.err + r.out).not.toMatch(/E102|:1:1/);
    }
  });

  it('a bug in a review command exits 4 too (diff used to say exit 2)', async () => {
    fault.compareSides = () => {
      throw new CompilerBug('no side');
    };
    const r = await run(['diff', MAIN, MAIN]);
    expect(r.code).toBe(4);
    expect(r.err).toBe(`mhc: internal error[E900]: no side\n${HINT}`);
  });

  it("fmt's self-check: a result that would build another cluster is a bug in fmt (exit 4); the file is left as it is", async () => {
    fault.printYaml = (text) => text.replace(/hpc-prod/g, 'hpc-other');
    const d = tmp();
    const f = join(d, 'c.yaml');
    const before = readFileSync(MAIN, 'utf8').replace(/^( {2}name: hpc-prod)$/m, '$1   # spaced'); // not in mhc's layout
    writeFileSync(f, before);
    const r = await run(['fmt', f]);
    expect(r.code).toBe(4);
    expect(r.err).toBe(`mhc: internal error[E900]: ${f}: mhc fmt: the result describes another cluster; the file was left as it is\n${HINT}`);
    expect(readFileSync(f, 'utf8')).toBe(before);
  });

  it('a failed system call that no layer wrapped is still an I/O error (exit 3), not a bug', async () => {
    fault.build = () => {
      readFileSync('/nonexistent/mhc-internal-test'); // throws ENOENT, as node:fs does
      throw new Error('unreachable');
    };
    const r = await run(['build', MAIN, '-o', tmp()]);
    expect(r.code).toBe(3);
    expect(r.err).toBe("mhc: ENOENT: no such file or directory, open '/nonexistent/mhc-internal-test'\n");
  });

  it('real input and I/O errors keep their codes', async () => {
    expect((await run(['validate', '/nonexistent/cluster.yaml'])).code).toBe(3);
    expect((await run(['build', MAIN, '-o', '/proc/nope'])).code).toBe(3);
    const bad = join(tmp(), 'bad.yaml');
    writeFileSync(bad, 'cluster: [\n');
    const r = await run(['validate', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.yaml:\d+:\d+: error\[E102\]/);
    expect((await run(['validate', MAIN])).code).toBe(0);
  });
});
