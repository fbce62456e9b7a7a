// write.ts on a real file system: the staged tree replaces the old one whole; a rebuild keeps the
// inode of every file whose bytes and mode did not change (a hard link from the old tree), and
// writes a fresh file for anything else; the old tree's emptied directories are the next build's
// staging directory (the spare); an identical tarball is left in place. Nothing that is not an mhc
// tree (its marker) is ever replaced or emptied, and no link is followed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BundleFile } from '../src/compiler/bundle.js';
import { makeDirs, stageFile, stageTree, TREE_MARKER, treeMarker, writeFileAtomic, WriteError } from '../src/compiler/write.js';

const file = (path: string, content: string, mode = 0o644): BundleFile => ({ path, content, mode, owner: 'root', group: 'root', secrets: [], from: { emitter: 'test' } });
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
const TREE_LISTING = ['d a', 'd a/files', 'd a/files/etc', 'd b', 'd b/bin', 'f .mhc-tree', 'f a/files/etc/one.conf', 'f a/files/etc/two.conf', 'f a/manifest.json', 'f b/bin/run.sh'];
/** beside the tree there is at most the spare, and it holds empty directories and its marker only */
const onlyTreeAndSpare = () => {
  expect(readdirSync(out).filter((n) => n !== '.c.spare')).toEqual(['c']);
  if (existsSync(join(out, '.c.spare'))) for (const e of listing(join(out, '.c.spare'))) expect(e).toMatch(/^d |^f \.mhc-tree$/);
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
    expect(readFileSync(join(out, 'c', TREE_MARKER), 'utf8')).toBe(treeMarker('c'));
  });

  it('a rebuild keeps the inode of an unchanged file and writes a changed one afresh', () => {
    build(TREE);
    const before = Object.fromEntries(TREE.map((f) => [f.path, ino(f.path)]));
    const marker = ino(TREE_MARKER);
    const next = TREE.map((f) => (f.path === 'a/manifest.json' ? file(f.path, '{"v":2}\n') : f));
    build(next);
    expect(ino(TREE_MARKER)).toBe(marker); // the marker too: a rebuild creates no inode for it
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
    expect(listing(join(out, 'c'))).toEqual([
      'd a',
      'd a/files',
      'd a/files/etc',
      'd a/files/usr',
      'f .mhc-tree',
      'f a/files/etc/one.conf',
      'f a/files/etc/two.conf',
      'f a/files/usr/new.sh',
      'f a/manifest.json',
    ]);
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

  it('a spare of an earlier mhc (empty directories, no marker) is used; one without the marker that holds a file is refused and left as it is', () => {
    build(TREE);
    build(TREE);
    const spare = join(out, '.c.spare');
    unlinkSync(join(spare, TREE_MARKER));
    const reused = statSync(join(spare, 'a/files/etc')).ino;
    build(TREE);
    expect(statSync(join(out, 'c', 'a/files/etc')).ino).toBe(reused);
    expect(listing(join(out, 'c'))).toEqual(TREE_LISTING);
    unlinkSync(join(spare, TREE_MARKER));
    writeFileSync(join(spare, 'a/notes.txt'), 'mine\n');
    expect(() => build(TREE)).toThrow(/refusing to replace .*\.c\.spare: it is a directory without mhc's marker/);
    expect(readFileSync(join(spare, 'a/notes.txt'), 'utf8')).toBe('mine\n');
  });

  it('a spare that is a file or a link is refused and left as it is, and so is what the link points to', () => {
    build(TREE);
    writeFileSync(join(out, '.c.spare'), 'not a directory\n');
    expect(() => build(TREE)).toThrow(WriteError);
    expect(readFileSync(join(out, '.c.spare'), 'utf8')).toBe('not a directory\n');
    rmSync(join(out, '.c.spare'));
    const victim = mkdtempSync(join(tmpdir(), 'mhc-victim-'));
    try {
      mkdirSync(join(victim, 'a'));
      writeFileSync(join(victim, 'a', 'keep.txt'), 'keep\n');
      writeFileSync(join(victim, TREE_MARKER), treeMarker('c')); // even a marker behind a link does not make it ours
      symlinkSync(victim, join(out, '.c.spare'));
      expect(() => build(TREE)).toThrow(/refusing to replace .*\.c\.spare: it is a symbolic link/);
      expect(readFileSync(join(victim, 'a', 'keep.txt'), 'utf8')).toBe('keep\n');
      expect(lstatSync(join(out, '.c.spare')).isSymbolicLink()).toBe(true);
      expect(listing(join(out, 'c'))).toEqual(TREE_LISTING);
    } finally {
      rmSync(victim, { recursive: true, force: true });
    }
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
      expect(st.isFile() && st.mode & 0o7777, f.path).toBe(f.mode);
      expect(readFileSync(join(out, 'c', f.path), 'utf8'), f.path).toBe(f.content);
      expect(st.nlink, f.path).toBe(1);
    }
  });

  it('discard() leaves the old tree exactly as it was', () => {
    build(TREE);
    const before = ino('a/files/etc/one.conf');
    const staged = stageTree(
      out,
      'c',
      TREE.map((f) => file(f.path, `${f.content}changed\n`, f.mode)),
    );
    staged.discard();
    expect(ino('a/files/etc/one.conf')).toBe(before);
    expect(readFileSync(join(out, 'c', 'a/files/etc/one.conf'), 'utf8')).toBe('one\n');
    onlyTreeAndSpare();
  });
});

