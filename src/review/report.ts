// `mhc report`: one self-contained HTML page of a cluster (or of a change: OLD and NEW) for
// reviewers and the wall of an operations room. The topology as inline SVG, what runs where,
// the HA roles, compute nodes folded into groups, the ports per node, the audit findings linked
// to their node; with two sides, what the change adds, removes and moves, and mhc diff's file
// changes. No script, no external resource (a CSP forbids both), no date: the same input gives
// the same bytes. Pure: (sides, audit reports, diff) → string.
//
// Written with the `html` tagged template (html.ts) rather than a handlebars template: the page
// is many small fragments whose layout (SVG coordinates, merged rows) is computed in TypeScript,
// and the tag makes escaping the default for every value, checked by the type system, where a
// template compiled noEscape (as the bundle files are) would make it opt-in.
import type { TreeDiff } from './diff.js';
import { html, join, raw, type Html } from './html.js';
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

const plural = (n: number, s: string) => `${n} ${s}${n === 1 ? '' : 's'}`;
const st = (s: Status, move = false) => (s === 'same' ? '' : s === 'changed' && move ? 'st-moved' : `st-${s}`);
const clsAttr = (...cs: string[]) => {
  const c = cs.filter(Boolean).join(' ');
  return c ? html` class="${c}"` : html``;
};
const badge = (s: Status) => (s === 'same' ? html`` : html` <span class="chip st-${s}">${s}</span>`);

// --- tables -----------------------------------------------------------------------------------

const cellHtml = (c: Cell | undefined): Html => (c === undefined ? html`` : typeof c === 'string' ? html`${c}` : html`<a href="#${nodeAnchor(c.node)}">${c.text}</a>`);

/** A cell of a changed row shows what it was and what it is. */
function mergedCell(r: Merged<Row>, i: number): Html {
  const now = r.now?.cells[i];
  const was = r.was?.cells[i];
  if (r.status !== 'changed' || cellText(now) === cellText(was)) return cellHtml(current(r).cells[i]);
  return html`${cellText(was) ? html`<del>${cellHtml(was)}</del> ` : ''}${cellText(now) ? html`<ins>${cellHtml(now)}</ins>` : ''}`;
}

function tableHtml(t: Pick<MergedTable, 'title' | 'columns' | 'rows'>, extra = ''): Html {
  const rows = t.rows.map((r) => html`<tr${clsAttr(st(r.status, !!current(r).move))}>${t.columns.map((_, i) => html`<td>${mergedCell(r, i)}</td>`)}</tr>`);
  return html`<table${clsAttr(extra)}><caption>${t.title}</caption><thead><tr>${t.columns.map((c) => html`<th>${c}</th>`)}</tr></thead><tbody>${rows}</tbody></table>`;
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
  return html`<ul class="counts">
    ${items.map((i) => html`<li>${i}</li>`)}
  </ul>`;
}

const sideText = (f: MergedFacts['now']) => `${f.label} (${f.kind === 'config' ? 'cluster YAML' : 'built tree'})`;

function header(m: MergedFacts): Html {
  const from = m.was ? html`<p class="sub">change from <b>${sideText(m.was)}</b> to <b>${sideText(m.now)}</b></p>` : html`<p class="sub">from <b>${sideText(m.now)}</b></p>`;
  return html`<header>
    <h1>${m.now.cluster}</h1>
    ${from}${counts(m)}
  </header>`;
}

const LEGEND: readonly [Status | 'moved', string][] = [
  ['added', 'added by the change'],
  ['removed', 'removed by the change'],
  ['changed', 'changed (was → now)'],
  ['moved', 'moved to another node'],
];
const legend = () =>
  html`<ul class="legend">
    ${LEGEND.map(([s, t]) => html`<li class="st-${s}">${t}</li>`)}
  </ul>`;

const changeItem = (c: Change) => html`<li class="st-${c.status}"><span class="tag">${c.status}</span> ${c.href ? html`<a href="${c.href}">${c.text}</a>` : c.text}</li>`;

function changesSection(m: MergedFacts): Html {
  if (!m.two) return html``;
  const body = m.changes.length
    ? html`<ul class="changes">
        ${m.changes.map(changeItem)}
      </ul>`
    : html`<p>No change to the topology, the ports or the findings.</p>`;
  return html`<section id="changes">
    <h2>What the change does</h2>
    ${legend()}${body}
  </section>`;
}

// --- controllers ------------------------------------------------------------------------------------

function roleItem(r: Merged<Row>): Html {
  const text = html`<b>${cellText(current(r).cells[0])}</b>: ${mergedCell(r, 1)}`;
  return html`<li${clsAttr(st(r.status))}>${text}</li>`;
}

function findingLinks(m: MergedFacts, host: string): Html {
  const mine = m.findings.map((f, i) => [f, i] as const).filter(([f]) => current(f).node === host);
  if (!mine.length) return html``;
  const links = mine.map(([f, i]) => html`<a${clsAttr(st(f.status))} href="#finding-${i}">${current(f).severity} ${current(f).code}</a>`);
  return html` · findings: ${join(links, ', ')}`;
}

