// check_all_services.sh judged by running it. For every example, every controller (secrets
// embedded at the AWKWARD values, the bundle's files installed under a scratch MHC_ROOT):
// shellcheck; with stub commands first on PATH (PATH holds only the stubs, bash and timeout, so
// nothing else can run — in particular nothing can reach the examples' addresses) that answer
// healthy → exit 0, quietly; stubs that hang → non-zero within 3.5 s, every check named; stubs
// that ignore SIGTERM → the deadline still holds; one service's stubs failing → non-zero and only
// that service named on stderr; no stubs → non-zero fast. Real `scontrol` parses every ping config
// (inside a network namespace of our own, the controller's address on its loopback).
// Real daemons: a lab variant (127.0.0.x) in private mount/pid/network namespaces, one network
// namespace per node: Redis (cluster-mode instances from the generated files, requirepass at the
// AWKWARD value), munged and two slurmctld (primary lab1, standby lab2) from the generated
// slurm.conf, checked by the generated scripts with the real redis-cli and scontrol; then
// frozen (SIGSTOP) and killed daemons → non-zero within 3.5 s, naming the right check.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AWKWARD, buildText, compileText, EXAMPLES } from '../helpers.js';
import { requireTool, scratch } from './tools.js';
import { refusal, sentinelCredential } from '../../src/compiler/secrets.js';
import { checks } from '../../src/emitters/health-check.js';
import { CHECK_SCRIPT, SLURMCTLD_HOLD, SLURMCTLD_PING_CONF } from '../../src/emitters/paths.js';
import { runs, type Controller, type Model, type ServiceKey } from '../../src/compiler/model.js';
import type { BundleFile } from '../../src/compiler/bundle.js';

const EXAMPLE_FILES = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const FALLBACK = `x'"\\&$ #/y`;
/** The contract: the script answers within 3 s; 3.5 s leaves room for a loaded CI machine. */
const BOUND_MS = 3500;
/** Stubs that hang sleep this odd number of seconds, so leftovers can be found by their argv. */
const TAG = `1000.${process.pid}${Math.floor(Math.random() * 1000)}`;

function embedFor(model: Model): Record<string, string> {
  return Object.fromEntries(
    model.secrets.map((s) => {
      const v = (AWKWARD as Record<string, string>)[s.name] ?? FALLBACK;
      if (s.name === 'REDIS_PASSWORD') expect(refusal(s, v)).toBeUndefined();
      return [s.name, refusal(s, v) ? 'Plain1ok' : v];
    }),
  );
}

/** A node's files/ under ROOT, as the start script installs them (seeds without their suffix). */
function install(files: Map<string, BundleFile>, node: string, root: string): void {
  for (const f of files.values()) {
    if (!f.path.startsWith(`${node}/files/`) || !f.dest) continue;
    const dest = join(root, f.dest.replace(/\.seed$/, ''));
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, f.content, { mode: f.mode });
  }
}

type Stubs = Partial<Record<string, string>>;
const STUB_COMMANDS = ['mariadb', 'redis-cli', 'scontrol', 'mountpoint', 'stat', 'curl'] as const;
/** Which stub commands a service's checks use (failing them fails exactly that service). */
const SERVICE_COMMANDS: Partial<Record<ServiceKey, string[]>> = {
  glusterfs: ['mountpoint'],
  mariadb: ['mariadb'],
  redis: ['redis-cli'],
  slurm: ['scontrol'],
  web: ['curl'],
};

