// Real daemons judge backup.sh, restore.sh and status_multihead.sh. In a network namespace of its
// own, each scenario starts MariaDB (the node's generated 60-galera.cnf, a one-node Galera
// cluster; root logs in with the AWKWARD password only) and the node's Redis instances (+
// Sentinel) from their installed files (requirepass = the AWKWARD value), writes 1000 rows in two
// databases and 500 keys, runs backup.sh, drops a database and FLUSHALLs, runs
// `restore.sh --latest --auto-confirm` and counts again: every row and key is back. Then
// status_multihead.sh --format json reports the daemons, and a stopped Redis as stopped; a
// snapshot file changed after the backup makes restore.sh refuse, naming it.
// The scripts reach the daemons through their normal configuration only: the MariaDB socket
// under MHC_ROOT (/run/mysqld/mysqld.sock), the root password from MHC_ROOT/etc/mhc/secrets.env,
// the Redis port from the bundle and its password from the installed redis.conf. systemd is not
// PID 1 here: a systemctl on PATH (backup-restore-systemctl.sh) plays it for the scratch daemons.
// Scenarios: a small one-node YAML on 127.0.0.2 (exact figures and states), and every example's
// first node that runs both MariaDB and Redis (its address exists only inside the namespace).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { AWKWARD, buildText, compileText, EXAMPLES, ROOT } from '../helpers.js';
import { requireTool, run, scratch } from './tools.js';
import { formatSecretsEnv, refusal } from '../../src/compiler/secrets.js';
import { runs, type Model } from '../../src/compiler/model.js';

const LAB = join(ROOT, 'test', 'daemons', 'backup-restore-lab.sh');
const SYSTEMCTL = join(ROOT, 'test', 'daemons', 'backup-restore-systemctl.sh');
const EXAMPLE_FILES = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const FALLBACK = `x'"\\&$ #/y`;

const SMALL = `cluster:
  name: opsdemo
controllers:
  - hostname: db1
    ip: 127.0.0.2
    services: { mariadb: true, redis: true }
database:
  password: \${DB_ROOT_PASSWORD}
  mariadb:
    databases: [app_one, app_two]
redis:
  password: \${REDIS_PASSWORD}
  port: 16379
backup:
  backup_dir: /var/backups/cluster
  retention_days: 7
`;

interface Figures {
  rows: [number, number, number];
  keys: [number, number, number];
}
const FIGURES: Record<string, Figures> = {};

function embedFor(model: Model): Record<string, string> {
  return Object.fromEntries(
    model.secrets.map((s) => {
      const v = (AWKWARD as Record<string, string>)[s.name] ?? FALLBACK;
      return [s.name, refusal(s, v) ? 'Plain-value-1' : v];
    }),
  );
}

class Lab {
  readonly s: string;
  readonly ns = `mhc-t-${randomBytes(4).toString('hex')}`;
  readonly bundle: string;
  up = false;
  constructor(
    readonly text: string,
    readonly node: string,
  ) {
    this.s = scratch('bkp');
    chmodSync(this.s, 0o755);
    this.bundle = join(this.s, 'bundle');
  }

