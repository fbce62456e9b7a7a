// Output forms of `mhc diff`: text (a terminal; coloured only when asked), markdown (a pull
// request comment: a summary table, then one collapsible section per set of nodes) and json.
// Pure: the CLI decides on colour (TTY, --no-color, NO_COLOR).
import type { ChangeGroup, MetaChange, NodeRef, TreeDiff } from './diff.js';
import { hunkHeader, type Hunk } from './unified.js';
import { jsonSafe, printable } from '../compiler/diagnostics.js';

export type DiffFormat = 'text' | 'markdown' | 'json';

export interface FormatOptions {
  readonly color?: boolean;
  /** only the summary (files and line counts), no hunks */
  readonly stat?: boolean;
  /** markdown: cut the body beyond this many characters (a GitHub comment holds 65536) */
  readonly maxChars?: number;
}

const ANSI = {
  bold: '\x1b[1m',
  red: '\x1b[31m',
  green: '\x1b[32m',
  cyan: '\x1b[36m',
  yellow: '\x1b[33m',
  dim: '\x1b[2m',
  reset: '\x1b[0m',
};

const plural = (n: number, s: string) => `${n} ${s}${n === 1 ? '' : 's'}`;
/** Every text from a tree or a YAML (names, paths, modes, owners, file lines) goes through this. */
const p = (s: string) => printable(s);
const nodeList = (rs: readonly NodeRef[]) => p(rs.map((r) => r.label).join(', '));
const statusWord = (g: Pick<ChangeGroup, 'status' | 'hunks'>) => (g.status === 'changed' && !g.hunks.length ? 'mode/owner' : g.status);
const metaText = (m: readonly MetaChange[]) => p(m.map((x) => `${x.field} ${x.from} → ${x.to}`).join(', '));
const counts = (g: { added: number; removed: number }) => `+${g.added} −${g.removed}`;

function summaryLines(d: TreeDiff): string[] {
  const out: string[] = [];
  if (d.bundlesChanged.length) out.push(`nodes changed: ${nodeList(d.bundlesChanged)}`);
  if (d.bundlesAdded.length) out.push(`nodes added: ${nodeList(d.bundlesAdded)}`);
  if (d.bundlesRemoved.length) out.push(`nodes removed: ${nodeList(d.bundlesRemoved)}`);
  const s = d.stats;
  out.push(`files: ${s.filesChanged} changed, ${s.filesAdded} added, ${s.filesRemoved} removed (${s.linesAdded} lines added, ${s.linesRemoved} removed)`);
  return out;
}

// ---------------------------------------------------------------------------------------- text

export function formatDiffText(d: TreeDiff, o: FormatOptions = {}): string {
  const c = o.color
    ? ANSI
    : {
        bold: '',
        red: '',
        green: '',
        cyan: '',
        yellow: '',
        dim: '',
        reset: '',
      };
  let s = `${c.bold}mhc diff${c.reset} a: ${p(d.a.label)}  b: ${p(d.b.label)}\n`;
  for (const n of d.notes) s += `${c.yellow}note:${c.reset} ${p(n)}\n`;
  if (d.identical) return `${s}identical: no node's files differ\n`;
  for (const l of summaryLines(d)) s += `${l}\n`;
  const w = Math.max(...d.groups.map((g) => g.path.length));
  for (const g of d.groups) {
    const mark = g.status === 'added' ? `${c.green}A${c.reset}` : g.status === 'removed' ? `${c.red}D${c.reset}` : 'M';
    s += `  ${mark} ${p(g.path).padEnd(w)}  ${c.green}+${g.added}${c.reset} ${c.red}−${g.removed}${c.reset}${g.meta.length ? `  (${metaText(g.meta)})` : ''}  ${c.dim}${nodeList(g.bundles)}${c.reset}\n`;
  }
  if (o.stat) return s;
  for (const g of d.groups) {
    s += `\n${c.bold}=== ${p(g.path)} — ${statusWord(g)} on ${nodeList(g.bundles)}${c.reset}\n`;
    if (g.meta.length) s += `${c.yellow}${metaText(g.meta)}${c.reset}\n`;
    if (!g.hunks.length) continue;
    s += `${c.bold}--- ${g.status === 'added' ? '/dev/null' : `a/${p(g.path)}`}${c.reset}\n${c.bold}+++ ${g.status === 'removed' ? '/dev/null' : `b/${p(g.path)}`}${c.reset}\n`;
    for (const h of g.hunks) {
      s += `${c.cyan}${hunkHeader(h)}${c.reset}\n`;
      for (const l of h.lines) {
        const t = printable(l.text, true);
        s += l.kind === '-' ? `${c.red}-${t}${c.reset}\n` : l.kind === '+' ? `${c.green}+${t}${c.reset}\n` : ` ${t}\n`;
      }
    }
  }
  return s;
}

// ------------------------------------------------------------------------------------ markdown

