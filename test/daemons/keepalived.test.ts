// keepalived judges the generated keepalived.conf. For every example and every keepalived node,
// with the auth secret embedded at an awkward value keepalived can hold (other secrets at the
// AWKWARD values): in a fresh network namespace with a link named like the node's interface
// (carrying the node's address), and a private mount namespace whose /etc/keepalived and
// /usr/local/sbin are root-owned 0755 tmpfs holding the bundle's files at their real paths
// (check_all_services.sh stubbed only while the bundle lacks it), `keepalived -t` must pass
// without a warning, and keepalived started with its configuration dump (-d) must read back the
// exact auth_pass, the VRRP settings of the model, and accept both scripts under
// enable_script_security. Negative controls prove the harness can fail: a world-writable
// script directory, and an unquoted password that keepalived's comment rule truncates.
// The notify script is shellchecked and run (MHC_ROOT, stub logger on PATH), and a real
// keepalived runs it on a state change. Nothing here touches the root network namespace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { AWKWARD, buildText, compileText, EXAMPLES, withTarget } from '../helpers.js';
import { daemonRoot, forTarget, requireTool, ROOT_BUILD_MS, run, scratch } from './tools.js';
import { TARGET_OSES, type TargetOs } from '../../src/compiler/targets.js';
import { keepalivedAuthProblem } from '../../src/compiler/secrets.js';
import { runs, type Controller, type Model } from '../../src/compiler/model.js';
import type { BundleFile } from '../../src/compiler/bundle.js';
import { instanceName, NOTIFY_SCRIPT, STATE_FILE } from '../../src/emitters/keepalived.js';
import { CHECK_SCRIPT } from '../../src/emitters/paths.js';

const EXAMPLE_FILES = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const CONF = 'files/etc/keepalived/keepalived.conf';

/** auth_pass values keepalived holds exactly (≤ 8 bytes): quotes, comment starts, braces, `$`, backslashes, spaces, UTF-8. */
const VALUES = [AWKWARD.KEEPALIVED_AUTH_PASS, `a}{b c!#`, ` \${x} \\\\`, `é!#'é`, `'#!{ $~@`];

/** Lines keepalived logs when it ignores or distrusts part of a configuration. */
const BAD = /warn|unknown|unsafe|insecure|disabl|cannot|error|not found|truncat|unmatched|unterminated|invalid|missing|ignor|fail/i;

function embedFor(model: Model, auth: string): Record<string, string> {
  return Object.fromEntries(model.secrets.map((s) => [s.name, s.name === model.network.vip!.authPass.name ? auth : ((AWKWARD as Record<string, string>)[s.name] ?? `x'"\\&$ #/y`)]));
}

// Runs inside `ip netns exec NS unshare --mount --propagation private`: the bundle's files at
// their real paths, then `keepalived -t`, then keepalived with its configuration dump, stopped
// as soon as the dump is complete (or, with WAIT_STATE=1, once the notify script wrote a state).
const HARNESS = `# ka.sh NODE_DIR SBIN_MODE   env: WAIT_STATE (0|1), STUB_CHECK (0|1)
set -Euo pipefail
src=$1 sbin_mode=$2
# the package's own files stay (Debian 13's keepalived 2.3 refuses to run without its
# /etc/keepalived/keepalived.config-opts: "Unable to read build config options file")
pkg=$(mktemp -d "$src/pkg-etc.XXXXXX") && cp -a /etc/keepalived/. "$pkg/"
mount -t tmpfs -o mode=0755 tmpfs /etc/keepalived
cp -a "$pkg/." /etc/keepalived/
mount -t tmpfs -o "mode=$sbin_mode" tmpfs /usr/local/sbin
mount -t tmpfs -o mode=0755 tmpfs /run
for f in "$src"/files/usr/local/sbin/*; do install -o root -g root -m 0755 "$f" /usr/local/sbin/; done
if [[ $STUB_CHECK == 1 || ! -e ${CHECK_SCRIPT} ]]; then
  echo "@@STUB ${CHECK_SCRIPT}"
  printf '#!/bin/sh\\nexit 0\\n' >${CHECK_SCRIPT}
  chown root:root ${CHECK_SCRIPT}; chmod 0755 ${CHECK_SCRIPT}
fi
install -o root -g root -m 0600 "$src/${CONF}" /etc/keepalived/keepalived.conf
echo "@@TEST"
timeout 20 keepalived -t -l -f /etc/keepalived/keepalived.conf 2>&1
echo "@@TEST_RC $?"
log=/run/ka.log
timeout 30 keepalived -n -l -d -P -G -f /etc/keepalived/keepalived.conf -p /run/ka.pid -r /run/ka-vrrp.pid >"$log" 2>&1 &
pid=$!
done_() {
  if [[ $WAIT_STATE == 1 ]]; then grep -qE '^STATE=(MASTER|BACKUP)$' /run/mhc/keepalived.state 2>/dev/null
  else grep -q 'Password = ' "$log" && grep -q 'Virtual IP (' "$log" && grep -q '< Interfaces >' "$log"; fi
}
# the parent and the VRRP child dump separately: once every part has begun, let them finish
for _ in $(seq 200); do done_ && break; sleep 0.1; done
sleep 0.3
cp /run/mhc/keepalived.state /run/state.running 2>/dev/null
kill -TERM "$pid" 2>/dev/null
wait "$pid"
echo "@@DUMP"
cat "$log"
echo "@@STATE"
cat /run/state.running 2>/dev/null
echo "@@STOPPED"
cat /run/mhc/keepalived.state 2>/dev/null
echo "@@END"
`;

