// Golden files in the style of esbuild's snapshot tests and Helm's -update: expected output is
// committed; UPDATE_GOLDEN=1 rewrites it (refused under CI); the reviewer reads the git diff.
//
// A built cluster is one text file, test/golden/<name>.txt: a section per file, in path order,
//
//     ---- ctl1/lib/common.sh 0644 root:root ----
//     <the file's content>
//     <a blank line>
//
// A file byte-identical to one printed before (in this snapshot, or in one earlier in the order
// the test passes them) is one line naming that copy; a file that differs from a printed copy of
// the same path on another node in a few lines (at most DELTA_MAX_SHARE of them: the node's
// name in a script's header) is that copy's name and the lines that differ:
//
//     ---- ctl2/lib/common.sh 0644 root:root = ctl1/lib/common.sh ----
//     ---- head1/lib/common.sh 0644 root:root = five_controllers:compute/lib/common.sh ----
//     ---- ctl2/bin/start_multihead.sh 0755 root:root = ctl1/bin/start_multihead.sh except ----
//     @@ -3 +3 @@
//     -# start_multihead.sh: sets up and starts this controller (ctl1) of the cluster from this
//     +# start_multihead.sh: sets up and starts this controller (ctl2) of the cluster from this
//
// So a change to a script every bundle carries is one hunk in one file. Before rendering,
// forGolden() writes what changes without the content changing as fixed tokens: mhc's version,
// the input YAML's sha256, and every sha256 in manifest.json / SHA256SUMS that is the sha256 of
// the file it names (a wrong one stays as it is, and shows). The test compares files, not text:
// the snapshots are read back (references and changes applied) and every differing path is
// reported.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync, rmSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hunkHeader, hunks, splitLines, unifiedDiff } from '../src/review/unified.js';

export const UPDATE = process.env.UPDATE_GOLDEN === '1';
if (UPDATE && process.env.CI) throw new Error('UPDATE_GOLDEN=1 is refused when CI is set: goldens are reviewed, never rewritten by CI');

/** How to rewrite the goldens, as every failure message says it. */
export const UPDATE_HINT = 'If the change is intended: UPDATE_GOLDEN=1 npx vitest run test/golden.test.ts, then review `git diff test/golden`.';

/** Compares `actual` with the golden file; rewrites it under UPDATE_GOLDEN=1. Returns the expected text. */
export function golden(path: string, actual: string): string {
  if (UPDATE) {
    mkdirSync(dirname(path), { recursive: true });
    if (!existsSync(path) || readFileSync(path, 'utf8') !== actual) writeFileSync(path, actual);
    return actual;
  }
  if (!existsSync(path)) throw new Error(`missing golden ${path}: run UPDATE_GOLDEN=1 npm test and review the new file`);
  return readFileSync(path, 'utf8');
}

// ---------------------------------------------------------------------------------------------
// The files, as goldens hold them

export interface GoldenFile {
  /** relative to out/<cluster>/ */
  readonly path: string;
  readonly mode: number;
  readonly owner: string;
  readonly group: string;
  readonly content: string;
}

export interface GoldenSet {
  /** the snapshot's name: test/golden/<name>.txt */
  readonly name: string;
  /** what it is built from, for the snapshot's first lines */
  readonly source: string;
  readonly files: readonly GoldenFile[];
}

/** What forGolden() writes instead of values that change while the files' content does not. */
export const TOKEN = {
  mhcVersion: '<mhc version>',
  inputSha256: '<sha256 of the input YAML>',
  fileSha256: '<sha256 of the file>',
} as const;

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/**
 * The files as a golden holds them: manifest.json's `mhc_version` and `input_sha256` (when they are
 * the values given) and every sha256 in a manifest.json or SHA256SUMS that is the sha256 of the
 * bundle file it names are written as TOKEN. Anything else, a wrong hash included, stays.
 */
