// The pure renderer of `mhc report`, in memory: every example draws every controller, service,
// role and port; nothing from the input reaches the page unescaped; the bytes are deterministic;
// two sides show what a change adds, removes and moves; 10,000 compute nodes stay small.
import { describe, expect, it } from 'vitest';
import { networkPlan } from '../../src/review/ports.js';
import { anchor, esc, join, markup } from '../../src/review/html.js';
import { renderReport, CSP } from '../../src/review/report.js';
import { SERVICE_LABEL, computeGroups } from '../../src/review/report-facts.js';
import { mergeKeyed } from '../../src/review/report-merge.js';
import { MAX_DRAWN_GROUPS } from '../../src/review/report-svg.js';
import { BASE, edit, treeFiles, V } from './fixtures.js';
import { bigText, configSide, exampleText, reportOf, REPORT_EXAMPLES, treeInput } from './report-fixtures.js';

/** The text between the first `from` (inclusive) and the next `to` after it. */
function between(page: string, from: string, to: string): string {
  const i = page.indexOf(from);
  if (i < 0) throw new Error(`${from} not in the page`);
  const j = page.indexOf(to, i + from.length);
  return page.slice(i, j < 0 ? undefined : j);
}
const card = (page: string, host: string) => between(page, `id="${anchor('node', host)}"`, '</article>');
const portsOf = (page: string, key: string) => between(page, `id="${anchor('ports', key)}"`, '</table>');
const row = (fragment: string, text: string) => between(fragment.slice(fragment.lastIndexOf('<tr', fragment.indexOf(text))), '<tr', '</tr>');

