// MariaDB Galera: files/etc/mysql/mariadb.conf.d/60-galera.cnf on every controller running
// mariadb (replacing Debian's commented-out file of the same name), and, with an arbitrator in
// the YAML, the garbd configuration an operator copies to the arbitrator host.
import { render } from '../compiler/render.js';
import { placeholder } from '../compiler/secrets.js';
import { runs, type Model } from '../compiler/model.js';
import type { EmittedFile } from '../compiler/bundle.js';
import type { Emitter } from './emitter.js';

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
  return render('mariadb/galera.cnf', {
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
  return render('mariadb/garb.conf', {
    clusterName: g.clusterName,
    members: g.members.length === 1 ? 'one MariaDB node' : `${g.members.length} MariaDB nodes`,
    arbHostname: arb.hostname,
    arbIp: arb.ip,
    // garb-systemd turns the spaces into commas: -a gcomm://ip1,ip2
    nodes: g.members.map((m) => m.ip).join(' '),
  });
}

export const mariadb: Emitter = {
  name: 'mariadb',
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