/** Healthy answers; the redis-cli stub logs its password (environment) and argv under LOG. */
const healthy = (log: string): Stubs => ({
  mariadb: `printf 'wsrep_local_state\\t4\\nwsrep_ready\\tON\\n'`,
  'redis-cli': `printf '%s' "\${REDISCLI_AUTH-<unset>}" >${log}/redis-auth.$$; printf '%s\\n' "$@" >${log}/redis-argv.$$; echo PONG`,
  // answers for the only SlurmctldHost of $SLURM_CONF (bash builtins only)
  scontrol: `[[ $1 == ping ]] || exit 2; n=0; while IFS= read -r l; do [[ $l == SlurmctldHost=* ]] || continue; h=\${l#SlurmctldHost=}; echo "Slurmctld(primary) at \${h%%(*} is UP"; n=$((n+1)); done <"$SLURM_CONF"; printf '%s\\n' "$SLURM_CONF" >${log}/slurm-conf.$$; ((n == 1))`,
  mountpoint: 'exit 0',
  stat: 'exit 0',
  curl: `printf '%s\\n' "$@" >${log}/curl-argv.$$; exit 0`,
});
const FAILING: Stubs = {
  mariadb: `echo "ERROR 2002 (HY000): Can't connect to local server through socket" >&2; exit 1`,
  'redis-cli': `echo 'Could not connect to Redis: Connection refused' >&2; exit 1`,
  scontrol: `echo "Slurmctld(primary) at somewhere is DOWN"; exit 1`,
  mountpoint: 'exit 32',
  stat: `echo "stat: cannot statx: Transport endpoint is not connected" >&2; exit 1`,
  curl: `echo 'curl: (7) Failed to connect to 127.0.0.1 port 80' >&2; exit 7`,
};
const hanging = (ignoreTerm: boolean): Stubs => Object.fromEntries(STUB_COMMANDS.map((c) => [c, `${ignoreTerm ? "trap '' TERM; " : ''}exec /bin/sleep ${TAG}`]));

let dir = '';
let tools = '';
let bashPath = '';
beforeAll(() => {
  for (const t of ['shellcheck', 'bash', 'timeout', 'redis-server', 'redis-cli', 'scontrol', 'slurmctld', 'munged', 'unshare', 'ip', 'mount']) requireTool(t);
  dir = scratch('health');
  chmodSync(dir, 0o755); // munged and slurmctld drop privileges and must reach their scratch files
  // PATH for every run: the stubs, then only what the script itself needs
  tools = join(dir, 'tools');
  mkdirSync(tools);
  bashPath = requireTool('bash');
  for (const t of ['bash', 'timeout']) symlinkSync(requireTool(t), join(tools, t));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function writeStubs(d: string, stubs: Stubs): string {
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  for (const [c, body] of Object.entries(stubs)) {
    if (body === undefined) continue;
    writeFileSync(join(d, c), `#!${bashPath}\n${body}\n`);
    chmodSync(join(d, c), 0o755);
  }
  return d;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}
function runScript(root: string, stubDir: string | undefined, args: string[] = []): Run {
  const t0 = performance.now();
  const r = spawnSync(join(root, CHECK_SCRIPT), args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 15000,
    env: {
      PATH: [...(stubDir ? [stubDir] : []), tools].join(':'),
      MHC_ROOT: root,
    },
  });
  return {
    status: r.status,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    ms: performance.now() - t0,
  };
}

const failedNames = (stderr: string): string[] =>
  stderr
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const m = /^check_all_services\.sh: FAILED (\S+): /.exec(l);
      if (!m) throw new Error(`unexpected stderr line: ${l}`);
      return m[1]!;
    });

/** Processes whose argv holds TAG (hanging stubs we started) — killed, and returned. */
function leftovers(): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmd.includes(TAG)) {
      out.push(Number(p));
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  return out;
}

const readLogs = (log: string, prefix: string): string[] =>
  readdirSync(log)
    .filter((f) => f.startsWith(prefix))
    .map((f) => readFileSync(join(log, f), 'utf8'));

const counts = {
  scripts: 0,
  shellcheck: 0,
  healthy: 0,
  hung: 0,
  maxHungMs: 0,
  failing: 0,
  absent: 0,
  maxAbsentMs: 0,
  scontrolParsed: 0,
};

