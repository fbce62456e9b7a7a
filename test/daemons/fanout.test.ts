// The real tools judge deploy/ (issue 16): ClusterShell's nodeset reads the groups (counts and
// folds equal the manifests), ansible-inventory lists the same hosts, ansible-playbook accepts the
// playbook, nodeattr reads genders, shellcheck passes deploy.sh and node.sh, deploy.sh --dry-run
// says what it would do. For every example and for the 10,000-node cluster of bench/synthetic.
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildFile, buildText, EXAMPLES } from '../helpers.js';
import { requireTool, run, scratch } from './tools.js';
import { compress, expand } from '../../src/compiler/hostlist.js';
import type { BundleFile } from '../../src/compiler/bundle.js';
import { syntheticCluster } from '../../bench/synthetic.mjs';

function writeTree(files: ReadonlyMap<string, BundleFile>): string {
  const dir = join(scratch('fanout'), 'tree');
  for (const f of files.values()) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.content, { mode: f.mode });
  }
  return dir;
}

/** group → hostnames, from the generated ClusterShell groups file (as mhc meant it). */
function groupsOf(files: ReadonlyMap<string, BundleFile>): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of files.get('deploy/clustershell/groups.d/mhc.yaml')!.content.split('\n')) {
    const g = /^ {2}([A-Za-z0-9_]+): '([^']*)'$/.exec(line);
    if (g) m.set(g[1]!, expand(g[2]!));
  }
  return m;
}

const cases: [string, () => ReadonlyMap<string, BundleFile>][] = [
  ...readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f): [string, () => ReadonlyMap<string, BundleFile>] => [f, () => buildFile(join(EXAMPLES, f))]),
  ['synthetic 10,000 nodes', () => buildText(syntheticCluster(10000))],
];

beforeAll(() => {
  for (const t of ['nodeset', 'clush', 'ansible-inventory', 'ansible-playbook', 'nodeattr', 'shellcheck']) requireTool(t);
});

describe.each(cases)('deploy/ of %s, read by the real tools', (_name, make) => {
  let files: ReadonlyMap<string, BundleFile>;
  let dir: string;
  let groups: Map<string, string[]>;
  beforeAll(() => {
    files = make();
    dir = writeTree(files);
    groups = groupsOf(files);
  }, 120_000);
  const env = () => ({ ...process.env, CLUSTERSHELL_CFGDIR: join(dir, 'deploy', 'clustershell'), ANSIBLE_LOCAL_TEMP: join(dir, '.ansible-tmp'), ANSIBLE_HOME: join(dir, '.ansible') });

  it('nodeset: every group counts and folds as the manifests say', () => {
    const list = run('nodeset', ['-l'], { env: env() });
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout.trim().split('\n').sort()).toEqual([...groups.keys()].map((g) => `@${g}`).sort());
    for (const [g, nodes] of groups) {
      const r = run('nodeset', ['-f', `@${g}`], { env: env() });
      expect(r.stdout.trim(), g).toBe(run('nodeset', ['-f', compress(nodes)]).stdout.trim());
      expect(run('nodeset', ['-c', `@${g}`], { env: env() }).stdout.trim(), g).toBe(String(nodes.length));
    }
    const compute = JSON.parse(files.get('compute/manifest.json')!.content) as { nodes: string; count: number };
    expect(run('nodeset', ['-c', '@compute'], { env: env() }).stdout.trim()).toBe(String(compute.count));
    expect(run('nodeset', ['-f', '@compute', '-x', compute.nodes], { env: env() }).stdout.trim()).toBe('');
    const controllers = [...files.keys()].filter((p) => /^[^/]+\/manifest\.json$/.test(p) && !p.startsWith('compute/')).map((p) => p.split('/')[0]!);
    expect([...groups.get('controllers')!].sort()).toEqual(controllers.sort());
  });

  it('ansible-inventory --list: the same hosts in the same groups', () => {
    const out = join(dir, '..', 'inventory.json'); // --output: 10,000 hosts are more than a pipe buffer holds
    const r = run('ansible-inventory', ['-i', join(dir, 'deploy', 'ansible', 'inventory.yml'), '--list', '--output', out], { env: env(), timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/WARNING/);
    const inv = JSON.parse(readFileSync(out, 'utf8')) as Record<string, { hosts?: string[] }>;
    for (const [g, nodes] of groups) {
      if (g === 'all') continue;
      expect([...(inv[g]?.hosts ?? [])].sort(), g).toEqual([...nodes].sort());
    }
  });

  it('ansible-playbook --syntax-check site.yml', () => {
    const r = run('ansible-playbook', ['-i', join(dir, 'deploy', 'ansible', 'inventory.yml'), '--syntax-check', join(dir, 'deploy', 'ansible', 'site.yml')], { env: env(), timeoutMs: 120_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('nodeattr: every attribute names the group, every node its bundle', () => {
    const genders = join(dir, 'deploy', 'genders');
    for (const [g, nodes] of groups) {
      const r = run('nodeattr', ['-f', genders, '-c', g]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim().split(',').sort(), g).toEqual([...nodes].sort());
    }
    const some = groups.get('compute')?.[0];
    if (some) expect(run('nodeattr', ['-f', genders, '-v', some, 'mhc_bundle']).stdout.trim()).toBe('compute');
  });

  it('shellcheck passes deploy.sh and node.sh; deploy.sh --dry-run says what it would do', () => {
    const sc = run('shellcheck', ['-x', join(dir, 'deploy', 'deploy.sh'), join(dir, 'deploy', 'node.sh')], { timeoutMs: 60_000 });
    expect(sc.status, sc.stdout).toBe(0);
    const dry = run('bash', [join(dir, 'deploy', 'deploy.sh'), 'push', '--dry-run', '--runs', join(dir, '..', 'runs')], { env: env(), timeoutMs: 60_000 });
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^deploy\.sh: would run push on .* \(\d+ nodes\)/);
    expect(dry.stdout).toContain('would write the results under');
    expect(() => statSync(join(dir, '..', 'runs'))).toThrow();
  });

  it('deploy.sh refuses a usage error with 2 and names the next step', () => {
    const r = run('bash', [join(dir, 'deploy', 'deploy.sh'), 'secrets', '--dry-run'], { env: env() });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('secrets needs --secrets FILE');
    const bad = run('bash', [join(dir, 'deploy', 'deploy.sh'), 'check', '--nodes', 'nosuchnode1', '--dry-run'], { env: env() });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('not nodes of cluster');
  });
});

describe('sizes at 10,000 nodes', () => {
  it('groups file, inventory and genders stay small (folded ranges)', () => {
    const files = buildText(syntheticCluster(10000));
    const size = (p: string) => Buffer.byteLength(files.get(`deploy/${p}`)!.content);
    const sizes = { groups: size('clustershell/groups.d/mhc.yaml'), inventory: size('ansible/inventory.yml'), genders: size('genders'), deploySh: size('deploy.sh') };
    console.log(`deploy/ at 10,000 nodes (bytes): ${JSON.stringify(sizes)}`);
    expect(sizes.groups).toBeLessThan(64 * 1024);
    expect(sizes.inventory).toBeLessThan(256 * 1024);
    expect(sizes.genders).toBeLessThan(64 * 1024);
  });
});
