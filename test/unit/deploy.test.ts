// The deploy emitter (out/<cluster>/deploy/) in memory: node groups, start order, Ansible host
// patterns, names that would break a groups file / inventory / genders, the rules of `deploy:`,
// secrets (names only, never values) and the review side (deploy/ is not a bundle).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { buildFile, buildText, compileText, EXAMPLES, AWKWARD } from '../helpers.js';
import { deployFacts, groupWord } from '../../src/compiler/groups.js';
import { ansiblePatterns } from '../../src/emitters/deploy.js';
import { compress, expand } from '../../src/compiler/hostlist.js';
import { sideFromFiles } from '../../src/review/side.js';
import { readFileSync } from 'node:fs';
import { compile } from '../../src/compiler/compile.js';
import { yamlQuote } from '../../src/compiler/quote.js';
import { parse } from 'yaml';
import { build, selectTargets } from '../../src/compiler/build.js';
import { MHC_VERSION } from '../../src/generated/version.js';
import { describeKey } from '../../src/compiler/schema.js';
import { DEFAULTS } from '../../src/compiler/normalize.js';
import { init } from '../../src/compiler/init.js';
import { fmt } from '../../src/compiler/fmt.js';

const base = (extra = '', partitions = '[{ name: batch, nodes: ALL }]') =>
  [
    'cluster: { name: t }',
    'network: { vip: 10.9.0.100, prefix: 24 }',
    'controllers:',
    '  - { hostname: b1, ip: 10.9.0.1, priority: 100 }',
    '  - { hostname: a1, ip: 10.9.0.2, priority: 150, vip_owner: true }',
    '  - { hostname: c1, ip: 10.9.0.3, priority: 120 }',
    'compute_nodes:',
    '  - { hostname: n01, ip: 10.9.1.1, cpus: 4 }',
    '  - { hostname: n02, ip: 10.9.1.2, cpus: 4 }',
    '  - { hostname: g01, ip: 10.9.1.3, cpus: 4, gpus: { count: 2, type: a100 } }',
    'database: { password: "${DB_ROOT_PASSWORD}" }',
    'redis: { password: "${REDIS_PASSWORD}" }',
    'web: { jwt_secret: "${JWT_SECRET}", session_secret: "${SESSION_SECRET}" }',
    `slurm: { partitions: ${partitions} }`,
    extra,
  ].join('\n') + '\n';

const codes = (text: string) => compile('t.yaml', Buffer.from(text, 'utf8')).diagnostics.map((d) => d.code);

describe('deploy facts', () => {
  it('controllers start in the order the start scripts require: the VIP owner, then by priority', () => {
    const f = deployFacts(compileText(base()).model);
    expect(f.startOrder).toEqual(['a1', 'c1', 'b1']);
    expect(f.targets.map((t) => [t.bundle, t.nodes.join(',')])).toEqual([
      ['a1', 'a1'],
      ['c1', 'c1'],
      ['b1', 'b1'],
      ['compute', 'g01,n01,n02'],
    ]);
  });

  it('one group per role, service, partition and GPU type; none empty', () => {
    const f = deployFacts(compileText(base('', '[{ name: batch, nodes: "n[01-02]" }, { name: gpu.big, nodes: [g01] }]')).model);
    const g = Object.fromEntries(f.groups.map((x) => [x.name, x.nodes.join(',')]));
    expect(g).toMatchObject({
      all: 'a1,c1,b1,g01,n01,n02',
      controllers: 'a1,c1,b1',
      compute: 'g01,n01,n02',
      partition_batch: 'n01,n02',
      partition_gpu_big: 'g01',
      gpu: 'g01',
      gpu_a100: 'g01',
      svc_mariadb: 'a1,c1,b1',
    });
    expect(f.groups.every((x) => x.nodes.length > 0 && /^[A-Za-z0-9_]+$/.test(x.name))).toBe(true);
    expect(f.groupsOf.get('g01')).toEqual(['all', 'compute', 'partition_gpu_big', 'gpu', 'gpu_a100']);
  });

  it('two YAML names that make one word stay two groups', () => {
    const f = deployFacts(compileText(base('', '[{ name: a.b, nodes: [n01], default: true }, { name: a-b, nodes: [n02] }]')).model);
    expect(f.groups.filter((g) => g.name.startsWith('partition_')).map((g) => [g.name, g.nodes.join(',')])).toEqual([
      ['partition_a_b', 'n01'],
      ['partition_a_b_2', 'n02'],
    ]);
    expect(groupWord('gpu', 'h100-80g.x')).toBe('gpu_h100_80g_x');
  });

  it('Ansible patterns name exactly the hosts (one [lo:hi] range per bracket)', () => {
    const names = ['n001', 'n002', 'n003', 'n007', 'r01n1-ib', 'r01n2-ib', 'login', 'x9'];
    const pats = ansiblePatterns(names);
    expect(pats).toEqual(expect.arrayContaining(['n[001:003]', 'n007', 'login', 'x9']));
    const back = pats.flatMap((p) => {
      const m = /^(.*)\[(\d+):(\d+)\](.*)$/.exec(p);
      return m ? expand(`${m[1]}[${m[2]}-${m[3]}]${m[4]}`) : [p];
    });
    expect(back.sort()).toEqual([...names].sort());
  });
});

