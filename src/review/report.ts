// `mhc report`: one self-contained HTML page of a cluster (or of a change: OLD and NEW) for
// reviewers and the wall of an operations room. The topology as inline SVG, what runs where,
// the HA roles, compute nodes folded into groups, the ports per node, the audit findings linked
// to their node; with two sides, what the change adds, removes and moves, and mhc diff's file
// changes. No script, no external resource (a CSP forbids both), no date: the same input gives
// the same bytes. Pure: (sides, audit reports, diff) → string.
//
// Written with the `markup` tagged template (html.ts) rather than a handlebars template: the page
// is many small fragments whose layout (SVG coordinates, merged rows) is computed in TypeScript,
// and the tag makes escaping the default for every value, checked by the type system, where a
// template compiled noEscape (as the bundle files are) would make it opt-in.
import type { ChangeGroup, TreeDiff } from './diff.js';
import { markup, join, raw, type Html } from './html.js';
import { REPORT_CSS } from './report-css.js';
import { factsOf, SERVICE_LABEL, type Cell, type ComputeGroup, type FindingFacts, type Row, type SideInput } from './report-facts.js';
import {
  cellText,
  current,
  mergeFacts,
  nodeAnchor,
  portsAnchor,
  type Change,
  type Merged,
  type MergedController,
  type MergedFacts,
  type MergedPorts,
  type MergedTable,
  type Status,
} from './report-merge.js';
import { topologySvg } from './report-svg.js';
import { hunkHeader } from './unified.js';

export interface ReportInput {
  /** the side shown (NEW when two are given) */
  readonly now: SideInput;
  /** OLD, for the review view of a change */
  readonly was?: SideInput;
  /** mhc diff's changes from OLD to NEW (compareSides) */
  readonly diff?: TreeDiff;
  readonly mhcVersion: string;
}

export const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
/** Diff lines shown per changed file; `mhc diff` shows them all. */
export const MAX_HUNK_LINES = 400;

const NONE = markup``;
const plural = (n: number, s: string) => `${n} ${s}${n === 1 ? '' : 's'}`;
const st = (s: Status, move = false) => (s === 'same' ? '' : s === 'changed' && move ? 'st-moved' : `st-${s}`);
const clsAttr = (...cs: string[]) => {
  const c = cs.filter(Boolean).join(' ');
  return c ? markup` class="${c}"` : NONE;
};
const badge = (s: Status) => (s === 'same' ? NONE : markup` <span class="chip st-${s}">${s}</span>`);
const nodeLink = (bundle: string, text: string) => markup`<a href="#${nodeAnchor(bundle)}">${text}</a>`;

// --- tables -----------------------------------------------------------------------------------

/** Longer cell texts (hostlists of thousands of nodes) fold into a details element. */
export const FOLD_CHARS = 200;
const folded = (s: string) => (s.length > FOLD_CHARS ? markup`<details class="long"><summary>${s.slice(0, 120)}… (${s.length} characters)</summary>${s}</details>` : markup`${s}`);
const cellHtml = (c: Cell | undefined): Html => (c === undefined ? NONE : typeof c === 'string' ? folded(c) : nodeLink(c.node, c.text));

/** A cell of a changed row shows what it was and what it is. */
function mergedCell(r: Merged<Row>, i: number): Html {
  const now = r.now?.cells[i];
  const was = r.was?.cells[i];
  if (r.status !== 'changed' || cellText(now) === cellText(was)) return cellHtml(current(r).cells[i]);
  return markup`${cellText(was) ? markup`<del>${cellHtml(was)}</del> ` : ''}${cellText(now) ? markup`<ins>${cellHtml(now)}</ins>` : ''}`;
}

function tableHtml(t: Pick<MergedTable, 'title' | 'columns' | 'rows'>, extra = ''): Html {
  const head = markup`<thead><tr>${t.columns.map((c) => markup`<th>${c}</th>`)}</tr></thead>`;
  const rows = t.rows.map((r) => markup`<tr${clsAttr(st(r.status, !!current(r).move))}>${t.columns.map((_, i) => markup`<td>${mergedCell(r, i)}</td>`)}</tr>`);
  return markup`<table${clsAttr(extra)}><caption>${t.title}</caption>${head}<tbody>${rows}</tbody></table>`;
}

