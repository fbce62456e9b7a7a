// keepalived emitter, in memory: per example and node, the VRRP instance (state/nopreempt,
// priority, unicast peers), identical vrid/advert/VIP across nodes, files only where keepalived
// runs, auth_pass by placeholder (or embedded in the `keepalived` encoding) and the refusals.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AWKWARD, buildText, compileText, EXAMPLES } from '../helpers.js';
import { runs, type Model } from '../../src/compiler/model.js';
import type { BundleFile } from '../../src/compiler/bundle.js';
import { encode, fill, keepalivedAuthProblem, keepalivedConfValue, placeholder, refusal } from '../../src/compiler/secrets.js';
import { SECRET_SLOTS } from '../../src/compiler/normalize.js';
import { instanceName, NOTIFY_SCRIPT } from '../../src/emitters/keepalived.js';
import { CHECK_SCRIPT } from '../../src/emitters/paths.js';

const EXAMPLE_FILES = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const CONF = 'files/etc/keepalived/keepalived.conf';
const NOTIFY = `files${NOTIFY_SCRIPT}`;
const PH = placeholder('KEEPALIVED_AUTH_PASS', 'keepalived');

interface Parsed {
  state: string;
  nopreempt: boolean;
  iface: string;
  vrid: string;
  priority: number;
  advert: string;
  src?: string;
  peers: string[];
  authType: string;
  authPass: string;
  vips: string[];
  track: string[];
  notify: string;
  instance: string;
  routerId: string;
  globalDefs: string[];
  script: Record<string, string>;
}

/** Reads the parts of keepalived.conf the tests look at (comments dropped, blocks by name). */
function parse(text: string): Parsed {
  const lines = text
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const block = (open: RegExp): string[] => {
    const i = lines.findIndex((l) => open.test(l));
    if (i < 0) return [];
    let depth = 0;
    const out: string[] = [];
    for (let j = i; j < lines.length; j++) {
      const l = lines[j]!;
      if (l.endsWith('{')) depth++;
      if (l === '}') depth--;
      if (j > i && depth >= 1) out.push(l);
      if (depth === 0) break;
    }
    return out;
  };
  const inst = block(/^vrrp_instance /);
  const inner = (name: string): string[] => {
    const i = inst.findIndex((l) => l === `${name} {`);
    if (i < 0) return [];
    const end = inst.indexOf('}', i);
    return inst.slice(i + 1, end);
  };
  const top = (k: string): string | undefined => inst.find((l) => l.startsWith(`${k} `) || l === k)?.slice(k.length + 1);
  const auth = inner('authentication');
  const script = Object.fromEntries(
    block(/^vrrp_script /)
      .filter((l) => l !== '}')
      .map((l) => [l.split(' ')[0]!, l.split(' ').slice(1).join(' ')]),
  );
  return {
    instance: lines.find((l) => l.startsWith('vrrp_instance '))!.split(' ')[1]!,
    state: top('state')!,
    nopreempt: inst.includes('nopreempt'),
    iface: top('interface')!,
    vrid: top('virtual_router_id')!,
    priority: Number(top('priority')),
    advert: top('advert_int')!,
    ...(top('unicast_src_ip') ? { src: top('unicast_src_ip')! } : {}),
    peers: inner('unicast_peer'),
    authType: auth.find((l) => l.startsWith('auth_type '))!.slice(10),
    authPass: auth.find((l) => l.startsWith('auth_pass '))!.slice(10),
    vips: inner('virtual_ipaddress'),
    track: inner('track_script'),
    notify: top('notify')!,
    routerId: block(/^global_defs /)
      .find((l) => l.startsWith('router_id '))!
      .slice(10),
    globalDefs: block(/^global_defs /),
    script,
  };
}

const confOf = (files: Map<string, BundleFile>, host: string): BundleFile | undefined => files.get(`${host}/${CONF}`);

/** Secret values to embed: AWKWARD's (a plain one for names it lacks), `auth` for keepalived's. */
function embedFor(model: Model, auth: string): Record<string, string> {
  return Object.fromEntries(model.secrets.map((s) => [s.name, s.name === model.network.vip?.authPass.name ? auth : ((AWKWARD as Record<string, string>)[s.name] ?? 'Plain-value-1')]));
}

