// The golden format (test/golden-util.ts) stores a file once however many bundles carry it; this
// proves it still catches what a tree of whole files caught: one byte in one node's file, in a
// shared file (every copy, one copy, the printed copy), a file added, removed, a mode or owner
// changed, a wrong hash in a manifest — each reported by path, all in one message.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { build, allTargets } from '../../src/compiler/build.js';
import { compileFile, EXAMPLES } from '../helpers.js';
import {
  compareGolden,
  DIFF_LINES_PER_MESSAGE,
  forGolden,
  GoldenFormatError,
  parseSnapshot,
  renderSnapshots,
  resolveSnapshot,
  TOKEN,
  UPDATE_HINT,
  type GoldenFile,
  type GoldenSet,
} from '../golden-util.js';

const VERSION = '9.8.7';

function example(name: string): GoldenFile[] {
  const c = compileFile(join(EXAMPLES, `${name}.yaml`));
  const r = build({ model: c.model, literals: c.literals!, inputSha256: c.inputSha256, mhcVersion: VERSION, targets: allTargets(c.model) });
  return forGolden(r.files!, { mhcVersion: VERSION, inputSha256: c.inputSha256 });
}

const two = example('two_controllers');
const five = example('five_controllers');
const committedSets: GoldenSet[] = [
  { name: 'five_controllers', source: 'examples/five_controllers.yaml', files: five },
  { name: 'two_controllers', source: 'examples/two_controllers.yaml', files: two },
];
const committed = renderSnapshots(committedSets);

/** The report for two_controllers when the build gives `files` instead. */
function reportFor(files: readonly GoldenFile[], fiveFiles: readonly GoldenFile[] = five): string {
  const actual = renderSnapshots([
    { name: 'five_controllers', source: 'examples/five_controllers.yaml', files: fiveFiles },
    { name: 'two_controllers', source: 'examples/two_controllers.yaml', files },
  ]);
  return compareGolden('two_controllers', committed, actual.get('two_controllers')!, files);
}

const edit = (files: readonly GoldenFile[], paths: readonly string[], f: (g: GoldenFile) => GoldenFile | undefined): GoldenFile[] =>
  files.flatMap((g) => {
    if (!paths.includes(g.path)) return [g];
    const r = f(g);
    return r ? [r] : [];
  });