const mapMerged = <T, U>(m: Merged<T>, f: (t: T) => U): Merged<U> => ({ key: m.key, status: m.status, ...(m.now ? { now: f(m.now) } : {}), ...(m.was ? { was: f(m.was) } : {}) });

// --- header, changes, legend --------------------------------------------------------------------

function counts(m: MergedFacts): Html {
  const f = m.now;
  const sev = (s: FindingFacts['severity']) => f.findings.filter((x) => x.severity === s).length;
  const items = [
    plural(f.controllers.length, 'controller'),
    `${plural(f.computeNodes.length, 'compute node')} in ${plural(f.compute.length, 'group')}`,
    ...(f.vip ? [`VIP ${f.vip.address} on ${f.vip.owner ?? '(none)'}`] : []),
    `findings: ${plural(sev('error'), 'error')}, ${plural(sev('warning'), 'warning')}, ${plural(sev('info'), 'note')}`,
  ];
  return markup`<ul class="counts">${items.map((i) => markup`<li>${i}</li>`)}</ul>`;
}

const sideText = (f: MergedFacts['now']) => `${f.label} (${f.kind === 'config' ? 'cluster YAML' : 'built tree'})`;

function header(m: MergedFacts): Html {
  const from = m.was ? markup`<p class="sub">change from <b>${sideText(m.was)}</b> to <b>${sideText(m.now)}</b></p>` : markup`<p class="sub">from <b>${sideText(m.now)}</b></p>`;
  return markup`<header><h1>${m.now.cluster}</h1>${from}${counts(m)}</header>`;
}

const LEGEND: readonly (readonly [Change['status'], string])[] = [
  ['added', 'added by the change'],
  ['removed', 'removed by the change'],
  ['changed', 'changed (was → now)'],
  ['moved', 'moved to another node'],
];
const legend = () => markup`<ul class="legend">${LEGEND.map(([s, t]) => markup`<li class="st-${s}">${t}</li>`)}</ul>`;

const changeItem = (c: Change) => markup`<li class="st-${c.status}"><span class="tag">${c.status}</span> ${c.href ? markup`<a href="${c.href}">${c.text}</a>` : c.text}</li>`;

function changesSection(m: MergedFacts): Html {
  if (!m.two) return NONE;
  const body = m.changes.length ? markup`<ul class="changes">${m.changes.map(changeItem)}</ul>` : markup`<p>No change to the topology, the ports or the findings.</p>`;
  return markup`<section id="changes"><h2>What the change does</h2>${legend()}${body}</section>`;
}

// --- controllers ------------------------------------------------------------------------------------

const roleItem = (r: Merged<Row>): Html => markup`<li${clsAttr(st(r.status))}><b>${cellText(current(r).cells[0])}</b>: ${mergedCell(r, 1)}</li>`;

function findingLinks(m: MergedFacts, host: string): Html {
  const mine = m.findings.map((f, i) => [f, i] as const).filter(([f]) => current(f).node === host);
  if (!mine.length) return NONE;
  const links = mine.map(([f, i]) => markup`<a${clsAttr(st(f.status))} href="#finding-${i}">${current(f).severity} ${current(f).code}</a>`);
  return markup` · findings: ${join(links, ', ')}`;
}

const filesText = (f: MergedController['files']) => (f ? markup` · <a href="#files">files: ${plural(f.files, 'change')} (+${f.added} −${f.removed})</a>` : NONE);

function controllerCard(m: MergedFacts, c: MergedController): Html {
  const f = current(c);
  const ip = c.was && c.now && c.was.ip !== c.now.ip ? markup`<del>${c.was.ip}</del> <ins>${c.now.ip}</ins>` : markup`${f.ip}`;
  const chips = c.services.map((s) => markup`<span${clsAttr('chip', st(s.status))}>${SERVICE_LABEL[current(s).key]}</span>`);
  const roles = c.roles.length ? markup`<ul>${c.roles.map(roleItem)}</ul>` : markup`<p>no service</p>`;
  const links = markup`<p class="links"><a href="#${portsAnchor(f.hostname)}">ports</a>${findingLinks(m, f.hostname)}${filesText(c.files)}</p>`;
  return markup`<article${clsAttr('card', st(c.status))} id="${nodeAnchor(f.hostname)}"><h3>${f.hostname} <span class="addr">${ip}</span>${badge(c.status)}</h3><div>${chips}</div>${roles}${links}</article>`;
}

