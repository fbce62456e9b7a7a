// The topology picture of `mhc report`: one inline SVG. The VIP on top with a line to every
// keepalived node (failover order on the line), the controllers in rows with their services and
// roles, a Galera arbitrator beside them, and the compute groups below (a box per group, never
// per node). Layout is computed here; the markup is `markup` (every text escaped). Pure.
import { SLURMD_PORT } from '../emitters/slurm.js';
import { SERVICE_LABEL } from './report-facts.js';
import { current, nodeAnchor, type Merged, type MergedController, type MergedFacts, type Status } from './report-merge.js';
import { markup, join, type Html } from './html.js';

const W = 1200;
const MARGIN = 16;
const GAP = 16;
const PER_ROW = 6;
const CHAR = 7.4; // px per character of the 13px font, for clipping text to a box
const LINE = 17;
const COMPUTE_PER_ROW = 4;
/** Compute groups drawn; the table lists them all. */
export const MAX_DRAWN_GROUPS = 16;

interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

const cls = (s: Status) => (s === 'same' ? '' : ` st-${s}`);
const clip = (s: string, w: number) => {
  const n = Math.max(4, Math.floor((w - 16) / CHAR));
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
};
const text = (x: number, y: number, s: string, w: number, c: string) => markup`<text x="${x}" y="${y}" class="${c}">${clip(s, w)}</text>`;
const rect = (b: Box, rx = 8) => markup`<rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="${rx}"/>`;
/** Two text lines at the top of a box: its name and its address (or a second fact). */
const heading = (b: Box, name: string, sub: string) => markup`${text(b.x + 10, b.y + 22, name, b.w, 'name')}${text(b.x + 10, b.y + 39, sub, b.w, 'addr')}`;

/** Boxes of `n` items of width ≤ maxW, `perRow` to a row, rows centred, starting at y. */
function grid(n: number, perRow: number, maxW: number, y: number, h: number): { boxes: Box[]; bottom: number } {
  const boxes: Box[] = [];
  const cols = Math.min(perRow, n);
  const w = Math.min(maxW, (W - 2 * MARGIN - (cols - 1) * GAP) / cols);
  let top = y;
  for (let r = 0; r * perRow < n; r++) {
    const k = Math.min(perRow, n - r * perRow);
    const x0 = (W - (k * w + (k - 1) * GAP)) / 2;
    for (let i = 0; i < k; i++) boxes.push({ x: x0 + i * (w + GAP), y: top, w, h });
    top += h + GAP;
  }
  return { boxes, bottom: top - GAP };
}

function controllerBox(c: MergedController, b: Box): Html {
  const f = current(c);
  const lines = c.services.map((s, i) => {
    const x = current(s);
    return text(b.x + 10, b.y + 58 + i * LINE, `● ${SERVICE_LABEL[x.key]}${x.tag ? ` ${x.tag}` : ''}`, b.w, `svc svc-${x.key}${cls(s.status)}`);
  });
  return markup`<a href="#${nodeAnchor(f.hostname)}"><g class="box ctl${cls(c.status)}"><title>${f.hostname} ${f.ip}</title>${rect(b)}${heading(b, f.hostname, f.ip)}${lines}</g></a>`;
}

function arbitratorBox(a: Merged<NonNullable<MergedFacts['now']['arbitrator']>>, b: Box): Html {
  const x = current(a);
  const r = { ...b, h: Math.min(b.h, 76) };
  return markup`<a href="#${nodeAnchor(x.hostname)}"><g class="box arb${cls(a.status)}"><title>${x.hostname} ${x.ip}: Galera arbitrator (garbd)</title>${rect(r)}${heading(r, x.hostname, x.ip)}${text(r.x + 10, r.y + 58, '● garbd (Galera arbitrator)', r.w, 'svc')}</g></a>`;
}

/** A label above a box, on the side its VIP line does not cross (the line comes from the centre). */
function label(b: Box, s: string, c: string, above: number): Html {
  const left = b.x + b.w / 2 < W / 2;
  return markup`<text class="${c}" x="${left ? b.x + 4 : b.x + b.w - 4}" y="${b.y - above}" text-anchor="${left ? 'start' : 'end'}">${s}</text>`;
}

const vipLine = (vb: Box, b: Box, c: string) => markup`<line class="${c}" x1="${W / 2}" y1="${vb.y + vb.h}" x2="${b.x + b.w / 2}" y2="${b.y}"/>`;

/** How the VIP itself changed: a new owner is a move; another place in the order a change. */
function vipStatus(m: MergedFacts): Status {
  const was = m.was?.vip;
  if (!m.two) return 'same';
  if (!was) return 'added';
  if (!m.now.vip) return 'removed';
  return JSON.stringify(was) === JSON.stringify(m.now.vip) ? 'same' : 'changed';
}

