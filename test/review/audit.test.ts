// mhc audit: every rule with a config (or tree) that triggers it and one that does not.
import { describe, expect, it } from 'vitest';
import { auditConfig, auditFailed, auditTree, type AuditReport, type Finding } from '../../src/review/audit.js';
import { AUDIT_CODES, type AuditCode } from '../../src/review/audit-codes.js';
import { formatAuditJson, formatAuditText } from '../../src/review/audit-format.js';
import { RULES } from '../../src/review/audit-rules/index.js';
import type { RawFile, Tarball } from '../../src/review/side.js';
import { allTargets, build } from '../../src/compiler/build.js';
import { compile } from '../../src/compiler/compile.js';
import { packBundle } from '../../src/compiler/pack.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AWKWARD, EXAMPLES } from '../helpers.js';
import { BASE, edit, treeFiles, treeSide, V } from './fixtures.js';
import { sideFromFiles } from '../../src/review/side.js';

const cfg = (text: string): AuditReport => auditConfig('t.yaml', Buffer.from(text), V);
const tree = (files: RawFile[], irregular: string[] = [], version = V): AuditReport => auditTree('out/rev', files, irregular, version);
const of = (r: AuditReport, code: AuditCode): Finding[] => r.findings.filter((f) => f.code === code);
const has = (r: AuditReport, code: AuditCode) => of(r, code).length > 0;
const mapFile = (files: RawFile[], path: string, fn: (f: RawFile) => RawFile | undefined): RawFile[] => files.flatMap((f) => (f.path === path ? (fn(f) ? [fn(f)!] : []) : [f]));
const where = (f: Finding) => (f.location.kind === 'yaml' ? `${f.location.line}:${f.location.col}` : `${f.location.node ?? ''}:${f.location.path ?? ''}`);
/** 1-based line of the first occurrence of `needle` in `text`. */
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

const TWO = `cluster: { name: duo }
network: { vip: { address: 10.9.0.100, prefix: 24, virtual_router_id: 87 } }
controllers:
  - { hostname: c1, ip: 10.9.0.11, vip_owner: true, priority: 100 }
  - { hostname: c2, ip: 10.9.0.12, priority: 90 }
storage: { gluster: { replica_count: 2 } }
`;
const FOUR = edit(BASE, '  - { hostname: c3, ip: 10.9.0.13, priority: 80 }\n', '  - { hostname: c3, ip: 10.9.0.13, priority: 80 }\n  - { hostname: c4, ip: 10.9.0.14, priority: 70 }\n');
const NO_KA = '{ glusterfs: true, mariadb: true, redis: true, slurm: true, web: true }';