describe.each(EXAMPLE_FILES)('%s', (ex) => {
  const text = readFileSync(join(EXAMPLES, ex), 'utf8');
  const model = compileText(text).model;
  const embed = embedFor(model);
  const files = buildText(text, { embed });
  const roots = new Map<string, string>();
  const rootOf = (c: Controller): string => {
    let r = roots.get(c.hostname);
    if (!r) {
      r = join(dir, ex, c.hostname, 'root');
      install(files, c.hostname, r);
      roots.set(c.hostname, r);
    }
    return r;
  };

  it('shellcheck passes on every check script', () => {
    for (const c of model.controllers) {
      const r = spawnSync('shellcheck', ['-s', 'bash', join(rootOf(c), CHECK_SCRIPT)], { encoding: 'utf8', timeout: 60000 });
      expect(r.stdout + r.stderr, c.hostname).toBe('');
      expect(r.status).toBe(0);
      counts.scripts++;
      counts.shellcheck++;
    }
  });

  it('healthy stubs: exit 0, quiet; -v lists every check; passwords via the environment only', () => {
    for (const c of model.controllers) {
      const root = rootOf(c);
      const log = join(dir, ex, c.hostname, 'log');
      rmSync(log, { recursive: true, force: true });
      mkdirSync(log, { recursive: true });
      const stubs = writeStubs(join(dir, ex, c.hostname, 'stubs'), healthy(log));
      const quiet = runScript(root, stubs);
      expect(quiet.stderr, c.hostname).toBe('');
      expect(quiet.stdout, c.hostname).toBe('');
      expect(quiet.status, c.hostname).toBe(0);
      const loud = runScript(root, stubs, ['-v']);
      expect(loud.status, c.hostname).toBe(0);
      const names = checks(model, c).map((k) => k.name);
      const okLines = loud.stdout.split('\n').filter((l) => l.startsWith('ok '));
      expect(
        okLines.map((l) => l.split(/\s+/)[1]),
        c.hostname,
      ).toEqual(names);
      expect(loud.stdout).toContain(names.length ? `all ${names.length} checks passed` : `no service to check on ${c.hostname}`);
      // Redis: the instance password arrives intact, in REDISCLI_AUTH, never in argv; Sentinel
      // gets its own credential (derived from REDIS_SENTINEL_PASSWORD) the same way
      if (runs(c, 'redis')) {
        const pw = embed[model.redis!.password.name]!;
        const sp = model.redis!.sentinel.password;
        const spw = sp ? sentinelCredential(embed[sp.name]!) : '<none>';
        const auths = readLogs(log, 'redis-auth.');
        const instances = checks(model, c).filter((k) => k.fn === 'check_redis');
        const isSentinel = (k: { name: string }) => k.name.startsWith('redis:sentinel:');
        expect(auths.length).toBe(instances.length * 2);
        expect(auths.filter((a) => a === pw).length).toBe(instances.filter((k) => !isSentinel(k)).length * 2);
        expect(auths.filter((a) => a === spw).length).toBe(instances.filter(isSentinel).length * 2);
        for (const argv of readLogs(log, 'redis-argv.')) {
          expect(argv).not.toContain(pw);
          expect(argv).not.toContain(spw);
          expect(argv.split('\n').slice(0, 2)).toEqual(['-h', c.ip]);
        }
      }
      // Slurm: scontrol reads the ping config under MHC_ROOT
      if (runs(c, 'slurm')) for (const p of readLogs(log, 'slurm-conf.')) expect(p.trim()).toBe(join(root, SLURMCTLD_PING_CONF));
      if (runs(c, 'web')) expect(readLogs(log, 'curl-argv.').some((a) => a.includes(`Host: ${model.web!.domain}\n`))).toBe(true);
      counts.healthy++;
    }
  });

  it(`hanging stubs: non-zero within ${BOUND_MS} ms, every check named; SIGTERM ignored: the deadline holds`, () => {
    for (const c of model.controllers) {
      const names = checks(model, c).map((k) => k.name);
      if (!names.length) continue;
      const root = rootOf(c);
      // SIGTERM-ignoring commands: on the first controller of each example (each run takes the deadline)
      for (const ignoreTerm of c === model.controllers[0] ? [false, true] : [false]) {
        const r = runScript(root, writeStubs(join(dir, ex, c.hostname, 'stubs'), hanging(ignoreTerm)));
        expect(r.status, `${c.hostname} ${r.stderr}`).toBe(1);
        expect(r.ms, c.hostname).toBeLessThan(BOUND_MS);
        counts.maxHungMs = Math.max(counts.maxHungMs, Math.round(r.ms));
        expect(failedNames(r.stderr).sort(), c.hostname).toEqual([...names].sort());
        expect(r.stderr).toMatch(ignoreTerm ? /no result within 2\.5 s|no answer within 2 s/ : /no answer within 2 s/);
        counts.hung++;
      }
    }
    // every hanging command was killed (timeout -k: SIGKILL one second after SIGTERM)
    spawnSync('sleep', ['1.2']);
    expect(leftovers()).toEqual([]);
  });

  it('one service failing: non-zero, and only that service is named on stderr', () => {
    for (const c of model.controllers) {
      const root = rootOf(c);
      const log = join(dir, ex, c.hostname, 'log');
      for (const svc of c.services.filter((s) => s !== 'keepalived')) {
        const stubs: Stubs = { ...healthy(log) };
        for (const cmd of SERVICE_COMMANDS[svc]!) stubs[cmd] = FAILING[cmd];
        const r = runScript(root, writeStubs(join(dir, ex, c.hostname, 'stubs'), stubs));
        expect(r.status, `${c.hostname} ${svc}`).toBe(1);
        const failed = failedNames(r.stderr);
        expect(failed.length, `${c.hostname} ${svc}`).toBeGreaterThan(0);
        for (const n of failed) expect(n.split(':')[0], `${c.hostname} ${svc}: ${r.stderr}`).toBe(svc);
        counts.failing++;
      }
    }
  });

  it('no stubs (commands absent): non-zero fast', () => {
    for (const c of model.controllers) {
      const names = checks(model, c).map((k) => k.name);
      if (!names.length) continue;
      const r = runScript(rootOf(c), undefined);
      expect(r.status, c.hostname).toBe(1);
      expect(r.ms, c.hostname).toBeLessThan(1500);
      counts.maxAbsentMs = Math.max(counts.maxAbsentMs, Math.round(r.ms));
      expect(failedNames(r.stderr).sort()).toEqual([...names].sort());
      counts.absent++;
    }
  });

  it('the real scontrol parses every ping config and the script reads its answer (DOWN here)', () => {
    const slurmNodes = model.controllers.filter((c) => runs(c, 'slurm'));
    for (const c of slurmNodes) {
      const root = rootOf(c);
      const log = join(dir, ex, c.hostname, 'log');
      const stubs = writeStubs(join(dir, ex, c.hostname, 'stubs'), {
        ...healthy(log),
        scontrol: undefined,
      });
      const realBin = join(dir, ex, c.hostname, 'real');
      rmSync(realBin, { recursive: true, force: true });
      mkdirSync(realBin);
      symlinkSync(requireTool('scontrol'), join(realBin, 'scontrol'));
      // our own network namespace: this controller's address on its loopback (connection refused)
      const ip = requireTool('ip');
      const sh = `${ip} link set lo up && ${ip} addr add ${c.ip}/32 dev lo && ${requireTool('mount')} -t tmpfs tmpfs /run && exec "$0"`;
      const t0 = performance.now();
      const r = spawnSync(requireTool('unshare'), ['--net', '--mount', '--fork', '--kill-child', bashPath, '--norc', '-c', sh, join(root, CHECK_SCRIPT)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 20000,
        env: { PATH: [stubs, realBin, tools].join(':'), MHC_ROOT: root },
      });
      const ms = performance.now() - t0;
      expect(r.status, r.stderr).toBe(1);
      expect(ms).toBeLessThan(BOUND_MS);
      expect(r.stderr.trim()).toBe(`check_all_services.sh: FAILED slurm:slurmctld: slurmctld on ${c.hostname} does not answer: Slurmctld(primary) at ${c.hostname} is DOWN`);
      counts.scontrolParsed++;
      // a hold (every slurmctld stopped on purpose by a day-2 step): healthy until it expires, then not
      const hold = join(root, SLURMCTLD_HOLD);
      mkdirSync(dirname(hold), { recursive: true });
      const check = () => spawnSync(bashPath, ['--norc', join(root, CHECK_SCRIPT), '-v'], { encoding: 'utf8', timeout: 20000, env: { PATH: [stubs, tools].join(':'), MHC_ROOT: root } });
      writeFileSync(hold, `${Math.floor(Date.now() / 1000) + 60} apply_multihead.sh\n`);
      const held = check();
      expect(held.status, held.stderr).toBe(0);
      expect(held.stdout).toMatch(new RegExp(`^ok +slurm:slurmctld +slurmctld on ${c.hostname} is held stopped \\(apply_multihead\\.sh\\) for (59|60) s more$`, 'm'));
      writeFileSync(hold, `${Math.floor(Date.now() / 1000) - 1} apply_multihead.sh\n`);
      expect(check().status).toBe(1);
      writeFileSync(hold, 'garbage\n');
      expect(check().status).toBe(1);
      rmSync(hold);
    }
  });
});