/** The VIP box and a line to each keepalived node; the old owner's line dashed when the owner moved. */
function vipPart(m: MergedFacts, at: Map<string, Box>): Html {
  const v = m.now.vip ?? m.was?.vip;
  if (!v) return markup``;
  const vb: Box = { x: W / 2 - 220, y: MARGIN, w: 440, h: 46 };
  const oldOrder = m.was?.vip?.order ?? [];
  const lines = v.order.map((h, i) => {
    const b = at.get(h);
    if (!b) return markup``;
    const c = !m.two ? '' : !oldOrder.length ? ' st-added' : i === 0 && oldOrder[0] !== h ? ' st-moved' : oldOrder.indexOf(h) !== i ? ' st-changed' : '';
    return markup`${vipLine(vb, b, `vipline${i === 0 ? ' owner' : ''}${c}`)}${label(b, `#${i + 1}${i === 0 ? ' owner' : ''}`, `order${c}`, 6)}`;
  });
  const old = m.two && oldOrder[0] !== v.order[0] ? at.get(oldOrder[0] ?? '') : undefined;
  const ghost = old ? markup`${vipLine(vb, old, 'vipline st-removed')}${label(old, 'was owner', 'order st-removed', 20)}` : markup``;
  const box = markup`<a href="#ha-vip"><g class="box vip${cls(vipStatus(m))}">${rect(vb, 23)}<text class="name" x="${W / 2}" y="${vb.y + 29}" text-anchor="middle">VIP ${v.address}</text></g></a>`;
  return markup`${lines}${ghost}${box}`;
}

function groupBox(g: MergedFacts['compute'][number], b: Box, bus: number): Html {
  const x = current(g);
  const head = `${x.count} node${x.count === 1 ? '' : 's'}${x.partitions.length ? ` · ${x.partitions.join(', ')}` : ''}`;
  const drop = markup`<line class="bus" x1="${b.x + b.w / 2}" y1="${bus}" x2="${b.x + b.w / 2}" y2="${b.y}"/>`;
  return markup`<a href="#compute"><g class="box cmp${cls(g.status)}"><title>${x.hostlist}</title>${drop}${rect(b)}${heading(b, head, x.hardware)}${text(b.x + 10, b.y + 59, x.hostlist, b.w, 'hosts')}</g></a>`;
}

const moreBox = (b: Box, n: number) => markup`<a href="#compute"><g class="box cmp more">${rect(b)}${text(b.x + 10, b.y + 40, `+ ${n} more groups: see the table`, b.w, 'name')}</g></a>`;

/** The compute groups below the controllers, hanging from one bus line. */
function computePart(m: MergedFacts, y: number, ctlBottom: number): { svg: Html; bottom: number } {
  const groups = m.compute;
  if (!groups.length) return { svg: markup``, bottom: ctlBottom };
  const drawn = groups.slice(0, MAX_DRAWN_GROUPS);
  const more = groups.length - drawn.length;
  const { boxes, bottom } = grid(drawn.length + (more ? 1 : 0), COMPUTE_PER_ROW, 290, y + 30, 76);
  const bus = y + 12;
  const total = m.now.computeNodes.length;
  const caption = `${total} compute node${total === 1 ? '' : 's'} in ${groups.length} group${groups.length === 1 ? '' : 's'} (slurmd, tcp ${SLURMD_PORT})`;
  const lines = markup`<line class="bus" x1="${W / 2}" y1="${ctlBottom}" x2="${W / 2}" y2="${bus}"/><line class="bus" x1="${MARGIN}" y1="${bus}" x2="${W - MARGIN}" y2="${bus}"/><text class="buslabel" x="${MARGIN}" y="${bus - 6}">${caption}</text>`;
  const cards = drawn.map((g, i) => groupBox(g, boxes[i]!, bus));
  return { svg: markup`${lines}${cards}${more ? moreBox(boxes[drawn.length]!, more) : ''}`, bottom };
}

export function topologySvg(m: MergedFacts): Html {
  const items = m.controllers.length + m.arbitrator.length;
  const lines = Math.max(1, ...m.controllers.map((c) => c.services.length));
  const top = m.now.vip || m.was?.vip ? MARGIN + 46 + 56 : MARGIN + 8;
  const { boxes, bottom } = grid(items, PER_ROW, 250, top, 50 + lines * LINE);
  const at = new Map(m.controllers.map((c, i) => [c.key, boxes[i]!]));
  const ctl = m.controllers.map((c, i) => controllerBox(c, boxes[i]!));
  const arb = m.arbitrator.map((a, i) => arbitratorBox(a, boxes[m.controllers.length + i]!));
  const compute = computePart(m, bottom + 24, bottom);
  const desc = `${m.now.cluster}: ${m.controllers.length} controllers, ${m.now.computeNodes.length} compute nodes`;
  return markup`<svg class="topology" viewBox="0 0 ${W} ${Math.ceil(compute.bottom + MARGIN)}" role="img" aria-label="${desc}">${vipPart(m, at)}${join([...ctl, ...arb])}${compute.svg}</svg>`;
}