function kaNodes(model: Model) {
  return model.controllers.filter((c) => runs(c, 'keepalived'));
}

describe.each(EXAMPLE_FILES)('keepalived for %s', (example) => {
  const text = readFileSync(join(EXAMPLES, example), 'utf8');
  const model = compileText(text).model;
  const files = buildText(text);
  const vip = model.network.vip!;
  const nodes = kaNodes(model);

  it('has keepalived nodes and a VIP (every example uses them)', () => {
    expect(vip).toBeDefined();
    expect(nodes.length).toBeGreaterThanOrEqual(2);
  });

  it('emits keepalived.conf and the notify script exactly on the nodes that run keepalived', () => {
    for (const c of model.controllers) {
      const has = runs(c, 'keepalived');
      expect(files.has(`${c.hostname}/${CONF}`), c.hostname).toBe(has);
      expect(files.has(`${c.hostname}/${NOTIFY}`), c.hostname).toBe(has);
    }
    expect([...files.keys()].filter((p) => p.startsWith('compute/') && /keepalived/.test(p))).toEqual([]);
  });

  it('writes the files root-owned with safe modes, the header first, the secret as a placeholder', () => {
    for (const c of nodes) {
      const conf = confOf(files, c.hostname)!;
      expect(conf.content.split('\n')[0]).toBe('# Generated by mhc from the cluster YAML; do not edit by hand.');
      expect([conf.owner, conf.group, conf.mode]).toEqual(['root', 'root', 0o600]);
      expect(conf.secrets).toEqual([vip.authPass.name]);
      expect(parse(conf.content).authPass).toBe(placeholder(vip.authPass.name, 'keepalived'));
      const notify = files.get(`${c.hostname}/${NOTIFY}`)!;
      expect([notify.owner, notify.group, notify.mode]).toEqual(['root', 'root', 0o755]);
      expect(notify.content.startsWith('#!/usr/bin/env bash\n# Generated by mhc from the cluster YAML; do not edit by hand.\n')).toBe(true);
      expect(notify.content).toContain('set -Eeuo pipefail');
      const manifest = JSON.parse(files.get(`${c.hostname}/manifest.json`)!.content) as { files: { path: string; mode: string; secrets: string[] }[] };
      expect(manifest.files.find((f) => f.path === CONF)).toMatchObject({
        mode: '0600',
        secrets: [vip.authPass.name],
      });
      expect(manifest.files.find((f) => f.path === NOTIFY)).toMatchObject({
        mode: '0755',
        secrets: [],
      });
    }
  });

  it('gives every node its own priority, address, interface and peers (all the others, never itself)', () => {
    const allIps = model.keepalived.nodes.map((m) => m.ip).sort();
    for (const c of nodes) {
      const p = parse(confOf(files, c.hostname)!.content);
      expect(p.routerId).toBe(c.hostname);
      expect(p.priority).toBe(c.priority);
      expect(p.iface).toBe(c.interface);
      expect(p.src).toBe(c.ip);
      expect(p.peers).not.toContain(c.ip);
      expect([...p.peers, c.ip].sort()).toEqual(allIps);
      expect(p.vips).toEqual([`${vip.address}/${vip.prefix} dev ${c.interface}`]);
    }
    const prios = nodes.map((c) => c.priority);
    expect(new Set(prios).size).toBe(prios.length);
    for (const p of prios) {
      expect(p).toBeGreaterThanOrEqual(1);
      expect(p).toBeLessThanOrEqual(254);
    }
  });

  it('uses the same instance, virtual_router_id, advert_int, VIP, auth and checks on every node', () => {
    const shared = nodes.map((c) => {
      const p = parse(confOf(files, c.hostname)!.content);
      return {
        instance: p.instance,
        vrid: p.vrid,
        advert: p.advert,
        vip: p.vips[0]!.split(' ')[0],
        auth: [p.authType, p.authPass],
        track: p.track,
        script: p.script,
        notify: p.notify,
      };
    });
    for (const s of shared) expect(s).toEqual(shared[0]);
    expect(shared[0]).toMatchObject({
      instance: instanceName(model),
      vrid: String(vip.virtualRouterId),
      advert: String(vip.advertInt),
      vip: `${vip.address}/${vip.prefix}`,
      auth: ['PASS', PH.replace('KEEPALIVED_AUTH_PASS', vip.authPass.name)],
      track: ['chk_services'],
      notify: NOTIFY_SCRIPT,
    });
    expect(shared[0]!.script).toMatchObject({
      script: `"${CHECK_SCRIPT}"`,
      weight: '0',
      init_fail: '',
    });
    expect(Number(shared[0]!.script.timeout)).toBeLessThanOrEqual(Number(shared[0]!.script.interval));
    expect(Number(shared[0]!.script.timeout)).toBeGreaterThanOrEqual(3);
    expect(Number(shared[0]!.script.interval) * Number(shared[0]!.script.fall)).toBeLessThanOrEqual(10);
  });

  it('starts the VIP owner MASTER and the others BACKUP with preemption, every node BACKUP + nopreempt without', () => {
    const states = nodes.map((c) => ({
      c,
      p: parse(confOf(files, c.hostname)!.content),
    }));
    if (vip.preempt) {
      expect(states.filter((s) => s.p.state === 'MASTER').map((s) => s.c.hostname)).toEqual([model.vipOwner]);
      for (const { c, p } of states) {
        expect(p.state).toBe(c.vipOwner ? 'MASTER' : 'BACKUP');
        expect(p.nopreempt).toBe(false);
      }
      // the owner has the highest priority, so the VIP returns to it
      const owner = nodes.find((c) => c.vipOwner)!;
      expect(Math.max(...nodes.map((c) => c.priority!))).toBe(owner.priority);
    } else {
      for (const { p } of states) expect([p.state, p.nopreempt]).toEqual(['BACKUP', true]);
    }
  });

  it('keeps global_defs safe for root scripts', () => {
    for (const c of nodes) {
      const g = parse(confOf(files, c.hostname)!.content).globalDefs;
      expect(g).toContain('enable_script_security');
      expect(g).toContain('script_user root');
    }
  });

  it('embeds the auth secret in the keepalived encoding when asked', () => {
    const built = buildText(text, { embed: embedFor(model, `&' $#!\\/`) });
    for (const c of nodes) {
      const conf = confOf(built, c.hostname)!;
      expect(conf.content).not.toContain('@@MHC_SECRET');
      expect(conf.content).toContain(`        auth_pass "&' $#!\\/"\n`);
      expect(conf.mode).toBe(0o600);
    }
  });
});