const filesText = (f: MergedController['files']) => (f ? html` · <a href="#files">files: ${plural(f.files, 'change')} (+${f.added} −${f.removed})</a>` : html``);

function controllerCard(m: MergedFacts, c: MergedController): Html {
  const f = current(c);
  const ipChanged = c.status === 'changed' && c.was && c.now && c.was.ip !== c.now.ip;
  const ip = ipChanged ? html`<del>${c.was!.ip}</del> <ins>${c.now!.ip}</ins>` : html`${f.ip}`;
  const chips = c.services.map((s) => html`<span class="chip${st(s.status) ? ` ${st(s.status)}` : ''}">${SERVICE_LABEL[current(s).key]}</span>`);
  const roles = c.roles.length
    ? html`<ul>
        ${c.roles.map(roleItem)}
      </ul>`
    : html`<p>no service</p>`;
  const links = html`<p class="links"><a href="#${portsAnchor(f.hostname)}">ports</a>${findingLinks(m, f.hostname)}${filesText(c.files)}</p>`;
  return html`<article${clsAttr('card', st(c.status))} id="${nodeAnchor(f.hostname)}"><h3>${f.hostname} <span class="addr">${ip}</span>${badge(c.status)}</h3><div>${chips}</div>${roles}${links}</article>`;
}

function controllersSection(m: MergedFacts): Html {
  const arb = m.arbitrator.map((a) => {
    const x = current(a);
    return html`<article${clsAttr('card', st(a.status))} id="${nodeAnchor(x.hostname)}"><h3>${x.hostname} <span class="addr">${x.ip}</span>${badge(a.status)}</h3><ul><li><b>MariaDB</b>: Galera arbitrator (garbd): votes, holds no data</li></ul><p class="links"><a href="#${portsAnchor(x.hostname)}">ports</a></p></article>`;
  });
  return html`<section id="controllers">
    <h2>Controllers</h2>
    <div class="cards">${m.controllers.map((c) => controllerCard(m, c))}${arb}</div>
  </section>`;
}

// --- HA, compute, ports, findings, files ------------------------------------------------------------

function haSection(m: MergedFacts): Html {
  const parts = m.sections.map(
    (s) =>
      html`<div id="ha-${s.key}" ${clsAttr(st(s.status))}>
        <h3>${s.title}${badge(s.status)}</h3>
        ${s.tables.map((t) => tableHtml(t, t.key.endsWith('-settings') ? 'kv' : ''))}
      </div>`,
  );
  return html`<section id="ha">
    <h2>High availability</h2>
    <div class="ha">${parts}</div>
  </section>`;
}

const groupRow = (g: ComputeGroup): Row => ({ key: g.key, cells: [`${g.count}`, g.hostlist, g.partitions.join(', ') || '(none)', g.hardware] });

function computeSection(m: MergedFacts): Html {
  if (!m.compute.length) return html``;
  const files = m.computeFiles ? html`<p class="links">${filesText(m.computeFiles)}</p>` : html``;
  const rows = m.compute.map((g) => mapMerged(g, groupRow));
  const title = `${plural(m.now.computeNodes.length, 'compute node')} in ${plural(m.compute.length, 'group')} (same partitions and hardware: one slurm.conf NodeName line each), one shared bundle`;
  return html`<section id="compute">
    <h2>Compute nodes</h2>
    ${files}${tableHtml({ title, columns: ['nodes', 'hostlist', 'partitions', 'hardware'], rows }, 'mono-2')}
  </section>`;
}

function portsBlock(p: MergedPorts): Html {
  const x = current(p);
  const name = x.bundle && x.bundle !== 'compute' ? html`<a href="#${nodeAnchor(x.bundle)}">${x.node}</a>` : x.bundle === 'compute' ? html`<a href="#compute">${x.node}</a>` : html`${x.node}`;
  const body = p.rows.length ? tableHtml({ title: 'accept from', columns: ['protocol', 'port', 'service', 'from'], rows: p.rows }) : html`<p>nothing: no service listens for peers</p>`;
  return html`<div id="${portsAnchor(p.key)}" ${clsAttr(st(p.status))}>
    <h3>${name}${x.address ? html` <span class="addr">${x.address}</span>` : ''}${badge(p.status)}</h3>
    ${body}
  </div>`;
}

function portsSection(m: MergedFacts): Html {
  return html`<section id="ports">
    <h2>Ports the firewall must open</h2>
    <p class="sub">Per node: what it must accept, and from whom (VRRP is IP protocol 112, not a port). The same table as <code>mhc audit</code> (A601).</p>
    ${m.ports.map(portsBlock)}
  </section>`;
}

