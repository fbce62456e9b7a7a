// mhc explain: the files and lines a key controls, computed by building with the value changed.
import { describe, expect, it } from 'vitest';
import { ReviewError } from '../../src/review/build-side.js';
import { candidates, explain, formatExplainJson, formatExplainText, parseKey } from '../../src/review/explain.js';
import { splitLines } from '../../src/review/unified.js';
import { BASE, edit, treeFiles, V } from './fixtures.js';

const ex = (key: string, text = BASE) => explain('t.yaml', Buffer.from(text), key, V);

describe('mhc explain', () => {
  it('parses key paths in both spellings', () => {
    expect(parseKey('controllers[2].priority')).toEqual(['controllers', 2, 'priority']);
    expect(parseKey('controllers.2.priority')).toEqual(['controllers', 2, 'priority']);
    expect(() => parseKey(' ')).toThrow(ReviewError);
  });

  it("mutations are deterministic and stay in the value's format", () => {
    expect(candidates(87)[0]).toBe(88);
    expect(candidates(true)).toEqual([false]);
    expect(candidates('10.9.0.100')[0]).toBe('10.9.0.101');
    expect(candidates('sentinel')).toContain('cluster');
    expect(candidates('${REDIS_PASSWORD}')[0]).toBe('${REDIS_PASSWORD_X}');
    expect(candidates('node007')).toContain('node008');
  });

  it('virtual_router_id: the keepalived.conf line on every keepalived node, with its line number', () => {
    const r = ex('network.vip.virtual_router_id');
    expect(r.leaves).toHaveLength(1);
    const l = r.leaves[0]!;
    expect(l.where.line).toBe(3);
    expect(l.changedTo).toBe('88');
    const ka = l.files.filter((f) => f.path === 'files/etc/keepalived/keepalived.conf');
    expect(ka).toHaveLength(1);
    expect(ka[0]!.nodes.map((n) => n.bundle)).toEqual(['c1', 'c2', 'c3']);
    const conf = treeFiles(BASE).find((f) => f.path === 'c1/files/etc/keepalived/keepalived.conf')!.content;
    const expectLines = splitLines(conf).flatMap((t, i) => (/\b87\b/.test(t) ? [i + 1] : []));
    expect(ka[0]!.lines.map((x) => x.line)).toEqual(expectLines);
    // nothing outside files that mention the id changes
    for (const f of l.files)
      expect(
        f.lines.every((x) => /\b87\b/.test(x.text)),
        f.path,
      ).toBe(true);
    const text = formatExplainText(r);
    expect(text).toContain(`files/etc/keepalived/keepalived.conf:${expectLines.join(',')} — on c1, c2, c3`);
    expect(JSON.parse(formatExplainJson(r)).leaves[0].files.length).toBe(l.files.length);
  });

  it('a partition max_time: slurm.conf on every node including compute', () => {
    const r = ex('slurm.partitions[0].max_time');
    const sc = r.leaves[0]!.files.find((f) => f.path === 'files/etc/slurm/slurm.conf')!;
    expect(sc.nodes.map((n) => n.bundle)).toEqual(['c1', 'c2', 'c3', 'compute']);
    expect(sc.lines).toHaveLength(1);
    expect(sc.lines[0]!.text).toMatch(/^PartitionName=batch .*MaxTime=01:00:00/);
  });

  it('a boolean that turns a service off: files that disappear are listed', () => {
    const r = ex(
      'controllers[2].services.web',
      edit(
        BASE,
        '  - { hostname: c3, ip: 10.9.0.13, priority: 80 }',
        '  - { hostname: c3, ip: 10.9.0.13, priority: 80, services: { glusterfs: true, mariadb: true, redis: true, slurm: true, keepalived: true, web: true } }',
      ),
    );
    const l = r.leaves[0]!;
    expect(l.changedTo).toBe('false');
    const gone = l.files.filter((f) => f.status === 'disappears');
    expect(gone.length).toBeGreaterThan(0);
    expect(gone.every((f) => f.nodes.map((n) => n.bundle).join() === 'c3')).toBe(true);
    expect(formatExplainText(r)).toContain('(the file disappears) — on c3');
  });

  it('a mapping explains each value under it', () => {
    const r = ex('network.vip');
    expect(r.leaves.map((l) => l.key)).toEqual(['network.vip.address', 'network.vip.prefix', 'network.vip.virtual_router_id']);
  });

  it('refuses a key the file does not hold, with a did-you-mean', () => {
    expect(() => ex('network.vip.virtual_router')).toThrow(/did you mean network\.vip\.virtual_router_id/);
    expect(() => ex('network.vip.nothing')).toThrow(/not written in t\.yaml/);
  });

  it('reports when no valid mutation exists', () => {
    // two partitions both default would be an error (E320): flipping the second's default=false is refused
    const text = edit(
      BASE,
      '    - { name: batch, nodes: ALL, default: true, max_time: "01:00:00" }',
      '    - { name: batch, nodes: ALL, default: true, max_time: "01:00:00" }\n    - { name: b2, nodes: ALL, default: false }',
    );
    const r = ex('slurm.partitions[1].default', text);
    expect(r.leaves[0]!.noMutation).toMatch(/no valid change found \(tried true/);
    expect(formatExplainText(r)).toContain('cannot tell: no valid change found');
  });
});