function arbitratorCard(a: MergedFacts['arbitrator'][number]): Html {
  const x = current(a);
  const role = markup`<ul><li><b>MariaDB</b>: Galera arbitrator (garbd): votes, holds no data</li></ul>`;
  return markup`<article${clsAttr('card', st(a.status))} id="${nodeAnchor(x.hostname)}"><h3>${x.hostname} <span class="addr">${x.ip}</span>${badge(a.status)}</h3>${role}<p class="links"><a href="#${portsAnchor(x.hostname)}">ports</a></p></article>`;
}

const controllersSection = (m: MergedFacts): Html =>
  markup`<section id="controllers"><h2>Controllers</h2><div class="cards">${m.controllers.map((c) => controllerCard(m, c))}${m.arbitrator.map(arbitratorCard)}</div></section>`;

// --- HA, compute, ports, findings, files ------------------------------------------------------------

function haSection(m: MergedFacts): Html {
  const part = (s: MergedFacts['sections'][number]) =>
    markup`<div id="ha-${s.key}"${clsAttr(st(s.status))}><h3>${s.title}${badge(s.status)}</h3>${s.tables.map((t) => tableHtml(t, t.settings ? 'kv' : ''))}</div>`;
  return markup`<section id="ha"><h2>High availability</h2><div class="ha">${m.sections.map(part)}</div></section>`;
}

const groupRow = (g: ComputeGroup): Row => ({ key: g.key, cells: [`${g.count}`, g.hostlist, g.partitions.join(', ') || '(none)', g.hardware] });

function computeSection(m: MergedFacts): Html {
  if (!m.compute.length) return NONE;
  const files = m.computeFiles ? markup`<p class="links">${filesText(m.computeFiles)}</p>` : NONE;
  const title = `${plural(m.now.computeNodes.length, 'compute node')} in ${plural(m.compute.length, 'group')} (same partitions and hardware: one slurm.conf NodeName line each), one shared bundle`;
  const table = tableHtml({ title, columns: ['nodes', 'hostlist', 'partitions', 'hardware'], rows: m.compute.map((g) => mapMerged(g, groupRow)) });
  return markup`<section id="compute"><h2>Compute nodes</h2>${files}${table}</section>`;
}

function portsBlock(m: MergedFacts, p: MergedPorts): Html {
  const x = current(p);
  const name = x.bundle === 'compute' ? markup`<a href="#compute">every compute node (${plural(m.now.computeNodes.length, 'node')})</a>` : x.bundle ? nodeLink(x.bundle, x.node) : markup`${x.node}`;
  const address = x.address ? markup` <span class="addr">${x.address}</span>` : NONE;
  const body = p.rows.length ? tableHtml({ title: 'accept from', columns: ['protocol', 'port', 'service', 'from'], rows: p.rows }) : markup`<p>nothing: no service listens for peers</p>`;
  return markup`<div id="${portsAnchor(p.key)}"${clsAttr(st(p.status))}><h3>${name}${address}${badge(p.status)}</h3>${body}</div>`;
}

const portsSection = (m: MergedFacts): Html =>
  markup`<section id="ports"><h2>Ports the firewall must open</h2><p class="sub">Per node: what it must accept, and from whom (VRRP is IP protocol 112, not a port). The same table as <code>mhc audit</code> (A601).</p>${m.ports.map((p) => portsBlock(m, p))}</section>`;

function findingRow(f: Merged<FindingFacts>, i: number): Html {
  const x = current(f);
  const node = x.node ? nodeLink(x.node, x.node) : markup`(cluster)`;
  const detail = markup`<details><summary>${x.message}</summary><p><b>why:</b> ${x.why}</p><p><b>fix:</b> ${x.fix}</p></details>`;
  return markup`<tr id="finding-${i}"${clsAttr(`sev-${x.severity}`, st(f.status))}><td><span class="sev">${x.severity}</span></td><td>${x.code}</td><td>${node}</td><td><b>${x.title}</b>${detail}</td><td class="mono">${x.where}</td></tr>`;
}