export function forGolden(files: readonly GoldenFile[], o: { readonly mhcVersion: string; readonly inputSha256?: string }): GoldenFile[] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const hashOf = (path: string): string | undefined => {
    const f = byPath.get(path);
    return f ? sha256(f.content) : undefined;
  };
  return files.map((f) => {
    let content = f.content;
    const manifest = /^([^/]+)\/manifest\.json$/.exec(f.path);
    if (manifest) content = manifestForGolden(manifest[1]!, content, hashOf, o);
    else if (f.path === 'SHA256SUMS') content = content.replace(/^([0-9a-f]{64})  (.+)$/gm, (line, h: string, p: string) => (h === hashOf(p) ? `${TOKEN.fileSha256}  ${p}` : line));
    return { path: f.path, mode: f.mode, owner: f.owner, group: f.group, content };
  });
}

function manifestForGolden(bundle: string, text: string, hashOf: (path: string) => string | undefined, o: { readonly mhcVersion: string; readonly inputSha256?: string }): string {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return text;
  }
  // rewrite only what JSON.stringify(…, null, 2) wrote: then nothing but the tokens can change
  if (typeof m !== 'object' || m === null || `${JSON.stringify(m, null, 2)}\n` !== text) return text;
  const r = m as Record<string, unknown>;
  if (r.mhc_version === o.mhcVersion) r.mhc_version = TOKEN.mhcVersion;
  if (o.inputSha256 !== undefined && r.input_sha256 === o.inputSha256) r.input_sha256 = TOKEN.inputSha256;
  if (Array.isArray(r.files)) {
    for (const e of r.files as Record<string, unknown>[]) {
      if (e && typeof e.path === 'string' && typeof e.sha256 === 'string' && e.sha256 === hashOf(`${bundle}/${e.path}`)) e.sha256 = TOKEN.fileSha256;
    }
  }
  return `${JSON.stringify(r, null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------
// The snapshot format

/** A section header; no line of a file's content may look like one (renderSnapshots refuses it). */
const HEADER = /^---- (\S+) ([0-7]{4}) ([^\s:]+):(\S+?)(?: (\(no newline at end\))| = (\S+)( except)?)? ----$/;
const NO_NEWLINE = '(no newline at end)';
/**
 * A file is written as another one's lines with a few changed when those changes (the diff's lines,
 * headers included) are at most this part of its lines: the big scripts, that differ per node in their
 * header's node name and a line or two (0.3 to 2 % here). Config files differ more (10 to 60 %) and stay
 * whole, and no file under 32 lines qualifies; the examples have nothing between 6 and 7.5 %, so a
 * small change does not flip a file between the two forms.
 */
export const DELTA_MAX_SHARE = 1 / 16;

export class GoldenFormatError extends Error {}

const modeText = (mode: number): string => mode.toString(8).padStart(4, '0');
const byPathOrder = (a: { path: string }, b: { path: string }): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

function preamble(s: GoldenSet): string {
  return (
    `# test/golden/${s.name}.txt: the files mhc builds from ${s.source}, checked by test/golden.test.ts\n` +
    `# (UPDATE_GOLDEN=1 npx vitest run test/golden.test.ts rewrites it; README "Development").\n` +
    `# One section per file, in path order: "---- PATH MODE OWNER:GROUP ----", the content, a blank line.\n` +
    `# "---- PATH MODE OWNER:GROUP = OTHER ----": the same bytes as OTHER, printed before (in this file,\n` +
    `# or as NAME:PATH in test/golden/NAME.txt). "= OTHER except": OTHER with the lines below changed\n` +
    `# (a unified diff without context, numbered as in OTHER). <...>: a hash or mhc's version.\n` +
    `\n`
  );
}

/**
 * One snapshot text per set, in the order given: a file whose bytes were printed before, in this
 * set or an earlier one, is a reference to the first copy.
 */
