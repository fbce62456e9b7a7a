// write.ts on a real file system: the staged tree replaces the old one whole; a rebuild keeps the
// inode of every file whose bytes and mode did not change (a hard link from the old tree), and
// writes a fresh file for anything else; the old tree's emptied directories are the next build's
// staging directory (the spare); an identical tarball is left in place.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
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
/** every entry under dir, relative, with its kind ('d' directory, 'f' file, 'l' link) */
const listing = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((r) => {
      const st = lstatSync(join(dir, r));
      return `${st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'f'} ${r}`;
    })
    .sort();
/** listing() of a tree built from TREE */
const TREE_LISTING = ['d a', 'd a/files', 'd a/files/etc', 'd b', 'd b/bin', 'f a/files/etc/one.conf', 'f a/files/etc/two.conf', 'f a/manifest.json', 'f b/bin/run.sh'];
/** beside the tree there is at most the spare, and it holds empty directories only */
const onlyTreeAndSpare = () => {
  expect(readdirSync(out).filter((n) => n !== '.c.spare')).toEqual(['c']);
  if (existsSync(join(out, '.c.spare'))) for (const e of listing(join(out, '.c.spare'))) expect(e).toMatch(/^d /);
};
const build = (files: BundleFile[]) => stageTree(out, 'c', files).commit();

describe('stageTree / commit', () => {
  it('writes every file with its mode; nothing staged is left beside the tree', () => {
    const w = build(TREE);
    expect(w.files).toBe(4);
    for (const f of TREE) {
      expect(readFileSync(join(out, 'c', f.path), 'utf8')).toBe(f.content);
      expect(statSync(join(out, 'c', f.path)).mode & 0o7777).toBe(f.mode);
    }
    expect(readdirSync(out)).toEqual(['c']); // a first build leaves no spare
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
    expect(readdirSync(out)).toEqual(['.c.spare', 'c']);
    onlyTreeAndSpare();
  });

  it("the old tree's directories are the next staging directory; the tree always matches the bundle exactly", () => {
    build(TREE);
    build(TREE);
    const spareDir = statSync(join(out, '.c.spare', 'a/files/etc')).ino;
    // a third build that drops bundle b and adds a directory
    const next = [...TREE.filter((f) => !f.path.startsWith('b/')), file('a/files/usr/new.sh', 'new\n', 0o755)];
    const w = build(next);
    expect(statSync(join(out, 'c', 'a/files/etc')).ino).toBe(spareDir); // reused, not made anew
    expect(w.removedBundles).toEqual(['b']);
    expect(listing(join(out, 'c'))).toEqual(['d a', 'd a/files', 'd a/files/etc', 'd a/files/usr', 'f a/files/etc/one.conf', 'f a/files/etc/two.conf', 'f a/files/usr/new.sh', 'f a/manifest.json']);
    for (const d of ['a', 'a/files', 'a/files/usr']) expect(statSync(join(out, 'c', d)).mode & 0o7777, d).toBe(0o755);
    onlyTreeAndSpare();
    // back to the first shape: the files the third build dropped do not come back
    build(TREE);
    expect(listing(join(out, 'c'))).toEqual(TREE_LISTING);
    onlyTreeAndSpare();
  });

  it('whatever is put into the spare never reaches the tree, and a link in it is removed, not followed', () => {
    build(TREE);
    build(TREE);
    const spare = join(out, '.c.spare');
    const outside = join(out, '..', `${out.split('/').pop()}-target`);
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep.txt'), 'keep\n');
    writeFileSync(join(spare, 'a/files/etc/one.conf'), 'planted\n');
    writeFileSync(join(spare, 'a/stray.txt'), 'stray\n');
    symlinkSync(outside, join(spare, 'a/files/link'));
    symlinkSync(join(outside, 'keep.txt'), join(spare, 'b/bin/run.sh'));
    mkdirSync(join(spare, 'extra/deep'), { recursive: true });
    chmodSync(join(spare, 'a/files'), 0o700);
    try {
      build(TREE);
      expect(listing(join(out, 'c'))).toEqual(TREE_LISTING);
      for (const f of TREE) expect(readFileSync(join(out, 'c', f.path), 'utf8'), f.path).toBe(f.content);
      expect(statSync(join(out, 'c', 'a/files')).mode & 0o7777).toBe(0o755);
      expect(readFileSync(join(outside, 'keep.txt'), 'utf8')).toBe('keep\n');
      onlyTreeAndSpare();
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('a spare that is not a directory is replaced by a fresh staging directory', () => {
    build(TREE);
    writeFileSync(join(out, '.c.spare'), 'not a directory\n');
    build(TREE);
    expect(listing(join(out, 'c'))).toEqual(TREE_LISTING);
    onlyTreeAndSpare();
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
    onlyTreeAndSpare();
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
