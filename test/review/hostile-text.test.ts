// Text from a hostile tree (file names, contents, manifest fields, cluster.json) never reaches a
// terminal with raw control or bidi characters: text and markdown show them as U+FFFD, JSON
// escapes them (and parses back to the same strings).
import { describe, expect, it } from 'vitest';
import { UNSAFE_CHARS } from '../../src/compiler/diagnostics.js';
import { auditTree } from '../../src/review/audit.js';
import { formatAuditJson, formatAuditText } from '../../src/review/audit-format.js';
import { compareSides } from '../../src/review/compare.js';
import { formatDiff } from '../../src/review/diff-format.js';
import { sideFromFiles, type RawFile } from '../../src/review/side.js';
import { BASE, treeFiles, V } from './fixtures.js';

/** ESC (a title-setting OSC and a screen clear), CR, BEL, a C1 CSI, DEL, bidi override and isolate. */
const EVIL = '\u001b]0;pwned\u0007\u001b[2J\rX\u009b31m\u007f\u202eesrever\u202c\u2066iso\u2069\u200f';
const RAW = ['\u001b', '\r', '\u0007', '\u009b', '\u007f', '\u202e', '\u202c', '\u2066', '\u2069', '\u200f'];

function hostile(): RawFile[] {
  const files = treeFiles(BASE).map((f) => {
    if (f.path === 'c1/files/etc/mhc/hosts') return { ...f, content: `${f.content}# ${EVIL}\n` };
    if (f.path === 'c1/manifest.json') {
      const m = JSON.parse(f.content);
      const e = m.files.find((x: { path: string }) => x.path === 'files/etc/mhc/hosts');
      e.owner = `root${EVIL}`;
      e.dest = `/etc/mhc/hosts${EVIL}`;
      return { ...f, content: JSON.stringify(m, null, 2) + '\n' };
    }
    return f;
  });
  // a file whose very name is hostile
  files.push({ path: `c1/files/etc/mhc/x${EVIL}`, content: `a${EVIL}\n`, mode: 0o644 });
  return files;
}

const noRaw = (text: string, what: string) => {
  for (const c of RAW) expect(text.includes(c), `${what} holds U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`).toBe(false);
};

describe('hostile text in review output', () => {
  it('mhc diff: text (with and without colour), markdown, json', () => {
    const d = compareSides(sideFromFiles('out/a', 'tree', treeFiles(BASE)), sideFromFiles(`out/b${EVIL}`, 'tree', hostile()), V);
    const text = formatDiff(d, 'text', { color: false });
    noRaw(text, 'text');
    expect(text).toContain('\uFFFD]0;pwned');
    // colour adds mhc's own SGR sequences only: every ESC starts one of them
    const coloured = formatDiff(d, 'text', { color: true });
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, '')).not.toContain('\u001b');
    const md = formatDiff(d, 'markdown');
    noRaw(md, 'markdown');
    const json = formatDiff(d, 'json');
    noRaw(json, 'json');
    expect(json).toContain('\\u009b');
    const j = JSON.parse(json);
    // the strings themselves are intact
    expect(j.changes.some((c: { path: string }) => c.path === `files/etc/mhc/x${EVIL}`)).toBe(true);
    expect(j.b.label).toBe(`out/b${EVIL}`);
  });

  it('mhc audit: text and json (messages, locations, the target)', () => {
    const r = auditTree(`out/rev${EVIL}`, hostile(), [`c1/files/etc/y${EVIL} -> /etc/passwd`], V);
    // the hostile strings do reach findings (so the check is not vacuous)
    expect(r.findings.some((f) => f.message.includes(EVIL))).toBe(true);
    const text = formatAuditText(r);
    noRaw(text, 'audit text');
    expect(text).toContain('\uFFFD');
    const json = formatAuditJson(r);
    noRaw(json, 'audit json');
    expect(JSON.parse(json).target).toBe(`out/rev${EVIL}`);
  });

  it('UNSAFE_CHARS: C0, DEL, C1 and the bidi formatting characters; not ordinary text', () => {
    for (const c of [...RAW, '\n', '\u0000', '\u0085', '\u061c', '\u200e', '\u202a', '\u2068']) expect(new RegExp(UNSAFE_CHARS.source).test(c), c.charCodeAt(0).toString(16)).toBe(true);
    for (const c of [' ', 'é', '→', '—', '\u00a0', '😀']) expect(new RegExp(UNSAFE_CHARS.source).test(c), c).toBe(false);
  });
});