export function renderSnapshots(sets: readonly GoldenSet[]): Map<string, string> {
  const first = new Map<string, string>(); // content → NAME:PATH of its first copy
  const bases = new Map<string, { at: string; lines: string[] }[]>(); // bundle-relative path → the sections printed whole
  const out = new Map<string, string>();
  for (const s of sets) {
    if (s.name.includes(':') || /\s/.test(s.name)) throw new GoldenFormatError(`bad snapshot name ${s.name}`);
    const here = (at: string): string => (at.startsWith(`${s.name}:`) ? at.slice(s.name.length + 1) : at);
    let text = preamble(s);
    const seenPaths = new Set<string>();
    for (const f of [...s.files].sort(byPathOrder)) {
      if (seenPaths.has(f.path)) throw new GoldenFormatError(`${s.name}: ${f.path} twice`);
      seenPaths.add(f.path);
      const head = `${f.path} ${modeText(f.mode)} ${f.owner}:${f.group}`;
      if (!HEADER.test(`---- ${head} ----`)) throw new GoldenFormatError(`${s.name}: ${head}: a path, mode or owner the golden format cannot hold`);
      const at = first.get(f.content);
      if (at !== undefined) {
        text += `---- ${head} = ${here(at)} ----\n`;
        continue;
      }
      first.set(f.content, `${s.name}:${f.path}`);
      if (f.content.includes('\r')) throw new GoldenFormatError(`${s.name}: ${f.path} holds a carriage return (goldens are LF text: .gitattributes)`);
      const lines = f.content.split('\n');
      const bad = lines.findIndex((l) => HEADER.test(l));
      if (bad >= 0) throw new GoldenFormatError(`${s.name}: ${f.path}:${bad + 1} looks like a golden section header: ${lines[bad]}`);
      const key = bundleRelative(f.path);
      const delta = closest(f.content, bases.get(key) ?? []);
      if (delta) {
        text += `---- ${head} = ${here(delta.at)} except ----\n${delta.patch}\n`;
        continue;
      }
      const newline = f.content === '' || f.content.endsWith('\n');
      text += `---- ${head}${newline ? '' : ` ${NO_NEWLINE}`} ----\n${f.content}${newline ? '' : '\n'}\n`;
      if (newline && f.content !== '') bases.set(key, [...(bases.get(key) ?? []), { at: `${s.name}:${f.path}`, lines: splitLines(f.content) }]);
    }
    out.set(s.name, text);
  }
  return out;
}

/** The path inside its bundle (or deploy/): ctl2/bin/start.sh → bin/start.sh; where another node's copy is. */
const bundleRelative = (path: string): string => (path.includes('/') ? path.slice(path.indexOf('/') + 1) : path);

/**
 * The printed file `content` is closest to, with the patch that makes it (unified hunks without
 * context: `@@ -OLD +NEW @@`, then the lines removed and added), when that patch is at most
 * DELTA_MAX_SHARE of its lines; ties go to the first printed.
 */
function closest(content: string, candidates: readonly { at: string; lines: string[] }[]): { at: string; patch: string } | undefined {
  if (content === '' || !content.endsWith('\n') || !candidates.length) return undefined;
  const lines = splitLines(content);
  const limit = Math.floor(lines.length * DELTA_MAX_SHARE);
  let best: { at: string; patch: string; size: number } | undefined;
  for (const c of candidates) {
    if (Math.abs(c.lines.length - lines.length) > limit) continue;
    const hs = hunks(c.lines, lines, 0);
    const size = hs.reduce((n, h) => n + 1 + h.lines.length, 0);
    if (size > limit || (best && size >= best.size)) continue;
    const patch = hs.map((h) => `${hunkHeader(h)}\n${h.lines.map((l) => `${l.kind}${l.text}\n`).join('')}`).join('');
    // a removed line "-" + "--- …" could read as a header: then the file is printed whole
    if (patch.split('\n').some((l) => HEADER.test(l))) continue;
    best = { at: c.at, patch, size };
  }
  return best && { at: best.at, patch: best.patch };
}