describe('script behaviour (two_controllers.yaml, head1)', () => {
  const text = readFileSync(join(EXAMPLES, 'two_controllers.yaml'), 'utf8');
  const variants = [
    { label: 'mariabackup', text },
    {
      label: 'rsync',
      text: text.replace('database:\n', 'database:\n  mariadb: { sst_method: rsync }\n'),
    },
  ];
  const roots = new Map<string, string>();
  const rootFor = (v: (typeof variants)[number]) => {
    let r = roots.get(v.label);
    if (!r) {
      const model = compileText(v.text).model;
      r = join(dir, 'behaviour', v.label, 'root');
      install(buildText(v.text, { embed: embedFor(model) }), 'head1', r);
      roots.set(v.label, r);
    }
    return r;
  };
  const galera = (state: string, ready: string) => `printf 'wsrep_local_state\\t${state}\\nwsrep_ready\\t${ready}\\n'`;
  const cases: {
    label: string;
    variant: 'mariabackup' | 'rsync';
    stub: string;
    ok: boolean;
    message: RegExp;
  }[] = [
    {
      label: 'Synced',
      variant: 'rsync',
      stub: galera('4', 'ON'),
      ok: true,
      message: /wsrep_local_state=4 \(Synced\)/,
    },
    {
      label: 'Donor with mariabackup SST',
      variant: 'mariabackup',
      stub: galera('2', 'ON'),
      ok: true,
      message: /Donor\/Desynced; mariabackup keeps it serving/,
    },
    {
      label: 'Donor with rsync SST',
      variant: 'rsync',
      stub: galera('2', 'ON'),
      ok: false,
      message: /wsrep_local_state=2 \(Donor\/Desynced\), not Synced/,
    },
    {
      label: 'Joined',
      variant: 'mariabackup',
      stub: galera('3', 'ON'),
      ok: false,
      message: /wsrep_local_state=3 \(Joined\), not Synced/,
    },
    {
      label: 'Joining',
      variant: 'mariabackup',
      stub: galera('1', 'OFF'),
      ok: false,
      message: /wsrep_ready=OFF/,
    },
    {
      label: 'no Galera',
      variant: 'mariabackup',
      stub: 'exit 0',
      ok: false,
      message: /not a Galera node/,
    },
    {
      label: 'server down',
      variant: 'mariabackup',
      stub: FAILING.mariadb!,
      ok: false,
      message: /exit status 1: ERROR 2002/,
    },
  ];
  it.each(cases)('mariadb: $label', ({ variant, stub, ok, message }) => {
    const v = variants.find((x) => x.label === variant)!;
    const log = join(dir, 'behaviour', 'log');
    mkdirSync(log, { recursive: true });
    const r = runScript(
      rootFor(v),
      writeStubs(join(dir, 'behaviour', 'stubs'), {
        ...healthy(log),
        mariadb: stub,
      }),
      ['-v'],
    );
    expect(r.status).toBe(ok ? 0 : 1);
    expect(ok ? r.stdout : r.stderr).toMatch(message);
    if (!ok) expect(failedNames(r.stderr)).toEqual(['mariadb']);
  });

  it('redis: the check fails, naming the file, when the password cannot be read; a wrong answer fails', () => {
    const root = rootFor(variants[0]!);
    const log = join(dir, 'behaviour', 'log');
    const conf = join(root, 'etc/redis/mhc/redis.conf');
    const saved = readFileSync(conf, 'utf8');
    try {
      writeFileSync(conf, saved.replace(/^requirepass .*$/m, ''));
      const r = runScript(root, writeStubs(join(dir, 'behaviour', 'stubs'), healthy(log)));
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(`check_all_services.sh: FAILED redis:6379: cannot read the Redis password (requirepass) from ${conf}`);
    } finally {
      writeFileSync(conf, saved);
    }
    const r = runScript(
      root,
      writeStubs(join(dir, 'behaviour', 'stubs'), {
        ...healthy(log),
        'redis-cli': "echo 'NOAUTH Authentication required.'",
      }),
    );
    expect(r.status).toBe(1);
    expect(failedNames(r.stderr)).toEqual(['redis:6379', 'redis:sentinel:26379']);
    expect(r.stderr).toContain('no PONG: NOAUTH Authentication required.');
  });

  it('options: -h prints usage (exit 0), an unknown argument exits 2', () => {
    const root = rootFor(variants[0]!);
    const h = runScript(root, undefined, ['-h']);
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/^Usage: check_all_services\.sh \[-v\] \[-h\]/);
    const bad = runScript(root, undefined, ['--nope']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown argument: --nope/);
  });
});