describe('only a tree mhc made is replaced', () => {
  it('a link in place of the tree is refused and nothing it points to is touched (issue 12, item 1)', () => {
    const victim = mkdtempSync(join(tmpdir(), 'mhc-victim-'));
    try {
      writeFileSync(join(victim, 'thesis.tex'), 'years of work\n');
      mkdirSync(join(victim, 'a'));
      writeFileSync(join(victim, 'a', 'notes.txt'), 'notes\n');
      writeFileSync(join(victim, TREE_MARKER), treeMarker('c')); // even a marker behind a link does not make it ours
      symlinkSync(victim, join(out, 'c'));
      expect(() => build(TREE)).toThrow(/refusing to replace .*\/c: it is a symbolic link, not a tree mhc built/);
      expect(listing(victim)).toEqual(['d a', 'f .mhc-tree', 'f a/notes.txt', 'f thesis.tex']);
      expect(readFileSync(join(victim, 'thesis.tex'), 'utf8')).toBe('years of work\n');
      expect(lstatSync(join(out, 'c')).isSymbolicLink()).toBe(true);
      expect(readdirSync(out)).toEqual(['c']); // nothing staged is left behind
    } finally {
      rmSync(victim, { recursive: true, force: true });
    }
  });

  it("a directory of the user's where the tree would go is refused and kept whole (issue 12, item 1)", () => {
    mkdirSync(join(out, 'c'));
    writeFileSync(join(out, 'c', 'my_multihead_cluster.yaml'), 'cluster: { name: c }\n');
    mkdirSync(join(out, 'c', 'a'));
    writeFileSync(join(out, 'c', 'a', 'manifest.json'), '{}\n');
    expect(() => build(TREE)).toThrow(/refusing to replace .*\/c: it is a directory without mhc's marker \(\.mhc-tree\)/);
    expect(listing(join(out, 'c'))).toEqual(['d a', 'f a/manifest.json', 'f my_multihead_cluster.yaml']);
    expect(readdirSync(out)).toEqual(['c']);
    // a marker of another cluster does not make it this cluster's tree
    writeFileSync(join(out, 'c', TREE_MARKER), treeMarker('other'));
    expect(() => build(TREE)).toThrow(WriteError);
    expect(readFileSync(join(out, 'c', 'my_multihead_cluster.yaml'), 'utf8')).toBe('cluster: { name: c }\n');
  });

  it('a tree of an earlier mhc (SHA256SUMS, cluster.json, bundles with manifest.json; no marker) is replaced', () => {
    const legacy = [file('SHA256SUMS', 'x\n'), file('cluster.json', '{}\n'), ...TREE];
    build(legacy);
    rmSync(join(out, 'c', TREE_MARKER));
    writeFileSync(join(out, 'c', 'b', 'manifest.json'), '{}\n');
    build(legacy);
    expect(readFileSync(join(out, 'c', TREE_MARKER), 'utf8')).toBe(treeMarker('c'));
    onlyTreeAndSpare();
  });
});

describe('makeDirs', () => {
  it('creates missing parents and reports what it cannot create, also under /proc (mkdir -p spins there in Node 20)', () => {
    makeDirs(join(out, 'x', 'y', 'z'));
    expect(statSync(join(out, 'x', 'y', 'z')).isDirectory()).toBe(true);
    makeDirs(join(out, 'x', 'y')); // already there
    writeFileSync(join(out, 'f'), '');
    expect(() => makeDirs(join(out, 'f', 'g'))).toThrow(/is a file, not a directory/);
    expect(() => makeDirs('/proc/nope/deeper')).toThrow(/cannot create directory \/proc\/nope/);
  });
});

describe('stageFile / writeFileAtomic', () => {
  it('never writes through a link planted where the temporary file goes (issue 12, item 7)', () => {
    const victim = join(out, 'other-users-file');
    writeFileSync(victim, 'theirs\n');
    const p = join(out, 'secrets.env');
    symlinkSync(victim, `${p}.tmp-${process.pid}`); // the name the temporary file used to have
    writeFileAtomic(p, 'DB_ROOT_PASSWORD=s3cret\n', 0o600, true);
    expect(readFileSync(victim, 'utf8')).toBe('theirs\n');
    const st = lstatSync(p);
    expect(st.isFile() && st.mode & 0o7777).toBe(0o600);
    expect(readFileSync(p, 'utf8')).toBe('DB_ROOT_PASSWORD=s3cret\n');
    // nothing else appeared beside it
    expect(readdirSync(out).sort()).toEqual(['other-users-file', 'secrets.env', `secrets.env.tmp-${process.pid}`]);
  });

  it('gives the exact mode whatever the umask; without overwrite an existing file is refused', () => {
    const p = join(out, 'sub', 'dir', 'secrets.env');
    const umask = process.umask(0o077);
    try {
      writeFileAtomic(p, 'a\n', 0o644, false);
    } finally {
      process.umask(umask);
    }
    expect(statSync(p).mode & 0o7777).toBe(0o644);
    expect(() => writeFileAtomic(p, 'b\n', 0o600, false)).toThrow(/exists; pass --force/);
    expect(readFileSync(p, 'utf8')).toBe('a\n');
    expect(readdirSync(join(out, 'sub', 'dir'))).toEqual(['secrets.env']);
  });

  it('a staged file is invisible until commit; discard leaves the old file; a directory in its place is refused', () => {
    const p = join(out, 'c-a.tar.gz');
    writeFileSync(p, 'old');
    const s = stageFile(p, Buffer.from('new'), 0o600);
    expect(readFileSync(p, 'utf8')).toBe('old');
    s.discard();
    expect(readdirSync(out)).toEqual(['c-a.tar.gz']);
    stageFile(p, Buffer.from('new'), 0o600).commit();
    expect(readFileSync(p, 'utf8')).toBe('new');
    expect(statSync(p).mode & 0o7777).toBe(0o600);
    mkdirSync(join(out, 'c-b.tar.gz'));
    expect(() => stageFile(join(out, 'c-b.tar.gz'), Buffer.from('x'), 0o644)).toThrow(/refusing to replace .* it is a directory/);
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
    expect(readdirSync(out)).toEqual(['x.tar.gz']);
  });
});
