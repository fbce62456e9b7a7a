// mhc diff, pure core: which lines on which nodes a YAML change moves, grouping, output forms,
// and secrets that never appear even when a side was built with --embed-secrets.
import { describe, expect, it } from 'vitest';
import { dqEscape } from '../../src/compiler/quote.js';
import { sentinelCredential, slurmConfValue } from '../../src/compiler/secrets.js';
import { compareSides } from '../../src/review/compare.js';
import { formatDiff, formatDiffMarkdown, formatDiffText } from '../../src/review/diff-format.js';
import { sideFromFiles } from '../../src/review/side.js';
import { splitLines } from '../../src/review/unified.js';
import { AWKWARD } from '../helpers.js';
import { BASE, edit, treeFiles, treeSide, V, yamlSide } from './fixtures.js';

/** Every form in which a secret value could leak into output. */
function leakForms(): string[] {
  const out: string[] = [];
  for (const v of Object.values(AWKWARD)) {
    out.push(v, dqEscape(v), sentinelCredential(v));
    const s = slurmConfValue(v);
    if (s) out.push(s);
  }
  return out.filter((x) => x.length >= 6);
}
function expectNoSecret(text: string) {
  for (const f of leakForms()) expect(text.includes(f), `output leaks ${JSON.stringify(f)}`).toBe(false);
}

/** bundle → path → content, for the files containing `needle` (computed from a build, not hard-coded). */
function filesContaining(text: string, needle: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of treeFiles(text)) {
    const [bundle, ...rest] = f.path.split('/');
    if (!rest.length || rest.join('/') === 'manifest.json' || !f.content.includes(needle)) continue;
    if (!out.has(bundle!)) out.set(bundle!, []);
    out.get(bundle!)!.push(rest.join('/'));
  }
  return out;
}

