// The in-memory ustar writer, judged by GNU tar: listing, modes, owners, mtime, contents, and
// names too long for ustar's fields (PAX path records).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tar } from '../../src/compiler/tar.js';

const enc = new TextEncoder();

function gnuTar(archive: Buffer, args: string[]): { out: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mhc-tar-'));
  writeFileSync(join(dir, 'a.tar'), archive);
  const r = spawnSync('tar', [...args, '-f', join(dir, 'a.tar'), '-C', dir], { encoding: 'utf8', env: { PATH: process.env.PATH!, TZ: 'UTC', LC_ALL: 'C' } });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return { out: r.stdout, dir };
}

describe('tar', () => {
  const long = `b/${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(70)}.conf`; // > 100: prefix + name
  const huge = `b/${'x'.repeat(120)}/${'y'.repeat(120)}.conf`; // no ustar split fits: PAX
  const entries = [
    { path: 'b/', mode: 0o755 },
    { path: 'b/bin/', mode: 0o755 },
    { path: 'b/bin/start.sh', mode: 0o755, data: enc.encode('#!/bin/sh\necho hi\n') },
    { path: 'b/empty', mode: 0o600, data: new Uint8Array(0) },
    { path: 'b/exact512', mode: 0o644, data: new Uint8Array(512).fill(0x61) },
    { path: 'b/ünï', mode: 0o640, data: enc.encode('x') },
    { path: long, mode: 0o644, data: enc.encode('long\n') },
    { path: huge, mode: 0o400, data: enc.encode('huge\n') },
  ];
  const archive = tar(entries, { mtime: 1700000000 });

  it('is a whole number of blocks ending in two zero blocks', () => {
    expect(archive.length % 512).toBe(0);
    expect(archive.subarray(archive.length - 1024).every((b) => b === 0)).toBe(true);
  });

  it('lists every entry with mode, root owner and mtime as GNU tar reads them', () => {
    const { out, dir } = gnuTar(archive, ['-tv', '--numeric-owner', '--full-time', '--quoting-style=literal']);
    rmSync(dir, { recursive: true, force: true });
    const lines = out.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/).slice(5).join(' '))).toEqual(entries.map((e) => e.path));
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(['drwxr-xr-x', 'drwxr-xr-x', '-rwxr-xr-x', '-rw-------', '-rw-r--r--', '-rw-r-----', '-rw-r--r--', '-r--------']);
    for (const l of lines) {
      expect(l.split(/\s+/)[1]).toBe('0/0');
      expect(l).toContain('2023-11-14 22:13:20');
    }
  });

  it('extracts byte-identical contents and exact modes', () => {
    const { dir } = gnuTar(archive, ['-x', '--no-same-owner', '--same-permissions']);
    try {
      for (const e of entries) {
        const p = join(dir, e.path);
        expect(statSync(p).mode & 0o7777, e.path).toBe(e.mode);
        if (e.data) expect(readFileSync(p).equals(Buffer.from(e.data)), e.path).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is a pure function of its entries', () => {
    expect(tar(entries, { mtime: 1700000000 }).equals(archive)).toBe(true);
    expect(tar(entries, { mtime: 0 }).equals(archive)).toBe(false);
  });
});