describe('mhc audit on a config', () => {
  it('the base config passes: no errors or warnings, only the network notes', () => {
    const r = cfg(BASE);
    expect(r.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(auditFailed(r, true)).toBe(false);
  });

  it('A001 an invalid YAML (pointing at the line) / not for a valid one', () => {
    const r = cfg(edit(BASE, 'cpus: 8, memory: 16000 }\n  - { hostname: n2', 'cpus: 8, memroy: 16000 }\n  - { hostname: n2'));
    expect(of(r, 'A001')[0]?.message).toMatch(/E201.*memroy/);
    expect(where(of(r, 'A001')[0]!)).toMatch(/^9:/);
    expect(auditFailed(r, false)).toBe(true);
    expect(has(cfg(BASE), 'A001')).toBe(false);
  });

  it('A002 a compiler warning no audit rule covers / none without it', () => {
    const r = cfg(edit(BASE, 'slurm:\n', 'slurm:\n  accounting_storage_type: mysql\n'));
    expect(of(r, 'A002')[0]?.message).toMatch(/W305/);
    expect(has(cfg(BASE), 'A002')).toBe(false);
  });

  it('A005 the YAML targets another release than the tree built from it records / not the same one', () => {
    const d13 = `${BASE}target: { os: debian13 }\n`;
    const built12 = treeSide(BASE);
    const r = auditConfig('t.yaml', Buffer.from(d13), V, built12);
    const f = of(r, 'A005');
    expect(f).toHaveLength(1);
    expect(f[0]!.severity).toBe('warning');
    expect(f[0]!.message).toMatch(/the YAML targets debian13; the tree out\/rev was built for debian12 \(cluster\.json, /);
    expect(where(f[0]!)).toBe(`${lineOf(d13, 'os: debian13')}:${d13.split('\n')[lineOf(d13, 'os: debian13') - 1]!.indexOf('debian13') + 1}`);
    // a tree from before targets: its manifests record none (debian12)
    const oldFiles = treeFiles(BASE).map((x) => (x.path.endsWith('manifest.json') ? { ...x, content: x.content.replace(/\n {2}"target": "debian12",/, '') } : x));
    expect(oldFiles.filter((x) => x.path.endsWith('manifest.json') && x.content.includes('"target"'))).toEqual([]);
    expect(of(auditConfig('t.yaml', Buffer.from(d13), V, sideFromFiles('out/old', 'tree', oldFiles)), 'A005')[0]?.message).toMatch(/built for debian12 \(cluster\.json, \S+\/manifest\.json/);
    expect(has(auditConfig('t.yaml', Buffer.from(BASE), V, built12), 'A005')).toBe(false);
    expect(has(auditConfig('t.yaml', Buffer.from(d13), V, treeSide(d13)), 'A005')).toBe(false);
    expect(has(cfg(d13), 'A005')).toBe(false);
  });

  it('A101 two Galera nodes without an arbitrator / not with one', () => {
    const r = cfg(TWO);
    expect(has(r, 'A101')).toBe(true);
    expect(r.findings.some((f) => f.message.startsWith('W301'))).toBe(false); // not repeated as A002
    expect(has(cfg(TWO + 'database: { galera: { arbitrator: { hostname: q1, ip: 10.9.0.9 } } }\n'), 'A101')).toBe(false);
  });

  it('A102 an even Galera count / not an odd one', () => {
    expect(has(cfg(FOUR), 'A102')).toBe(true);
    expect(has(cfg(BASE), 'A102')).toBe(false);
  });

  it('A103 two Redis Sentinels / not three', () => {
    expect(has(cfg(TWO), 'A103')).toBe(true);
    expect(has(cfg(edit(BASE, 'redis:\n', 'redis:\n  mode: sentinel\n')), 'A103')).toBe(false);
  });

  it('A104 gluster replica 2 without an arbiter, at the replica_count line / not replica 3', () => {
    const r = cfg(TWO);
    expect(where(of(r, 'A104')[0]!)).toBe(`${lineOf(TWO, 'replica_count')}:${TWO.split('\n')[lineOf(TWO, 'replica_count') - 1]!.indexOf('2') + 1}`);
    expect(has(cfg(BASE), 'A104')).toBe(false);
  });

  it('A105 Redis Cluster masters without replicas / not with replicas', () => {
    expect(has(cfg(edit(BASE, 'redis:\n', 'redis:\n  cluster: { replicas: 0 }\n')), 'A105')).toBe(true);
    expect(has(cfg(BASE), 'A105')).toBe(false);
  });

  it('A106 a Sentinel quorum larger than the Sentinels / not a majority', () => {
    expect(has(cfg(edit(BASE, 'redis:\n', 'redis:\n  mode: sentinel\n  sentinel: { quorum: 4 }\n')), 'A106')).toBe(true);
    expect(has(cfg(edit(BASE, 'redis:\n', 'redis:\n  mode: sentinel\n  sentinel: { quorum: 2 }\n')), 'A106')).toBe(false);
  });

  it('A201 the VIP owner without the highest priority / not when consistent', () => {
    const text = edit(BASE, 'vip_owner: true, priority: 100', 'vip_owner: true, priority: 85');
    const r = cfg(text);
    expect(of(r, 'A201')[0]?.message).toMatch(/c1 has priority 85, but c2 has 90/);
    expect(where(of(r, 'A201')[0]!)).toMatch(new RegExp(`^${lineOf(text, 'priority: 85')}:`));
    expect(r.findings.some((f) => f.message.startsWith('E306'))).toBe(false);
    expect(has(cfg(edit(BASE, 'priority: 90', 'priority: 80')), 'A201')).toBe(true); // equal priorities
    expect(has(cfg(BASE), 'A201')).toBe(false);
  });

  it("A202 a VIP outside the controllers' subnet / not inside", () => {
    const text = edit(BASE, 'address: 10.9.0.100', 'address: 10.8.0.100');
    const r = cfg(text);
    expect(has(r, 'A202')).toBe(true);
    expect(where(of(r, 'A202')[0]!)).toBe(`${lineOf(text, '10.8.0.100')}:${text.split('\n')[lineOf(text, '10.8.0.100') - 1]!.indexOf('10.8.0.100') + 1}`);
    expect(has(cfg(BASE), 'A202')).toBe(false);
  });

  it('A203 a VIP with no keepalived controller / not with keepalived', () => {
    const text = BASE.replace(/priority: (\d+) }/g, `priority: $1, services: ${NO_KA} }`);
    expect(has(cfg(text), 'A203')).toBe(true);
    expect(has(cfg(BASE), 'A203')).toBe(false);
  });

  it('A204 virtual_router_id 51 / not 87', () => {
    expect(of(cfg(edit(BASE, 'virtual_router_id: 87', 'virtual_router_id: 51')), 'A204')).toHaveLength(1);
    expect(has(cfg(BASE), 'A204')).toBe(false);
  });

  it('A205 a derived virtual_router_id (info) / not when written', () => {
    const r = cfg(edit(BASE, ', virtual_router_id: 87', ''));
    expect(of(r, 'A205')[0]?.severity).toBe('info');
    expect(has(cfg(BASE), 'A205')).toBe(false);
  });

  it('A302 StateSaveLocation off the shared mount with several slurmctld / not on it', () => {
    const r = cfg(edit(BASE, 'slurm:\n', 'slurm:\n  state_save_location: /var/spool/slurmctld\n'));
    expect(of(r, 'A302')[0]?.message).toMatch(/\/var\/spool\/slurmctld is not on shared storage/);
    expect(has(cfg(BASE), 'A302')).toBe(false);
  });

  it('A303 accounting without a database node / not with one', () => {
    const text = BASE.replace(/priority: (\d+) }/g, `priority: $1, services: { glusterfs: true, redis: true, slurm: true, web: true, keepalived: true } }`)
      .replace('slurm:\n', 'slurm:\n  accounting_storage_type: slurmdbd\n')
      .replace(/database:\n  password: .*\n/, '');
    const r = cfg(text);
    expect(has(r, 'A303')).toBe(true);
    expect(r.findings.some((f) => f.message.startsWith('E316'))).toBe(false);
    expect(has(cfg(BASE), 'A303')).toBe(false);
  });

  it('A401 literal secrets: environment: values and inline passwords / not ${NAME}', () => {
    const text = edit(edit(BASE, 'cluster: { name: rev }\n', 'cluster: { name: rev }\nenvironment:\n  REDIS_PASSWORD: hunter22\n'), 'password: ${DB_ROOT_PASSWORD}', 'password: plain-text-pw');
    const r = cfg(text);
    const a = of(r, 'A401');
    expect(a.map((f) => f.location.kind === 'yaml' && f.location.line)).toEqual([lineOf(text, 'REDIS_PASSWORD: hunter22'), lineOf(text, 'plain-text-pw')]);
    expect(formatAuditText(r)).not.toContain('hunter22');
    expect(formatAuditJson(r)).not.toContain('plain-text-pw');
    expect(has(cfg(BASE), 'A401')).toBe(false);
  });

  it('A601 ports per node, VRRP included / none for a controller running nothing', () => {
    const r = cfg(BASE);
    const c1 = r.network.find((n) => n.node === 'c1')!;
    const ports = c1.rules.map((x) => `${x.proto}/${x.ports}`);
    for (const p of ['vrrp/', 'tcp/3306', 'tcp/4444', 'tcp/4567', 'tcp/4568', 'tcp/6379-6380', 'tcp/16379-16380', 'tcp/6817', 'tcp/6819', 'tcp/80', 'tcp/443', 'tcp/24007-24008', 'tcp/49152'])
      expect(ports).toContain(p);
    expect(r.network.find((n) => n.role === 'compute')!.rules.map((x) => x.ports)).toContain('6818');
    expect(of(r, 'A601').map((f) => where(f).split(':')[0])).toEqual(['5', '6', '7', '9']);
    // in start-phase order, as the descriptors list them: storage first, VRRP after Slurm
    expect(formatAuditText(r)).toMatch(/c1 \(10\.9\.0\.11\)\n\s+tcp  24007-24008/);
    expect(ports.indexOf('vrrp/')).toBe(ports.indexOf('tcp/6819') + 1);
    const idle = cfg(
      edit(BASE, '  - { hostname: c3, ip: 10.9.0.13, priority: 80 }\n', '  - { hostname: c3, ip: 10.9.0.13, priority: 80 }\n  - { hostname: c4, ip: 10.9.0.14, services: {} }\n')
        .replace('vip_owner: true, priority: 100', 'vip_owner: true')
        .replace(', priority: 90', '')
        .replace(', priority: 80', ''),
    );
    expect(idle.network.find((n) => n.node === 'c4')!.rules).toEqual([]);
    expect(of(idle, 'A601').some((f) => f.message.startsWith('c4'))).toBe(false);
  });

  it('A602 a web service on the Redis port / not on its own port', () => {
    const text = edit(BASE, '  jwt_secret: ${JWT_SECRET}\n', '  jwt_secret: ${JWT_SECRET}\n  services: [dashboard, { name: api, port: 6379 }]\n');
    expect(of(cfg(text), 'A602')[0]?.message).toMatch(/tcp port 6379 is used by Redis Cluster instances .* and by web backend api/);
    expect(has(cfg(edit(text, 'port: 6379', 'port: 7001')), 'A602')).toBe(false);
  });
});

describe('mhc audit on a built tree', () => {
  const clean = () => treeFiles(BASE);

  it('a fresh tree passes (only notes)', () => {
    const r = tree(clean());
    expect(r.findings.filter((f) => f.severity !== 'info')).toEqual([]);
  });

  it('A003 a cluster.json rules cannot read / not a real one', () => {
    const r = tree(
      mapFile(clean(), 'cluster.json', (f) => ({
        ...f,
        content: '{"controllers": 5, "network": null}\n',
      })),
    );
    expect(has(r, 'A003')).toBe(true);
    expect(has(tree(clean()), 'A003')).toBe(false);
  });

  it('A004 cluster.json or a manifest missing / not when present', () => {
    expect(has(tree(mapFile(clean(), 'cluster.json', () => undefined)), 'A004')).toBe(true);
    expect(of(tree(mapFile(clean(), 'c2/manifest.json', () => undefined)), 'A004').map(where)).toEqual(['c2:manifest.json']);
    expect(has(tree(clean()), 'A004')).toBe(false);
  });

  it('A201 keepalived.conf giving the top priority to another node / not when it agrees', () => {
    const r = tree(
      mapFile(clean(), 'c3/files/etc/keepalived/keepalived.conf', (f) => ({
        ...f,
        content: f.content.replace(/^(\s*priority) 80$/m, '$1 200'),
      })),
    );
    expect(of(r, 'A201').map(where)).toEqual(['c3:files/etc/keepalived/keepalived.conf']);
    expect(has(tree(clean()), 'A201')).toBe(false);
  });

  it('A301 slurm.conf differing on one node / not when identical', () => {
    const r = tree(
      mapFile(clean(), 'c2/files/etc/slurm/slurm.conf', (f) => ({
        ...f,
        content: f.content.replace('MaxTime=01:00:00', 'MaxTime=09:00:00'),
      })),
    );
    expect(of(r, 'A301').map(where)).toEqual(['c2:files/etc/slurm/slurm.conf']);
    expect(of(r, 'A301')[0]!.message).toMatch(/on c2 differs from the one on c1, c3, compute/);
    expect(has(tree(clean()), 'A301')).toBe(false);
  });

  it('A304 munge key differing between nodes / not when one', () => {
    const files = treeFiles(BASE, { ...AWKWARD });
    const other = Buffer.alloc(1024, 9).toString('base64');
    expect(
      has(
        tree(
          mapFile(files, 'compute/files/etc/munge/munge.key.b64', (f) => ({
            ...f,
            content: `${other}\n`,
          })),
        ),
        'A304',
      ),
    ).toBe(true);
    expect(has(tree(files), 'A304')).toBe(false);
  });

  it('A402 embedded secrets: a warning for --embed-secrets, an error when the manifest says none / nothing for placeholders', () => {
    const emb = tree(treeFiles(BASE, { ...AWKWARD }));
    expect(of(emb, 'A402').length).toBeGreaterThan(5);
    expect(of(emb, 'A402').every((f) => f.severity === 'warning')).toBe(true);
    const text = formatAuditText(emb) + formatAuditJson(emb);
    for (const v of Object.values(AWKWARD)) expect(text.includes(v)).toBe(false);
    const hacked = tree(
      mapFile(clean(), 'c1/files/etc/slurm/slurmdbd.conf', (f) => ({
        ...f,
        content: f.content.replace(/@@MHC_SECRET:[A-Z_]+(:[a-z]+)?@@/, '"s3cret"'),
      })),
    );
    expect(of(hacked, 'A402').map((f) => [where(f), f.severity])).toEqual([['c1:files/etc/slurm/slurmdbd.conf', 'error']]);
    expect(has(tree(clean()), 'A402')).toBe(false);
  });

  it('A403 a file holding a secret with mode 0644 / not at 0600', () => {
    const r = tree(
      mapFile(clean(), 'c1/files/etc/slurm/slurmdbd.conf', (f) => ({
        ...f,
        mode: 0o644,
      })),
    );
    expect(of(r, 'A403').map(where)).toEqual(['c1:files/etc/slurm/slurmdbd.conf']);
    expect(has(tree(clean()), 'A403')).toBe(false);
  });

  it('A404 a placeholder for an unknown secret, or malformed / not for known ones', () => {
    const r = tree(
      mapFile(clean(), 'c1/files/etc/slurm/cgroup.conf', (f) => ({
        ...f,
        content: `${f.content}# @@MHC_SECRET:NOPE@@ @@MHC_SECRET:REDIS_PASSWORD:base64@@\n`,
      })),
    );
    const msgs = of(r, 'A404').map((f) => f.message);
    expect(msgs.some((m) => /no secret of this cluster has/.test(m) && m.includes('NOPE'))).toBe(true);
    expect(msgs.some((m) => /malformed/.test(m))).toBe(true);
    expect(has(tree(clean()), 'A404')).toBe(false);
  });

  it('A501 slurmdbd.conf mode/owner and a world-writable script / not as built', () => {
    const files = mapFile(clean(), 'c1/manifest.json', (f) => {
      const m = JSON.parse(f.content);
      const e = m.files.find((x: { path: string }) => x.path === 'files/etc/slurm/slurmdbd.conf');
      e.mode = '0640';
      e.owner = 'root';
      return { ...f, content: JSON.stringify(m, null, 2) + '\n' };
    });
    const r = tree(
      mapFile(files, 'c2/manifest.json', (f) => {
        const m = JSON.parse(f.content);
        m.files.find((x: { path: string }) => x.path === 'lib/common.sh').mode = '0666';
        return { ...f, content: JSON.stringify(m, null, 2) + '\n' };
      }),
    );
    const a = of(r, 'A501');
    expect(a.find((f) => where(f) === 'c1:files/etc/slurm/slurmdbd.conf')?.message).toMatch(/must be mode 0600, not 0640.*must be owned by slurm, not root/);
    expect(a.find((f) => where(f) === 'c2:lib/common.sh')?.message).toMatch(/must not have mode bits/);
    expect(has(tree(clean()), 'A501')).toBe(false);
  });

  it('A502 a mode on disk that differs from the manifest / not when equal', () => {
    const r = tree(
      mapFile(clean(), 'c3/files/etc/slurm/cgroup.conf', (f) => ({
        ...f,
        mode: 0o640,
      })),
    );
    expect(of(r, 'A502').map(where)).toEqual(['c3:files/etc/slurm/cgroup.conf']);
    expect(has(r, 'A503')).toBe(false);
    expect(has(tree(clean()), 'A502')).toBe(false);
  });

  it('A503 tampering: a changed, an added and a removed file / not for the built tree', () => {
    let files = mapFile(clean(), 'c1/files/etc/slurm/cgroup.conf', (f) => ({
      ...f,
      content: `${f.content}# edited\n`,
    }));
    files = mapFile(files, 'c2/files/etc/slurm/cgroup.conf', () => undefined);
    files = [
      ...files,
      {
        path: 'c3/files/etc/cron.d/evil',
        content: '* * * * * root sh\n',
        mode: 0o644,
      },
    ];
    const w = of(tree(files), 'A503').map((f) => `${where(f)} ${f.message}`);
    expect(w).toContain('c1:files/etc/slurm/cgroup.conf content does not match its SHA256SUMS line');
    expect(w).toContain('c1:files/etc/slurm/cgroup.conf content does not match the sha256 in manifest.json');
    expect(w).toContain('c2:files/etc/slurm/cgroup.conf listed in SHA256SUMS but missing from the tree');
    expect(w).toContain('c3:files/etc/cron.d/evil not listed in SHA256SUMS (added after the build)');
    expect(has(tree(clean()), 'A503')).toBe(false);
  });

  it('A504 a tree built by another mhc version / not by this one', () => {
    expect(of(tree(treeFiles(BASE, undefined, '0.0.1')), 'A504')[0]?.message).toMatch(/built by mhc 0\.0\.1; this is mhc/);
    expect(has(tree(clean()), 'A504')).toBe(false);
  });

  it('A505 a symbolic link in the tree / none without', () => {
    expect(of(tree(clean(), ['c1/files/etc/passwd -> /etc/passwd']), 'A505').map(where)).toEqual(['c1:files/etc/passwd -> /etc/passwd']);
    expect(has(tree(clean()), 'A505')).toBe(false);
  });

  /** The tree with c1's manifest entry for `path` changed by `fn` (the manifest rewritten as mhc writes it). */
  const withEntry = (path: string, fn: (e: Record<string, unknown>) => void): RawFile[] =>
    mapFile(clean(), 'c1/manifest.json', (f) => {
      const m = JSON.parse(f.content);
      fn(m.files.find((x: { path: string }) => x.path === path));
      return { ...f, content: JSON.stringify(m, null, 2) + '\n' };
    });
  const HOSTS = 'files/etc/mhc/hosts';

  it('A506 a manifest path outside the bundle or naming no file of it / not as built', () => {
    for (const p of ['files/../../../etc/shadow', '/etc/shadow', 'files/./etc/mhc/hosts', 'files//etc/mhc/hosts', 'etc/mhc/hosts', 'files/etc/mhc/hosts\u001b[2J']) {
      const r = tree(withEntry(HOSTS, (e) => (e.path = p)));
      expect(
        of(r, 'A506').map((f) => [where(f), f.severity]),
        p,
      ).toEqual([['c1:manifest.json', 'error']]);
      expect(of(r, 'A506')[0]!.message).toContain(JSON.stringify(p));
    }
    expect(of(tree(withEntry(HOSTS, (e) => (e.path = 'files/etc/mhc/nothing'))), 'A506')[0]?.message).toMatch(/names no file of the bundle/);
    expect(has(tree(clean()), 'A506')).toBe(false);
  });

  it("A507 a manifest dest the node refuses, outside what mhc installs, or not the file's place / not as built", () => {
    const bad = [
      '/root/.ssh/authorized_keys',
      '/etc/sudoers.d/mhc',
      '/etc/cron.d/mhc',
      '/etc/passwd',
      '/etc/ld.so.preload',
      '/etc/profile.d/mhc.sh',
      '/etc/systemd/system-generators/x',
      '/etc/systemd/system/multi-user.target.wants/x.service',
      '/etc/mhc/../shadow',
      'etc/mhc/hosts',
      '/etc/mhc//hosts',
      '/etc/mhc/hosts x',
      '/etc/mhc/hosts2',
    ];
    for (const d of bad) {
      const r = tree(withEntry(HOSTS, (e) => (e.dest = d)));
      expect(of(r, 'A507').map(where), d).toEqual(['c1:manifest.json']);
    }
    expect(of(tree(withEntry(HOSTS, (e) => (e.dest = '/root/.ssh/authorized_keys'))), 'A507')[0]!.message).toMatch(/outside every directory mhc installs into/);
    expect(of(tree(withEntry(HOSTS, (e) => delete e.dest)), 'A507')[0]!.message).toMatch(/has no dest/);
    expect(has(tree(clean()), 'A507')).toBe(false);
  });

  it('A508 a manifest mode that is not 0NNN, setuid/setgid/sticky or world-writable / not as built', () => {
    for (const [m, re] of [
      ['4755', /setuid, setgid or sticky/],
      ['02755', /setuid, setgid or sticky/],
      ['rwxr-xr-x', /not an octal mode/],
      ['0888', /not an octal mode/],
      ['0646', /world-writable/],
    ] as const) {
      const r = tree(withEntry(HOSTS, (e) => (e.mode = m)));
      expect(of(r, 'A508').map(where), m).toEqual(['c1:manifest.json']);
      expect(of(r, 'A508')[0]!.message).toMatch(re);
    }
    expect(has(tree(clean()), 'A508')).toBe(false);
  });

  it('A509 a manifest owner or group that is no account mhc installs files for / not as built', () => {
    expect(of(tree(withEntry(HOSTS, (e) => (e.owner = 'nobody'))), 'A509')[0]?.message).toMatch(/nobody is not an account mhc installs files for/);
    expect(of(tree(withEntry(HOSTS, (e) => (e.group = 'adm'))), 'A509').map(where)).toEqual(['c1:manifest.json']);
    expect(has(tree(clean()), 'A509')).toBe(false);
  });

  it('A506-A509: no finding on any example as built', () => {
    for (const ex of readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'))) {
      const text = readFileSync(join(EXAMPLES, ex), 'utf8');
      const r = tree(treeFiles(text));
      expect(
        r.findings.filter((f) => ['A506', 'A507', 'A508', 'A509'].includes(f.code)),
        ex,
      ).toEqual([]);
    }
  });

  /** The tarballs `mhc build --tar` writes for BASE (the same bytes), at the given mode. */
  async function tarballs(embed: Record<string, string> | undefined, mode: number): Promise<Tarball[]> {
    const c = compile('t.yaml', Buffer.from(BASE));
    const r = build({ model: c.model!, literals: c.literals!, inputSha256: c.inputSha256, mhcVersion: V, targets: allTargets(c.model!), ...(embed ? { embedFrom: embed } : {}) });
    return Promise.all(['c1', 'compute'].map(async (b) => ({ name: `rev-${b}.tar.gz`, mode, bytes: await packBundle(b, r.files!, 0) })));
  }
  const ttree = (files: RawFile[], tbs: Tarball[]) => auditTree('out/rev', files, [], V, tbs);

  it('A403 a tarball beside the tree holding embedded secrets, not 0600 / not at 0600, not without secrets', async () => {
    const emb = { ...AWKWARD };
    const open = of(ttree(treeFiles(BASE, emb), await tarballs(emb, 0o644)), 'A403');
    expect(open.map((f) => [where(f), f.severity])).toEqual([
      [':../rev-c1.tar.gz', 'error'],
      [':../rev-compute.tar.gz', 'error'],
    ]);
    expect(open[0]!.message).toMatch(/^holds the values of .*REDIS_PASSWORD.*SLURMDBD_DB_PASSWORD \(built with --embed-secrets\) but is mode 0644$/);
    expect(open[1]!.message).toMatch(/^holds the values of MUNGE_KEY /);
    const text = formatAuditText(ttree(treeFiles(BASE, emb), await tarballs(emb, 0o644)));
    for (const v of Object.values(AWKWARD)) expect(text.includes(v)).toBe(false);
    for (const m of [0o600, 0o400]) expect(has(ttree(treeFiles(BASE, emb), await tarballs(emb, m)), 'A403')).toBe(false);
    // placeholders only: a 0644 tarball is fine
    expect(has(ttree(clean(), await tarballs(undefined, 0o644)), 'A403')).toBe(false);
  });

  it('A403 a tarball whose files lost their placeholders (edited after a plain build) / one that cannot be read', async () => {
    // a plain tree's tarball, with the value written into slurmdbd.conf: the manifest says "not embedded"
    const c = compile('t.yaml', Buffer.from(BASE));
    const r = build({ model: c.model!, literals: c.literals!, inputSha256: c.inputSha256, mhcVersion: V, targets: allTargets(c.model!) });
    const hacked = r.files!.map((f) => (f.path === 'c1/files/etc/slurm/slurmdbd.conf' ? { ...f, content: f.content.replace(/@@MHC_SECRET:[A-Z_]+(:[a-z]+)?@@/, '"s3cret"') } : f));
    const tb: Tarball = { name: 'rev-c1.tar.gz', mode: 0o644, bytes: await packBundle('c1', hacked, 0) };
    expect(of(ttree(clean(), [tb]), 'A403').map((f) => f.message)).toEqual([
      'holds the values of SLURMDBD_DB_PASSWORD (its manifest lists them and says none are embedded, but the files have no placeholder for them) but is mode 0644',
    ]);
    const junk: Tarball = { name: 'rev-c2.tar.gz', mode: 0o644, bytes: Buffer.from('not gzip') };
    expect(of(ttree(clean(), [junk]), 'A403')[0]?.message).toMatch(/^cannot be read \(not a readable gzip file.*\), so it may hold secret values, and is mode 0644$/);
    expect(has(ttree(clean(), [{ ...junk, mode: 0o600 }]), 'A403')).toBe(false);
  });

  it('tree findings from the model (quorum, VIP, Slurm) come from cluster.json', () => {
    const r = tree(treeFiles(TWO));
    for (const c of ['A101', 'A103', 'A104'] as const)
      expect(of(r, c)[0]?.location).toEqual({
        kind: 'tree',
        path: 'cluster.json',
      });
  });
});

describe('audit output and registry', () => {
  it('every code is reported by exactly one rule, and every rule code is registered', () => {
    const all = RULES.flatMap((r) => r.codes);
    expect(new Set(all).size).toBe(all.length);
    const reportedElsewhere = ['A001', 'A002', 'A003'];
    expect([...all, ...reportedElsewhere].sort()).toEqual(Object.keys(AUDIT_CODES).sort());
  });

  it('text: location, severity[code], source line with a caret, why and fix; exit status rule', () => {
    const r = cfg(TWO);
    const t = formatAuditText(r);
    expect(t).toMatch(/^t\.yaml:\d+:\d+: error\[A101\]: Galera runs on 2 nodes/m);
    expect(t).toMatch(/\n {2}why: .*\n {2}fix: /);
    expect(t).toMatch(/\n \d+ \| .*\n {3}\| +\^+\n/);
    expect(t).toMatch(/FAILED: \d+ errors?/);
    expect(auditFailed(r, false)).toBe(true);
    const warnOnly = cfg(edit(BASE, 'virtual_router_id: 87', 'virtual_router_id: 51'));
    expect(auditFailed(warnOnly, false)).toBe(false);
    expect(auditFailed(warnOnly, true)).toBe(true);
    expect(formatAuditText(warnOnly, { strict: true })).toMatch(/FAILED: 0 errors, 1 warning/);
  });

  it('json: findings with code, severity, location, what, why, fix; the network plan', () => {
    const j = JSON.parse(formatAuditJson(cfg(TWO)));
    expect(j.passed).toBe(false);
    const f = j.findings.find((x: { code: string }) => x.code === 'A101');
    expect(Object.keys(f).sort()).toEqual(['code', 'fix', 'location', 'message', 'severity', 'title', 'why']);
    expect(f.location).toEqual({
      file: 't.yaml',
      line: expect.any(Number),
      col: expect.any(Number),
    });
    expect(j.network.map((n: { node: string }) => n.node)).toEqual(['c1', 'c2']);
    const t = JSON.parse(formatAuditJson(tree(treeFiles(TWO))));
    expect(t.findings.find((x: { code: string }) => x.code === 'A101').location).toEqual({ node: null, path: 'cluster.json' });
  });
});
