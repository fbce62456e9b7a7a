// Galera in the lab: SQL through the node's own socket, grastate.dat, --wsrep-recover, and the
// bootstrap decision of design.md ("Correctness rules" → Galera).
import type { Lab, Proc } from './harness.js';
import { until } from './harness.js';

export interface GraState {
  host: string;
  uuid: string;
  seqno: number;
  safeToBootstrap: boolean;
  /** seqno from `mariadbd --wsrep-recover`, when it was run */
  recovered?: number;
}

const ZERO_UUID = /^0{8}-0{4}-0{4}-0{4}-0{12}$/;

export function parseGrastate(host: string, text: string): GraState {
  const get = (k: string) => new RegExp(`^${k}:\\s*(\\S+)`, 'm').exec(text)?.[1];
  return {
    host,
    uuid: get('uuid') ?? '',
    seqno: Number(get('seqno') ?? '-1'),
    safeToBootstrap: get('safe_to_bootstrap') === '1',
  };
}

/**
 * The node to bootstrap after a full outage (design.md): the one whose grastate.dat says
 * safe_to_bootstrap: 1; else the one with the highest seqno recovered by --wsrep-recover (ties:
 * the first in ranked order). Never a node with seqno -1 or an all-zero uuid. Returns undefined
 * when recovered seqnos are needed but missing.
 */
export function chooseBootstrap(states: readonly GraState[], ranked: readonly string[]): { host: string; why: string } | 'recover' {
  const usable = states.filter((s) => s.uuid && !ZERO_UUID.test(s.uuid));
  const safe = usable.filter((s) => s.safeToBootstrap && s.seqno !== -1);
  if (safe.length === 1) return { host: safe[0]!.host, why: `safe_to_bootstrap: 1 (seqno ${safe[0]!.seqno})` };
  if (usable.some((s) => s.recovered === undefined)) return 'recover';
  const best = usable.filter((s) => s.recovered !== undefined && s.recovered >= 0).sort((a, b) => b.recovered! - a.recovered! || ranked.indexOf(a.host) - ranked.indexOf(b.host))[0];
  if (!best) throw new Error(`no node may bootstrap: ${JSON.stringify(states)}`);
  return { host: best.host, why: `highest recovered seqno ${best.recovered} (${usable.map((s) => `${s.host}=${s.recovered}`).join(', ')})` };
}

export class Galera {
  readonly procs = new Map<string, Proc>();
  constructor(
    private readonly lab: Lab,
    readonly members: readonly string[],
  ) {}

  sql(host: string, q: string, timeoutMs = 15_000): string {
    const r = this.lab.exec(host, ['mariadb', '-uroot', '-N', '-B', '-e', q], { timeoutMs });
    if (r.status !== 0) throw new Error(`SQL on ${host}: ${r.stderr.trim()} (${q.slice(0, 80)})`);
    return r.stdout.trim();
  }

  status(host: string, name: string): string {
    return this.sql(host, `SHOW GLOBAL STATUS LIKE '${name}'`).split('\t')[1] ?? '';
  }

  /** Debian's mariadb.service: User=mysql, RuntimeDirectory=mysqld; galera_new_cluster adds --wsrep-new-cluster. */
  start(host: string, bootstrap = false): Proc {
    this.lab.mkdir(host, '/run/mysqld', 'mysql', 0o755);
    const p = this.lab.start(host, 'mariadbd', ['mariadbd', ...(bootstrap ? ['--wsrep-new-cluster'] : [])], { user: 'mysql' });
    this.procs.set(host, p);
    return p;
  }

  async synced(host: string, timeoutMs = 180_000): Promise<void> {
    const p = this.procs.get(host)!;
    await until(
      `MariaDB on ${host} to be Synced`,
      timeoutMs,
      () => {
        if (!this.lab.alive(p)) throw new Error(`mariadbd on ${host} exited:\n${this.lab.tail(p)}`);
        try {
          return this.status(host, 'wsrep_local_state_comment') === 'Synced';
        } catch {
          return false;
        }
      },
      300,
    );
  }

  grastate(host: string): GraState {
    return parseGrastate(host, this.lab.must(host, 'cat /var/lib/mysql/grastate.dat'));
  }

  /** `mariadbd --wsrep-recover` as galera_recovery runs it: the position InnoDB last committed. */
  recover(host: string): number {
    const r = this.lab.exec(host, ['setpriv', '--reuid=mysql', '--regid=mysql', '--init-groups', '--', 'mariadbd', '--wsrep-recover'], { timeoutMs: 120_000 });
    const m = /WSREP: Recovered position: ([0-9a-f-]+):(-?\d+)/.exec(r.stdout + r.stderr);
    if (!m) throw new Error(`--wsrep-recover on ${host}: no position (exit ${r.status}):\n${(r.stdout + r.stderr).slice(-3000)}`);
    return Number(m[2]);
  }

  /** What galera_new_cluster needs on a node chosen by the highest recovered seqno. */
  markSafe(host: string): void {
    this.lab.must(host, `sed -i 's/^safe_to_bootstrap: 0$/safe_to_bootstrap: 1/' /var/lib/mysql/grastate.dat && grep -q '^safe_to_bootstrap: 1$' /var/lib/mysql/grastate.dat`);
  }
}

/** A value as a single-quoted SQL string literal (backslash and quote escaped). */
export const sqlString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
