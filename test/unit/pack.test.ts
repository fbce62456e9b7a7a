// packBundle (archiver's tar + gzip), judged by GNU tar: listing, modes, owners, mtime,
// contents, names too long for ustar's fields, and the same bytes for the same bundle.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { BundleFile } from '../../src/compiler/bundle.js';
import { packBundle } from '../../src/compiler/pack.js';

const file = (path: string, content: string, mode = 0o644): BundleFile => ({ path, content, mode, owner: 'root', group: 'root', secrets: [], from: { emitter: 'test' } });

function gnuTar(archive: Buffer, args: string[]): { out: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mhc-tar-'));
  writeFileSync(join(dir, 'a.tar.gz'), archive);
  const r = spawnSync('tar', [...args, '-z', '-f', join(dir, 'a.tar.gz'), '-C', dir], { encoding: 'utf8', env: { PATH: process.env.PATH!, TZ: 'UTC', LC_ALL: 'C' } });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return { out: r.stdout, dir };
}

describe('packBundle', () => {
  const long = `b/${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(70)}.conf`; // > 100: prefix + name
  const huge = `b/${'x'.repeat(120)}/${'y'.repeat(120)}.conf`; // no ustar split fits: PAX
  const files = [
    file('b/bin/start.sh', '#!/bin/sh\necho hi\n', 0o755),
    file('b/empty', '', 0o600),
    file('b/exact512', 'a'.repeat(512)),
    file('b/ünï', 'x', 0o640),
    file(long, 'long\n'),
    file(huge, 'huge\n', 0o400),
    file('other/manifest.json', '{}\n'), // another bundle: not in b's tarball
  ];
  /** what GNU tar lists, in archive order: directories before their children, sorted */
  const listed = [
    ['drwxr-xr-x', 'b/'],
    ['drwxr-xr-x', 'b/bin/'],
    ['-rwxr-xr-x', 'b/bin/start.sh'],
    [`drwxr-xr-x`, `b/${'d'.repeat(60)}/`],
    [`drwxr-xr-x`, `b/${'d'.repeat(60)}/${'e'.repeat(60)}/`],
    ['-rw-r--r--', long],
    ['-rw-------', 'b/empty'],
    ['-rw-r--r--', 'b/exact512'],
    [`drwxr-xr-x`, `b/${'x'.repeat(120)}/`],
    ['-r--------', huge],
    ['-rw-r-----', 'b/ünï'],
  ];

  it('lists every entry, sorted, with its mode, root owner and the fixed mtime as GNU tar reads them', async () => {
    const { out, dir } = gnuTar(await packBundle('b', files, 1700000000), ['-tv', '--numeric-owner', '--full-time', '--quoting-style=literal']);
    rmSync(dir, { recursive: true, force: true });
    const lines = out.trim().split('\n');
    expect(lines.map((l) => [l.split(/\s+/)[0], l.split(/\s+/).slice(5).join(' ')])).toEqual(listed);
    for (const l of lines) {
      expect(l.split(/\s+/)[1]).toBe('0/0');
      expect(l).toContain('2023-11-14 22:13:20');
    }
    const { out: named, dir: d2 } = gnuTar(await packBundle('b', files, 0), ['-tv']);
    rmSync(d2, { recursive: true, force: true });
    for (const l of named.trim().split('\n')) expect(l.split(/\s+/)[1]).toBe('root/root');
  });

  it('extracts byte-identical contents and exact modes', async () => {
    const { dir } = gnuTar(await packBundle('b', files, 0), ['-x', '--no-same-owner', '--same-permissions']);
    try {
      for (const f of files.filter((f) => f.path.startsWith('b/'))) {
        const p = join(dir, f.path);
        expect(statSync(p).mode & 0o7777, f.path).toBe(f.mode);
        expect(readFileSync(p, 'utf8'), f.path).toBe(f.content);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives the same bytes for the same bundle and mtime; the gzip header carries no time or name', async () => {
    const a = await packBundle('b', files, 1700000000);
    expect((await packBundle('b', [...files].reverse(), 1700000000)).equals(a)).toBe(true);
    expect((await packBundle('b', files, 0)).equals(a)).toBe(false);
    expect(a.readUInt32LE(4)).toBe(0); // MTIME
    expect(a[3]! & 0x08).toBe(0); // FLG.FNAME
    const tar = gunzipSync(a);
    expect(tar.length % 512).toBe(0);
    expect(tar.subarray(tar.length - 1024).every((b) => b === 0)).toBe(true);
  });
});