function findingsSection(m: MergedFacts): Html {
  if (!m.findings.length) return markup`<section id="findings"><h2>Audit findings</h2><p>None.</p></section>`;
  const head = markup`<thead><tr><th>severity</th><th>code</th><th>node</th><th>finding</th><th>where</th></tr></thead>`;
  return markup`<section id="findings"><h2>Audit findings</h2><table>${head}<tbody>${m.findings.map(findingRow)}</tbody></table></section>`;
}

function hunkLines(g: ChangeGroup): Html {
  const lines: Html[] = [];
  let left = MAX_HUNK_LINES;
  for (const h of g.hunks) {
    if (left <= 0) break;
    lines.push(markup`<span class="h">${hunkHeader(h)}</span>`);
    for (const l of h.lines.slice(0, left)) lines.push(markup`<span${clsAttr(l.kind === '+' ? 'a' : l.kind === '-' ? 'r' : '')}>${l.kind}${l.text}</span>`);
    left -= h.lines.length;
  }
  const cut = left < 0 ? markup`<p>… more lines: <code>mhc diff</code> shows them all</p>` : NONE;
  return lines.length ? markup`<pre class="hunk">${lines}</pre>${cut}` : NONE;
}

function fileGroup(g: ChangeGroup): Html {
  const meta = g.meta.map((x) => `${x.field} ${x.from} → ${x.to}`).join(', ');
  const summary = markup`<code>${g.path}</code> ${g.status} on ${g.bundles.map((b) => b.label).join(', ')} (+${g.added} −${g.removed})${meta ? markup` · ${meta}` : ''}`;
  return markup`<details${clsAttr(`st-${g.status}`)}><summary>${summary}</summary>${hunkLines(g)}</details>`;
}

function filesSection(m: MergedFacts): Html {
  const d = m.diff;
  if (!d) return NONE;
  const notes = d.notes.map((n) => markup`<p class="sub">note: ${n}</p>`);
  const body = d.identical ? markup`<p>The built files are identical.</p>` : markup`${d.groups.map(fileGroup)}`;
  return markup`<section id="files"><h2>Files the change moves (mhc diff)</h2>${notes}${body}</section>`;
}

function nav(m: MergedFacts): Html {
  const links: readonly (readonly [string, string, boolean])[] = [
    ['changes', 'changes', m.two],
    ['topology', 'topology', true],
    ['services', 'services', true],
    ['controllers', 'controllers', true],
    ['ha', 'HA', true],
    ['compute', 'compute', m.compute.length > 0],
    ['ports', 'ports', true],
    ['findings', 'findings', true],
    ['files', 'files', !!m.diff],
  ];
  return markup`<nav>${links.filter(([, , on]) => on).map(([id, t]) => markup`<a href="#${id}">${t}</a>`)}</nav>`;
}

function page(m: MergedFacts, mhcVersion: string): Html {
  const meta = markup`<meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${CSP}"><meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width, initial-scale=1">`;
  const head = markup`<head>${meta}<title>mhc report: ${m.now.cluster}</title><style>${raw(REPORT_CSS)}</style></head>`;
  const topo = markup`<section id="topology"><h2>Topology</h2>${m.two ? legend() : ''}${topologySvg(m)}</section>`;
  const services = markup`<section id="services"><h2>Which services run where</h2>${tableHtml(m.services, 'matrix')}</section>`;
  const main = markup`<main>${changesSection(m)}${topo}${services}${controllersSection(m)}${haSection(m)}${computeSection(m)}${portsSection(m)}${findingsSection(m)}${filesSection(m)}</main>`;
  const footer = markup`<footer>Generated by mhc ${mhcVersion} from the cluster's model; no script, no external resource.</footer>`;
  return markup`<!doctype html>\n<html lang="en">${head}<body>${header(m)}${nav(m)}${main}${footer}</body></html>\n`;
}

/** The report page. Deterministic: the same sides give the same bytes. */
export function renderReport(input: ReportInput): string {
  const now = factsOf(input.now);
  const was = input.was ? factsOf(input.was) : undefined;
  return page(mergeFacts(now, was, input.diff), input.mhcVersion).text;
}