/** `base` with `patch` (closest()'s form) applied; undefined when it does not apply exactly. */
function applyPatch(base: string, patch: string): string | undefined {
  const from = splitLines(base);
  const pl = splitLines(patch);
  const out: string[] = [];
  let at = 0; // lines of `from` consumed
  let i = 0;
  while (i < pl.length) {
    const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$/.exec(pl[i]!);
    if (!m) return undefined;
    const oldStart = Number(m[1]);
    const oldLines = m[2] === undefined ? 1 : Number(m[2]);
    const newLines = m[4] === undefined ? 1 : Number(m[4]);
    // a hunk that removes nothing inserts after line oldStart; otherwise it replaces from oldStart on
    const keep = oldLines === 0 ? oldStart : oldStart - 1;
    if (keep < at || keep > from.length) return undefined;
    out.push(...from.slice(at, keep));
    at = keep;
    const body = pl.slice(i + 1, i + 1 + oldLines + newLines);
    if (body.length !== oldLines + newLines) return undefined;
    for (let k = 0; k < oldLines; k++) if (body[k] !== `-${from[at + k]}`) return undefined;
    for (let k = oldLines; k < body.length; k++) {
      if (!body[k]!.startsWith('+')) return undefined;
      out.push(body[k]!.slice(1));
    }
    at += oldLines;
    if (Number(m[3]) !== (newLines === 0 ? out.length : out.length - newLines + 1)) return undefined;
    i += 1 + body.length;
  }
  out.push(...from.slice(at));
  return out.length ? `${out.join('\n')}\n` : '';
}

interface Entry {
  readonly path: string;
  readonly mode: number;
  readonly owner: string;
  readonly group: string;
  /** 1-based line of the header */
  readonly line: number;
  readonly content?: string;
  /** NAME:PATH or PATH (this snapshot) */
  readonly ref?: string;
  /** with `ref`: the patch that makes this file from it */
  readonly patch?: string;
}

/** The sections of one snapshot text (references not followed). */
export function parseSnapshot(name: string, text: string): Entry[] {
  const entries: Entry[] = [];
  const fail = (line: number, why: string): never => {
    throw new GoldenFormatError(`test/golden/${name}.txt:${line}: ${why}`);
  };
  if (text !== '' && !text.endsWith('\n')) fail(text.split('\n').length, 'no newline at the end of the snapshot');
  // header positions: [line index, start offset, end offset (after its \n), match]
  const heads: { line: number; start: number; end: number; m: RegExpExecArray }[] = [];
  let off = 0;
  let line = 1;
  while (off < text.length) {
    const nl = text.indexOf('\n', off);
    const end = nl < 0 ? text.length : nl + 1;
    const m = HEADER.exec(text.slice(off, nl < 0 ? text.length : nl));
    if (m) heads.push({ line, start: off, end, m });
    off = end;
    line++;
  }
  const paths = new Set<string>();
  heads.forEach((h, i) => {
    const [, path, mode, owner, group, flag, ref, except] = h.m as unknown as [string, string, string, string, string, string | undefined, string | undefined, string | undefined];
    if (paths.has(path)) fail(h.line, `${path} twice`);
    paths.add(path);
    const prev = entries[entries.length - 1];
    if (prev && byPathOrder(prev, { path }) >= 0) fail(h.line, `${path} out of path order`);
    const chunk = text.slice(h.end, i + 1 < heads.length ? heads[i + 1]!.start : text.length);
    const base = { path, mode: parseInt(mode, 8), owner, group, line: h.line };
    if (except !== undefined) {
      if (!chunk.endsWith('\n\n')) fail(h.line, `${path}: the blank line that ends a section is missing`);
      entries.push({ ...base, ref: ref!, patch: chunk.slice(0, -1) });
      return;
    }
    if (ref !== undefined) {
      if (chunk !== '') fail(h.line + 1, `text after the reference line of ${path}`);
      entries.push({ ...base, ref });
      return;
    }
    if (!chunk.endsWith('\n')) fail(h.line, `${path}: the blank line that ends a section is missing`);
    let content = chunk.slice(0, -1);
    if (flag !== undefined) {
      if (!content.endsWith('\n')) fail(h.line, `${path}: ${NO_NEWLINE} but the section is empty`);
      content = content.slice(0, -1);
    } else if (content !== '' && !content.endsWith('\n')) fail(h.line, `${path}: the blank line that ends a section is missing`);
    entries.push({ ...base, content });
  });
  return entries;
}