describe('html escaping (one function, one tag)', () => {
  it('escapes the five HTML characters, and shows control and bidi characters as U+FFFD', () => {
    expect(esc(`<script>alert("x")</script> & 'y'`)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;');
    expect(esc('a\u0000b\u0007c\u001bd\u202ee\u2066f\u200fg\u0085h\u007fi\nj\rk')).toBe('a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf\uFFFDg\uFFFDh\uFFFDi\uFFFDj\uFFFDk');
    expect(esc('tab\there')).toBe('tab here');
  });

  it('escapes every interpolated value, keeps markup made by the tag, and joins with an escaped separator', () => {
    const evil = '"><img src=x onerror=alert(1)>';
    expect(markup`<a title="${evil}">${evil}</a>`.text).toBe('<a title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</a>');
    expect(markup`<p>${markup`<b>${'<i>'}</b>`}</p>`.text).toBe('<p><b>&lt;i&gt;</b></p>');
    expect(markup`${[1, '<', [undefined, false, null, 'x']]}`.text).toBe('1&lt;x');
    expect(join(['a', 'b'], '<&>').text).toBe('a&lt;&amp;&gt;b');
  });

  it('anchors: one id per name, only letters, digits, - and _ (nothing to escape, no two names alike)', () => {
    expect(anchor('node', 'ctl-1')).toBe('node-ctl-1');
    expect(anchor('node', 'a b"<\u202e')).toBe('node-a_20_b_22__3c__202e_');
    expect(anchor('node', 'a.b')).not.toBe(anchor('node', 'a_2e_b'.replace('_2e_', '-')));
    expect(anchor('node', '\u{1F600}')).toMatch(/^node-[A-Za-z0-9_-]+$/);
  });
});

describe('mhc report: one side', () => {
  it.each(REPORT_EXAMPLES)('%s: every controller, service, role and port is on the page', (name) => {
    const side = configSide(exampleText(name), `examples/${name}.yaml`);
    const page = reportOf(side);
    const m = side.model;
    for (const c of m.controllers) {
      const k = card(page, c.hostname);
      expect(k).toContain(`${c.hostname} <span class="addr">${c.ip}</span>`);
      for (const s of c.services) expect(k).toContain(`<span class="chip">${SERVICE_LABEL[s]}</span>`);
      // the services matrix: a dot exactly where the service runs
      const r = row(between(page, 'id="services"', '</table>'), `>${c.hostname}</a>`);
      expect((r.match(/<td>●<\/td>/g) ?? []).length).toBe(c.services.length);
      expect(page).toContain(`<a href="#${anchor('node', c.hostname)}"><g class="box ctl">`); // its box in the topology
    }
    for (const n of networkPlan(m)) {
      const t = portsOf(page, n.bundle ?? n.node);
      for (const r of n.rules) {
        expect(t).toContain(r.proto === 'vrrp' ? '<td>VRRP</td><td>IP protocol 112</td>' : `<td>${r.proto}</td><td>${r.ports}</td>`);
        expect(t).toContain(`<td>${esc(r.service)}</td><td>${esc(r.from)}</td>`);
      }
    }
    if (m.vipOwner) expect(between(page, 'id="ha-vip"', '</table>')).toContain(`<td>owner</td><td>${m.vipOwner}</td>`);
    if (m.galera) for (const g of m.galera.members) expect(between(page, 'id="ha-galera"', '</div>')).toContain(`>${g.hostname}</a></td><td>${g.ip}</td><td>member (MariaDB)</td>`);
    if (m.slurm) expect(between(page, 'SlurmctldHost order', '</table>')).toContain(`<td>#1</td><td><a href="#${anchor('node', m.slurm.controllers[0]!.hostname)}">`);
    for (const g of computeGroups(m)) expect(between(page, 'id="compute"', '</section>')).toContain(`<td>${g.count}</td><td>${g.hostlist}</td>`);
  });

  it('two_controllers: the Galera arbitrator, the Sentinel master and its replica, replica 2 bricks', () => {
    const page = reportOf(configSide(exampleText('two_controllers')));
    expect(page).toContain('<td>quorum1</td><td>10.20.0.9</td><td>arbitrator (garbd): votes, holds no data</td>');
    expect(card(page, 'quorum1')).toContain('Galera arbitrator (garbd)');
    expect(page).toContain('garbd (Galera arbitrator)'); // its box in the topology
    expect(card(page, 'head1')).toContain('master :6379 (initial; Sentinel may move it)');
    expect(card(page, 'head2')).toContain('replica :6379 of head1');
    expect(between(page, 'id="ha-gluster"', '</div>')).toContain('<td>layout</td><td>replica 2</td>');
    // A104 (replica 2 without an arbiter) is a cluster-wide finding
    expect(row(between(page, 'id="findings"', '</table>'), '>A104<')).toContain('(cluster)');
  });

  it('Redis Cluster replicas: which host backs which master; an arbiter brick', () => {
    const text = edit(BASE, 'slurm:\n', 'storage:\n  gluster: { replica_count: 3, arbiter: true }\nslurm:\n');
    const page = reportOf(configSide(text));
    const masters = between(page, 'masters and the replicas that back them', '</table>');
    expect(masters).toContain('>c1</a></td><td>10.9.0.11:6379</td><td>c2:6380</td>');
    expect(masters).toContain('>c3</a></td><td>10.9.0.13:6379</td><td>c1:6380</td>');
    expect(card(page, 'c2')).toContain('replica :6380 of c1&#39;s master');
    expect(between(page, 'id="ha-gluster"', '</div>')).toContain('<td>layout</td><td>replica 3 arbiter 1</td>');
    expect(row(page, 'c3:/')).toContain('arbiter (metadata only)');
    expect(card(page, 'c3')).toContain('arbiter brick (metadata only)');
  });

  it('is self-contained: a CSP that forbids scripts and loads, no script, no external URL, no font', () => {
    for (const name of REPORT_EXAMPLES) {
      const page = reportOf(configSide(exampleText(name)));
      expect(page.startsWith('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">')).toBe(true);
      expect(page).toContain(`<meta http-equiv="Content-Security-Policy" content="${esc(CSP)}">`);
      expect(CSP).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
      expect(page).not.toMatch(/<script|javascript:|\bon[a-z]+=|\bsrc=|<link|<iframe|<object|<embed|@import|url\(|@font-face|https?:\/\/|\/\/[a-z]/i);
      expect(page.endsWith('</html>\n')).toBe(true);
    }
  });

  it('is deterministic: the same sides give the same bytes, also built again from the YAML', () => {
    for (const name of REPORT_EXAMPLES) {
      const a = reportOf(configSide(exampleText(name)));
      expect(reportOf(configSide(exampleText(name)))).toBe(a);
      expect(a).not.toMatch(/\b(19|20)\d\d-\d\d-\d\d|T\d\d:\d\d/); // no date or time
    }
  });

  it('reads a built tree as well: the same topology; tree findings link to their node', () => {
    const files = treeFiles(BASE).map((f) => (f.path === 'c2/bin/backup.sh' ? { ...f, mode: 0o700 } : f));
    const page = reportOf(treeInput(files));
    for (const h of ['c1', 'c2', 'c3']) expect(page).toContain(`id="${anchor('node', h)}"`);
    expect(page).toContain('from <b>out/rev (built tree)</b>');
    const r = row(between(page, 'id="findings"', '</table>'), '>A502<');
    expect(r).toContain(`<a href="#${anchor('node', 'c2')}">c2</a>`);
    const id = /<tr id="(finding-\d+)"/.exec(r)![1];
    expect(card(page, 'c2')).toContain(`href="#${id}">error A502</a>`);
  });

  it('hostile strings from an edited cluster.json, a label or a finding never reach the page raw', () => {
    const evil = `<script>alert(1)</script>"'&\u202e\u0007`;
    const files = treeFiles(BASE).map((f) =>
      f.path === 'cluster.json' ? { ...f, content: f.content.replaceAll('"c2"', JSON.stringify(`c2${evil}`)).replace('"rev"', JSON.stringify(`rev${evil}`)) } : f,
    );
    const page = reportOf(treeInput(files, `out/${evil}`));
    expect(page).not.toContain('<script');
    expect(page).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/);
    expect(page).toContain('c2&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;\uFFFD\uFFFD');
    expect(page).toContain(`<title>mhc report: rev&lt;script&gt;`);
    expect(page).toContain(`id="${anchor('node', `c2${evil}`)}"`);
    // every attribute value is quoted and holds no raw quote or angle bracket
    for (const m of page.matchAll(/<[a-z][^>]*>/g)) expect(m[0]).toMatch(/^<[a-z][a-z0-9-]*(\s[a-z0-9-]+="[^"<>]*")*\/?>$/i);
  });
});

describe('mhc report OLD NEW: what the change adds, removes and moves', () => {
  const OLD = edit(
    BASE,
    `  - { hostname: c1, ip: 10.9.0.11, vip_owner: true, priority: 100 }
  - { hostname: c2, ip: 10.9.0.12, priority: 90 }
  - { hostname: c3, ip: 10.9.0.13, priority: 80 }`,
    `  - { hostname: c1, ip: 10.9.0.11, vip_owner: true, priority: 100 }
  - { hostname: c2, ip: 10.9.0.12, priority: 90 }
  - { hostname: c3, ip: 10.9.0.13, priority: 80, services: { glusterfs: true, mariadb: true, slurm: true, keepalived: true } }`,
  );
  // web moves from c2 to c3 (c2 keeps the rest), the VIP owner becomes c2, c4 and n3 are added
  const NEW = edit(
    edit(
      OLD,
      `  - { hostname: c1, ip: 10.9.0.11, vip_owner: true, priority: 100 }
  - { hostname: c2, ip: 10.9.0.12, priority: 90 }
  - { hostname: c3, ip: 10.9.0.13, priority: 80, services: { glusterfs: true, mariadb: true, slurm: true, keepalived: true } }`,
      `  - { hostname: c1, ip: 10.9.0.11, priority: 100 }
  - { hostname: c2, ip: 10.9.0.12, vip_owner: true, priority: 110, services: { glusterfs: true, mariadb: true, redis: true, slurm: true, keepalived: true } }
  - { hostname: c3, ip: 10.9.0.13, priority: 80, services: { glusterfs: true, mariadb: true, slurm: true, keepalived: true, web: true } }
  - { hostname: c4, ip: 10.9.0.14, priority: 70, services: { keepalived: true } }`,
    ),
    '  - { hostname: n2, ip: 10.9.0.52, cpus: 8, memory: 16000 }\n',
    '  - { hostname: n2, ip: 10.9.0.52, cpus: 8, memory: 16000 }\n  - { hostname: n3, ip: 10.9.0.53, cpus: 8, memory: 16000 }\n',
  );
  const page = reportOf(configSide(NEW, 'new.yaml'), configSide(OLD, 'old.yaml'));
  const changes = between(page, 'id="changes"', '</section>');
  const item = (text: string) => row(changes.replaceAll('<li', '<tr').replaceAll('</li>', '</tr>'), text);

  it('lists the moves, adds and removes, each with its class, and a legend', () => {
    expect(page).toContain('change from <b>old.yaml (cluster YAML)</b> to <b>new.yaml (cluster YAML)</b>');
    expect(changes).toContain('<ul class="legend"><li class="st-added">added by the change</li><li class="st-removed">removed by the change</li>');
    expect(item('Web services moved from c2 to c3')).toContain('class="st-moved"');
    expect(item('controller c4 added (10.9.0.14)')).toContain('class="st-added"');
    expect(item('1 compute node added: n3')).toContain('class="st-added"');
    expect(item('owner: c1 → c2')).toContain('class="st-moved"');
    expect(item('primary slurmctld: c1 → c2')).toContain('class="st-moved"');
    expect(item('firewall of c2: closes tcp 80, tcp 443')).toContain('class="st-');
    expect(item('firewall of c3: opens tcp 80, tcp 443')).toContain('class="st-');
    expect(changes).toMatch(/files: \d+ changed, \d+ added, \d+ removed in \d+ bundles/);
    expect(changes).not.toContain('firewall of c4'); // a node added whole is one item
  });

  it('marks the picture: the matrix cells, the cards, the topology boxes and the VIP lines', () => {
    const matrix = between(page, 'id="services"', '</table>');
    expect(row(matrix, '>c2</a>')).toContain('class="st-changed"');
    expect(row(matrix, '>c2</a>')).toMatch(/<td><del>●<\/del> <\/td>$/); // web, the last column, gone
    expect(row(matrix, '>c3</a>')).toMatch(/<td><ins>●<\/ins><\/td>$/);
    expect(row(matrix, '>c4</a>')).toContain('class="st-added"');
    expect(card(page, 'c3')).toContain('<span class="chip st-added">Web services</span>');
    expect(card(page, 'c2')).toContain('<span class="chip st-removed">Web services</span>');
    expect(page).toMatch(/<article class="card st-added" id="node-c4">/);
    expect(page).toContain(`<g class="box ctl st-added"><title>c4 10.9.0.14</title>`);
    expect(page).toMatch(/<line class="vipline owner st-moved"[^>]*\/><text class="order st-moved"[^>]*>#1 owner<\/text>/);
    expect(page).toContain('>was owner</text>');
    expect(between(page, 'id="compute"', '</table>')).toContain('<td><del>2</del> <ins>3</ins></td><td><del>n[1-2]</del> <ins>n[1-3]</ins></td>');
  });

  it("shows mhc diff's file changes per bundle, escaped", () => {
    const files = between(page, 'id="files"', '</section>');
    expect(files).toContain('<code>files/etc/keepalived/keepalived.conf</code> changed on');
    expect(files).toMatch(/<span class="h">@@ -\d+,\d+ \+\d+,\d+ @@<\/span>/);
    expect(card(page, 'c1')).toMatch(/<a href="#files">files: \d+ changes \(\+\d+ −\d+\)<\/a>/);
    // a file of a tree holding markup is shown as text
    const a = treeFiles(BASE);
    const b = a.map((f) => (f.path === 'c1/bin/backup.sh' ? { ...f, content: `${f.content}# <script>alert(1)</script>\n` } : f));
    const p = reportOf(treeInput(b), treeInput(a));
    expect(p).not.toContain('<script');
    expect(p).toContain('<span class="a">+# &lt;script&gt;alert(1)&lt;/script&gt;</span>');
  });

  it('the same side twice: no change, identical files, every item unmarked', () => {
    const p = reportOf(configSide(OLD), configSide(OLD));
    expect(p).toContain('No change to the topology, the ports or the findings.');
    expect(p).toContain('The built files are identical.');
    expect(
      between(p, '<main>', '</main>')
        .replace(between(p, 'id="changes"', '</section>'), '')
        .replace(/<ul class="legend">.*?<\/ul>/g, ''),
    ).not.toMatch(/st-(added|removed|changed|moved)/);
  });

  it('one side: no legend, no change list, no mark', () => {
    const p = reportOf(configSide(OLD));
    expect(p).not.toMatch(/class="[^"]*st-|id="changes"|id="files"|class="legend"/);
  });

  it('mergeKeyed keeps the new order and puts a removed item after its old predecessor', () => {
    const k = (...xs: string[]) => xs.map((key) => ({ key, v: key }));
    const m = mergeKeyed(k('a', 'b', 'c', 'd'), [...k('a', 'x', 'c'), { key: 'd', v: 'D' }]);
    expect(m.map((x) => `${x.key}:${x.status}`)).toEqual(['a:same', 'x:added', 'b:removed', 'c:same', 'd:changed']);
    expect(mergeKeyed(undefined, k('a')).map((x) => x.status)).toEqual(['same']);
  });
});

describe('mhc report: 5 controllers and 10,000 compute nodes', () => {
  const side = configSide(bigText(), 'synthetic.yaml');

  it('folds compute nodes into groups (never a box per node) and stays under 80,000 bytes', () => {
    const t0 = performance.now();
    const page = renderReport({ now: side, mhcVersion: V });
    const ms = performance.now() - t0;
    const bytes = Buffer.byteLength(page);
    console.log(`report of 5 controllers + 10,000 compute nodes: ${bytes} bytes, rendered in ${ms.toFixed(0)} ms`);
    expect(bytes).toBeLessThan(80_000);
    expect((page.match(/<g class="box cmp/g) ?? []).length).toBeLessThanOrEqual(MAX_DRAWN_GROUPS + 1);
    expect(page).toContain('<td>9000</td><td><details class="long"><summary>r001n[01-40],r002n[01-40]');
    expect(page).toContain('<td>1000</td><td><details class="long"><summary>r010n[01-40],r020n[01-40]');
    expect(page).not.toContain('r001n01'); // no node on its own
    for (let i = 1; i <= 5; i++) expect(page).toContain(`id="node-ctl${i}"`);
    expect(ms).toBeLessThan(5_000);
  });

  it('a change to it (one node added) stays small too', () => {
    const next = configSide(bigText().replace('slurm:\n', '  - { hostname: extra1, ip: 10.9.9.9, cpus: 8, memory: 16GB }\nslurm:\n'), 'next.yaml');
    const page = reportOf(next, side);
    console.log(`report of a change to it: ${Buffer.byteLength(page)} bytes`);
    expect(page).toContain('1 compute node added: extra1');
    expect(Buffer.byteLength(page)).toBeLessThan(200_000);
  });
});