describe('keepalived variants', () => {
  const main = readFileSync(join(EXAMPLES, 'my_multihead_cluster.yaml'), 'utf8');
  const two = readFileSync(join(EXAMPLES, 'two_controllers.yaml'), 'utf8');

  it('preempt: false makes every node BACKUP with nopreempt', () => {
    const text = main.replace('    virtual_router_id: 87\n', '    virtual_router_id: 87\n    preempt: false\n');
    expect(text).not.toBe(main);
    const files = buildText(text);
    for (const h of ['server1', 'server2', 'server3']) {
      const p = parse(confOf(files, h)!.content);
      expect([p.state, p.nopreempt], h).toEqual(['BACKUP', true]);
    }
    // and the default is preemption, the owner MASTER
    const dflt = buildText(main);
    expect(['server1', 'server2', 'server3'].map((h) => parse(confOf(dflt, h)!.content).state)).toEqual(['MASTER', 'BACKUP', 'BACKUP']);
  });

  it('a lone keepalived node has no unicast peers block (keepalived refuses unicast without peers)', () => {
    const text = two.replace('    priority: 100\n', '    priority: 100\n    services: { glusterfs: true, mariadb: true, redis: true, slurm: true, web: true }\n');
    expect(text).not.toBe(two);
    const files = buildText(text);
    expect(confOf(files, 'head2')).toBeUndefined();
    expect(files.has(`head2/${NOTIFY}`)).toBe(false);
    const conf = confOf(files, 'head1')!.content;
    expect(conf).not.toMatch(/unicast_peer|unicast_src_ip|check_unicast_src/);
    expect(parse(conf).state).toBe('MASTER');
  });

  it('no keepalived files when no controller runs keepalived', () => {
    const off = '    services: { glusterfs: true, mariadb: true, redis: true, slurm: true, web: true }\n';
    const text = two.replace('    priority: 150\n', `    priority: 150\n${off}`).replace('    priority: 100\n', `    priority: 100\n${off}`);
    const files = buildText(text);
    expect([...files.keys()].filter((p) => /keepalived/.test(p))).toEqual([]);
  });

  it('derives the instance name from the cluster name in a safe charset', () => {
    const m = (name: string) => instanceName({ cluster: { name } } as unknown as Model);
    expect(m('hpc-prod')).toBe('VI_hpc_prod');
    expect(m('my.cluster_1')).toBe('VI_my_cluster_1');
    expect(m('lab-pair')).toMatch(/^VI_[A-Za-z0-9_]+$/);
  });

  it('refuses an auth secret keepalived cannot hold when embedding (E318, consumer named)', () => {
    const model = compileText(main).model;
    const base = embedFor(model, '12345678');
    const refused: [string, RegExp][] = [
      ['123456789', /at most 8/],
      ['a"b', /double quote/],
      ['ab\\', /ending in a backslash/],
      ['${_PWD}', /predefined parameters/],
      ['$_PWD', /predefined parameters/],
      ['éééé€', /bytes long in UTF-8; keepalived auth_pass takes at most 8 bytes/],
    ];
    for (const [v, why] of refused) {
      expect(() => buildText(main, { embed: { ...base, KEEPALIVED_AUTH_PASS: v } }), v).toThrow(/error\[E318\]: secret KEEPALIVED_AUTH_PASS cannot be used/);
      expect(() => buildText(main, { embed: { ...base, KEEPALIVED_AUTH_PASS: v } }), v).toThrow(why);
      expect(() => buildText(main, { embed: { ...base, KEEPALIVED_AUTH_PASS: v } }), v).toThrow(/keepalived\.conf/);
    }
    expect(() => buildText(main, { embed: { ...base, KEEPALIVED_AUTH_PASS: '12345678' } })).not.toThrow();
  });
});