/** The files of snapshot `name`, references followed (into other snapshots too). Throws GoldenFormatError. */
export function resolveSnapshot(texts: ReadonlyMap<string, string>, name: string): Map<string, GoldenFile> {
  const parsed = new Map<string, Map<string, Entry> | undefined>();
  const entriesOf = (n: string): Map<string, Entry> | undefined => {
    if (!parsed.has(n)) {
      const text = texts.get(n);
      parsed.set(n, text === undefined ? undefined : new Map(parseSnapshot(n, text).map((e) => [e.path, e])));
    }
    return parsed.get(n);
  };
  const resolving = new Set<string>();
  const contentOf = (n: string, e: Entry): string => {
    if (e.content !== undefined) return e.content;
    const key = `${n}:${e.path}`;
    const where = `test/golden/${n}.txt:${e.line}: ${e.path}`;
    if (resolving.has(key)) throw new GoldenFormatError(`${where}: the references go round in a circle`);
    resolving.add(key);
    const ref = e.ref!;
    const colon = ref.indexOf(':');
    const [tn, tp] = colon < 0 ? [n, ref] : [ref.slice(0, colon), ref.slice(colon + 1)];
    const entries = entriesOf(tn);
    const target = entries?.get(tp);
    if (!target) throw new GoldenFormatError(`${where} is the same as ${ref}, which ${entries ? `test/golden/${tn}.txt does not hold` : 'names no snapshot'}`);
    let content = contentOf(tn, target);
    if (e.patch !== undefined) {
      const patched = applyPatch(content, e.patch);
      if (patched === undefined) throw new GoldenFormatError(`${where}: its changes do not apply to ${ref}`);
      content = patched;
    }
    resolving.delete(key);
    return content;
  };
  const entries = entriesOf(name);
  if (!entries) throw new GoldenFormatError(`no snapshot test/golden/${name}.txt`);
  const files = new Map<string, GoldenFile>();
  for (const e of entries.values()) files.set(e.path, { path: e.path, mode: e.mode, owner: e.owner, group: e.group, content: contentOf(name, e) });
  return files;
}

// ---------------------------------------------------------------------------------------------
// Comparing, and saying what differs

/** At most this many diff lines per reported change (an added or removed file: its first lines), and in one message (then paths only). */
export const DIFF_LINES_PER_CHANGE = 20;
export const LINES_PER_ADDED_OR_REMOVED = 8;
export const DIFF_LINES_PER_MESSAGE = 400;

const lineCount = (s: string): number => (s === '' ? 0 : s.split('\n').length - (s.endsWith('\n') ? 1 : 0));
const owned = (f: GoldenFile): string => `${modeText(f.mode)} ${f.owner}:${f.group}`;

function shortDiff(a: string, b: string, max: number): string[] {
  // unifiedDiff's ---/+++ lines name nothing useful here: the paths head the entry
  const lines = unifiedDiff('golden', 'build', a, b).split('\n').slice(2, -1);
  if (a !== b && !lines.length) lines.push('(the same lines; a difference in the final newline)');
  const shown = Math.min(lines.length, max);
  const out = lines.slice(0, shown).map((l) => `    ${l}`);
  if (shown < lines.length) out.push(`    … ${lines.length - shown} more diff lines`);
  return out;
}

/**
 * '' when the build's files are the committed snapshot `name`'s (references followed, into the
 * other committed snapshots too) and `actualText` is its text; otherwise a message listing every path
 * that differs (changed content, mode or owner; added; removed), each with a short diff, changes
 * identical on several paths once, and how to update. `committed` holds every committed snapshot
 * (references may point into others); `actual` the files as forGolden() gave them.
 */