function findingRow(f: Merged<FindingFacts>, i: number): Html {
  const x = current(f);
  const node = x.node ? html`<a href="#${nodeAnchor(x.node)}">${x.node}</a>` : html`(cluster)`;
  const detail = html`<details>
    <summary>${x.message}</summary>
    <p><b>why:</b> ${x.why}</p>
    <p><b>fix:</b> ${x.fix}</p>
  </details>`;
  return html`<tr id="finding-${i}" ${clsAttr(`sev-${x.severity}`, st(f.status))}>
    <td><span class="sev">${x.severity}</span></td>
    <td>${x.code}</td>
    <td>${node}</td>
    <td><b>${x.title}</b>${detail}</td>
    <td class="mono">${x.where}</td>
  </tr>`;
}

function findingsSection(m: MergedFacts): Html {
  if (!m.findings.length)
    return html`<section id="findings">
      <h2>Audit findings</h2>
      <p>None.</p>
    </section>`;
  const head = html`<thead>
    <tr>
      <th>severity</th>
      <th>code</th>
      <th>node</th>
      <th>finding</th>
      <th>where</th>
    </tr>
  </thead>`;
  return html`<section id="findings">
    <h2>Audit findings</h2>
    <table>
      ${head}
      <tbody>
        ${m.findings.map(findingRow)}
      </tbody>
    </table>
  </section>`;
}

function hunkLines(g: TreeDiff['groups'][number]): Html {
  const lines: Html[] = [];
  let left = MAX_HUNK_LINES;
  for (const h of g.hunks) {
    if (left <= 0) break;
    lines.push(html`<span class="h">${hunkHeader(h)}</span>`);
    for (const l of h.lines.slice(0, left)) lines.push(html`<span${clsAttr(l.kind === '+' ? 'a' : l.kind === '-' ? 'r' : '')}>${l.kind}${l.text}</span>`);
    left -= h.lines.length;
  }
  const cut = left < 0 ? html`<p>… more lines: <code>mhc diff</code> shows them all</p>` : html``;
  return lines.length
    ? html`<pre class="hunk">${lines}</pre>
        ${cut}`
    : html``;
}

function fileGroup(g: TreeDiff['groups'][number]): Html {
  const meta = g.meta.map((x) => `${x.field} ${x.from} → ${x.to}`).join(', ');
  const summary = html`<code>${g.path}</code> ${g.status} on ${g.bundles.map((b) => b.label).join(', ')} (+${g.added} −${g.removed})${meta ? html` · ${meta}` : ''}`;
  return html`<details${clsAttr(`st-${g.status}`)}><summary>${summary}</summary>${hunkLines(g)}</details>`;
}

function filesSection(m: MergedFacts): Html {
  const d = m.diff;
  if (!d) return html``;
  const notes = d.notes.map((n) => html`<p class="sub">note: ${n}</p>`);
  const body = d.identical ? html`<p>The built files are identical.</p>` : html`${d.groups.map(fileGroup)}`;
  return html`<section id="files">
    <h2>Files the change moves (mhc diff)</h2>
    ${notes}${body}
  </section>`;
}

function nav(m: MergedFacts): Html {
  const links: [string, string][] = [
    ...(m.two ? ([['changes', 'changes']] as [string, string][]) : []),
    ['topology', 'topology'],
    ['services', 'services'],
    ['controllers', 'controllers'],
    ['ha', 'HA'],
    ...(m.compute.length ? ([['compute', 'compute']] as [string, string][]) : []),
    ['ports', 'ports'],
    ['findings', 'findings'],
    ...(m.diff ? ([['files', 'files']] as [string, string][]) : []),
  ];
  return html`<nav>${links.map(([id, t]) => html`<a href="#${id}">${t}</a>`)}</nav>`;
}

function page(m: MergedFacts, mhcVersion: string): Html {
  const title = `mhc report: ${m.now.cluster}`;
  const head = html`<head>
    <meta charset="utf-8" />
    <meta http-equiv="Content-Security-Policy" content="${CSP}" />
    <meta name="referrer" content="no-referrer" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${title}</title>
    <style>
      ${raw(REPORT_CSS)}
    </style>
  </head>`;
  const topo = html`<section id="topology">
    <h2>Topology</h2>
    ${m.two ? legend() : ''}${topologySvg(m)}
  </section>`;
  const services = html`<section id="services">
    <h2>Which services run where</h2>
    ${tableHtml(m.services, 'matrix')}
  </section>`;
  const main = html`<main>${changesSection(m)}${topo}${services}${controllersSection(m)}${haSection(m)}${computeSection(m)}${portsSection(m)}${findingsSection(m)}${filesSection(m)}</main>`;
  const footer = html`<footer>Generated by mhc ${mhcVersion} from the cluster's model; no script, no external resource.</footer>`;
  return html`<!doctype html>
    <html lang="en">
      ${head}
      <body>
        ${header(m)}${nav(m)}${main}${footer}
      </body>
    </html> `;
}

/** The report page. Deterministic: the same sides give the same bytes. */
export function renderReport(input: ReportInput): string {
  const now = factsOf(input.now);
  const was = input.was ? factsOf(input.was) : undefined;
  return page(mergeFacts(now, was, input.diff), input.mhcVersion).text;
}