describe('keepalived auth_pass encoding', () => {
  const spec = { ...SECRET_SLOTS.keepalived, fromYaml: false };

  it('accepts what keepalived reads back exactly, written in double quotes', () => {
    for (const v of [`&' $#!\\/`, 'a}{b c!#', ' ${x} \\\\', "é!#'é", '$', '$$', '${', '$HOME', 'a\\b', '@~SEQ', ' lead', 'trail ']) {
      expect(keepalivedAuthProblem(v), v).toBeUndefined();
      expect(refusal(spec, v), v).toBeUndefined();
      expect(encode(v, 'keepalived')).toBe(`"${v}"`);
      expect(fill(`auth_pass ${placeholder('K', 'keepalived')}`, new Map([['K', v]]))).toBe(`auth_pass "${v}"`);
    }
  });

  it('refuses double quotes, an odd run of trailing backslashes, $_ / ${_ and more than 8 bytes', () => {
    for (const v of ['"', 'a"', '"a"', '\\', 'a\\', 'a\\\\\\', '$_', '${_X}', 'a$_PWD', 'ééééé']) {
      expect(keepalivedAuthProblem(v), v).toBeDefined();
      expect(refusal(spec, v), v).toBeDefined();
      expect(keepalivedConfValue(v), v).toBeUndefined();
      expect(() => encode(v, 'keepalived'), v).toThrow();
    }
    expect(keepalivedAuthProblem('a\\\\')).toBeUndefined();
    expect(refusal(spec, 'a\nb')).toMatch(/control character/);
    expect(keepalivedConfValue('a\tb')).toBeUndefined();
  });

  it('keeps the refusal when the same secret also serves another consumer', () => {
    const text = readFileSync(join(EXAMPLES, 'my_multihead_cluster.yaml'), 'utf8').replace('    virtual_router_id: 87\n', '    virtual_router_id: 87\n    auth_pass: ${REDIS_PASSWORD}\n');
    const model = compileText(text).model;
    const s = model.secrets.find((x) => x.name === 'REDIS_PASSWORD')!;
    expect(s.keepalivedAuth).toBe(true);
    expect(s.maxLength).toBe(8);
    expect(refusal(s, 'a"b')).toMatch(/double quote/);
  });
});
