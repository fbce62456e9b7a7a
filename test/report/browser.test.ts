// `mhc report` pages in a real browser: Debian's headless Chromium (scripts/setup-ci.sh installs
// it; the test fails, never skips, without it), driven by puppeteer-core over a pipe. One browser
// for every page. Each page: every controller and each of its services in the DOM, every
// internal link resolving, no script, no console error or page error, no request but the page
// itself (every other one is recorded and aborted), no horizontal scrolling, and the topology's
// texts inside their boxes. Screenshots and the pages are kept in test/artifacts/report/.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES } from '../../src/compiler/model.js';
import { SERVICE_LABEL } from '../../src/review/report-facts.js';
import { MAX_DRAWN_GROUPS } from '../../src/review/report-svg.js';
import { ROOT } from '../helpers.js';
import { edit } from '../review/fixtures.js';
import { bigText, configSide, exampleText, reportOf, REPORT_EXAMPLES } from '../review/report-fixtures.js';
import type { SideInput } from '../../src/review/report-facts.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test', 'artifacts', 'report');
const WIDTH = 1400;

interface Case {
  readonly name: string;
  readonly side: SideInput;
  readonly was?: SideInput;
}

/** five_controllers with Redis moved from ctl3 to web1, the VIP owner moved to ctl2 and a node added. */
function fiveChanged(): string {
  let t = exampleText('five_controllers');
  t = edit(t, 'services: { glusterfs: true, mariadb: true, redis: true, keepalived: true }', 'services: { glusterfs: true, mariadb: true, keepalived: true }');
  t = edit(t, 'services: { slurm: true, web: true, keepalived: true }', 'services: { slurm: true, web: true, keepalived: true, redis: true }');
  t = edit(t, '      vip_owner: true\n      priority: 200', '      priority: 185');
  t = edit(t, '      priority: 190', '      vip_owner: true\n      priority: 190');
  t = edit(
    t,
    '    - { hostname: viz01',
    '    - { hostname: r01n06, ip_address: 172.16.20.6, cpus: 128, sockets: 2, cores_per_socket: 32, threads_per_core: 2, real_memory: 515000 }\n    - { hostname: viz01',
  );
  return t;
}

const cases: Case[] = [
  ...REPORT_EXAMPLES.map((name) => ({ name, side: configSide(exampleText(name), `examples/${name}.yaml`) })),
  { name: 'synthetic-5+10000', side: configSide(bigText(), 'synthetic-5+10000.yaml') },
  { name: 'five_controllers-change', side: configSide(fiveChanged(), 'five_controllers-new.yaml'), was: configSide(exampleText('five_controllers'), 'examples/five_controllers.yaml') },
];

/** What the page shows, read in the browser. */
interface Seen {
  readonly cards: { id: string; title: string; chips: string[] }[];
  readonly matrix: string[][];
  readonly svgControllers: number;
  readonly svgGroups: number;
  readonly brokenLinks: string[];
  readonly scripts: number;
  readonly scrollWidth: number;
  readonly height: number;
  readonly overflowing: string[];
}

function readPage(): Seen {
  const text = (e: Element | null) => (e?.textContent ?? '').trim();
  const cards = [...document.querySelectorAll('article.card')].map((a) => ({ id: a.id, title: text(a.querySelector('h3')), chips: [...a.querySelectorAll('.chip')].map(text) }));
  const matrix = [...document.querySelectorAll('#services tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map(text));
  const brokenLinks = [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')!).filter((h) => !h.startsWith('#') || !document.getElementById(h.slice(1)));
  // every text of a topology box inside its rectangle
  const overflowing: string[] = [];
  for (const g of document.querySelectorAll('svg.topology g.box')) {
    const r = (g.querySelector('rect') as SVGRectElement).getBBox();
    for (const t of g.querySelectorAll('text')) {
      const b = (t as SVGTextElement).getBBox();
      if (b.x < r.x || b.x + b.width > r.x + r.width + 0.5 || b.y < r.y || b.y + b.height > r.y + r.height + 0.5) overflowing.push(text(t));
    }
  }
  return {
    cards,
    matrix,
    svgControllers: document.querySelectorAll('svg.topology g.ctl').length,
    svgGroups: document.querySelectorAll('svg.topology g.cmp').length,
    brokenLinks,
    scripts: document.scripts.length,
    scrollWidth: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight,
    overflowing,
  };
}

describe('mhc report in headless Chromium', () => {
  let browser: Browser;
  let started = 0;

  beforeAll(async () => {
    started = performance.now();
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup-ci.sh (it installs Debian's chromium)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      pipe: true,
      timeout: 30_000,
      protocolTimeout: 30_000,
      // root in CI: Chromium's sandbox needs a user namespace it may not get
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-extensions'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    console.log(`browser test: ${cases.length} pages in ${((performance.now() - started) / 1000).toFixed(1)} s (launch to close)`);
  });

  it.each(cases)('$name: renders with every controller and service, no error, no request', async ({ name, side, was }) => {
    const file = join(ARTIFACTS, `${name}.html`);
    const page = reportOf(side, was);
    writeFileSync(file, page);
    const url = pathToFileURL(file).href;
    const tab = await browser.newPage();
    tab.setDefaultTimeout(15_000);
    tab.setDefaultNavigationTimeout(15_000);
    const requests: string[] = [];
    const errors: string[] = [];
    tab.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    tab.on('pageerror', (e) => errors.push(`page error: ${e instanceof Error ? e.message : String(e)}`));
    await tab.setRequestInterception(true);
    tab.on('request', (r) => {
      requests.push(r.url());
      void (r.url() === url ? r.continue() : r.abort());
    });
    await tab.setViewport({ width: WIDTH, height: 900 });
    await tab.goto(url, { waitUntil: 'load' });
    const seen = await tab.evaluate(readPage);
    await tab.screenshot({ path: join(ARTIFACTS, `${name}.png`) as `${string}.png`, fullPage: true });
    await tab.close();
    console.log(`${name}: ${Buffer.byteLength(page)} bytes, ${seen.height} px high`);

    expect(requests).toEqual([url]);
    expect(errors).toEqual([]);
    expect(seen.scripts).toBe(0);
    expect(seen.brokenLinks).toEqual([]);
    expect(seen.scrollWidth).toBeLessThanOrEqual(WIDTH);
    expect(seen.overflowing).toEqual([]);
    const m = side.model;
    expect(seen.svgControllers).toBe(m.controllers.length + (was ? was.model.controllers.filter((c) => !m.controllers.some((x) => x.hostname === c.hostname)).length : 0));
    expect(seen.svgGroups).toBeLessThanOrEqual(MAX_DRAWN_GROUPS + 1);
    for (const c of m.controllers) {
      const card = seen.cards.find((k) => k.title.startsWith(`${c.hostname} `));
      expect(card, c.hostname).toBeDefined();
      for (const s of c.services) expect(card!.chips).toContain(SERVICE_LABEL[s]);
      const row = seen.matrix.find((r) => r[0] === c.hostname)!;
      SERVICES.forEach((s, i) => expect(row[i + 1], `${c.hostname} ${s}`).toBe(c.services.includes(s) ? '●' : was ? row[i + 1] : ''));
    }
  });
});
