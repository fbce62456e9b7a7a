// The CLI as users run it: the bundled dist/mhc.cjs in a child process (npm test builds it).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { AWKWARD, EXAMPLES, REFUSED_SEEDS, ROOT, SEEDS } from './helpers.js';
import { jsonSchema } from '../src/compiler/schema.js';

const MHC = join(ROOT, 'bin', 'mhc.cjs');
const MAIN = join(EXAMPLES, 'my_multihead_cluster.yaml');

function mhc(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeout?: number } = {}) {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...(opts.env ?? {}) };
  const r = spawnSync(process.execPath, [MHC, ...args], { encoding: 'utf8', env, cwd: opts.cwd ?? ROOT, timeout: opts.timeout ?? 60000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const tmp = (t: string) => mkdtempSync(join(tmpdir(), `mhc-cli-${t}-`));

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

describe('mhc CLI', () => {
  it('prints --version and --help for every command (exit 0)', () => {
    const v = mhc(['--version']);
    expect(v.code).toBe(0);
    expect(v.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
    for (const c of [[], ['validate'], ['build'], ['schema'], ['secrets'], ['secrets', 'init']]) {
      const h = mhc([...c, '--help']);
      expect(h.code, c.join(' ')).toBe(0);
      expect(h.out).toMatch(/Usage: mhc/);
    }
  });

  it('usage errors exit 2', () => {
    expect(mhc(['frobnicate']).code).toBe(2);
    expect(mhc(['build']).code).toBe(2);
    expect(mhc(['validate', MAIN, '--format', 'xml']).code).toBe(2);
    expect(mhc(['build', MAIN, '--bogus']).code).toBe(2);
  });

  it('a missing file is an I/O error (exit 3), without a stack trace', () => {
    const r = mhc(['validate', '/nonexistent/cluster.yaml']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/cannot read \/nonexistent\/cluster\.yaml: no such file/);
    expect(r.err).not.toMatch(/\bat .*\.cjs:\d+/);
  });

  it('validate: text and json', () => {
    const ok = mhc(['validate', MAIN]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/valid \(3 controllers, 6 compute nodes\)/);
    const bad = mhc(['validate', join(ROOT, 'test/errors/many-problems-at-once/input.yaml'), '--format', 'json']);
    expect(bad.code).toBe(1);
    const j = JSON.parse(bad.out);
    expect(j.valid).toBe(false);
    expect(j.errors).toBe(5);
    expect(j.diagnostics[0]).toMatchObject({ line: 14, col: 9, code: 'E209', severity: 'error' });
    const warn = mhc(['validate', join(EXAMPLES, 'two_controllers.yaml')]);
    expect(warn.code).toBe(0);
    expect(warn.err).toMatch(/warning\[W303\]/);
  });

  it('every error case exits 1 with file:line:col and leaves no output tree', () => {
    const out = tmp('bad');
    for (const c of readdirSync(join(ROOT, 'test/errors'))) {
      const input = join(ROOT, 'test/errors', c, 'input.yaml');
      const expected = readFileSync(join(ROOT, 'test/errors', c, 'expected.txt'), 'utf8');
      if (!expected.endsWith('exit: 1\n')) continue;
      const r = mhc(['build', input, '-o', out]);
      expect(r.code, c).toBe(1);
      expect(r.err, c).toMatch(/input\.yaml:\d+:\d+: error\[E\d{3}\]/);
      expect(r.err, c).not.toMatch(/\n\s+at /);
    }
    expect(readdirSync(out)).toEqual([]);
  });

  it('build writes the layout, prints a summary, and replaces an older tree whole', () => {
    const out = tmp('build');
    const r = mhc(['build', MAIN, '-o', out]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/3 controller bundles \+ 1 compute bundle \(6 nodes\), \d+ files, \d+ bytes/);
    const root = join(out, 'hpc-prod');
    for (const p of ['SHA256SUMS', 'cluster.json', 'server1/manifest.json', 'server1/files/etc/mhc/hosts', 'compute/manifest.json']) expect(existsSync(join(root, p)), p).toBe(true);
    // a stray file in the old tree must not survive a rebuild
    writeFileSync(join(root, 'server1', 'stray.txt'), 'x');
    expect(mhc(['build', MAIN, '-o', out, '--quiet']).out).toBe('');
    expect(existsSync(join(root, 'server1', 'stray.txt'))).toBe(false);
    // an invalid config leaves the old tree untouched
    const before = readFileSync(join(root, 'SHA256SUMS'), 'utf8');
    const badDir = tmp('badcfg');
    writeFileSync(join(badDir, 'c.yaml'), readFileSync(MAIN, 'utf8').replace('hostname: server2', 'hostname: server2;reboot'));
    expect(mhc(['build', join(badDir, 'c.yaml'), '-o', out]).code).toBe(1);
    expect(readFileSync(join(root, 'SHA256SUMS'), 'utf8')).toBe(before);
    // no temporary leftovers: beside the tree only the spare, which holds empty directories and its marker only
    expect(readdirSync(out).filter((n) => n.startsWith('.'))).toEqual(['.hpc-prod.spare']);
    const spare = join(out, '.hpc-prod.spare');
    for (const r of readdirSync(spare, { recursive: true, encoding: 'utf8' })) expect(statSync(join(spare, r)).isDirectory() || r === '.mhc-tree', r).toBe(true);
    // SHA256SUMS matches the files
    for (const line of before.trim().split('\n')) {
      const [sum, path] = line.split('  ');
      expect(
        createHash('sha256')
          .update(readFileSync(join(root, path!)))
          .digest('hex'),
        path,
      ).toBe(sum);
    }
  });

  it('--node builds only the named bundles; unknown names are usage errors with a hint', () => {
    const out = tmp('node');
    expect(mhc(['build', MAIN, '-o', out, '--node', 'server2', '--node', 'gpu001']).code).toBe(0);
    expect(readdirSync(join(out, 'hpc-prod')).sort()).toEqual(['.mhc-tree', 'SHA256SUMS', 'cluster.json', 'compute', 'server2']);
    const r = mhc(['build', MAIN, '-o', out, '--node', 'server9']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--node server9: no such node.*did you mean server1/);
  });

  it('file modes follow the manifest whatever the umask', () => {
    const out = tmp('modes');
    const r = spawnSync('sh', ['-c', `umask 077 && "${process.execPath}" "${MHC}" build "${MAIN}" -o "${out}" -q`], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const root = join(out, 'hpc-prod');
    for (const bundle of ['server1', 'compute']) {
      const man = JSON.parse(readFileSync(join(root, bundle, 'manifest.json'), 'utf8'));
      for (const f of man.files) expect((statSync(join(root, bundle, f.path)).mode & 0o7777).toString(8).padStart(4, '0'), f.path).toBe(f.mode);
    }
  });

  it('tarballs and SHA256SUMS are byte-identical across TZ, umask and output directory', () => {
    const a = tmp('det-a');
    const b = join(tmp('det-b'), 'nested', 'out');
    const build = (dir: string, tz: string, umask: string) =>
      spawnSync('sh', ['-c', `umask ${umask} && "${process.execPath}" "${MHC}" build "${MAIN}" -o "${dir}" --tar -q`], { encoding: 'utf8', env: { PATH: process.env.PATH!, TZ: tz, LC_ALL: 'C' } });
    expect(build(a, 'UTC', '022').status).toBe(0);
    expect(build(b, 'Asia/Seoul', '077').status).toBe(0);
    const tars = readdirSync(a)
      .filter((n) => n.endsWith('.tar.gz'))
      .sort();
    expect(tars).toEqual(['hpc-prod-compute.tar.gz', 'hpc-prod-server1.tar.gz', 'hpc-prod-server2.tar.gz', 'hpc-prod-server3.tar.gz']);
    for (const t of tars) expect(readFileSync(join(a, t)).equals(readFileSync(join(b, t))), t).toBe(true);
    expect(readFileSync(join(a, 'hpc-prod/SHA256SUMS'), 'utf8')).toBe(readFileSync(join(b, 'hpc-prod/SHA256SUMS'), 'utf8'));
    // gzip header mtime is 0; tar entries are root-owned with the fixed mtime, in sorted order
    const gz = readFileSync(join(a, 'hpc-prod-server1.tar.gz'));
    expect(gz.readUInt32LE(4)).toBe(0);
    const tar = gunzipSync(gz);
    const names: string[] = [];
    for (let off = 0; off + 512 <= tar.length;) {
      const name = tar
        .subarray(off, off + 100)
        .toString('utf8')
        .replace(/\0.*$/s, '');
      if (!name) break;
      names.push(name);
      expect(parseInt(tar.subarray(off + 108, off + 116).toString(), 8), name).toBe(0); // uid
      expect(parseInt(tar.subarray(off + 116, off + 124).toString(), 8), name).toBe(0); // gid
      expect(parseInt(tar.subarray(off + 136, off + 148).toString(), 8), name).toBe(0); // mtime
      const size = parseInt(tar.subarray(off + 124, off + 136).toString(), 8);
      off += 512 + Math.ceil(size / 512) * 512;
    }
    expect(names).toEqual([...names].sort());
    expect(names).toContain('server1/manifest.json');
    // SOURCE_DATE_EPOCH sets the entry mtime
    const c = tmp('det-c');
    spawnSync(process.execPath, [MHC, 'build', MAIN, '-o', c, '--tar', '-q'], { env: { PATH: process.env.PATH!, SOURCE_DATE_EPOCH: '1700000000' } });
    const tar2 = gunzipSync(readFileSync(join(c, 'hpc-prod-server1.tar.gz')));
    expect(parseInt(tar2.subarray(136, 148).toString(), 8)).toBe(1700000000);
  });

  it('no secret value reaches out/ without --embed-secrets, even when set in the environment', () => {
    const out = tmp('secrets');
    expect(mhc(['build', MAIN, '-o', out, '--tar', '-q'], { env: { ...AWKWARD } }).code).toBe(0);
    const blobs = walk(out).map((p) => (p.endsWith('.gz') ? gunzipSync(readFileSync(p)) : readFileSync(p)).toString('utf8'));
    for (const [name, value] of Object.entries(AWKWARD)) {
      for (const b of blobs) expect(b.includes(value), name).toBe(false);
    }
  });

  it('--embed-secrets fills every placeholder with the exact value and makes those files 0600', () => {
    const out = tmp('embed');
    const r = mhc(['build', MAIN, '-o', out, '-q', '--embed-secrets'], { env: { ...AWKWARD } });
    expect(r.code, r.err).toBe(0);
    const root = join(out, 'hpc-prod');
    let holders = 0;
    // every bundle directory (deploy/ is the cluster's fan-out files, no bundle)
    for (const bundle of readdirSync(root).filter((n) => n !== 'deploy' && statSync(join(root, n)).isDirectory())) {
      const man = JSON.parse(readFileSync(join(root, bundle, 'manifest.json'), 'utf8'));
      expect(man.secrets_embedded).toBe(true);
      for (const f of man.files) {
        const text = readFileSync(join(root, bundle, f.path), 'utf8');
        expect(text, f.path).not.toMatch(/@@MHC_SECRET:[A-Za-z_][A-Za-z0-9_]*(:[a-z]+)?@@/);
        if (f.secrets.length) {
          holders++;
          expect(statSync(join(root, bundle, f.path)).mode & 0o077, f.path).toBe(0);
        }
      }
    }
    // cluster.json never holds a value
    const cj = readFileSync(join(root, 'cluster.json'), 'utf8');
    for (const v of Object.values(AWKWARD)) expect(cj.includes(v)).toBe(false);
    expect(holders).toBeGreaterThanOrEqual(0);
  });

  it('--embed-secrets lists every unresolved secret in one error', () => {
    const out = tmp('unresolved');
    const r = mhc(['build', MAIN, '-o', out, '--embed-secrets']);
    if (r.code === 0) return; // only when no file needs a secret (none of the service emitters exist)
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error\[E311\]: --embed-secrets: no value for [A-Z_, ]+/);
    expect(r.err).toMatch(/hint: run `mhc secrets init CONFIG` and pass the file with --secrets/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('--embed-secrets refuses a value its consumer cannot hold, naming the consumer', () => {
    const out = tmp('refuse');
    const r = mhc(['build', MAIN, '-o', out, '-q', '--embed-secrets'], { env: { ...AWKWARD, SLURMDBD_DB_PASSWORD: 'a"b c', KEEPALIVED_AUTH_PASS: '123456789' } });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error\[E318\]: secret SLURMDBD_DB_PASSWORD cannot be used: slurmdbd\.conf/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('secrets init writes 0600 values for every secret, never overwrites without --force', () => {
    const d = tmp('init');
    const f = join(d, 'secrets.env');
    const r = mhc(['secrets', 'init', MAIN, '-o', f]);
    expect(r.code, r.err).toBe(0);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    const text = readFileSync(f, 'utf8');
    const vals = Object.fromEntries(
      text
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(Object.keys(vals).sort()).toEqual([
      'DB_ROOT_PASSWORD',
      'GALERA_SST_PASSWORD',
      'JWT_SECRET',
      'KEEPALIVED_AUTH_PASS',
      'MUNGE_KEY',
      'REDIS_PASSWORD',
      'SESSION_SECRET',
      'SLURMDBD_DB_PASSWORD',
    ]);
    expect(vals.KEEPALIVED_AUTH_PASS).toHaveLength(8);
    expect(Buffer.from(vals.MUNGE_KEY!, 'base64')).toHaveLength(1024);
    expect(vals.DB_ROOT_PASSWORD!.length).toBeGreaterThanOrEqual(32);
    expect(mhc(['secrets', 'init', MAIN, '-o', f]).code).toBe(2);
    expect(readFileSync(f, 'utf8')).toBe(text);
    expect(mhc(['secrets', 'init', MAIN, '-o', f, '--force']).code).toBe(0);
    expect(readFileSync(f, 'utf8')).not.toBe(text);
    // the generated file satisfies --embed-secrets --secrets FILE, awkward values included
    expect(mhc(['build', MAIN, '-o', join(d, 'out'), '-q', '--embed-secrets', '--secrets', f]).code).toBe(0);
    const awk = join(d, 'awkward.env');
    writeFileSync(
      awk,
      Object.entries(AWKWARD)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') + '\n',
    );
    const r2 = mhc(['build', MAIN, '-o', join(d, 'out2'), '-q', '--embed-secrets', '--secrets', awk]);
    expect(r2.code, r2.err).toBe(0);
    expect(mhc(['build', MAIN, '-o', join(d, 'out3'), '--secrets', awk]).code).toBe(2);
  });

  it('schema prints the committed JSON Schema', () => {
    const r = mhc(['schema']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(jsonSchema());
    expect(r.out).toBe(readFileSync(join(ROOT, 'schema/my_multihead_cluster.schema.json'), 'utf8'));
  });

  it("secrets init --for BUNDLE writes exactly the secrets that bundle's manifest.json lists", () => {
    const d = tmp('init-for');
    expect(mhc(['build', MAIN, '-o', join(d, 'out'), '-q']).code).toBe(0);
    const listed = (bundle: string): string[] => JSON.parse(readFileSync(join(d, 'out', 'hpc-prod', bundle, 'manifest.json'), 'utf8')).secrets;
    const names = (f: string): string[] =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => l.slice(0, l.indexOf('=')))
        .sort();
    expect(listed('compute').length).toBeGreaterThan(0);
    expect(listed('compute')).not.toContain('DB_ROOT_PASSWORD');
    const all = join(d, 'all.env');
    expect(mhc(['secrets', 'init', MAIN, '-o', all]).code).toBe(0);
    const lines = (f: string) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l));
    for (const [args, bundles] of [
      [['--for', 'compute'], ['compute']],
      [['--for', 'server2'], ['server2']],
      [
        ['--for', 'compute', '--for', 'server1'],
        ['compute', 'server1'],
      ],
    ] as const) {
      const f = join(d, `${bundles.join('+')}.env`);
      const r = mhc(['secrets', 'init', MAIN, '-o', f, '--from', all, ...args]);
      expect(r.code, r.err).toBe(0);
      expect(names(f), args.join(' ')).toEqual([...new Set(bundles.flatMap(listed))].sort());
      // the values are the cluster's (one munge key everywhere), not fresh ones
      for (const l of lines(f)) expect(lines(all)).toContain(l);
    }
    expect(names(all)).toEqual([...new Set(['compute', 'server1', 'server2', 'server3'].flatMap(listed))].sort());
    // --for without --from would make values no other node has: refused
    const fresh = mhc(['secrets', 'init', MAIN, '-o', join(d, 'fresh.env'), '--for', 'compute']);
    expect(fresh.code).toBe(2);
    expect(fresh.err).toMatch(/--from FILE/);
    // a --from file lacking a needed secret: named
    writeFileSync(
      join(d, 'part.env'),
      lines(all)
        .filter((l) => !l.startsWith('MUNGE_KEY='))
        .join('\n') + '\n',
      { mode: 0o600 },
    );
    const part = mhc(['secrets', 'init', MAIN, '-o', join(d, 'p.env'), '--from', join(d, 'part.env'), '--for', 'compute']);
    expect(part.code).toBe(1);
    expect(part.err).toMatch(/lacks MUNGE_KEY/);
    // a compute node's hostname selects the compute bundle, as build --node does; an unknown name is a usage error
    const c1 = join(d, 'c1.env');
    expect(mhc(['secrets', 'init', MAIN, '-o', c1, '--from', all, '--for', 'node001']).code).toBe(0);
    expect(names(c1)).toEqual(listed('compute'));
    const bad = mhc(['secrets', 'init', MAIN, '-o', join(d, 'bad.env'), '--from', all, '--for', 'server9']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--for server9: no such node/);
    expect(existsSync(join(d, 'bad.env'))).toBe(false);
  });

  it('secrets init refuses an environment: value a consumer cannot take (a line break would add a line)', () => {
    const d = tmp('init-env');
    const cfg = join(d, 'c.yaml');
    writeFileSync(cfg, readFileSync(MAIN, 'utf8') + '\nenvironment:\n  REDIS_PASSWORD: "x\\nDB_ROOT_PASSWORD=chosen"\n');
    const r = mhc(['secrets', 'init', cfg, '-o', join(d, 'secrets.env')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error\[E318\]: secret REDIS_PASSWORD cannot be used: it contains a control character/);
    expect(existsSync(join(d, 'secrets.env'))).toBe(false);
    expect(mhc(['validate', cfg]).code).toBe(1);
  });

  it('every seed sample builds as written, or is refused with exactly the error REFUSED_SEEDS names', () => {
    const out = tmp('seeds');
    for (const f of readdirSync(SEEDS)) {
      const r = mhc(['build', join(SEEDS, f), '-o', out, '-q']);
      const refused = REFUSED_SEEDS[f];
      if (refused === undefined) expect(r.code, `${f}\n${r.err}`).toBe(0);
      else {
        expect(r.code, `${f}\n${r.err}`).toBe(1);
        expect(r.err.match(/error\[E\d+\]/g), f).toEqual([`error[${refused}]`]);
      }
    }
  });

  it("a link or a directory of the user's where out/<cluster> goes is refused (exit 3) and left whole (issue 12, item 1)", () => {
    const d = tmp('victim');
    const victim = join(d, 'victim');
    mkdirSync(join(victim, 'docs'), { recursive: true });
    writeFileSync(join(victim, 'docs', 'thesis.tex'), 'years of work\n');
    const out = join(d, 'out');
    mkdirSync(out);
    symlinkSync(victim, join(out, 'hpc-prod'));
    // twice: the second build would recycle what the first one moved aside
    const runs = [mhc(['build', MAIN, '-o', out]), mhc(['build', MAIN, '-o', out])];
    expect(readdirSync(join(victim, 'docs'))).toEqual(['thesis.tex']);
    expect(readFileSync(join(victim, 'docs', 'thesis.tex'), 'utf8')).toBe('years of work\n');
    for (const r of runs) {
      expect(r.code).toBe(3);
      expect(r.err).toMatch(/^mhc: refusing to replace .*\/out\/hpc-prod: it is a symbolic link, not a tree mhc built; nothing was written/);
    }
    expect(lstatSync(join(out, 'hpc-prod')).isSymbolicLink()).toBe(true);
    expect(readdirSync(out)).toEqual(['hpc-prod']);
    // -o . beside a folder named like the cluster, holding the user's own YAML
    const here = tmp('here');
    mkdirSync(join(here, 'hpc-prod'));
    cpSync(MAIN, join(here, 'hpc-prod', 'my_multihead_cluster.yaml'));
    const r = mhc(['build', 'hpc-prod/my_multihead_cluster.yaml', '-o', '.'], { cwd: here });
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/refusing to replace hpc-prod: it is a directory without mhc's marker \(\.mhc-tree\)/);
    expect(readdirSync(join(here, 'hpc-prod'))).toEqual(['my_multihead_cluster.yaml']);
    // a tree mhc built carries the marker, and is replaced
    const fine = tmp('fine');
    expect(mhc(['build', MAIN, '-o', fine, '-q']).code).toBe(0);
    expect(readFileSync(join(fine, 'hpc-prod', '.mhc-tree'), 'utf8')).toMatch(/^mhc output tree of cluster hpc-prod/);
    expect(mhc(['build', MAIN, '-o', fine, '-q']).code).toBe(0);
  });

  it('--embed-secrets --tar: a tarball holding a secret value is 0600; without --embed-secrets 0644 (issue 12, item 3)', () => {
    const out = tmp('tarmode');
    const r = spawnSync('sh', ['-c', `umask 022 && "${process.execPath}" "${MHC}" build "${MAIN}" -o "${out}" --tar -q --embed-secrets`], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH!, ...AWKWARD },
    });
    expect(r.status, r.stderr).toBe(0);
    const tars = readdirSync(out).filter((n) => n.endsWith('.tar.gz'));
    expect(tars).toHaveLength(4);
    for (const t of tars) {
      const bundle = t.replace(/^hpc-prod-|\.tar\.gz$/g, '');
      const man = JSON.parse(readFileSync(join(out, 'hpc-prod', bundle, 'manifest.json'), 'utf8'));
      const holds = man.files.some((f: { secrets: string[] }) => f.secrets.length > 0);
      expect(holds, bundle).toBe(true); // every bundle of the main example needs a secret (munge key at least)
      expect(statSync(join(out, t)).mode & 0o7777, t).toBe(0o600);
      expect(gunzipSync(readFileSync(join(out, t))).includes(AWKWARD.MUNGE_KEY), t).toBe(true);
    }
    // the same build without --embed-secrets: placeholders only, so the usual 0644 again
    expect(mhc(['build', MAIN, '-o', out, '--tar', '-q']).code).toBe(0);
    for (const t of tars) expect(statSync(join(out, t)).mode & 0o7777, t).toBe(0o644);
  });

  it('a failed --tar leaves the old tree and the old tarballs (issue 12)', () => {
    const d = tmp('tarfail');
    const out = join(d, 'out');
    expect(mhc(['build', MAIN, '-o', out, '--tar', '-q']).code).toBe(0);
    const snapshot = () =>
      Object.fromEntries(
        [
          ...walk(join(out, 'hpc-prod')),
          ...readdirSync(out)
            .filter((n) => n.endsWith('.tar.gz') && statSync(join(out, n)).isFile())
            .map((n) => join(out, n)),
        ].map((p) => [p, readFileSync(p).toString('base64')]),
      );
    rmSync(join(out, 'hpc-prod-server3.tar.gz'));
    mkdirSync(join(out, 'hpc-prod-server3.tar.gz')); // cannot be replaced by a tarball
    const before = snapshot();
    const changed = join(d, 'changed.yaml');
    writeFileSync(changed, readFileSync(MAIN, 'utf8').replace('retention_days: 30', 'retention_days: 31'));
    const r = mhc(['build', changed, '-o', out, '--tar']);
    expect(Object.keys(before)).toHaveLength(walk(join(out, 'hpc-prod')).length + 3);
    expect(snapshot()).toEqual(before);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/refusing to replace .*hpc-prod-server3\.tar\.gz: it is a directory/);
    expect(readdirSync(out).filter((n) => n.startsWith('.'))).toEqual([]); // nothing staged is left
    expect(readdirSync(join(out, 'hpc-prod-server3.tar.gz'))).toEqual([]);
  });

  it('inputs that are not regular files or too large are refused with exit 3 and never hang (issue 12, item 9)', () => {
    const d = tmp('inputs');
    const guard = { timeout: 20000 }; // a hang is killed (code null) and fails the test
    const zero = mhc(['validate', '/dev/zero'], guard);
    expect(zero.code).toBe(3);
    expect(zero.err).toBe('mhc: cannot read /dev/zero: it is a character device; mhc reads only regular files\n');
    const fifo = join(d, 'fifo.yaml');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const f = mhc(['build', fifo, '-o', join(d, 'out')], guard);
    expect(f.code).toBe(3);
    expect(f.err).toMatch(/cannot read .*fifo\.yaml: it is a FIFO \(named pipe\); mhc reads only regular files/);
    const big = join(d, 'big.yaml');
    writeFileSync(big, '');
    truncateSync(big, 17 * 1024 * 1024);
    const b = mhc(['validate', big], guard);
    expect(b.code).toBe(3);
    expect(b.err).toMatch(/cannot read .*big\.yaml: it is 17825792 bytes; mhc reads at most 16 MiB/);
    expect(mhc(['validate', d], guard).err).toMatch(/it is a directory; mhc reads only regular files/);
    const s = mhc(['build', MAIN, '-o', join(d, 'out'), '--embed-secrets', '--secrets', '/dev/zero'], guard);
    expect(s.code).toBe(3);
    expect(s.err).toMatch(/cannot read \/dev\/zero: it is a character device/);
    for (const r of [zero, f, b, s]) expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('an output directory that cannot be made is reported (exit 3), never a hang (issue 12, item 9)', () => {
    const o = mhc(['build', MAIN, '-o', '/proc/nope'], { timeout: 20000 }); // Node 20's recursive mkdir spun here forever
    expect(o.code).toBe(3);
    expect(o.err).toBe('mhc: cannot create directory /proc/nope: ENOENT (mkdir)\n');
  });

  it('a hostile value never runs: $(touch …) in the YAML creates no file', () => {
    const d = tmp('hostile');
    const marker = join(d, 'pwned');
    const cfg = join(d, 'c.yaml');
    mkdirSync(d, { recursive: true });
    writeFileSync(cfg, readFileSync(MAIN, 'utf8').replace('name: hpc-prod', `name: "$(touch ${marker})"`));
    expect(mhc(['build', cfg, '-o', join(d, 'out')]).code).toBe(1);
    expect(existsSync(marker)).toBe(false);
  });
});