describe('yamlQuote (groups file, inventory)', () => {
  it('round-trips hostile strings through a YAML parser', () => {
    for (const v of ["it's", "''", '#x', '- a', ': b', '{a: 1}', '[x]', '&a *b', '!tag', '%x', '@x', '`x`', '"q"', 'n[01-02],m\\1', '', ' lead', 'trail ']) {
      expect(parse(`k: ${yamlQuote(v)}\n`).k, v).toBe(v);
    }
  });
});

describe('deploy: in the YAML', () => {
  it('gateways must be nodes, need admin_host, and the admin host is not a node', () => {
    expect(codes(base('deploy: { gateways: [zz9], admin_host: adm }'))).toContain('E324');
    expect(codes(base('deploy: { gateways: [a1] }'))).toContain('E324');
    expect(codes(base('deploy: { gateways: [a1], admin_host: b1 }'))).toContain('E324');
    expect(codes(base('deploy: { gateways: [a1, b1], admin_host: adm }'))).toEqual([]);
  });

  it('hostile names never reach the groups file, the inventory or genders', () => {
    for (const bad of ['a1;reboot', '$(touch /tmp/x)', "n'1", 'a b', 'x:y', 'x,y', 'x=y']) {
      expect(codes(base(`deploy: { gateways: [${JSON.stringify(bad)}], admin_host: adm }`)), bad).toContain('E210');
      expect(codes(base(`deploy: { gateways: [a1], admin_host: ${JSON.stringify(bad)} }`)), bad).toContain('E210');
      expect(codes(base('', `[{ name: ${JSON.stringify(bad)}, nodes: ALL }]`)), bad).toContain('E207');
    }
  });

  it('"deploy" is a reserved hostname (the directory of the fan-out files)', () => {
    expect(codes(base().replace('hostname: n01', 'hostname: deploy'))).toContain('E313');
  });

  it('settings reach clush.conf, site.yml and deploy.sh', () => {
    const files = buildText(base('deploy: { fanout: 17, connect_timeout: 7, command_timeout: 99, batch: 5, max_fail_percent: 3, gateways: [a1, c1], admin_host: adm }'));
    const get = (p: string) => files.get(`deploy/${p}`)!.content;
    expect(get('clustershell/clush.conf')).toMatch(/^fanout: 17\nconnect_timeout: 7\ncommand_timeout: 99$/m);
    expect(get('ansible/site.yml')).toMatch(/serial: 5\n  max_fail_percentage: 3/);
    expect(get('deploy.sh')).toContain('FANOUT=17 BATCH=5 CANARY=0 MAX_FAIL=3');
    expect(get('clustershell/topology.conf')).toMatch(/^adm: a1,c1\na1,c1: b1,g01,n\[01-02\]$/m);
  });
});

