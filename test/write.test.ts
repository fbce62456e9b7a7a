// write.ts on a real file system: the staged tree replaces the old one whole; a rebuild keeps the
// inode of every file whose bytes and mode did not change (a hard link from the old tree), and
// writes a fresh file for anything else; an identical tarball is left in place.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BundleFile } from '../src/compiler/bundle.js';
import { stageTree, writeFileAtomic } from '../src/compiler/write.js';

const file = (path: string, content: string, mode = 0o644): BundleFile => ({ path, content, mode, owner: 'root', group: 'root', secrets: [] });
const TREE = [file('a/files/etc/one.conf', 'one\n'), file('a/files/etc/two.conf', 'two\n', 0o600), file('a/manifest.json', '{}\n'), file('b/bin/run.sh', '#!/bin/bash\n', 0o755)];

let out = '';
beforeEach(() => {
  out = mkdtempSync(join(tmpdir(), 'mhc-write-'));
});
afterEach(() => rmSync(out, { recursive: true, force: true }));

const ino = (rel: string) => statSync(join(out, 'c', rel)).ino;
const build = (files: BundleFile[]) => stageTree(out, 'c', files).commit();

describe('stageTree / commit', () => {
  it('writes every file with its mode; nothing staged is left beside the tree', () => {
    const w = build(TREE);
    expect(w.files).toBe(4);
    for (const f of TREE) {
      expect(readFileSync(join(out, 'c', f.path), 'utf8')).toBe(f.content);
      expect(statSync(join(out, 'c', f.path)).mode & 0o7777).toBe(f.mode);
    }
    expect(readdirSync(out)).toEqual(['c']);
  });

  it('a rebuild keeps the inode of an unchanged file and writes a changed one afresh', () => {
    build(TREE);
    const before = Object.fromEntries(TREE.map((f) => [f.path, ino(f.path)]));
    const next = TREE.map((f) => (f.path === 'a/manifest.json' ? file(f.path, '{"v":2}\n') : f));
    build(next);
    expect(ino('a/files/etc/one.conf')).toBe(before['a/files/etc/one.conf']);
    expect(ino('b/bin/run.sh')).toBe(before['b/bin/run.sh']);
    expect(ino('a/manifest.json')).not.toBe(before['a/manifest.json']);
    expect(readFileSync(join(out, 'c', 'a/manifest.json'), 'utf8')).toBe('{"v":2}\n');
    // the old tree is gone: the kept file has one name again
    expect(statSync(join(out, 'c', 'a/files/etc/one.conf')).nlink).toBe(1);
    expect(readdirSync(out)).toEqual(['c']);
  });

  it('a changed mode, a tampered old file, a symbolic link or a missing file is never reused', () => {
    build(TREE);
    const old = (rel: string) => join(out, 'c', rel);
    chmodSync(old('a/files/etc/two.conf'), 0o644); // someone loosened it: the rebuild must not keep it
    writeFileSync(old('a/files/etc/one.conf'), 'ONE\n'); // same size, other bytes
    unlinkSync(old('b/bin/run.sh'));
    symlinkSync('/etc/hostname', old('b/bin/run.sh'));
    unlinkSync(old('a/manifest.json'));
    build(TREE);
    for (const f of TREE) {
      const st = statSync(join(out, 'c', f.path));
      expect(st.isFile() && (st.mode & 0o7777), f.path).toBe(f.mode);
      expect(readFileSync(join(out, 'c', f.path), 'utf8'), f.path).toBe(f.content);
      expect(st.nlink, f.path).toBe(1);
    }
  });

  it('discard() leaves the old tree exactly as it was', () => {
    build(TREE);
    const before = ino('a/files/etc/one.conf');
    const staged = stageTree(out, 'c', TREE.map((f) => file(f.path, `${f.content}changed\n`, f.mode)));
    staged.discard();
    expect(ino('a/files/etc/one.conf')).toBe(before);
    expect(readFileSync(join(out, 'c', 'a/files/etc/one.conf'), 'utf8')).toBe('one\n');
    expect(readdirSync(out)).toEqual(['c']);
  });
});

describe('writeFileAtomic with keepSame', () => {
  it('leaves an identical file alone and replaces a different one', () => {
    const p = join(out, 'x.tar.gz');
    writeFileAtomic(p, Buffer.from('abc'), 0o644, true, true);
    const first = statSync(p).ino;
    writeFileAtomic(p, Buffer.from('abc'), 0o644, true, true);
    expect(statSync(p).ino).toBe(first);
    writeFileAtomic(p, Buffer.from('abd'), 0o644, true, true);
    expect(readFileSync(p, 'utf8')).toBe('abd');
    chmodSync(p, 0o600);
    writeFileAtomic(p, Buffer.from('abd'), 0o644, true, true);
    expect(statSync(p).mode & 0o7777).toBe(0o644);
    expect(existsSync(`${p}.tmp-${process.pid}`)).toBe(false);
  });
});