/** One byte changed: the first 'e' of the file becomes 'E'. */
const oneByte = (g: GoldenFile): GoldenFile => ({ ...g, content: g.content.replace('e', 'E') });
const pathsIn = (report: string): string[] => [...report.matchAll(/^ {2}(?:changed|added|removed|mode\/owner): (.+?)(?: \(|: |$)/gm)].flatMap((m) => m[1]!.split(', '));

const COMMON = ['compute/lib/common.sh', 'head1/lib/common.sh', 'head2/lib/common.sh'];

describe('golden snapshots', () => {
  it('store a file the bundles share once: one section, the other copies one line each', () => {
    const text = committed.get('two_controllers')!;
    // every node of two_controllers carries lib/common.sh; five_controllers printed it first
    expect(text).toContain('---- compute/lib/common.sh 0644 root:root = five_controllers:compute/lib/common.sh ----\n');
    expect(text).toContain('---- head2/lib/common.sh 0644 root:root = five_controllers:compute/lib/common.sh ----\n');
    expect(committed.get('five_controllers')!).toContain('---- ctl2/lib/common.sh 0644 root:root = compute/lib/common.sh ----\n');
    expect(
      committed
        .get('five_controllers')!
        .split('\n')
        .filter((l) => l === '# shellcheck shell=bash').length,
    ).toBeLessThan(30);
    // and read back as the whole files
    const back = resolveSnapshot(committed, 'two_controllers');
    expect([...back.keys()]).toEqual(two.map((f) => f.path).sort());
    for (const f of two) expect(back.get(f.path)).toEqual(f);
  });

  it('store a file that differs on each node in a few lines (the node name) once, and each copy as its changes', () => {
    const text = committed.get('two_controllers')!;
    expect(text).toMatch(/^---- head1\/bin\/start_multihead\.sh 0755 root:root = five_controllers:ctl1\/bin\/start_multihead\.sh except ----\n@@ -3 \+3 @@\n-.*\(ctl1\).*\n\+.*\(head1\).*\n/m);
    expect(text).toMatch(/^---- head2\/bin\/start_multihead\.sh 0755 root:root = five_controllers:ctl1\/bin\/start_multihead\.sh except ----$/m);
    const back = resolveSnapshot(committed, 'two_controllers');
    expect(back.get('head2/bin/start_multihead.sh')).toEqual(two.find((f) => f.path === 'head2/bin/start_multihead.sh'));
  });

  it('write no hash, input hash or mhc version that is right; keep one that is wrong', () => {
    const text = committed.get('two_controllers')!;
    expect(text).not.toMatch(/\b[0-9a-f]{64}\b/);
    expect(text).not.toContain(VERSION);
    expect(text).toContain(`"mhc_version": "${TOKEN.mhcVersion}"`);
    expect(text).toContain(`"input_sha256": "${TOKEN.inputSha256}"`);
    expect(text).toContain(`${TOKEN.fileSha256}  head1/lib/common.sh\n`);
    // a manifest whose hash is not the file's (the product hashing the wrong bytes) shows it
    const c = compileFile(join(EXAMPLES, 'two_controllers.yaml'));
    const r = build({ model: c.model, literals: c.literals!, inputSha256: c.inputSha256, mhcVersion: VERSION, targets: allTargets(c.model) });
    const raw = r.files!.map((f) => (f.path === 'head1/lib/common.sh' ? { ...f, content: `${f.content}# tampered\n` } : f));
    const g = forGolden(raw, { mhcVersion: VERSION, inputSha256: c.inputSha256 });
    const manifest = g.find((f) => f.path === 'head1/manifest.json')!.content;
    expect(manifest).toMatch(/"path": "lib\/common.sh",[^}]*"sha256": "[0-9a-f]{64}"/);
    expect(g.find((f) => f.path === 'SHA256SUMS')!.content).toMatch(/^[0-9a-f]{64} {2}head1\/lib\/common\.sh$/m);
    expect(g.find((f) => f.path === 'head2/manifest.json')!.content).not.toMatch(/[0-9a-f]{64}/);
    // another mhc version than the one built with stays visible
    expect(forGolden(r.files!, { mhcVersion: '0.0.1', inputSha256: c.inputSha256 }).find((f) => f.path === 'head1/manifest.json')!.content).toContain(`"mhc_version": "${VERSION}"`);
  });

  it('pass when nothing changed', () => {
    expect(reportFor(two)).toBe('');
  });

  it('report one byte changed in one node’s file, with a diff', () => {
    const p = 'head1/files/etc/keepalived/keepalived.conf';
    const r = reportFor(edit(two, [p], oneByte));
    expect(pathsIn(r)).toEqual([p]);
    expect(r).toContain('1 changed');
    expect(r).toMatch(/^ {4}@@ /m);
    expect(r).toMatch(/^ {4}-.*e/m);
    expect(r).toMatch(/^ {4}\+.*E/m);
    expect(r.trimEnd().endsWith(UPDATE_HINT)).toBe(true);
  });

  it('report one byte changed in a shared file on every node (a template change): each path, one diff', () => {
    const r = reportFor(
      edit(two, COMMON, oneByte),
      edit(
        five,
        five.filter((f) => f.path.endsWith('/lib/common.sh')).map((f) => f.path),
        oneByte,
      ),
    );
    expect(pathsIn(r)).toEqual(COMMON);
    expect(r).toContain('(the same change on 3 paths)');
    expect(r.match(/^ {4}@@ /gm)).toHaveLength(1);
    // two_controllers' own text is unchanged (its copies refer to five_controllers'), and says so
    expect(r).toContain('itself stays as it is');
  });

  it('report one byte changed in one copy of a shared file, whichever copy it is', () => {
    for (const p of COMMON) expect(pathsIn(reportFor(edit(two, [p], oneByte))), p).toEqual([p]);
    // the copy five_controllers prints, that two_controllers' copies refer to: only five_controllers changed
    const fivePrinted = edit(five, ['compute/lib/common.sh'], oneByte);
    expect(reportFor(two, fivePrinted)).toMatch(/written differently \(references/);
    const fiveActual = renderSnapshots([{ name: 'five_controllers', source: 'examples/five_controllers.yaml', files: fivePrinted }]);
    expect(pathsIn(compareGolden('five_controllers', committed, fiveActual.get('five_controllers')!, fivePrinted))).toEqual(['compute/lib/common.sh']);
  });

  it('report one byte changed in a file stored as its changes to another, and in that other', () => {
    const p = 'head2/bin/start_multihead.sh';
    const lines = two.find((f) => f.path === p)!.content.split('\n').length;
    // far from the lines that differ (the patch's lines), in them, and at the end
    for (const at of [600, 2, lines - 2]) {
      const r = reportFor(
        edit(two, [p], (g) => ({
          ...g,
          content: g.content
            .split('\n')
            .map((l, i) => (i === at ? `${l}x` : l))
            .join('\n'),
        })),
      );
      expect(pathsIn(r), `line ${at + 1}`).toEqual([p]);
    }
    // the copy it is stored against changed alone (five_controllers' ctl1): two_controllers' files are as they were
    const base = edit(five, ['ctl1/bin/start_multihead.sh'], oneByte);
    expect(pathsIn(reportFor(two, base))).toEqual([]);
    expect(reportFor(two, base)).toMatch(/written differently/);
  });

  it('report an added file and a removed file (a shared one too)', () => {
    const added = [...two, { path: 'head1/bin/new.sh', mode: 0o755, owner: 'root', group: 'root', content: '#!/bin/bash\necho new\n' }];
    const ra = reportFor(added);
    expect(pathsIn(ra)).toEqual(['head1/bin/new.sh']);
    expect(ra).toContain('1 added');
    expect(ra).toContain('    +echo new');
    const rr = reportFor(edit(two, ['head2/lib/common.sh'], () => undefined));
    expect(pathsIn(rr)).toEqual(['head2/lib/common.sh']);
    expect(rr).toContain('1 removed');
    // an added copy of a shared file is one reference line, and still reported
    const copy = [...two, { ...two.find((f) => f.path === 'head1/lib/common.sh')!, path: 'head1/lib/common-copy.sh' }];
    expect(pathsIn(reportFor(copy))).toEqual(['head1/lib/common-copy.sh']);
  });

  it('report a mode or owner change', () => {
    const p = 'head1/bin/backup.sh';
    const r = reportFor(edit(two, [p], (g) => ({ ...g, mode: 0o700 })));
    expect(r).toContain(`mode/owner: ${p}: 0755 root:root → 0700 root:root`);
    const q = 'head1/lib/common.sh'; // a reference line carries its own mode and owner
    expect(reportFor(edit(two, [q], (g) => ({ ...g, owner: 'nobody' })))).toContain(`mode/owner: ${q}: 0644 root:root → 0644 nobody:root`);
  });

  it('report every difference in one message, bounded', () => {
    const p = 'head1/files/etc/keepalived/keepalived.conf';
    const many = [...edit(two, [p, ...COMMON], oneByte).filter((f) => f.path !== 'head2/bin/backup.sh'), { path: 'head2/bin/x.sh', mode: 0o755, owner: 'root', group: 'root', content: 'x\n' }];
    expect(pathsIn(reportFor(many)).sort()).toEqual([p, ...COMMON, 'head2/bin/backup.sh', 'head2/bin/x.sh'].sort());
    // every line different in every file: every path listed, the diffs cut
    const all = two.map((f) => ({ ...f, content: f.content.replace(/^/gm, '#') }));
    const r = reportFor(all);
    expect(new Set(pathsIn(r))).toEqual(new Set(two.map((f) => f.path)));
    expect(r.split('\n').length).toBeLessThan(DIFF_LINES_PER_MESSAGE + two.length + 10);
    expect(r).toContain('diffs cut');
  });

  it('say what to run when the golden is missing or cannot be read', () => {
    const actual = committed.get('two_controllers')!;
    expect(compareGolden('two_controllers', new Map(), actual, two)).toContain(UPDATE_HINT);
    const broken = new Map(committed).set('two_controllers', actual.replace('five_controllers:compute/lib/common.sh', 'five_controllers:nowhere.sh'));
    expect(compareGolden('two_controllers', broken, actual, two)).toMatch(/cannot be read: .*nowhere\.sh.*does not hold/);
  });

  it('read back exactly what they wrote: empty files, no final newline, lines like headers', () => {
    const f = (path: string, content: string): GoldenFile => ({ path, mode: 0o644, owner: 'root', group: 'root', content });
    const files = [f('a/empty', ''), f('a/nl', '\n'), f('a/open', 'no newline'), f('a/two', 'x\n\n'), f('a/dash', '---- not a header ----\n---- a/x 0644 ----\n'), f('b/empty', '')];
    const text = renderSnapshots([{ name: 's', source: 'test', files }]).get('s')!;
    expect(text).toContain('---- a/open 0644 root:root (no newline at end) ----\nno newline\n\n');
    expect(text).toContain('---- b/empty 0644 root:root = a/empty ----\n');
    const back = resolveSnapshot(new Map([['s', text]]), 's');
    expect([...back.values()]).toEqual([...files].sort((a, b) => (a.path < b.path ? -1 : 1)));
    expect(parseSnapshot('s', text).map((e) => e.path)).toEqual(files.map((g) => g.path).sort());
    expect(() => renderSnapshots([{ name: 's', source: 'test', files: [f('a', 'x\n---- b 0644 root:root ----\n')] }])).toThrow(GoldenFormatError);
    // files written as changes to another: lines replaced, inserted and removed at the start, middle and end
    const base = Array.from({ length: 160 }, (_, i) => `line ${i + 1}`); // 10 diff lines may be a delta (DELTA_MAX_SHARE)
    const variant = (fn: (l: string[]) => unknown): string => {
      const l = [...base];
      fn(l);
      return `${l.join('\n')}\n`;
    };
    const changes: [string, (l: string[]) => unknown][] = [
      ['n2/x', (l) => l.splice(0, 1, 'first')],
      ['n3/x', (l) => l.splice(0, 0, 'before')],
      ['n4/x', (l) => l.splice(20, 2)],
      ['n5/x', (l) => l.push('after')],
      ['n6/x', (l) => (l.splice(159, 1), l.splice(10, 1, 'a', 'b'), l.splice(0, 1))],
      ['n7/x', (l) => l.splice(5, 1, '--- n1/x 0644 root:root ----')], // "+" + this line reads as no header
      ['n8/x', (l) => l.splice(0, 160, ...l.map((x) => x.toUpperCase()))], // too different: printed whole
      ['o1/y', (l) => l.splice(5, 1, '--- o1/y 0644 root:root ----')],
      ['o2/y', (l) => l.splice(30, 1, 'other')], // "-" + o1/y's line 6 would read as a header: printed whole
    ];
    const like = [f('n1/x', `${base.join('\n')}\n`), ...changes.map(([p, fn]) => f(p, variant(fn)))];
    const t = renderSnapshots([{ name: 's', source: 'test', files: like }]).get('s')!;
    expect(t.match(/ except ----$/gm)).toHaveLength(6);
    expect(t).toContain('---- n2/x 0644 root:root = n1/x except ----\n@@ -1 +1 @@\n-line 1\n+first\n\n');
    expect(t).toContain('---- n3/x 0644 root:root = n1/x except ----\n@@ -0,0 +1 @@\n+before\n\n');
    expect(t).toMatch(/^---- n8\/x 0644 root:root ----$/m);
    expect(t).toMatch(/^---- o2\/y 0644 root:root ----$/m);
    expect([...resolveSnapshot(new Map([['s', t]]), 's').values()]).toEqual(like);
    // changes that do not apply to the copy they name are an error, not a silent pass
    const wrong = t.replace('-line 1\n+first', '-line 0\n+first');
    expect(() => resolveSnapshot(new Map([['s', wrong]]), 's')).toThrow(/n2\/x: its changes do not apply to n1\/x/);
    expect(() => renderSnapshots([{ name: 's', source: 'test', files: [f('a', 'x\r\n')] }])).toThrow(/carriage return/);
  });
});
