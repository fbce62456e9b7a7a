// The Bundle: every output file, by path relative to out/<cluster>/. Content normalized here
// (LF only, exactly one trailing newline), so no emitter can get it wrong.
import { createHash } from 'node:crypto';
import { secretsIn } from './secrets.js';

export interface EmittedFile {
  /** relative to the bundle directory, e.g. files/etc/mhc/hosts or bin/start_multihead.sh */
  readonly path: string;
  readonly content: string;
  readonly mode?: number;
  readonly owner?: string;
  readonly group?: string;
  /** secrets the file names (no placeholder) that the scripts read from secrets.env at run time */
  readonly runtimeSecrets?: readonly string[];
}

export interface BundleFile {
  /** relative to out/<cluster>/ */
  readonly path: string;
  readonly content: string;
  readonly mode: number;
  readonly owner: string;
  readonly group: string;
  /** where the file is installed on the node (files/… only) */
  readonly dest?: string;
  /** names of the secrets the file's placeholders refer to */
  readonly secrets: readonly string[];
  /** secrets the file names that the scripts read from secrets.env at run time (EmittedFile.runtimeSecrets) */
  readonly runtimeSecrets?: readonly string[];
}

export class CompilerBug extends Error {}

/** LF line ends and exactly one trailing newline. */
export function normalizeText(s: string): string {
  if (s.includes('\r')) s = s.replace(/\r\n?/g, '\n');
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 10) end--;
  return `${s.slice(0, end)}\n`;
}

export const sha256 = (s: string | Uint8Array): string => createHash('sha256').update(s).digest('hex');

const bytesMemo = new WeakMap<BundleFile, Buffer>();
const sha256Memo = new WeakMap<BundleFile, string>();

/** A file's UTF-8 bytes, encoded once however many consumers need them (hashes, tree, tarball). */
export function bytesOf(f: BundleFile): Buffer {
  let b = bytesMemo.get(f);
  if (!b) bytesMemo.set(f, (b = Buffer.from(f.content, 'utf8')));
  return b;
}

/** A file's sha256 (hex), computed once for manifest.json and SHA256SUMS alike. */
export function sha256Of(f: BundleFile): string {
  let h = sha256Memo.get(f);
  if (!h) sha256Memo.set(f, (h = sha256(bytesOf(f))));
  return h;
}

export function makeFile(prefix: string, f: EmittedFile): BundleFile {
  if (f.path.startsWith('/') || f.path.split('/').some((s) => s === '..' || s === '.' || s === '')) {
    throw new CompilerBug(`emitter produced a bad path: ${f.path}`);
  }
  const content = normalizeText(f.content);
  const secrets = secretsIn(content);
  let mode = f.mode ?? (f.path.startsWith('bin/') ? 0o755 : 0o644);
  // a file that will hold a secret on the node is never readable by group or others
  if (secrets.length) mode &= 0o700;
  return {
    path: prefix ? `${prefix}/${f.path}` : f.path,
    content,
    mode,
    owner: f.owner ?? 'root',
    group: f.group ?? f.owner ?? 'root',
    ...(f.path.startsWith('files/') ? { dest: f.path.slice('files'.length) } : {}),
    secrets,
    ...(f.runtimeSecrets?.length ? { runtimeSecrets: [...new Set(f.runtimeSecrets)].sort() } : {}),
  };
}

/** Sorted by path, byte order (deterministic on every machine). */
export function sortFiles<T extends { path: string }>(files: readonly T[]): T[] {
  return [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function assertUnique(files: readonly BundleFile[]): void {
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) throw new CompilerBug(`two emitters wrote ${f.path}`);
    seen.add(f.path);
  }
}

/**
 * The secrets a set of files needs, sorted and unique — those their placeholders refer to and those
 * the scripts read by name: what a bundle's manifest.json lists, and what `secrets init --for` writes.
 */
export function secretsOf(files: readonly BundleFile[]): string[] {
  return [...new Set(files.flatMap((f) => [...f.secrets, ...(f.runtimeSecrets ?? [])]))].sort();
}

export const modeString = (m: number): string => m.toString(8).padStart(4, '0');