// ---- real daemons: a lab on 127.0.0.x ----

const LAB = (redisPort: number) => `cluster:
  name: hc-lab
network:
  vip: 127.0.0.100
  netmask: 255.255.255.0
  interface: lo
controllers:
  - { hostname: lab1, ip: 127.0.0.11, vip_owner: true, priority: 150, services: { redis: true, slurm: true, keepalived: true } }
  - { hostname: lab2, ip: 127.0.0.12, priority: 100, services: { redis: true, slurm: true, keepalived: true } }
  - { hostname: lab3, ip: 127.0.0.13, priority: 50, services: { redis: true, keepalived: true } }
redis:
  password: \${REDIS_PASSWORD}
  port: ${redisPort}
slurm:
  partitions:
    - { name: normal, nodes: ALL, default: true, max_time: INFINITE }
`;

// Runs as: unshare --net --mount --pid --fork --kill-child --mount-proc bash DRIVER S
// S/params.sh: NODES (hostnames), IPS (host → ip), PORTS (host → "p1 p2"), BIN (PATH for the script).
// Each node gets a network namespace; its daemons run there; the generated slurm.conf is used as is
// (its state, log and pid paths are on tmpfs mounts private to this run).
const DRIVER = `set -u
S=$1
. "$S/params.sh"
fail() { echo "MHC-FAIL $*"; exit 1; }
ms() { echo $(( (\${EPOCHREALTIME/./} - $1) / 1000 )); }
# check LABEL NODE: runs NODE's generated script in NODE's namespace; RESULT LABEL STATUS MS
check() {
  local t0=\${EPOCHREALTIME/./} rc
  ip netns exec "$2" env -i PATH="$BIN" MHC_ROOT="$S/$2/root" "$S/$2/root/usr/local/sbin/check_all_services.sh" -v >"$S/out/$1.out" 2>"$S/out/$1.err"
  rc=$?
  echo "RESULT $1 $rc $(ms "$t0")"
}
# until_ SECONDS CMD…: until CMD succeeds (every 0.1 s)
until_() {
  local n=$(($1 * 10)) i; shift
  for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
mkdir -p "$S/out"
# munged's socket lives in $S/munge-run, bound to /run/munge wherever a Slurm command runs
mkdir -p "$S/munge-run" && chown munge:munge "$S/munge-run" && chmod 0755 "$S/munge-run"
mount -t tmpfs -o mode=0755 tmpfs /run || fail "private /run"
mkdir -p /run/netns /run/munge && mount --bind "$S/munge-run" /run/munge || fail "munge dir"
mount -t tmpfs -o mode=0755 tmpfs /var/spool || fail "private /var/spool"
mkdir -p /var/spool/slurmctld && chown slurm:slurm /var/spool/slurmctld

runuser -u munge -- munged -F --key-file="$S/munge/munge.key" --log-file="$S/munge/log" --seed-file="$S/munge/seed" --pid-file="$S/munge-run/munged.pid" >"$S/munge/out" 2>&1 &
until_ 10 test -S /run/munge/munge.socket.2 || fail "munged: $(cat "$S/munge/out" "$S/munge/log")"

for n in "\${NODES[@]}"; do
  ip netns add "$n" || fail "netns $n"
  ip -n "$n" link set lo up
  ip -n "$n" addr add "\${IPS[$n]}/32" dev lo
done
# Redis: every instance of lab1 and lab2 from its static file; only dir/pidfile/logfile overridden
for n in lab1 lab2; do
  for p in \${PORTS[$n]}; do
    w=$S/$n/redis-$p; mkdir -p "$w"
    ip netns exec "$n" redis-server "$S/$n/root/etc/redis/mhc/redis-$p.conf" --dir "$w" --pidfile "$w/pid" --logfile "$w/log" --daemonize no &
    echo "$!" >"$w/daemon.pid"
  done
done
# slurmctld: lab1 (first SlurmctldHost: primary) then lab2 (standby), each under its own hostname
# with its own /run (pid file) and /var/log/slurm, the generated slurm.conf as it is
NODE_CTLD='hostname "$1"
mount -t tmpfs -o mode=0755 tmpfs /run && mkdir /run/munge && mount --bind "$3" /run/munge || exit 1
mount -t tmpfs -o mode=0755 tmpfs /var/log/slurm && chown slurm:slurm /var/log/slurm || exit 1
exec slurmctld -D -v -f "$2"'
for n in lab1 lab2; do
  ip netns exec "$n" unshare --uts --mount --propagation private bash -c "$NODE_CTLD" _ "$n" "$S/$n/root/etc/slurm/slurm.conf" "$S/munge-run" >"$S/$n/slurmctld.out" 2>&1 &
  echo "$!" >"$S/$n/slurmctld.pid"
done
for n in lab1 lab2; do
  for p in \${PORTS[$n]}; do
    until_ 20 bash -c '[[ $(ip netns exec "$1" env REDISCLI_AUTH="$PW" redis-cli -h "$2" -p "$3" ping) == PONG ]]' _ "$n" "\${IPS[$n]}" "$p" || fail "redis $n:$p: $(cat "$S/$n/redis-$p/log")"
  done
  until_ 40 bash -c '[[ $(ip netns exec "$1" env SLURM_CONF="$2" scontrol ping) == *" is UP"* ]]' _ "$n" "$S/$n/root/etc/mhc/health/slurmctld-ping.conf" || fail "slurmctld $n: $(tail -20 "$S/$n/slurmctld.out")"
done
grep -q 'Running as primary controller' "$S/lab1/slurmctld.out" && echo "ROLE lab1 primary"
grep -q 'Running as primary controller' "$S/lab2/slurmctld.out" || echo "ROLE lab2 standby"
echo "MHC-STEP up"

check healthy-lab1 lab1
check healthy-lab2 lab2

# freeze lab1's first Redis instance
r1=$(cat "$S/lab1/redis-\${PORTS[lab1]%% *}/daemon.pid")
kill -STOP "$r1"
check redis-frozen-lab1 lab1
kill -CONT "$r1"
check redis-thawed-lab1 lab1

# a Redis password that no longer matches: the check fails (AUTH refused)
p2=\${PORTS[lab1]##* }
ip netns exec lab1 env REDISCLI_AUTH="$PW" redis-cli -h "\${IPS[lab1]}" -p "$p2" CONFIG SET requirepass not-the-password >/dev/null
check redis-wrongpass-lab1 lab1
ip netns exec lab1 env REDISCLI_AUTH=not-the-password redis-cli -h "\${IPS[lab1]}" -p "$p2" CONFIG SET requirepass "$PW" >/dev/null
check redis-fixed-lab1 lab1

# freeze the standby slurmctld: lab2 fails, lab1 (which never asks lab2) stays healthy and fast
c2=$(cat "$S/lab2/slurmctld.pid")
c2=$(pgrep -P "$c2" -x slurmctld || echo "$c2")
kill -STOP "$c2"
check slurm-frozen-lab2 lab2
check peer-frozen-lab1 lab1
kill -CONT "$c2"
check slurm-thawed-lab2 lab2

# kill the primary: lab1 fails at once; the standby is still healthy
c1=$(cat "$S/lab1/slurmctld.pid")
kill -KILL "$c1" $(pgrep -P "$c1") 2>/dev/null
until_ 10 bash -c '! kill -0 "$1"' _ "$c1"
check slurm-killed-lab1 lab1
check peer-killed-lab2 lab2
echo MHC-OK
`;