describe('mhc diff (pure)', () => {
  it('a one-line YAML change shows exactly the affected lines on exactly the affected nodes', () => {
    const after = edit(BASE, 'max_time: "01:00:00"', 'max_time: "02:00:00"');
    const d = compareSides(yamlSide(BASE), yamlSide(after, 'new.yaml'), V);
    expect(d.identical).toBe(false);
    expect(d.bundlesAdded).toEqual([]);
    expect(d.bundlesRemoved).toEqual([]);
    // expected: every file holding the old MaxTime, on the bundles holding it; nothing else
    const expected = filesContaining(BASE, 'MaxTime=01:00:00');
    expect(expected.get('c1')).toContain('files/etc/slurm/slurm.conf');
    expect(expected.get('compute')).toContain('files/etc/slurm/slurm.conf');
    const got = new Map<string, string[]>();
    for (const f of d.files) {
      if (!got.has(f.bundle)) got.set(f.bundle, []);
      got.get(f.bundle)!.push(f.path);
      expect(f.status).toBe('changed');
      expect(f.meta).toEqual([]);
      const minus = f.hunks.flatMap((h) => h.lines.filter((l) => l.kind === '-').map((l) => l.text));
      const plus = f.hunks.flatMap((h) => h.lines.filter((l) => l.kind === '+').map((l) => l.text));
      expect(minus.length).toBeGreaterThan(0);
      expect(minus.every((l) => l.includes('MaxTime=01:00:00'))).toBe(true);
      expect(plus).toEqual(minus.map((l) => l.replace('MaxTime=01:00:00', 'MaxTime=02:00:00')));
    }
    expect(new Map([...got].map(([k, v]) => [k, v.sort()]))).toEqual(new Map([...expected].map(([k, v]) => [k, v.sort()])));
    // slurm.conf is identical everywhere: one group naming every node, shown once
    const sc = d.groups.filter((g) => g.path === 'files/etc/slurm/slurm.conf');
    expect(sc).toHaveLength(1);
    expect(sc[0]!.bundles.map((b) => b.bundle)).toEqual(['c1', 'c2', 'c3', 'compute']);
    expect(sc[0]!.bundles[3]!.label).toBe('compute (n[1-2])');
    expect(sc[0]!.hunks).toHaveLength(1);
    // the hunk points at the line where the partition is in the built slurm.conf
    const conf = treeFiles(BASE).find((f) => f.path === 'c1/files/etc/slurm/slurm.conf')!.content;
    const lineNo = splitLines(conf).findIndex((l) => l.includes('MaxTime=01:00:00')) + 1;
    const h = sc[0]!.hunks[0]!;
    expect(h.oldStart + h.lines.findIndex((l) => l.kind === '-')).toBe(lineNo);
  });

  it('a node-specific change touches only what names that node', () => {
    const after = edit(BASE, 'priority: 80', 'priority: 70');
    const d = compareSides(yamlSide(BASE), yamlSide(after), V);
    expect(d.bundlesChanged.map((b) => b.bundle)).not.toContain('compute');
    for (const f of d.files) {
      const minus = f.hunks.flatMap((h) => h.lines.filter((l) => l.kind === '-').map((l) => l.text));
      const plus = f.hunks.flatMap((h) => h.lines.filter((l) => l.kind === '+').map((l) => l.text));
      expect(
        minus.every((l) => /\b80\b/.test(l)),
        minus.join('\n'),
      ).toBe(true);
      expect(plus).toEqual(minus.map((l) => l.replace(/\b80\b/, '70')));
    }
    const ka = d.files.find((f) => f.bundle === 'c3' && f.path === 'files/etc/keepalived/keepalived.conf');
    expect(ka?.hunks.flatMap((h) => h.lines).some((l) => l.kind === '+' && /^\s*priority 70$/.test(l.text))).toBe(true);
  });

  it('identical inputs: identical, no groups; a YAML and the tree built from it are identical', () => {
    expect(compareSides(yamlSide(BASE), yamlSide(BASE), V).identical).toBe(true);
    expect(compareSides(yamlSide(BASE), treeSide(BASE), V).identical).toBe(true);
  });

  it('reports nodes added and removed, files added and removed, and mode/owner changes', () => {
    const four = edit(
      BASE,
      '  - { hostname: c3, ip: 10.9.0.13, priority: 80 }\n',
      '  - { hostname: c3, ip: 10.9.0.13, priority: 80 }\n  - { hostname: c4, ip: 10.9.0.14, priority: 70, services: { slurm: true } }\n',
    );
    const d = compareSides(yamlSide(BASE), yamlSide(four), V);
    expect(d.bundlesAdded.map((b) => b.bundle)).toEqual(['c4']);
    expect(d.files.filter((f) => f.bundle === 'c4').every((f) => f.status === 'added')).toBe(true);
    const back = compareSides(yamlSide(four), yamlSide(BASE), V);
    expect(back.bundlesRemoved.map((b) => b.bundle)).toEqual(['c4']);
    // a mode change alone
    const files = treeFiles(BASE);
    const tampered = files.map((f) => (f.path === 'c1/files/etc/slurm/cgroup.conf' ? { ...f, mode: 0o600 } : f));
    const m = compareSides(sideFromFiles('a', 'tree', files), sideFromFiles('b', 'tree', tampered), V);
    expect(m.groups).toHaveLength(1);
    expect(m.groups[0]!.meta).toEqual([{ field: 'mode', from: '0644', to: '0600' }]);
    expect(formatDiffText(m)).toContain('mode 0644 → 0600');
  });

  it('text, markdown and json outputs; --stat; colour only when asked', () => {
    const after = edit(BASE, 'max_time: "01:00:00"', 'max_time: "02:00:00"');
    const d = compareSides(yamlSide(BASE), yamlSide(after, 'new.yaml'), V);
    const text = formatDiff(d, 'text');
    expect(text).toMatch(/^mhc diff a: rev\.yaml {2}b: new\.yaml\n/);
    expect(text).toContain('nodes changed: c1, c2, c3, compute (n[1-2])\n');
    expect(text).toContain('=== files/etc/slurm/slurm.conf — changed on c1, c2, c3, compute (n[1-2])\n--- a/files/etc/slurm/slurm.conf\n+++ b/files/etc/slurm/slurm.conf\n@@ ');
    expect(text).toMatch(/\n-PartitionName=batch .*MaxTime=01:00:00.*\n\+PartitionName=batch .*MaxTime=02:00:00/);
    expect(text).not.toContain('\x1b[');
    const colour = formatDiff(d, 'text', { color: true });
    expect(colour).toContain('\x1b[31m-PartitionName');
    expect(colour).toContain('\x1b[32m+PartitionName');
    const stat = formatDiff(d, 'text', { stat: true });
    expect(stat).toContain('M files/etc/slurm/slurm.conf');
    expect(stat).not.toContain('@@');

    const md = formatDiffMarkdown(d);
    expect(md).toContain('| file | change | lines | nodes |');
    expect(md).toContain('| `files/etc/slurm/slurm.conf` | changed | +1 −1 | c1, c2, c3, compute (n[1-2]) |');
    expect(md).toContain('<details><summary><b>c1, c2, c3, compute (n[1-2])</b>');
    expect(md).toMatch(/```diff\n@@ [^\n]+\n/);
    expect(md.split('<details>').length).toBe(md.split('</details>').length);
    expect(formatDiff(d, 'markdown', { stat: true })).not.toContain('<details>');

    const j = JSON.parse(formatDiff(d, 'json'));
    expect(j.identical).toBe(false);
    const g = j.changes.find((c: { path: string }) => c.path === 'files/etc/slurm/slurm.conf');
    expect(g.bundles).toEqual(['c1', 'c2', 'c3', 'compute']);
    expect(g.hunks[0].lines.filter((l: string) => l.startsWith('-') || l.startsWith('+'))).toHaveLength(2);
    expect(JSON.parse(formatDiff(d, 'json', { stat: true })).changes[0].hunks).toBeUndefined();

    const same = compareSides(yamlSide(BASE), yamlSide(BASE), V);
    expect(formatDiff(same, 'text')).toContain('identical');
    expect(formatDiff(same, 'markdown')).toContain('No changes');
    expect(JSON.parse(formatDiff(same, 'json')).identical).toBe(true);
  });

  it('markdown: a fence longer than any backtick run in the body; long output cut to fit a PR comment', () => {
    const files = treeFiles(BASE);
    const odd = files.map((f) => (f.path === 'c1/files/etc/slurm/cgroup.conf' ? { ...f, content: `${f.content}# a \`\`\`\` run\n` } : f));
    const md = formatDiffMarkdown(compareSides(sideFromFiles('a', 'tree', files), sideFromFiles('b', 'tree', odd), V));
    expect(md).toContain('`````diff\n');
    expect(md).toContain('+# a ```` run\n`````\n');
    const after = edit(BASE, 'max_time: "01:00:00"', 'max_time: "02:00:00"');
    const d = compareSides(yamlSide(BASE), yamlSide(after), V);
    const head = formatDiffMarkdown(d, { stat: true }).length;
    const cut = formatDiffMarkdown(d, { maxChars: head + 50 });
    expect(cut.length).toBeLessThan(head + 300);
    expect(cut).not.toContain('<details>');
    expect(cut).toContain('left out to keep this comment short');
  });
});

describe('mhc diff never shows a secret', () => {
  const embedded = () => treeSide(BASE, { ...AWKWARD }, 'out-embedded/rev');

  it('a tree built with --embed-secrets (AWKWARD values) equals its YAML, in every format', () => {
    const d = compareSides(yamlSide(BASE), embedded(), V);
    expect(d.identical).toBe(true);
    expect(d.notes.join('\n')).toMatch(/embedded secret values/);
    for (const f of ['text', 'markdown', 'json'] as const) expectNoSecret(formatDiff(d, f));
  });

  it('a change against an embedded tree shows the same diff as against the placeholder tree, without values', () => {
    const after = edit(edit(BASE, 'max_time: "01:00:00"', 'max_time: "02:00:00"'), 'redis:\n', 'redis:\n  port: 6390\n');
    const plain = compareSides(treeSide(BASE), yamlSide(after), V);
    const emb = compareSides(embedded(), yamlSide(after), V);
    expect(emb.groups).toEqual(plain.groups);
    // the redis change touches files that hold REDIS_PASSWORD: they show placeholders
    expect(formatDiff(emb, 'text')).toContain('@@MHC_SECRET:REDIS_PASSWORD');
    for (const f of ['text', 'markdown', 'json'] as const) expectNoSecret(formatDiff(emb, f));
    const back = compareSides(yamlSide(after), embedded(), V);
    for (const f of ['text', 'markdown', 'json'] as const) expectNoSecret(formatDiff(back, f));
  });

  it('two embedded trees without cluster.json: still no value (unknown lines are masked whole)', () => {
    const strip = (label: string, extra = '') =>
      sideFromFiles(
        label,
        'tree',
        treeFiles(BASE, { ...AWKWARD })
          .filter((f) => f.path !== 'cluster.json')
          .map((f) => (extra && f.path === 'c1/files/etc/slurm/slurmdbd.conf' ? { ...f, content: f.content + extra } : f)),
      );
    const d = compareSides(strip('a'), strip('b', `# copied: ${AWKWARD.SLURMDBD_DB_PASSWORD} and ${AWKWARD.REDIS_PASSWORD}\n`), V);
    const text = formatDiff(d, 'text');
    expect(d.identical).toBe(false);
    expectNoSecret(text);
    expectNoSecret(formatDiff(d, 'json'));
  });

  it('a value copied into a file that lists no secret is masked too', () => {
    const files = treeFiles(BASE, { ...AWKWARD }).map((f) => (f.path === 'c2/files/etc/slurm/cgroup.conf' ? { ...f, content: `${f.content}# ${AWKWARD.JWT_SECRET}\n` } : f));
    const d = compareSides(yamlSide(BASE), sideFromFiles('b', 'tree', files), V);
    const text = formatDiff(d, 'text');
    expect(text).toContain('@@MHC_SECRET:JWT_SECRET');
    expectNoSecret(text);
  });
});