  install(): { model: Model; embed: Record<string, string> } {
    const model = compileText(this.text).model;
    const embed = embedFor(model);
    const files = buildText(this.text, { embed });
    const root = join(this.s, 'root');
    for (const [p, f] of files) {
      if (!p.startsWith(`${this.node}/`)) continue;
      const rel = p.slice(this.node.length + 1);
      const inBundle = join(this.bundle, rel);
      mkdirSync(dirname(inBundle), { recursive: true });
      writeFileSync(inBundle, f.content, { mode: f.mode });
      if (rel.startsWith('files/')) {
        // as the start script installs them: run-time seeds without their suffix
        const dest = join(root, rel.slice('files/'.length).replace(/\.seed$/, ''));
        mkdirSync(dirname(dest), { recursive: true });
        writeFileSync(dest, f.content, { mode: f.mode });
      }
    }
    mkdirSync(join(root, 'etc', 'mhc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'mhc', 'secrets.env'), formatSecretsEnv(model.secrets, new Map(Object.entries(embed))), { mode: 0o600 });
    mkdirSync(join(this.s, 'run'), { recursive: true });
    mkdirSync(join(this.s, 'stubs'), { recursive: true });
    writeFileSync(join(this.s, 'run', 'dbpw'), embed[model.galera!.rootPassword.name]!);
    writeFileSync(join(this.s, 'run', 'redispw'), embed[model.redis!.password.name]!);
    copyFileSync(LAB, join(this.s, 'lab.sh'));
    writeFileSync(join(this.s, 'stubs', 'systemctl'), readFileSync(SYSTEMCTL, 'utf8').replace('@S@', this.s).replace('@NS@', this.ns), { mode: 0o755 });
    return { model, embed };
  }

  lab(args: string[], timeoutMs = 60000): string {
    const r = run('bash', [join(this.s, 'lab.sh'), this.s, this.ns, ...args], {
      timeoutMs,
    });
    if (r.status !== 0) throw new Error(`lab ${args[0]} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout.trim();
  }

  /** A generated script of the bundle, inside the namespace, with MHC_ROOT and the systemctl stub. */
  script(name: string, args: string[], timeoutMs = 120000): { status: number | null; stdout: string; stderr: string } {
    return run(
      'ip',
      ['netns', 'exec', this.ns, 'env', `MHC_ROOT=${join(this.s, 'root')}`, `PATH=${join(this.s, 'stubs')}:${process.env.PATH}`, 'NO_COLOR=1', 'bash', join(this.bundle, 'bin', name), ...args],
      {
        timeoutMs,
      },
    );
  }

  down(): void {
    if (this.up)
      run('bash', [join(this.s, 'lab.sh'), this.s, this.ns, 'down'], {
        timeoutMs: 120000,
      });
    this.up = false;
    rmSync(this.s, { recursive: true, force: true });
  }
}

function countRows(lab: Lab): number {
  const one = Number(lab.lab(['sql', 'SELECT COUNT(*) FROM app_one.t']));
  const hasTwo = lab.lab(['sql', "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'app_two' AND table_name = 't'"]) === '1';
  return one + (hasTwo ? Number(lab.lab(['sql', 'SELECT COUNT(*) FROM app_two.t'])) : 0);
}
const countKeys = (lab: Lab): number => Number(lab.lab(['rcli', 'dbsize']));

function statusJson(lab: Lab): {
  code: number | null;
  json: {
    services: Record<string, string>;
    overall: string;
    details: Record<string, Record<string, string>>;
  };
} {
  const r = lab.script('status_multihead.sh', ['--format', 'json'], 60000);
  expect(r.stderr).not.toMatch(/error: line/);
  return { code: r.status, json: JSON.parse(r.stdout) };
}

/** The whole scenario; returns the figures (rows and keys: before, after the drop, after the restore). */
function scenario(lab: Lab, opts: { items?: string; exact: boolean }): Figures {
  const { model } = lab.install();
  const node = model.controllers.find((c) => c.hostname === lab.node)!;
  lab.up = true;
  lab.lab(['up', node.ip], 180000);

  // data: 600 + 400 rows in two databases, 500 keys
  lab.lab([
    'sql',
    "CREATE DATABASE app_one; CREATE DATABASE app_two; CREATE TABLE app_one.t (id INT PRIMARY KEY, v VARCHAR(40)); CREATE TABLE app_two.t (id INT PRIMARY KEY, v VARCHAR(40)); USE app_one; INSERT INTO app_one.t SELECT seq, CONCAT('one-', seq) FROM seq_1_to_600; INSERT INTO app_two.t SELECT seq, CONCAT('two ''&\" $x #', seq) FROM seq_1_to_400;",
  ]);
  const sets = Array.from({ length: 500 }, (_, i) => `SET key:${i} "value ${i} & \\"q\\""`).join('\n');
  writeFileSync(join(lab.s, 'run', 'sets.txt'), `${sets}\n`);
  const r0 = run('bash', ['-c', `bash "$0" "$1" "$2" rcli < "$1/run/sets.txt" >/dev/null`, join(lab.s, 'lab.sh'), lab.s, lab.ns], { timeoutMs: 60000 });
  expect(r0.status, r0.stderr).toBe(0);
  const before: [number, number] = [countRows(lab), countKeys(lab)];

  // backup
  const b = lab.script('backup.sh', opts.items ? ['--items', opts.items] : []);
  expect(b.status, `${b.stdout}\n${b.stderr}`).toBe(0);
  const backups = join(lab.s, 'root', 'var', 'backups', 'cluster');
  const latest = readFileSync(join(backups, 'latest', 'metadata.json'), 'utf8');
  const meta = JSON.parse(latest) as {
    id: string;
    complete: boolean;
    items: string[];
    files: { path: string; bytes: number; sha256: string }[];
  };
  expect(meta.complete).toBe(true);
  expect(meta.items).toEqual(expect.arrayContaining(['configs', 'mariadb', 'redis']));
  for (const f of meta.files) {
    const data = readFileSync(join(backups, 'snapshots', meta.id, f.path));
    expect(data.length, f.path).toBe(f.bytes);
    expect(createHash('sha256').update(data).digest('hex'), f.path).toBe(f.sha256);
  }
  expect(meta.files.map((f) => f.path)).toEqual(expect.arrayContaining(['configs.tar.gz', 'mariadb/dump.sql.gz', `redis/${model.redis!.port}.rdb`]));
  // the secrets never reach a log
  const log = readFileSync(join(lab.s, 'root', 'var', 'log', 'cluster_multihead_backup.log'), 'utf8');
  expect(log).not.toContain(readFileSync(join(lab.s, 'run', 'dbpw'), 'utf8'));
  expect(log).not.toContain(readFileSync(join(lab.s, 'run', 'redispw'), 'utf8'));

  // disaster
  lab.lab(['sql', 'DROP DATABASE app_two']);
  lab.lab(['rcli', 'flushall']);
  const dropped: [number, number] = [countRows(lab), countKeys(lab)];

  // restore (a second later: the safety snapshot gets its own id)
  const rs = lab.script('restore.sh', ['--latest', '--auto-confirm', ...(opts.items ? ['--items', opts.items] : [])]);
  expect(rs.status, `${rs.stdout}\n${rs.stderr}`).toBe(0);
  expect(rs.stdout).toMatch(/every checksum verified/);
  expect(rs.stdout).toMatch(/snapshot \d{8}_\d{6} \(pre-restore\)/);
  const after: [number, number] = [countRows(lab), countKeys(lab)];
  expect(lab.lab(['sql', 'SELECT v FROM app_two.t WHERE id = 7'])).toBe(`two '&" $x #7`);
  expect(lab.lab(['rcli', 'get', 'key:7'])).toBe('value 7 & "q"');
  // the restore stopped and started each Redis instance through systemctl
  const calls = readFileSync(join(lab.s, 'run', 'systemctl.log'), 'utf8');
  expect(calls).toMatch(/^stop redis-server@mhc(-\d+)?\.service$/m);
  expect(calls).toMatch(/^start redis-server@mhc(-\d+)?\.service$/m);

  // status: the daemons are up
  let st = statusJson(lab);
  if (opts.exact) {
    expect(st.json.services).toEqual({ mariadb: 'running', redis: 'running' });
    expect(st.json.overall).toBe('healthy');
    expect(st.code).toBe(0);
  } else {
    expect(st.json.services.mariadb).not.toBe('stopped');
    expect(st.json.services.redis).not.toBe('stopped');
  }
  expect(st.json.details.mariadb!.answers).toBe('yes');
  // stop Redis: reported stopped, MariaDB still up
  for (const name of lab.lab(['instances']).split('\n')) lab.lab(['redis-stop', name]);
  st = statusJson(lab);
  expect(st.json.services.redis).toBe('stopped');
  expect(st.json.services.mariadb).toBe(opts.exact ? 'running' : st.json.services.mariadb);
  expect(st.json.services.mariadb).not.toBe('stopped');
  expect(st.code).toBe(opts.exact ? 1 : st.code);
  expect([1, 2]).toContain(st.code);

  return {
    rows: [before[0], dropped[0], after[0]],
    keys: [before[1], dropped[1], after[1]],
  };
}

beforeAll(() => {
  for (const t of ['mariadbd', 'mariadb', 'mariadb-dump', 'mariadb-install-db', 'redis-server', 'redis-cli', 'ip', 'gzip', 'tar', 'sha256sum', 'setsid']) requireTool(t);
});
afterAll(() => {
  // the figures for the report (rows and keys: before, after drop/flush, after restore)
  for (const [k, f] of Object.entries(FIGURES)) console.log(`backup/restore ${k}: rows ${f.rows.join(' → ')}, keys ${f.keys.join(' → ')}`);
});

describe('backup.sh / restore.sh / status_multihead.sh against real MariaDB and Redis', () => {
  it('a one-node cluster on 127.0.0.2: every row and key comes back; status follows the daemons; a changed file is refused', () => {
    const lab = new Lab(SMALL, 'db1');
    try {
      const f = scenario(lab, { exact: true });
      FIGURES['small (db1)'] = f;
      expect(f).toEqual({ rows: [1000, 600, 1000], keys: [500, 0, 500] });

      // a snapshot file changed after the backup: refused, the file named, nothing restored
      const backups = join(lab.s, 'root', 'var', 'backups', 'cluster');
      const id = JSON.parse(readFileSync(join(backups, 'latest', 'metadata.json'), 'utf8')).id as string;
      const dump = join(backups, 'snapshots', id, 'mariadb', 'dump.sql.gz');
      writeFileSync(dump, Buffer.concat([readFileSync(dump), Buffer.from('x')]));
      lab.lab(['sql', 'DROP DATABASE app_two']);
      const r = lab.script('restore.sh', ['--latest', '--auto-confirm']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/mariadb\/dump\.sql\.gz/);
      expect(r.stderr).toMatch(/refusing to restore/);
      expect(countRows(lab)).toBe(600);

      // a hostile dump (a snapshot from shared storage, its checksums made to match): the real
      // client's --sandbox refuses the shell escape; it never runs as root
      const pwned = join(lab.s, `pwned-${randomBytes(4).toString('hex')}`);
      const hostile = Buffer.from(`CREATE DATABASE IF NOT EXISTS app_two;\n\\! touch ${pwned}\n`);
      const gz = gzipSync(hostile);
      writeFileSync(dump, gz);
      const meta = join(backups, 'snapshots', id, 'metadata.json');
      writeFileSync(
        meta,
        readFileSync(meta, 'utf8').replace(/^( {4}\{"path": "mariadb\/dump\.sql\.gz", "bytes": )\d+(, "sha256": ")[0-9a-f]{64}/m, `$1${gz.length}$2${createHash('sha256').update(gz).digest('hex')}`),
      );
      const h = lab.script('restore.sh', ['--id', id, '--auto-confirm', '--items', 'mariadb']);
      expect(h.status, `${h.stdout}\n${h.stderr}`).toBe(1);
      expect(h.stderr).toMatch(/mariadb: replaying the dump failed: .*sandbox/i);
      expect(existsSync(pwned)).toBe(false);
    } finally {
      lab.down();
    }
  }, 600000);

  for (const ex of EXAMPLE_FILES) {
    const text = readFileSync(join(EXAMPLES, ex), 'utf8');
    const model = compileText(text).model;
    const node = model.galera && model.redis ? model.controllers.find((c) => runs(c, 'mariadb') && runs(c, 'redis')) : undefined;
    if (!node) continue;
    it(`${ex}: ${node.hostname} (items configs, mariadb, redis)`, () => {
      const lab = new Lab(text, node.hostname);
      try {
        const f = scenario(lab, {
          items: 'configs,mariadb,redis',
          exact: false,
        });
        FIGURES[`${ex} (${node.hostname})`] = f;
        expect(f).toEqual({ rows: [1000, 600, 1000], keys: [500, 0, 500] });
      } finally {
        lab.down();
      }
    }, 600000);
  }
});