const mdCell = (s: string) => p(s).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const mdHtml = (s: string) => p(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A fence longer than any run of backticks in the body. */
function fence(body: string): string {
  let longest = 0;
  for (const m of body.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  return '`'.repeat(Math.max(3, longest + 1));
}

function hunkText(hs: readonly Hunk[]): string {
  let s = '';
  for (const h of hs) {
    s += `${hunkHeader(h)}\n`;
    for (const l of h.lines) s += `${l.kind}${printable(l.text, true)}\n`;
  }
  return s;
}

export function formatDiffMarkdown(d: TreeDiff, o: FormatOptions = {}): string {
  const max = o.maxChars ?? 60_000;
  let s = `### mhc diff\n\n\`${mdCell(d.a.label)}\` → \`${mdCell(d.b.label)}\`\n\n`;
  for (const n of d.notes) s += `> **Note:** ${mdCell(n)}\n\n`;
  if (d.identical) return `${s}No changes: every node's files are identical.\n`;
  const parts: string[] = [];
  if (d.bundlesChanged.length) parts.push(`**${plural(d.bundlesChanged.length, 'node')} changed**: ${mdCell(nodeList(d.bundlesChanged))}`);
  if (d.bundlesAdded.length) parts.push(`**added**: ${mdCell(nodeList(d.bundlesAdded))}`);
  if (d.bundlesRemoved.length) parts.push(`**removed**: ${mdCell(nodeList(d.bundlesRemoved))}`);
  s += `${parts.join(' · ')}\n\n`;
  const st = d.stats;
  s += `${st.filesChanged} files changed, ${st.filesAdded} added, ${st.filesRemoved} removed · **+${st.linesAdded} −${st.linesRemoved}** lines\n\n`;
  s += `| file | change | lines | nodes |\n|---|---|---|---|\n`;
  for (const g of d.groups) {
    s += `| \`${mdCell(g.path)}\` | ${statusWord(g)}${g.meta.length ? ` (${mdCell(metaText(g.meta))})` : ''} | ${counts(g)} | ${mdCell(nodeList(g.bundles))} |\n`;
  }
  if (o.stat) return s;
  // one collapsible section per set of nodes, in the order of the groups
  const sections = new Map<string, ChangeGroup[]>();
  for (const g of d.groups) {
    const k = nodeList(g.bundles);
    if (!sections.has(k)) sections.set(k, []);
    sections.get(k)!.push(g);
  }
  let body = '';
  let cut = 0;
  for (const [nodes, gs] of sections) {
    const add = gs.reduce((x, g) => x + g.added, 0);
    const rem = gs.reduce((x, g) => x + g.removed, 0);
    let sec = `\n<details><summary><b>${mdHtml(nodes)}</b> — ${plural(gs.length, 'file')}, +${add} −${rem}</summary>\n\n`;
    for (const g of gs) {
      sec += `**\`${mdCell(g.path)}\`** — ${statusWord(g)}${g.meta.length ? ` (${mdCell(metaText(g.meta))})` : ''}\n\n`;
      if (g.hunks.length) {
        const t = hunkText(g.hunks);
        const f = fence(t);
        sec += `${f}diff\n${t}${f}\n\n`;
      }
    }
    sec += `</details>\n`;
    if (s.length + body.length + sec.length > max) {
      cut++;
      continue;
    }
    body += sec;
  }
  if (cut) body += `\n_${plural(cut, 'section')} left out to keep this comment short: run \`mhc diff\` locally or read the CI log._\n`;
  return s + body;
}

// ---------------------------------------------------------------------------------------- json

export function formatDiffJson(d: TreeDiff, o: FormatOptions = {}): string {
  const j = {
    a: d.a,
    b: d.b,
    identical: d.identical,
    nodes: {
      changed: d.bundlesChanged,
      added: d.bundlesAdded,
      removed: d.bundlesRemoved,
    },
    stats: d.stats,
    notes: d.notes,
    changes: d.groups.map((g) => ({
      path: g.path,
      status: g.status,
      bundles: g.bundles.map((b) => b.bundle),
      nodes: g.bundles.map((b) => b.label),
      meta: g.meta,
      added: g.added,
      removed: g.removed,
      ...(o.stat
        ? {}
        : {
            hunks: g.hunks.map((h) => ({
              oldStart: h.oldStart,
              oldLines: h.oldLines,
              newStart: h.newStart,
              newLines: h.newLines,
              lines: h.lines.map((l) => `${l.kind}${l.text}`),
            })),
          }),
    })),
  };
  return `${jsonSafe(JSON.stringify(j, null, 2))}\n`;
}

export function formatDiff(d: TreeDiff, format: DiffFormat, o: FormatOptions = {}): string {
  return format === 'json' ? formatDiffJson(d, o) : format === 'markdown' ? formatDiffMarkdown(d, o) : formatDiffText(d, o);
}
