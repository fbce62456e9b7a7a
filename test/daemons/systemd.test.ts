// systemd judges what mhc generates for it, for every controller of every example with the
// secrets embedded at the AWKWARD values:
//  - `systemd-analyze verify` on every mhc unit (backup and status timers + services, web
//    units): no output at all. ExecStart binaries that do not exist here are stub executables
//    created at their real paths inside a private mount namespace (tmpfs over the deepest
//    existing parent directory), so verify judges the whole unit, not only its keys;
//  - `systemd-analyze calendar` on every OnCalendar=;
//  - the web EnvironmentFiles parsed by systemd's own parser (load_env_file from
//    libsystemd-shared, the function EnvironmentFile= uses): every awkward secret arrives intact;
//  - the GlusterFS fstab entry through systemd-fstab-generator (+ verify of the mount unit) and
//    through util-linux mount(8) with a stub mount.glusterfs that accepts only the options the
//    real helper accepts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AWKWARD, buildText, compileText, EXAMPLES, withTarget } from '../helpers.js';
import { daemonRoot, forTarget, requireTool, ROOT_BUILD_MS, run, runFor, scratch } from './tools.js';
import { TARGET_OSES, type TargetOs } from '../../src/compiler/targets.js';
import type { BundleFile } from '../../src/compiler/bundle.js';
import type { Model } from '../../src/compiler/model.js';

const EXAMPLE_FILES = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const FALLBACK = `x'"\\&$ #/y`;
const UNIT_DIR = 'files/etc/systemd/system/';
const isMhcUnit = (p: string) => p.includes(`/${UNIT_DIR}mhc-`) && /\.(service|timer)$/.test(p);

function embedFor(model: Model, extra: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(model.secrets.map((s) => [s.name, extra[s.name] ?? (AWKWARD as Record<string, string>)[s.name] ?? FALLBACK]));
}
function build(text: string, extra: Record<string, string> = {}) {
  const model = compileText(text).model;
  const embed = embedFor(model, extra);
  return { model, embed, files: buildText(text, { embed }) };
}

const ENVDUMP_C = `#include <stdio.h>
/* systemd's EnvironmentFile= parser (src/basic/env-file.c), exported by libsystemd-shared */
int load_env_file(FILE *f, const char *fname, char ***ret);
int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    char **l = NULL;
    int r = load_env_file(NULL, argv[i], &l);
    if (r < 0) { fprintf(stderr, "%s: load_env_file failed: %d\\n", argv[i], r); return 1; }
    for (char **p = l; p && *p; p++) { fputs(*p, stdout); putchar('\\0'); }
  }
  return 0;
}
`;

// Runs in a private mount namespace: stub executables at missing ExecStart paths, then verify.
const VERIFY = `set -Eeuo pipefail
units_dir=$1
shift
declare -A parents=()
for p in "$@"; do
  [[ -x $p ]] && continue
  d=$(dirname "$p")
  while [[ ! -d $d ]]; do d=$(dirname "$d"); done
  case $d in
    / | /usr | /usr/bin | /usr/sbin | /bin | /sbin | /lib | /usr/lib | /etc | /var | /tmp | /run | /proc | /sys | /dev)
      echo "cannot stub $p: its first existing parent is $d" >&2
      exit 3 ;;
  esac
  parents[$d]=1
done
for d in "\${!parents[@]}"; do mount -t tmpfs tmpfs "$d"; done
for p in "$@"; do
  [[ -x $p ]] && continue
  mkdir -p "$(dirname "$p")"
  printf '#!/bin/sh\\nexit 0\\n' >"$p"
  chmod 0755 "$p"
done
cd "$units_dir"
systemd-analyze verify --man=no ./*
`;

// mount.glusterfs stand-in: accepts exactly the options glusterfs' mount helper parses
// (xlators/mount/fuse/utils/mount.glusterfs.in: with_options / without_options).
const MOUNT_GLUSTERFS = `#!/bin/bash
echo "HELPER $*"
[[ $3 == -o ]] || { echo "no options" >&2; exit 1; }
IFS=, read -ra opts <<<"$4"
for o in "\${opts[@]}"; do
  case $o in
    log-level=* | log-file=* | transport=* | direct-io-mode=* | volume-name=* | volume-id=* | volfile-check=* | server-port=* | \\
      attribute-timeout=* | entry-timeout=* | negative-timeout=* | gid-timeout=* | background-qlen=* | backup-volfile-servers=* | \\
      backupvolfile-server=* | fetch-attempts=* | congestion-threshold=* | xlator-option=* | fuse-mountopts=* | use-readdirp=* | \\
      no-root-squash=* | root-squash=* | ro | acl | selinux | worm | fopen-keep-cache | enable-ino32 | mem-accounting | \\
      aux-gfid-mount | rw | noauto | _netdev) ;;
    *) echo "Invalid option $o" >&2; exit 1 ;;
  esac
done
`;