export function compareGolden(name: string, committed: ReadonlyMap<string, string>, actualText: string, actual: readonly GoldenFile[]): string {
  const file = `test/golden/${name}.txt`;
  const was = committed.get(name);
  if (was === undefined) return `missing golden ${file} (${actual.length} files)\n${UPDATE_HINT}\n`;
  let old: Map<string, GoldenFile>;
  try {
    old = resolveSnapshot(committed, name);
  } catch (e) {
    if (!(e instanceof GoldenFormatError)) throw e;
    return `${file} cannot be read: ${e.message}\n${UPDATE_HINT}\n`;
  }
  const now = new Map(actual.map((f) => [f.path, f]));
  const paths = [...new Set([...old.keys(), ...now.keys()])].sort();
  const added = paths.filter((p) => !old.has(p));
  const removed = paths.filter((p) => !now.has(p));
  const changed = paths.filter((p) => old.has(p) && now.has(p) && old.get(p)!.content !== now.get(p)!.content);
  const reowned = paths.filter((p) => old.has(p) && now.has(p) && owned(old.get(p)!) !== owned(now.get(p)!));
  const out: string[] = [];
  let budget = DIFF_LINES_PER_MESSAGE;
  let cut = false;
  const diff = (a: string, b: string, max = DIFF_LINES_PER_CHANGE): void => {
    if (budget <= 0) {
      cut = true;
      return;
    }
    const d = shortDiff(a, b, Math.min(max, budget));
    budget -= d.length;
    out.push(...d);
  };
  const counts = [
    changed.length && `${changed.length} changed`,
    reowned.length && `${reowned.length} with another mode or owner`,
    added.length && `${added.length} added`,
    removed.length && `${removed.length} removed`,
  ].filter(Boolean);
  if (!counts.length) {
    if (was === actualText) return '';
    // the same files, another text: references, order or the first lines (a hand edit, a new example earlier in the order)
    out.push(`${file} holds the files the build makes, written differently (references, order or header lines):`);
    diff(was, actualText);
    return `${out.join('\n')}\n${UPDATE_HINT}\n`;
  }
  out.push(`${file} does not match the build: ${counts.join(', ')}`);
  // the text is the same when only files printed in another snapshot changed (this one refers to them)
  if (was === actualText) out.push(`  (${file} itself stays as it is: these files are the same as copies printed in another snapshot, whose test says what changed there)`);
  // one entry per distinct change, at its first path, naming every path that has it
  const groups = new Map<string, string[]>();
  for (const p of changed) {
    const key = JSON.stringify([old.get(p)!.content, now.get(p)!.content]);
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  for (const ps of groups.values()) {
    out.push(`  changed: ${ps.join(', ')}${ps.length > 1 ? ` (the same change on ${ps.length} paths)` : ''}`);
    diff(old.get(ps[0]!)!.content, now.get(ps[0]!)!.content);
  }
  for (const p of reowned) out.push(`  mode/owner: ${p}: ${owned(old.get(p)!)} → ${owned(now.get(p)!)}`);
  for (const p of added) {
    const f = now.get(p)!;
    out.push(`  added: ${p} (${owned(f)}, ${lineCount(f.content)} lines)`);
    diff('', f.content, LINES_PER_ADDED_OR_REMOVED);
  }
  for (const p of removed) {
    const f = old.get(p)!;
    out.push(`  removed: ${p} (${owned(f)}, ${lineCount(f.content)} lines)`);
    diff(f.content, '', LINES_PER_ADDED_OR_REMOVED);
  }
  if (cut) out.push(`  (diffs cut at ${DIFF_LINES_PER_MESSAGE} lines; every path is listed above)`);
  return `${out.join('\n')}\n${UPDATE_HINT}\n`;
}

// ---------------------------------------------------------------------------------------------
// The directory

/** The committed snapshots: test/golden/<name>.txt → name. */
export function readSnapshots(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const n of readdirSync(dir).sort()) if (n.endsWith('.txt')) out.set(n.slice(0, -'.txt'.length), readFileSync(join(dir, n), 'utf8'));
  return out;
}

/** Under UPDATE_GOLDEN=1: writes each snapshot that changed and removes everything else in `dir` (it holds goldens only). */
export function writeSnapshots(dir: string, texts: ReadonlyMap<string, string>): void {
  if (!UPDATE) return;
  mkdirSync(dir, { recursive: true });
  const keep = new Set([...texts.keys()].map((n) => `${n}.txt`));
  for (const n of readdirSync(dir)) if (!keep.has(n)) rmSync(join(dir, n), { recursive: true, force: true });
  for (const [name, text] of texts) golden(join(dir, `${name}.txt`), text);
}