describe('deploy/ in the tree', () => {
  const files = buildFile(join(EXAMPLES, 'my_multihead_cluster.yaml'));
  const deployFiles = [...files.keys()].filter((p) => p.startsWith('deploy/'));

  it('is in SHA256SUMS, with deploy.sh and node.sh executable', () => {
    const sums = files.get('SHA256SUMS')!.content;
    for (const p of deployFiles) expect(sums, p).toContain(`  ${p}\n`);
    expect(files.get('deploy/deploy.sh')!.mode).toBe(0o755);
    expect(files.get('deploy/node.sh')!.mode).toBe(0o755);
    expect(files.get('deploy/genders')!.mode).toBe(0o644);
  });

  it('names the secrets each bundle needs, never a value (even with --embed-secrets)', () => {
    const embedded = buildFile(join(EXAMPLES, 'my_multihead_cluster.yaml'), { embed: AWKWARD });
    const tsv = embedded.get('deploy/targets.tsv')!.content;
    expect(tsv).toMatch(/^compute\tcompute\tgpu\[001-002\],node\[001-004\]\tMUNGE_KEY$/m);
    for (const p of deployFiles) for (const v of Object.values(AWKWARD)) expect(embedded.get(p)!.content.includes(v), `${p} holds a secret`).toBe(false);
  });

  it('is left out of a build of some bundles only (--node): it would name bundles that are not there', () => {
    const c = compileText(readFileSync(join(EXAMPLES, 'my_multihead_cluster.yaml'), 'utf8'));
    const some = build({ model: c.model, literals: c.literals!, inputSha256: c.inputSha256, mhcVersion: MHC_VERSION, targets: selectTargets(c.model, ['server2']).targets });
    expect(some.files!.filter((f) => f.path.startsWith('deploy/'))).toEqual([]);
    expect(deployFiles.length).toBeGreaterThan(8);
  });

  it('is not a bundle for mhc audit and mhc diff', () => {
    const side = sideFromFiles('t', 'tree', [...files.values()]);
    expect([...side.bundles.keys()]).not.toContain('deploy');
    expect(side.top.has('deploy/deploy.sh')).toBe(true);
  });

  it('every file that allows a comment says it is generated', () => {
    for (const p of deployFiles) expect(files.get(p)!.content, p).toMatch(/^(#!\/usr\/bin\/env bash\n)?# (bundle\t.*generated by mhc|Generated by mhc)/);
  });
});

// the templates read the README's deploy procedure: one check that the names agree
describe('README', () => {
  it('documents every deploy.sh step and option', () => {
    const readme = readFileSync(join(EXAMPLES, '..', 'README.md'), 'utf8');
    for (const w of ['deploy.sh all', '--nodes', '--exclude', '--canary', '--max-fail', '--retry', '--node-dry-run', 'results.tsv', 'unreachable', 'timeout']) expect(readme, w).toContain(w);
  });
});

// main's init / fmt / described schema know deploy: and slurm.configless like every other key
describe('deploy: and slurm.configless in the schema, mhc init and mhc fmt', () => {
  it('every key is described (mhc init, the JSON Schema and editors show it)', () => {
    for (const k of ['admin_host', 'gateways', 'fanout', 'connect_timeout', 'command_timeout', 'batch', 'max_fail_percent']) expect(describeKey(['deploy', k]), k).toBeTruthy();
    expect(describeKey(['deploy'])).toMatch(/deploy\//);
    expect(describeKey(['slurm', 'configless'])).toMatch(/slurmctld/);
  });

  it("normalize's defaults are DEFAULTS (what mhc init writes)", () => {
    const m = compileText(base()).model;
    expect(m.deploy).toEqual({
      gateways: [],
      fanout: DEFAULTS.deploy.fanout,
      connectTimeout: DEFAULTS.deploy.connect_timeout,
      commandTimeout: DEFAULTS.deploy.command_timeout,
      batch: DEFAULTS.deploy.batch,
      maxFailPercent: DEFAULTS.deploy.max_fail_percent,
    });
    expect(m.slurm!.configless).toBe(DEFAULTS.slurm.configless);
  });

  it('mhc init writes deploy: after slurm:, with its defaults, and slurm.configless: false', () => {
    const r = init({});
    if (!('text' in r)) throw new Error(r.problems.join('; '));
    const data = parse(r.text);
    expect(data.deploy).toEqual(DEFAULTS.deploy);
    expect(data.slurm.configless).toBe(false);
    expect(r.text.indexOf('\ndeploy:')).toBeGreaterThan(r.text.indexOf('\nslurm:'));
    expect(r.text.indexOf('\ndeploy:')).toBeLessThan(r.text.indexOf('\nbackup:'));
  });

  it('mhc fmt --canonical puts deploy: after slurm: and configless before partitions, building the same', () => {
    const text = `deploy: { batch: 500, fanout: 128 }\n${base().replace('slurm: { partitions: [{ name: batch, nodes: ALL }] }', 'slurm: { partitions: [{ name: batch, nodes: ALL }], configless: true }')}`;
    const r = fmt('t.yaml', Buffer.from(text), { canonical: true });
    expect(r.diagnostics).toEqual([]);
    expect(r.text!.indexOf('deploy:')).toBeGreaterThan(r.text!.indexOf('slurm:'));
    expect(r.text).toContain('slurm: { configless: true, partitions: [{ name: batch, nodes: ALL }] }');
    const m = compileText(r.text!).model;
    expect(m.deploy).toMatchObject({ batch: 500, fanout: 128 });
    expect(m.slurm!.configless).toBe(true);
  });
});