const MOUNT = `set -Eeuo pipefail
fstab=$1 prefix=$2 target=$3 helper=$4
mount -t tmpfs tmpfs /usr/sbin
mount -t tmpfs tmpfs /run
cp "$helper" /usr/sbin/mount.glusterfs
chmod 0755 /usr/sbin/mount.glusterfs
mkdir -p "$prefix$target"
/usr/bin/mount -T "$fstab" --target-prefix "$prefix" "$target"
`;

let dir = '';
let envdump = '';
beforeAll(() => {
  for (const t of ['systemd-analyze', 'unshare', 'mount', 'cc']) requireTool(t);
  dir = scratch('systemd');
  const lib = ['/usr/lib/x86_64-linux-gnu/systemd', '/usr/lib/aarch64-linux-gnu/systemd', '/usr/lib/systemd', '/lib/systemd']
    .filter((d) => existsSync(d))
    .flatMap((d) =>
      readdirSync(d)
        .filter((n) => /^libsystemd-shared-.*\.so$/.test(n))
        .map((n) => ({ d, n })),
    )[0];
  if (!lib) throw new Error('libsystemd-shared-*.so not found (package systemd)');
  writeFileSync(join(dir, 'envdump.c'), ENVDUMP_C);
  envdump = join(dir, 'envdump');
  const r = run('cc', ['-o', envdump, join(dir, 'envdump.c'), `-L${lib.d}`, `-l:${lib.n}`, `-Wl,-rpath,${lib.d}`]);
  expect(r.status, r.stderr).toBe(0);
  writeFileSync(join(dir, 'verify.sh'), VERIFY);
  writeFileSync(join(dir, 'mount.sh'), MOUNT);
  writeFileSync(join(dir, 'mount.glusterfs'), MOUNT_GLUSTERFS, { mode: 0o755 });
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
// the other targets' daemons: their cached root, built (minutes, once, under a lock) when missing
beforeAll(() => void TARGET_OSES.forEach((os) => daemonRoot(os)), ROOT_BUILD_MS);

let seq = 0;
const fresh = (tag: string) => {
  const d = join(dir, `${tag}${++seq}`);
  mkdirSync(d, { recursive: true });
  return d;
};
const directives = (content: string, key: string) =>
  content
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));