describe('real daemons (lab on 127.0.0.x): Redis and slurmctld', () => {
  it('the generated checks pass against running daemons and fail within the bound when one freezes or dies', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const text = LAB(port);
    const model = compileText(text).model;
    const embed = embedFor(model);
    const pw = embed.REDIS_PASSWORD!;
    const files = buildText(text, { embed });
    const S = join(dir, 'lab');
    const params: string[] = ['NODES=(lab1 lab2)', 'declare -A IPS PORTS'];
    for (const h of ['lab1', 'lab2']) {
      const c = model.controllers.find((x) => x.hostname === h)!;
      install(files, h, join(S, h, 'root'));
      const ports = checks(model, c)
        .filter((k) => k.name.startsWith('redis:'))
        .map((k) => k.args[1]);
      expect(ports).toEqual([String(port), String(port + 1)]);
      params.push(`IPS[${h}]=${c.ip}`, `PORTS[${h}]='${ports.join(' ')}'`);
    }
    const bin = join(S, 'bin');
    mkdirSync(bin, { recursive: true });
    for (const t of ['bash', 'timeout', 'redis-cli', 'scontrol']) symlinkSync(requireTool(t), join(bin, t));
    params.push(`BIN=${bin}`);
    mkdirSync(join(S, 'munge'), { recursive: true });
    writeFileSync(join(S, 'munge/munge.key'), Buffer.from(files.get('lab1/files/etc/munge/munge.key.b64')!.content.trim(), 'base64'), { mode: 0o400 });
    spawnSync('chown', ['-R', 'munge:munge', join(S, 'munge')]);
    chmodSync(join(S, 'munge'), 0o700);
    writeFileSync(join(S, 'params.sh'), `${params.join('\n')}\n`);
    writeFileSync(join(S, 'driver.sh'), DRIVER);
    const out = await new Promise<string>((resolve) => {
      const p = spawn('unshare', ['--net', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc', 'bash', join(S, 'driver.sh'), S], { env: { ...process.env, PW: pw } });
      let o = '';
      p.stdout.on('data', (d) => (o += d));
      p.stderr.on('data', (d) => (o += d));
      const t = setTimeout(() => p.kill('SIGKILL'), 150_000);
      p.on('close', () => {
        clearTimeout(t);
        resolve(o);
      });
    });
    expect(out, out).toContain('MHC-OK');
    expect(out).toContain('ROLE lab1 primary');
    expect(out).toContain('ROLE lab2 standby');
    const results = new Map(
      out
        .split('\n')
        .filter((l) => l.startsWith('RESULT '))
        .map((l) => {
          const [, label, rc, ms] = l.split(' ');
          return [
            label!,
            {
              rc: Number(rc),
              ms: Number(ms),
              stdout: readFileSync(join(S, 'out', `${label}.out`), 'utf8'),
              stderr: readFileSync(join(S, 'out', `${label}.err`), 'utf8'),
            },
          ];
        }),
    );
    const res = (label: string) => {
      const r = results.get(label);
      expect(r, label).toBeDefined();
      return r!;
    };
    const ok = (label: string) => {
      const r = res(label);
      expect(r.stderr, label).toBe('');
      expect(r.rc, `${label}: ${r.stdout}`).toBe(0);
      expect(r.ms, label).toBeLessThan(BOUND_MS);
      return r;
    };
    const bad = (label: string, names: string[], message: RegExp) => {
      const r = res(label);
      expect(r.rc, label).toBe(1);
      expect(r.ms, label).toBeLessThan(BOUND_MS);
      expect(failedNames(r.stderr), `${label}: ${r.stderr}`).toEqual(names);
      expect(r.stderr, label).toMatch(message);
      return r;
    };
    for (const l of ['healthy-lab1', 'healthy-lab2']) {
      const r = ok(l);
      expect(r.stdout).toMatch(new RegExp(`^ok +redis:${port} +127\\.0\\.0\\.1[12]:${port} answers PONG$`, 'm'));
      expect(r.stdout).toMatch(new RegExp(`^ok +redis:${port + 1} `, 'm'));
      expect(r.stdout).toMatch(/^ok +slurm:slurmctld +slurmctld on lab[12] answers$/m);
      expect(r.stdout).toContain('all 3 checks passed');
    }
    bad('redis-frozen-lab1', [`redis:${port}`], /no answer within 2 s/);
    ok('redis-thawed-lab1');
    bad('redis-wrongpass-lab1', [`redis:${port + 1}`], /no PONG/);
    ok('redis-fixed-lab1');
    bad('slurm-frozen-lab2', ['slurm:slurmctld'], /scontrol ping: no answer within 2 s/);
    expect(ok('peer-frozen-lab1').ms).toBeLessThan(1500);
    ok('slurm-thawed-lab2');
    bad('slurm-killed-lab1', ['slurm:slurmctld'], /Slurmctld\(primary\) at lab1 is DOWN/);
    ok('peer-killed-lab2');
    console.log(
      `health-check real daemons: ${[...results].map(([l, r]) => `${l}=${r.rc}/${r.ms}ms`).join(' ')}\n` +
        `health-check stubs: ${counts.scripts} scripts, shellcheck ${counts.shellcheck}, healthy ${counts.healthy}, hang runs ${counts.hung} (slowest ${counts.maxHungMs} ms), one-service failures ${counts.failing}, absent ${counts.absent} (slowest ${counts.maxAbsentMs} ms), scontrol-parsed ping configs ${counts.scontrolParsed}`,
    );
  });
});
