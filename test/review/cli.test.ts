// The review commands as users run them (bin/mhc.cjs; `npm test` builds it first): exit codes,
// git:REF:PATH against a temporary repository, colour rules, and trees on disk with embedded secrets.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatSecretsEnv } from '../../src/compiler/secrets.js';
import { AWKWARD, compileText, EXAMPLES, ROOT } from '../helpers.js';
import { BASE, edit } from './fixtures.js';

const MHC = join(ROOT, 'bin', 'mhc.cjs');
const dirs: string[] = [];
const tmp = (t: string) => {
  const d = mkdtempSync(join(tmpdir(), `mhc-review-${t}-`));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function mhc(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}) {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    ...(opts.env ?? {}),
  };
  const r = spawnSync(process.execPath, [MHC, ...args], {
    encoding: 'utf8',
    env,
    cwd: opts.cwd ?? ROOT,
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const git = (cwd: string, ...args: string[]) => {
  const r = spawnSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: cwd,
    },
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

describe('mhc diff (CLI)', () => {
  const dir = tmp('diff');
  const a = join(dir, 'a.yaml');
  const b = join(dir, 'b.yaml');
  writeFileSync(a, BASE);
  writeFileSync(b, edit(BASE, 'max_time: "01:00:00"', 'max_time: "02:00:00"'));

  it('exit 0 when identical, 1 when different, 2 on an error (like diff(1)); never a stack trace', () => {
    expect(mhc(['diff', a, a]).code).toBe(0);
    const d = mhc(['diff', a, b]);
    expect(d.code).toBe(1);
    expect(d.out).toContain('+PartitionName=batch Nodes=ALL Default=YES MaxTime=02:00:00');
    const missing = mhc(['diff', a, join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^mhc: cannot read .*nope\.yaml: no such file or directory\n$/);
    writeFileSync(join(dir, 'bad.yaml'), 'cluster: [\n');
    const bad = mhc(['diff', a, join(dir, 'bad.yaml')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/bad\.yaml:\d+:\d+: error\[E102\]/);
    expect(bad.err).not.toMatch(/\n\s+at /);
    expect(mhc(['diff', a, dir]).code).toBe(2); // a directory that is no tree
    expect(mhc(['diff', a, b, '--format', 'yaml']).code).toBe(2);
    expect(mhc(['diff', '--help']).code).toBe(0);
  });

  it('a device or a FIFO as a side is refused at once (exit 2), never read until memory runs out or blocked on', () => {
    const fifo = join(dir, 'fifo.yaml');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    for (const [side, kind] of [
      ['/dev/zero', 'a character device'],
      [fifo, 'a FIFO'],
    ] as const) {
      const r = mhc(['diff', a, side]);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain(`cannot read ${side}: it is ${kind}`);
      expect(mhc(['audit', side]).code).toBe(3);
    }
  });

  it('--format markdown / json and --stat', () => {
    const md = mhc(['diff', a, b, '--format', 'markdown']);
    expect(md.code).toBe(1);
    expect(md.out).toMatch(/^### mhc diff\n/);
    expect(md.out).toContain('<details>');
    const j = mhc(['diff', a, b, '--format', 'json', '--stat']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out).changes[0].path).toBe('files/etc/slurm/slurm.conf');
    const st = mhc(['diff', a, b, '--stat']);
    expect(st.out).not.toContain('@@');
    expect(mhc(['diff', a, b, '-U', '0']).out).toMatch(/@@ -\d+ \+\d+ @@\n-Partition/);
  });

  it('no colour off a terminal, with --no-color, or with NO_COLOR; colour on a terminal', () => {
    expect(mhc(['diff', a, b]).out).not.toContain('\x1b[');
    // a pseudo-terminal through script(1), when present, shows colour unless NO_COLOR / --no-color
    const script = spawnSync('sh', ['-c', 'command -v script'], {
      encoding: 'utf8',
    }).stdout.trim();
    expect(script, 'script(1) (bsdutils) is needed to test colour on a terminal').not.toBe('');
    const viaTty = (extra: string, env: Record<string, string> = {}) =>
      spawnSync(script, ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(MHC)} diff ${JSON.stringify(a)} ${JSON.stringify(b)} ${extra}`, '/dev/null'], {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH ?? '',
          HOME: '/root',
          TERM: 'xterm',
          ...env,
        },
        timeout: 60_000,
      }).stdout;
    expect(viaTty('')).toContain('\x1b[31m-PartitionName');
    expect(viaTty('--no-color')).not.toContain('\x1b[');
    expect(viaTty('', { NO_COLOR: '1' })).not.toContain('\x1b[');
  });

  it('git:REF:PATH compares a branch with main in a temporary repository', () => {
    const repo = tmp('git');
    git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'cluster.yaml'), BASE);
    git(repo, 'add', 'cluster.yaml');
    git(repo, 'commit', '-q', '-m', 'base');
    git(repo, 'checkout', '-q', '-b', 'feature');
    writeFileSync(join(repo, 'cluster.yaml'), edit(BASE, 'max_time: "01:00:00"', 'max_time: "02:00:00"'));
    git(repo, 'commit', '-q', '-am', 'longer debug');
    const d = mhc(['diff', 'git:main:cluster.yaml', 'cluster.yaml'], {
      cwd: repo,
    });
    expect(d.code).toBe(1);
    expect(d.out).toContain('a: git:main:cluster.yaml');
    expect(d.out).toContain('-PartitionName=batch Nodes=ALL Default=YES MaxTime=01:00:00');
    expect(
      mhc(['diff', 'git:main:cluster.yaml', 'git:feature~1:cluster.yaml'], {
        cwd: repo,
      }).code,
    ).toBe(0);
    const nope = mhc(['diff', 'git:nosuchref:cluster.yaml', 'cluster.yaml'], {
      cwd: repo,
    });
    expect(nope.code).toBe(2);
    expect(nope.err).toMatch(/^mhc: git show nosuchref:cluster\.yaml: /);
    expect(mhc(['diff', 'git:main', 'cluster.yaml'], { cwd: repo }).err).toMatch(/git:REF:PATH/);
    // audit and explain take git:REF:PATH too
    expect(mhc(['audit', 'git:main:cluster.yaml'], { cwd: repo }).code).toBe(0);
    expect(mhc(['explain', 'git:main:cluster.yaml', 'slurm.partitions[0].max_time'], { cwd: repo }).out).toContain('files/etc/slurm/slurm.conf:');
  });

  it('built trees on disk, one with AWKWARD secrets embedded: identical to the YAML, and no value in any output', () => {
    const out = tmp('trees');
    const secrets = join(out, 'secrets.env');
    const c = compileText(BASE);
    writeFileSync(secrets, formatSecretsEnv(c.model.secrets, new Map(Object.entries(AWKWARD))), { mode: 0o600 });
    expect(mhc(['build', a, '-o', join(out, 'plain'), '-q']).code).toBe(0);
    const e = mhc(['build', a, '-o', join(out, 'emb'), '-q', '--embed-secrets', '--secrets', secrets]);
    expect(e.code, e.err).toBe(0);
    const same = mhc(['diff', a, join(out, 'emb')]);
    expect(same.code, same.out + same.err).toBe(0);
    expect(mhc(['diff', join(out, 'plain', 'rev'), join(out, 'emb', 'rev')]).code).toBe(0);
    for (const fmt of ['text', 'markdown', 'json']) {
      const d = mhc(['diff', join(out, 'emb', 'rev'), b, '--format', fmt]);
      expect(d.code).toBe(1);
      for (const v of Object.values(AWKWARD)) expect(d.out.includes(v), `${fmt} leaks ${v}`).toBe(false);
    }
    // audit the embedded tree: warnings A402, no value printed
    const au = mhc(['audit', join(out, 'emb', 'rev')]);
    expect(au.out).toContain('warning[A402]');
    for (const v of Object.values(AWKWARD)) expect(au.out.includes(v)).toBe(false);
  });
});

describe('mhc plan (CLI)', () => {
  const dir = tmp('plan');
  const a = join(dir, 'a.yaml');
  const b = join(dir, 'b.yaml');
  writeFileSync(a, BASE);
  writeFileSync(b, edit(BASE, 'database:\n', 'database:\n  galera: { slave_threads: 8 }\n'));

  it('exit 0 nothing to do, 1 changes, 2 bad usage, 3 a side it cannot read; text, markdown, json', () => {
    const same = mhc(['plan', a, a]);
    expect(same.code).toBe(0);
    expect(same.out).toContain('nothing to do');
    const d = mhc(['plan', a, b]);
    expect(d.code, d.err).toBe(1);
    expect(d.out).toMatch(/^1\. c3 \(controller\)$/m);
    expect(d.out).toMatch(/live change\s+mariadb/);
    expect(d.out.indexOf('c3 (controller)')).toBeLessThan(d.out.indexOf('c1 (controller)'));
    const j = mhc(['plan', a, b, '--format', 'json']);
    expect(j.code).toBe(1);
    const plan = JSON.parse(j.out) as { changes: boolean; nodes: { bundle: string }[] };
    expect(plan.changes).toBe(true);
    expect(plan.nodes.map((n) => n.bundle)).toEqual(['c3', 'c2', 'c1']);
    expect(mhc(['plan', a, b, '--format', 'markdown']).out).toMatch(/^### 1\. c3 \(controller\)$/m);
    expect(mhc(['plan', a, b, '--format', 'yaml']).code).toBe(2);
    expect(mhc(['plan', a]).code).toBe(2);
    const missing = mhc(['plan', a, join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/^mhc: cannot read .*nope\.yaml/);
    expect(missing.err).not.toMatch(/\n\s+at /);
  });
});

describe('mhc build --plan-from (CLI)', () => {
  it("each controller bundle carries its part of the plan (the same id), computed from OLD's manifests; an unreadable OLD is exit 3", () => {
    const dir = tmp('planfrom');
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    writeFileSync(a, BASE);
    writeFileSync(b, edit(BASE, 'database:\n', 'database:\n  galera: { slave_threads: 8 }\n'));
    expect(mhc(['build', a, '-o', join(dir, 'old'), '--quiet']).code).toBe(0);
    const r = mhc(['build', b, '-o', join(dir, 'new'), '--plan-from', join(dir, 'old', 'rev')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^plan from .*old\/rev: 3 steps on 3 nodes, in this order: c3 c2 c1/m);
    const ids = new Set<string>();
    for (const c of ['c1', 'c2', 'c3']) {
      const plan = readFileSync(join(dir, 'new', 'rev', c, 'plan/apply-plan.sh'), 'utf8');
      ids.add(/^PLAN_ID=(\S+)$/m.exec(plan)![1]!);
      const oldSha = createHash('sha256')
        .update(readFileSync(join(dir, 'old', 'rev', c, 'manifest.json')))
        .digest('hex');
      expect(plan).toContain(`PLAN_FROM_MANIFEST=${oldSha}`);
      expect(plan).toMatch(/^PLAN_ORDER=\(c3 c2 c1\)$/m);
      expect(plan).toMatch(/^PLAN_STEP_SERVICE=\(mariadb\)$/m);
      expect(plan).toMatch(/^PLAN_LIVE_KEY=\(wsrep_slave_threads\)$/m);
      // the bundle lists it (sha256 in the manifest, a line in SHA256SUMS)
      expect(readFileSync(join(dir, 'new', 'rev', c, 'manifest.json'), 'utf8')).toContain('"path": "plan/apply-plan.sh"');
    }
    expect(ids.size).toBe(1);
    // the compute bundle: no plan (start_compute.sh takes its new bundle)
    expect(existsSync(join(dir, 'new', 'rev', 'compute', 'plan'))).toBe(false);
    const missing = mhc(['build', b, '-o', join(dir, 'new2'), '--plan-from', join(dir, 'nope')]);
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/^mhc: --plan-from .*nope: /);
    expect(existsSync(join(dir, 'new2'))).toBe(false);
  });
});

describe('mhc audit (CLI)', () => {
  it('exit 0 on a clean config, 1 on errors, 1 on warnings only with --strict, 3 when unreadable', () => {
    const dir = tmp('audit');
    const ok = join(dir, 'ok.yaml');
    writeFileSync(ok, BASE);
    expect(mhc(['audit', ok]).code).toBe(0);
    const two = join(dir, 'two.yaml');
    writeFileSync(two, BASE.replace('  - { hostname: c3, ip: 10.9.0.13, priority: 80 }\n', ''));
    const r = mhc(['audit', two]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/two\.yaml:\d+:\d+: error\[A101\]/);
    const warn = join(dir, 'warn.yaml');
    writeFileSync(warn, edit(BASE, 'virtual_router_id: 87', 'virtual_router_id: 51'));
    expect(mhc(['audit', warn]).code).toBe(0);
    expect(mhc(['audit', warn, '--strict']).code).toBe(1);
    const j = mhc(['audit', two, '--format', 'json']);
    expect(JSON.parse(j.out).passed).toBe(false);
    expect(mhc(['audit', join(dir, 'missing.yaml')]).code).toBe(3);
  });

  it('a tampered tree on disk: checksums, modes and links', () => {
    const dir = tmp('tamper');
    const y = join(dir, 'c.yaml');
    writeFileSync(y, BASE);
    expect(mhc(['build', y, '-o', join(dir, 'out'), '-q']).code).toBe(0);
    expect(mhc(['audit', join(dir, 'out')]).code).toBe(0); // out/ holding one cluster is accepted
    const root = join(dir, 'out', 'rev');
    appendFileSync(join(root, 'c1', 'files', 'etc', 'slurm', 'cgroup.conf'), '# edited\n');
    chmodSync(join(root, 'c2', 'files', 'etc', 'slurm', 'slurmdbd.conf'), 0o644);
    symlinkSync('/etc/shadow', join(root, 'c3', 'files', 'etc', 'shadow'));
    const r = mhc(['audit', root]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('c1:files/etc/slurm/cgroup.conf: error[A503]');
    expect(r.out).toContain('c2:files/etc/slurm/slurmdbd.conf: error[A403]');
    expect(r.out).toContain('c2:files/etc/slurm/slurmdbd.conf: error[A502]');
    expect(r.out).toContain('c3:files/etc/shadow -> /etc/shadow: error[A505]');
  });

  it('tarballs beside the tree: one holding embedded secrets must be 0600; placeholder-only ones may be 0644', () => {
    const dir = tmp('tarballs');
    const y = join(dir, 'c.yaml');
    writeFileSync(y, BASE);
    const secrets = join(dir, 'secrets.env');
    writeFileSync(secrets, formatSecretsEnv(compileText(BASE).model.secrets, new Map(Object.entries(AWKWARD))), { mode: 0o600 });
    const out = join(dir, 'emb');
    expect(mhc(['build', y, '-o', out, '-q', '--tar', '--embed-secrets', '--secrets', secrets]).code).toBe(0);
    const tgz = join(out, 'rev-c2.tar.gz');
    chmodSync(tgz, 0o644);
    const r = mhc(['audit', join(out, 'rev')]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^\.\.\/rev-c2\.tar\.gz: error\[A403\]: holds the values of .*REDIS_PASSWORD.* \(built with --embed-secrets\) but is mode 0644$/m);
    for (const v of Object.values(AWKWARD)) expect(r.out.includes(v)).toBe(false);
    for (const t of readdirSync(out).filter((n) => n.endsWith('.tar.gz'))) chmodSync(join(out, t), 0o600);
    expect(mhc(['audit', join(out, 'rev')]).out).not.toContain('tar.gz: error[A403]');
    const plain = join(dir, 'plain');
    expect(mhc(['build', y, '-o', plain, '-q', '--tar']).code).toBe(0);
    chmodSync(join(plain, 'rev-c2.tar.gz'), 0o644);
    const p = mhc(['audit', join(plain, 'rev')]);
    expect(p.code, p.out).toBe(0);
  });

  it('every example audits without crashing (exit 0 or 1, a summary line)', () => {
    for (const ex of ['my_multihead_cluster.yaml', 'two_controllers.yaml', 'five_controllers.yaml', 'slurm_only.yaml']) {
      const r = mhc(['audit', join(EXAMPLES, ex)]);
      expect([0, 1], `${ex}: ${r.err}`).toContain(r.code);
      expect(r.out).toMatch(/\n(passed|FAILED): \d+ errors?, \d+ warnings?, \d+ notes?\n$/);
      expect(r.err).toBe('');
    }
  });
});

describe('mhc explain (CLI)', () => {
  it('prints file:line per node; exit 1 for a key not in the file; json', () => {
    const r = mhc(['explain', join(EXAMPLES, 'my_multihead_cluster.yaml'), 'network.vip.virtual_router_id']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/files\/etc\/keepalived\/keepalived\.conf:\d+ — on server1, server2, server3/);
    const bad = mhc(['explain', join(EXAMPLES, 'my_multihead_cluster.yaml'), 'network.vip.virtual_router']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('did you mean network.vip.virtual_router_id');
    const j = mhc(['explain', join(EXAMPLES, 'my_multihead_cluster.yaml'), 'slurm.partitions[0].max_time', '--format', 'json']);
    expect(JSON.parse(j.out).leaves[0].files.some((f: { path: string }) => f.path === 'files/etc/slurm/slurm.conf')).toBe(true);
    expect(readFileSync(join(EXAMPLES, 'my_multihead_cluster.yaml'), 'utf8')).toContain('virtual_router_id: 87'); // untouched
  });
});