/** systemd's parse of an EnvironmentFile. */
function loadEnv(content: string): Map<string, string> {
  const d = fresh('env');
  writeFileSync(join(d, 'x.env'), content);
  const r = run(envdump, [join(d, 'x.env')]);
  expect(r.status, r.stderr).toBe(0);
  return new Map(
    r.stdout
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

describe('systemd-analyze verify accepts every generated unit', () => {
  const units = Object.fromEntries(TARGET_OSES.map((os) => [os, 0])) as Record<TargetOs, number>;
  // every example for every target, judged by that release's systemd
  for (const [f, os] of EXAMPLE_FILES.flatMap((e) => TARGET_OSES.map((os) => [e, os] as const))) {
    it(`${f} [${os}]`, () => {
      const { model, files } = build(withTarget(readFileSync(join(EXAMPLES, f), 'utf8'), os));
      for (const c of model.controllers) {
        const mine = [...files.values()].filter((x) => x.path.startsWith(`${c.hostname}/`) && isMhcUnit(x.path));
        expect(mine.length).toBeGreaterThanOrEqual(4);
        const d = fresh('units');
        const exec = new Set<string>();
        for (const u of mine) {
          writeFileSync(join(d, u.path.slice(u.path.lastIndexOf('/') + 1)), u.content);
          for (const e of directives(u.content, 'ExecStart')) exec.add(e.replace(/^[-@:+!]+/, '').split(' ')[0]!);
        }
        const r = run('unshare', ['--mount', '--propagation', 'private', ...forTarget(os, ['bash', join(dir, 'verify.sh'), d, ...[...exec].sort()], [dir])], { timeoutMs: 60000 });
        expect(r.status, `${c.hostname}: ${r.stdout}${r.stderr}`).toBe(0);
        expect(`${r.stdout}${r.stderr}`, c.hostname).toBe('');
        units[os] += mine.length;
        for (const t of mine.filter((u) => u.path.endsWith('.timer'))) {
          for (const cal of directives(t.content, 'OnCalendar')) {
            const rc = runFor(os, 'systemd-analyze', ['calendar', cal], []);
            expect(rc.status, `${t.path}: OnCalendar=${cal}: ${rc.stderr}`).toBe(0);
          }
        }
      }
    });
  }
  afterAll(() => {
    for (const os of TARGET_OSES) expect(units[os], os).toBeGreaterThan(40);
    console.log(`systemd-analyze verify judged units: ${JSON.stringify(units)}`);
  });
});

describe('the status JSON writer', () => {
  it('is shellcheck-clean', () => {
    requireTool('shellcheck');
    const { files } = build(readFileSync(join(EXAMPLES, 'my_multihead_cluster.yaml'), 'utf8'));
    const d = fresh('sc');
    writeFileSync(join(d, 'mhc-status-json'), files.get('server1/files/usr/local/sbin/mhc-status-json')!.content);
    const r = run('shellcheck', ['--severity=style', join(d, 'mhc-status-json')]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});

describe("systemd's EnvironmentFile parser reads the web env files intact", () => {
  for (const f of EXAMPLE_FILES) {
    const text = readFileSync(join(EXAMPLES, f), 'utf8');
    if (!compileText(text).model.web) continue;
    it(f, () => {
      const { model, embed, files } = build(text);
      for (const m of model.web!.members) {
        for (const s of model.web!.services) {
          const content = files.get(`${m.hostname}/files/etc/mhc/web/${s.name}.env`)!.content;
          const env = loadEnv(content);
          expect(env.size).toBe(content.split('\n').filter((l) => l && !l.startsWith('#')).length);
          expect(env.get('JWT_SECRET')).toBe(embed[model.web!.jwtSecret.name]);
          expect(env.get('SESSION_SECRET')).toBe(embed[model.web!.sessionSecret.name]);
          if (model.redis) expect(env.get('REDIS_PASSWORD')).toBe(embed[model.redis.password.name]);
          expect(env.get('PORT')).toBe(String(s.port));
          expect(env.get('MHC_NODE')).toBe(m.hostname);
        }
      }
    });
  }
  it('every printable character, leading/trailing spaces, trailing backslash, $VAR, `cmd`, %', () => {
    const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
    const values = {
      JWT_SECRET: `  ${printable}  `,
      SESSION_SECRET: `a\\`,
      REDIS_PASSWORD: `\\"$HOME \${X} \`id\` %n %% \\\\n '"'`,
    };
    const { files } = build(readFileSync(join(EXAMPLES, 'my_multihead_cluster.yaml'), 'utf8'), values);
    const env = loadEnv(files.get('server1/files/etc/mhc/web/auth.env')!.content);
    for (const [k, v] of Object.entries(values)) expect(env.get(k), k).toBe(v);
  });
});

describe('the GlusterFS fstab entry', () => {
  for (const f of EXAMPLE_FILES) {
    const text = readFileSync(join(EXAMPLES, f), 'utf8');
    if (!compileText(text).model.gluster) continue;
    it(`${f}: systemd-fstab-generator and mount(8) with the glusterfs helper's option parser`, () => {
      const { model, files } = build(text);
      const g = model.gluster!;
      let n = 0;
      for (const c of model.controllers) {
        const e = files.get(`${c.hostname}/files/etc/mhc/fstab.d/glusterfs`);
        if (!e) continue;
        n++;
        const d = fresh('fstab');
        writeFileSync(join(d, 'fstab'), e.content);
        const out = join(d, 'gen');
        mkdirSync(out);
        const gen = '/usr/lib/systemd/system-generators/systemd-fstab-generator';
        const r = run(gen, [out, out, out], {
          env: {
            ...process.env,
            SYSTEMD_FSTAB: join(d, 'fstab'),
            SYSTEMD_LOG_LEVEL: 'warning',
          },
        });
        expect(r.status, r.stderr).toBe(0);
        const unitName = `${g.mountPoint.slice(1).replace(/\//g, '-')}.mount`;
        const unit = readFileSync(join(out, unitName), 'utf8');
        expect(unit).toMatch(new RegExp(`^What=[a-z0-9-]+:/${g.volumeName}$`, 'm'));
        expect(unit).toContain(`\nWhere=${g.mountPoint}\n`);
        expect(unit).toContain('\nType=glusterfs\n');
        if (c.services.includes('glusterfs')) expect(unit).toContain('\nAfter=glusterd.service\n');
        expect(existsSync(join(out, 'remote-fs.target.requires', unitName)), 'a network mount (_netdev)').toBe(true);
        const v = run('systemd-analyze', ['verify', '--man=no', join(out, unitName)]);
        expect(v.status, v.stdout + v.stderr).toBe(0);
        const m = run('unshare', ['--mount', '--propagation', 'private', 'bash', join(dir, 'mount.sh'), join(d, 'fstab'), join(d, 'root'), g.mountPoint, join(dir, 'mount.glusterfs')], {
          timeoutMs: 30000,
        });
        expect(m.status, m.stdout + m.stderr).toBe(0);
        const others = g.members.filter((x) => x.hostname !== c.hostname).map((x) => x.hostname);
        const backups = c.services.includes('glusterfs') ? others : others.slice(1);
        expect(m.stdout).toMatch(new RegExp(`^HELPER \\S+:/${g.volumeName} ${join(d, 'root')}${g.mountPoint} -o \\S*backup-volfile-servers=${backups.join(':')}(,|$)`, 'm'));
      }
      expect(n).toBeGreaterThanOrEqual(g.members.length);
    });
  }
});
