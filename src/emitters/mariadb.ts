// MariaDB Galera: files/etc/mysql/mariadb.conf.d/60-galera.cnf on every controller running
// mariadb (replacing Debian's commented-out file of the same name), and, with an arbitrator in
// the YAML, the garbd configuration an operator copies to the arbitrator host.
import { render } from '../compiler/render.js';
import { placeholder } from '../compiler/secrets.js';
import { runs, type Model } from '../compiler/model.js';
import type { EmittedFile } from '../compiler/bundle.js';
import type { Emitter } from './emitter.js';
import { addresses as ips, service, type PortRule, type SettingRule } from './service.js';
import { MARIADB_SOCKET } from './paths.js';

type Galera = NonNullable<Model['galera']>;

export const GALERA_CNF = 'files/etc/mysql/mariadb.conf.d/60-galera.cnf';
export const GARB_CONF = 'files/etc/mhc/garbd/garb.conf';
/** Debian's galera-4 package installs the provider here. */
export const GALERA_PROVIDER = '/usr/lib/galera/libgalera_smm.so';
/** The user mariadbd runs as (Debian's mariadb.service: User=mysql). */
export const MYSQL_USER = 'mysql';

/** gcomm:// with every MariaDB node, in ranked order: the same string on every node, never empty. */
export function clusterAddress(g: Galera): string {
  return `gcomm://${g.members.map((m) => m.ip).join(',')}`;
}

/**
 * wsrep_provider_options: the gcache size from the YAML, and gcache.recover so a node restarted
 * after a full outage can still catch up by IST from its ring buffer instead of a full SST.
 */
export function providerOptions(g: Galera): string {
  return `gcache.size=${g.gcacheSize};gcache.recover=yes`;
}

export function galeraCnf(model: Model, g: Galera, node: { hostname: string; ip: string }): string {
  return render('mariadb/etc/mysql/mariadb.conf.d/60-galera.cnf', {
    hostname: node.hostname,
    port: g.port,
    bufferPool: g.innodbBufferPoolSize ?? '',
    // Slurm's accounting guide recommends 900 s for slurmdbd's big rollup transactions
    lockWaitTimeout: model.slurm?.accounting ? 900 : 0,
    provider: GALERA_PROVIDER,
    clusterName: g.clusterName,
    clusterAddress: clusterAddress(g),
    nodeAddress: node.ip,
    nodeName: node.hostname,
    providerOptions: providerOptions(g),
    slaveThreads: g.slaveThreads,
    sstMethod: g.sstMethod,
    sstUser: g.sstUser,
    // inside "…": MariaDB's option-file reader strips the quotes and undoes \\ and \" (mysys
    // my_default.c), and a # inside quotes is no comment — so any printable value reads back exactly
    sstAuth: g.sstMethod === 'mariabackup' ? placeholder(g.sstPassword.name, 'dq') : '',
  });
}

export function garbConf(g: Galera, arb: { hostname: string; ip: string }): string {
  return render('mariadb/etc/mhc/garbd/garb.conf', {
    clusterName: g.clusterName,
    members: g.members.length === 1 ? 'one MariaDB node' : `${g.members.length} MariaDB nodes`,
    arbHostname: arb.hostname,
    arbIp: arb.ip,
    // garb-systemd turns the spaces into commas: -a gcomm://ip1,ip2
    nodes: g.members.map((m) => m.ip).join(' '),
  });
}

/** Galera's own ports between the MariaDB nodes (and garbd): group communication, IST, SST. */
export const GALERA_GROUP_PORT = 4567;
export const GALERA_IST_PORT = 4568;
export const GALERA_SST_PORT = 4444;

const SET_GLOBAL = 'MariaDB: a dynamic variable: SET GLOBAL on each member as well as the file (no restart)';
const READ_ONLY = 'MariaDB: read only while mariadbd runs: a rolling restart, one member at a time, each back in Synced before the next';
/**
 * What a change to each setting mhc writes in 60-galera.cnf needs on a running member. `dynamic`:
 * MariaDB 10.11's information_schema.SYSTEM_VARIABLES.READ_ONLY is NO (test/daemons/mariadb.test.ts
 * asks the real server); where mhc is stricter than the server, the rule says why.
 */
export const GALERA_SETTINGS: Readonly<Record<string, SettingRule>> = {
  'bind-address': { action: 'restart', dynamic: false, rule: READ_ONLY },
  port: { action: 'restart', dynamic: false, rule: READ_ONLY },
  binlog_format: { action: 'runtime', dynamic: true, rule: SET_GLOBAL },
  default_storage_engine: { action: 'runtime', dynamic: true, rule: SET_GLOBAL },
  innodb_autoinc_lock_mode: { action: 'restart', dynamic: false, rule: READ_ONLY },
  innodb_buffer_pool_size: { action: 'runtime', dynamic: true, rule: `${SET_GLOBAL}; InnoDB resizes the pool online, in chunks` },
  innodb_lock_wait_timeout: { action: 'runtime', dynamic: true, rule: SET_GLOBAL },
  wsrep_on: { action: 'restart', dynamic: true, rule: 'mhc: wsrep_on is dynamic, but switching replication off under a running member is never a configuration change; a rolling restart' },
  wsrep_provider: { action: 'restart', dynamic: false, rule: READ_ONLY },
  wsrep_cluster_name: {
    action: 'restart',
    dynamic: true,
    rule: 'Galera: members with another cluster name refuse each other: every member at once (a whole-cluster stop, then a bootstrap from the safe member)',
  },
  wsrep_cluster_address: {
    action: 'none',
    dynamic: true,
    rule: 'MariaDB: a SET GLOBAL wsrep_cluster_address reconnects the member to the group: the file only, read at the next start',
  },
  wsrep_node_address: { action: 'restart', dynamic: true, rule: "mhc: the member's own address is its membership: it rejoins under the new one (a rolling restart)" },
  wsrep_node_name: { action: 'runtime', dynamic: true, rule: SET_GLOBAL },
  wsrep_provider_options: {
    action: 'restart',
    dynamic: true,
    rule: 'Galera: only some provider options change at run time (gcache.size does not): mhc restarts, one member at a time',
  },
  wsrep_slave_threads: { action: 'runtime', dynamic: true, rule: SET_GLOBAL },
  wsrep_sst_method: { action: 'runtime', dynamic: true, rule: SET_GLOBAL },
  wsrep_sst_auth: { action: 'runtime', dynamic: true, rule: `${SET_GLOBAL}; the SST user's password changes by ALTER USER once (it replicates)` },
};

