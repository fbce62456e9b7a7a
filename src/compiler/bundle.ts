// The Bundle: every output file, by path relative to out/<cluster>/. Content normalized here
// (LF only, exactly one trailing newline), so no emitter can get it wrong.
import { createHash } from 'node:crypto';
import { secretsIn } from './secrets.js';
import type { ChangeRule } from '../emitters/service.js';

export interface EmittedFile {
  /** relative to the bundle directory, e.g. files/etc/mhc/hosts or bin/start_multihead.sh */
  readonly path: string;
  readonly content: string;
  readonly mode?: number;
  readonly owner?: string;
  readonly group?: string;
  /** secrets the file names (no placeholder) that the scripts read from secrets.env at run time */
  readonly runtimeSecrets?: readonly string[];
  /** the service the file belongs to, when not the emitter's own (Emitter.service) */
  readonly service?: string;
  /** what a change to the installed file needs, when not what the service's descriptor says */
  readonly change?: ChangeRule;
}

/** Who wrote a file, and what a change to it needs: recorded by build.ts, listed in manifest.json. */
export interface Provenance {
  /** the emitter that added it (Emitter.name) */
  readonly emitter: string;
  /** the service it belongs to; absent for files of the whole node (hosts, scripts) */
  readonly service?: string;
  /** installed files only */
  readonly change?: ChangeRule;
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
  /** who wrote it, its service, what a change to it needs */
  readonly from: Provenance;
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

export function makeFile(prefix: string, f: EmittedFile, from: Provenance): BundleFile {
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
    from,
  };
}

/** What build.ts needs of an emitter to record a file's provenance. */
export interface Writer {
  readonly name: string;
  readonly service?: { readonly key: string; change(dest: string): ChangeRule };
}

/**
 * The files of one bundle as emitters add them (the design's `addFile(emitter, file)`, kustomize's
 * Append): each file records its emitter, its service and, when installed, the change action it
 * needs; a second writer of a path is refused, naming both.
 */
export class BundleFiles {
  private readonly byPath = new Map<string, BundleFile>();
  constructor(private readonly prefix: string) {}

  add(writer: Writer, f: EmittedFile): BundleFile {
    // a script (bin/, lib/) is the node's, whoever wrote it; an installed file is its service's
    const installed = f.path.startsWith('files/');
    const service = f.service ?? (installed ? writer.service?.key : undefined);
    let change: ChangeRule | undefined;
    if (installed) {
      const dest = f.path.slice('files'.length);
      change = f.change ?? (f.service === undefined || f.service === writer.service?.key ? writer.service?.change(dest) : undefined);
      if (!change) throw new CompilerBug(`${writer.name} wrote ${f.path} without saying what a change to it needs`);
    }
    const file = makeFile(this.prefix, f, { emitter: writer.name, ...(service ? { service } : {}), ...(change ? { change } : {}) });
    const first = this.byPath.get(file.path);
    if (first) throw new CompilerBug(`two emitters wrote ${file.path}: ${first.from.emitter} and ${writer.name}`);
    this.byPath.set(file.path, file);
    return file;
  }

  get files(): BundleFile[] {
    return [...this.byPath.values()];
  }
}

/** Sorted by path, byte order (deterministic on every machine). */
export function sortFiles<T extends { path: string }>(files: readonly T[]): T[] {
  return [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Two writers of one path are a bug in mhc: the message names both emitters. */
export function assertUnique(files: readonly BundleFile[]): void {
  const seen = new Map<string, BundleFile>();
  for (const f of files) {
    const first = seen.get(f.path);
    if (first) throw new CompilerBug(`two emitters wrote ${f.path}: ${first.from.emitter} and ${f.from.emitter}`);
    seen.set(f.path, f);
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