interface Result {
  stub: boolean;
  testRc: number;
  test: string[];
  /** keepalived's log lines without the timestamp */
  dump: string[];
  /** the notify script's state file while keepalived ran, and after it stopped */
  state: string;
  stopped: string;
  raw: string;
}

let work = '';
let harness = '';

/** Writes a node's bundle files, builds a namespace with its interface and address, runs the harness. */
function check(
  files: Map<string, BundleFile>,
  model: Model,
  node: Controller,
  opts: {
    sbinMode?: string;
    waitState?: boolean;
    stubCheck?: boolean;
    edit?: (conf: string) => string;
    /** whose keepalived judges (default: this machine's, debian12) */
    os?: TargetOs;
  } = {},
): Result {
  const dir = join(work, `${node.hostname}-${randomBytes(3).toString('hex')}`);
  for (const [p, f] of files) {
    if (!p.startsWith(`${node.hostname}/files/`)) continue;
    const dest = join(dir, p.slice(node.hostname.length + 1));
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, p.endsWith(CONF) && opts.edit ? opts.edit(f.content) : f.content);
    chmodSync(dest, f.mode);
  }
  const ns = `mhc-t-${randomBytes(4).toString('hex')}`;
  const ip = (...a: string[]) => {
    const r = run('ip', a, { timeoutMs: 10000 });
    if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
  };
  try {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    // a dummy link where the kernel has the module, else one end of a veth pair (both ends up)
    if (run('ip', ['-n', ns, 'link', 'add', node.interface, 'type', 'dummy']).status !== 0) {
      ip('-n', ns, 'link', 'add', node.interface, 'type', 'veth', 'peer', 'name', 'mhcpeer0');
      ip('-n', ns, 'link', 'set', 'mhcpeer0', 'up');
    }
    ip('-n', ns, 'link', 'set', node.interface, 'up');
    ip('-n', ns, 'addr', 'add', `${node.ip}/${model.network.vip!.prefix}`, 'dev', node.interface);
    const r = spawnSync('ip', ['netns', 'exec', ns, 'unshare', '--mount', '--propagation', 'private', ...forTarget(opts.os ?? 'debian12', ['bash', harness, dir, opts.sbinMode ?? '0755'], [work])], {
      encoding: 'utf8',
      timeout: 60000,
      env: {
        ...process.env,
        WAIT_STATE: opts.waitState ? '1' : '0',
        STUB_CHECK: opts.stubCheck ? '1' : '0',
      },
    });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    const section = (a: string, b: string) => {
      const s = out.indexOf(`@@${a}\n`);
      const e = out.indexOf(`@@${b}`, s);
      return s < 0 || e < 0 ? '' : out.slice(s + a.length + 3, e);
    };
    const rc = /@@TEST_RC (\d+)/.exec(out);
    return {
      stub: out.includes('@@STUB'),
      testRc: rc ? Number(rc[1]) : -1,
      test: section('TEST', 'TEST_RC').split('\n').filter(Boolean),
      dump: section('DUMP', 'STATE')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.replace(/^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}: /, '')),
      state: section('STATE', 'STOPPED'),
      stopped: section('STOPPED', 'END'),
      raw: out,
    };
  } finally {
    run('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The health check's verdict on this bare namespace (its services are absent): a result, not a config problem. */
const CHECK_RESULT = /^VRRP_Script\(chk_services\) (failed|succeeded)|^Script `chk_services` now returning \d+$/;

/** keepalived's own messages (the dump's indented lines and headers are data, not messages). */
const messages = (r: Result): string[] => [...r.test, ...r.dump.filter((l) => !l.startsWith(' ') && !l.startsWith('------<') && !CHECK_RESULT.test(l))];
const dumpValue = (r: Result, key: string): string[] => r.dump.filter((l) => l.trimStart().startsWith(`${key} = `)).map((l) => l.slice(l.indexOf(`${key} = `) + key.length + 3));

/**
 * The indented lines after `header` in the dump, up to the next line with less indentation.
 * A message keepalived logs meanwhile (a VRRP transition: not indented, not a `------<` header)
 * may land between dump lines on a busy machine; it is skipped, not taken as the list's end.
 */
function dumpList(r: Result, header: string): string[] {
  const i = r.dump.findIndex((l) => l.trim() === header);
  if (i < 0) return [];
  const indent = r.dump[i]!.length - r.dump[i]!.trimStart().length;
  const out: string[] = [];
  for (const l of r.dump.slice(i + 1)) {
    if (indent > 0 && !/^\s/.test(l) && !l.startsWith('------<')) continue;
    if (l.length - l.trimStart().length <= indent) break;
    out.push(l.trim());
  }
  return out;
}

const judged = Object.fromEntries(TARGET_OSES.map((os) => [os, 0])) as Record<TargetOs, number>;

beforeAll(() => {
  for (const t of ['keepalived', 'ip', 'unshare', 'install', 'timeout', 'shellcheck', 'bash']) requireTool(t);
  work = scratch('keepalived');
  harness = join(work, 'ka.sh');
  writeFileSync(harness, HARNESS);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  // the closing note counts the files keepalived judged
  console.log(`keepalived -t and configuration dump judged keepalived.conf files: ${JSON.stringify(judged)}`);
});
// the other targets' daemons: their cached root, built (minutes, once, under a lock) when missing
beforeAll(() => void TARGET_OSES.forEach((os) => daemonRoot(os)), ROOT_BUILD_MS);

// every example for every target, judged by that release's keepalived
describe.each(EXAMPLE_FILES.flatMap((f, i) => TARGET_OSES.map((os) => [f, os, i] as const)))('keepalived accepts %s [%s]', (example, os, index) => {
  const text = withTarget(readFileSync(join(EXAMPLES, example), 'utf8'), os);
  const model = compileText(text).model;
  const nodes = model.controllers.filter((c) => runs(c, 'keepalived'));
  const builds = new Map<string, Map<string, BundleFile>>();
  const filesFor = (v: string) => {
    if (!builds.has(v)) builds.set(v, buildText(text, { embed: embedFor(model, v) }));
    return builds.get(v)!;
  };

  it.each(nodes.map((n, j) => [n.hostname, n, VALUES[(index + j) % VALUES.length]!] as const))('%s', (_host, node, value) => {
    expect(keepalivedAuthProblem(value)).toBeUndefined();
    const files = filesFor(value);
    expect(files.get(`${node.hostname}/${CONF}`)!.content).toContain(`auth_pass "${value}"`);
    const r = check(files, model, node, { os });
    // the bundle's own health check at its real path (a stub only while the bundle lacks one)
    expect(r.stub).toBe(!files.has(`${node.hostname}/files${CHECK_SCRIPT}`));
    const vip = model.network.vip!;
    expect(r.testRc, r.raw).toBe(0);
    expect(
      messages(r).filter((l) => BAD.test(l)),
      r.raw,
    ).toEqual([]);
    // what keepalived read, from its configuration dump
    expect(dumpValue(r, 'Password'), r.raw).toEqual([value]);
    expect(dumpValue(r, 'Authentication type')).toEqual(['SIMPLE_PASSWORD']);
    expect(r.dump.map((l) => l.trim())).toContain(`VRRP Instance = ${instanceName(model)}`);
    expect(dumpValue(r, 'Virtual Router ID')).toEqual([String(vip.virtualRouterId)]);
    expect(dumpValue(r, 'Priority')).toEqual([String(node.priority)]);
    expect(dumpValue(r, 'Advert interval')).toEqual([`${vip.advertInt} sec`]);
    expect(dumpValue(r, 'Wantstate')).toEqual([vip.preempt && node.vipOwner ? 'MASTER' : 'BACKUP']);
    expect(dumpValue(r, 'Preempt')).toEqual([vip.preempt ? 'enabled' : 'disabled']);
    expect(dumpValue(r, 'Interface')).toContain(node.interface);
    expect(dumpValue(r, 'Using src_ip')).toEqual([`${node.ip} (from configuration)`]);
    expect(r.dump.map((l) => l.trim())).toContain('Check unicast src : yes');
    const peers = model.keepalived.nodes.filter((m) => m.hostname !== node.hostname).map((m) => `${m.ip} min_ttl 0 max_ttl 255`);
    expect(dumpList(r, 'Unicast Peer :').sort(), r.raw).toEqual(peers.sort());
    expect(dumpList(r, 'Virtual IP (1):'), r.raw).toEqual([`${vip.address}/${vip.prefix} dev ${node.interface} scope global`]);
    // both scripts accepted under enable_script_security, run as root
    expect(r.dump.map((l) => l.trim())).toContain('Script security enabled');
    expect(dumpValue(r, 'Generic state transition script')).toEqual([`'${NOTIFY_SCRIPT}', uid:gid 0:0`]);
    expect(dumpValue(r, 'Command')).toEqual([`'${CHECK_SCRIPT}'`]);
    expect(dumpValue(r, 'Insecure')).toEqual(['no']);
    expect(dumpValue(r, 'Script uid:gid')).toEqual(['0:0']);
    judged[os]++;
  });
});

describe('the harness fails when it should', () => {
  const text = readFileSync(join(EXAMPLES, 'my_multihead_cluster.yaml'), 'utf8');
  const model = compileText(text).model;
  const node = model.controllers[0]!;
  const files = buildText(text, { embed: embedFor(model, VALUES[0]!) });

  it('a script directory writable by others is refused (enable_script_security is live)', () => {
    const r = check(files, model, node, { sbinMode: '0777' });
    expect(r.testRc).not.toBe(0);
    expect(messages(r).filter((l) => /insecure|unsafe/i.test(l)).length).toBeGreaterThan(0);
    expect(messages(r)).toContain(`Unsafe permissions found for script '${NOTIFY_SCRIPT}' - disabling.`);
  });

  it('an unquoted password is cut at "#" by keepalived: the dump check sees it', () => {
    const r = check(files, model, node, {
      edit: (c) => c.replace(`auth_pass "${VALUES[0]}"`, `auth_pass ${VALUES[0]!.replace(/ /g, '')}`),
    });
    expect(dumpValue(r, 'Password')).not.toEqual([VALUES[0]]);
    expect(dumpValue(r, 'Password')[0]!.includes('#')).toBe(false);
  });

  it('keepalived runs the notify script on a state change (state file written as root)', () => {
    const r = check(files, model, node, { waitState: true, stubCheck: true });
    expect(r.state, r.raw).toMatch(
      new RegExp(
        `^STATE=(MASTER|BACKUP)\\nTYPE=INSTANCE\\nNAME=${instanceName(model)}\\nPRIORITY=${node.priority}\\nVIP=${model.network.vip!.address.replace(/\./g, '\\.')}/${model.network.vip!.prefix}\\nSINCE=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\n$`,
      ),
    );
    expect(r.stopped, r.raw).toMatch(/^STATE=STOP\n/);
    expect(
      messages(r).filter((l) => BAD.test(l)),
      r.raw,
    ).toEqual([]);
  });
});

describe('mhc-keepalived-notify', () => {
  const scripts = EXAMPLE_FILES.flatMap((example) => {
    const files = buildText(readFileSync(join(EXAMPLES, example), 'utf8'));
    return [...files].filter(([p]) => p.endsWith(`/files${NOTIFY_SCRIPT}`)).map(([p, f]) => ({ example, path: p, content: f.content }));
  });

  it('is shellcheck-clean on every node of every example', () => {
    const nodes = EXAMPLE_FILES.map((e) => compileText(readFileSync(join(EXAMPLES, e), 'utf8')).model.controllers.filter((c) => runs(c, 'keepalived')).length);
    expect(scripts.length).toBe(nodes.reduce((a, b) => a + b, 0));
    expect(scripts.length).toBeGreaterThan(0);
    for (const s of scripts) {
      const r = spawnSync('shellcheck', ['-s', 'bash', '-o', 'all', '-e', 'SC2250,SC2312', '-'], { input: s.content, encoding: 'utf8', timeout: 30000 });
      expect(r.status, `${s.example} ${s.path}\n${r.stdout}${r.stderr}`).toBe(0);
    }
  });

  it('records the state under MHC_ROOT, logs through PATH, and refuses bad arguments', () => {
    const s = scripts.find((x) => x.example === 'five_controllers.yaml' && x.path.startsWith('ctl2/'))!;
    const dir = scratch('ka-notify');
    try {
      const script = join(dir, 'notify');
      writeFileSync(script, s.content, { mode: 0o755 });
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'logger'), `#!/bin/sh\nprintf '%s\\n' "$*" >>"${dir}/logger.log"\n`, { mode: 0o755 });
      const root = join(dir, 'root');
      const env = {
        ...process.env,
        MHC_ROOT: root,
        PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      };
      const ok = spawnSync(script, ['INSTANCE', 'VI_campus', 'MASTER', '190'], {
        env,
        encoding: 'utf8',
        timeout: 10000,
      });
      expect(ok.status, ok.stderr).toBe(0);
      const state = readFileSync(join(root, STATE_FILE), 'utf8');
      expect(state).toMatch(/^STATE=MASTER\nTYPE=INSTANCE\nNAME=VI_campus\nPRIORITY=190\nVIP=172\.16\.10\.10\/23\nSINCE=\S+Z\n$/);
      expect(readFileSync(join(dir, 'logger.log'), 'utf8')).toBe('-t mhc-keepalived -p daemon.notice -- INSTANCE VI_campus is now MASTER (priority 190, VIP 172.16.10.10/23)\n');
      expect(readdirSync(join(root, 'run/mhc'))).toEqual(['keepalived.state']); // no temp file left
      for (const args of [
        [],
        ['INSTANCE', 'VI_campus', 'MASTER'],
        ['X', 'VI_campus', 'MASTER', '1'],
        ['INSTANCE', 'a;b', 'MASTER', '1'],
        ['INSTANCE', 'VI_campus', 'master', '1'],
        ['INSTANCE', 'VI_campus', 'MASTER', '-1'],
      ]) {
        const bad = spawnSync(script, args, {
          env,
          encoding: 'utf8',
          timeout: 10000,
        });
        expect(bad.status, args.join(' ')).toBe(2);
      }
      expect(readFileSync(join(root, STATE_FILE), 'utf8')).toBe(state);
      // STOP on shutdown replaces it; without logger on PATH the script still records the state
      const bare = join(dir, 'bare');
      mkdirSync(bare);
      for (const t of ['bash', 'mkdir', 'mktemp', 'date', 'chmod', 'mv', 'rm']) symlinkSync(requireTool(t), join(bare, t));
      const stop = spawnSync(script, ['INSTANCE', 'VI_campus', 'STOP', '190'], {
        env: { ...env, PATH: bare },
        encoding: 'utf8',
        timeout: 10000,
      });
      expect(stop.status, stop.stderr).toBe(0);
      expect(readFileSync(join(root, STATE_FILE), 'utf8')).toMatch(/^STATE=STOP\n/);
      expect(existsSync(join(root, STATE_FILE))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