export const mariadbService = service({
  key: 'mariadb',
  label: 'MariaDB Galera',
  aliases: ['database', 'galera'],
  phase: 'database',
  day2: {
    disruption: {
      restart:
        'this member leaves the group and rejoins by IST (an SST when gcache no longer covers its gap); the others keep serving; on the node holding the VIP, the VIP moves to the next node first and back after (clients of the VIP reconnect twice)',
      runtime: 'none: SET GLOBAL on the running member',
    },
    gates: ['Galera: every member Synced, one Primary component of all of them'],
    controllerMembership: {
      rule: "Galera: a node joins by starting with a wsrep_cluster_address that names a member (state transfer: SST, as it has no data); a node leaves by a clean shutdown, and the component shrinks without losing quorum; the members' wsrep_cluster_address changes in the file only",
      join: 'the new member starts and receives a full state transfer (SST, mariabackup or rsync) from a donor; the donor keeps serving (mariabackup) and the group counts one member more once it is Synced',
      leave: 'the member stops cleanly (the last step, stop_multihead.sh there): the Primary component shrinks by one without a vote',
    },
  },
  here: (_model, node) => runs(node, 'mariadb'),
  packages: (model) => (model.galera ? ['mariadb-server', 'mariadb-client', 'galera-4', model.galera.sstMethod === 'mariabackup' ? 'mariadb-backup' : 'rsync'] : []),
  units: () => ['mariadb.service'],
  configDirs: ['/etc/mysql'],
  ports(model, node): PortRule[] {
    const g = model.galera;
    if (!g || !runs(node, 'mariadb')) return [];
    const others = ips(g.members.filter((m) => m.hostname !== node.hostname));
    const peers = `${others}${g.arbitrator ? `, ${g.arbitrator.ip} (garbd)` : ''}`;
    return [
      { proto: 'tcp', ports: `${g.port}`, service: 'MariaDB clients (slurmdbd, web apps; through the VIP)', from: ips(model.controllers) },
      { proto: 'tcp', ports: `${GALERA_GROUP_PORT}`, service: 'Galera group communication', from: peers },
      { proto: 'udp', ports: `${GALERA_GROUP_PORT}`, service: 'Galera group communication (UDP: only with multicast replication)', from: peers },
      { proto: 'tcp', ports: `${GALERA_IST_PORT}`, service: 'Galera IST (incremental state transfer)', from: others },
      { proto: 'tcp', ports: `${GALERA_SST_PORT}`, service: `Galera SST (${g.sstMethod})`, from: others },
    ];
  },
  // a Donor keeps serving with mariabackup (non-blocking); rsync SST locks the donor's tables
  checks: (model, node) =>
    model.galera && runs(node, 'mariadb') ? [{ name: 'mariadb', service: 'mariadb', fn: 'check_mariadb', args: [MARIADB_SOCKET, model.galera.sstMethod === 'mariabackup' ? '1' : '0'] }] : [],
  backupItems: [{ name: 'mariadb', here: (_model, node) => runs(node, 'mariadb') }],
  change: (dest) =>
    dest === GARB_CONF.slice('files'.length)
      ? { action: 'none', rule: 'mhc: a copy for the arbitrator host, which no bundle installs (its operator copies it to /etc/default/garb and restarts garbd there)' }
      : { action: 'restart', rule: 'MariaDB: wsrep_* and [mysqld] options in 60-galera.cnf are read when mariadbd starts; restart one node at a time, each back in Synced before the next' },
  // the file's rule is the strictest of its settings'; a plan reads the setting's own
  settings: (dest) => (dest === GALERA_CNF.slice('files'.length) ? GALERA_SETTINGS : undefined),
});

export const mariadb: Emitter = {
  name: 'mariadb',
  service: mariadbService,
  emit(model, target) {
    const g = model.galera;
    if (!g || target.kind !== 'controller' || !runs(target.node, 'mariadb')) return [];
    // The file holds the SST secret, so it is 0600 (files with secrets are masked to 0700):
    // only its owner can read it, and that must be mysql, the user mariadbd reads it as.
    const out: EmittedFile[] = [
      {
        path: GALERA_CNF,
        content: galeraCnf(model, g, target.node),
        mode: 0o600,
        owner: MYSQL_USER,
        group: MYSQL_USER,
      },
    ];
    if (g.arbitrator) out.push({ path: GARB_CONF, content: garbConf(g, g.arbitrator) });
    return out;
  },
};
