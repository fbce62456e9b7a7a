// Paths on the node that more than one emitter (or script) needs: one place, so a file and the
// script or check that reads it can never disagree. A path only one emitter knows stays there.

/** Where the start script installs the bundle's bin/ and lib/ on the node. */
export const MHC_HOME = '/opt/mhc';
export const BIN = `${MHC_HOME}/bin`;
/** The node's secrets (mode 0600); the scripts read values from it, the bundles hold names only. */
export const SECRETS_ENV = '/etc/mhc/secrets.env';
/** Lock files live here (under MHC_ROOT). */
export const LOCK_DIR = '/run/mhc';
export const SETUP_LOG = '/var/log/cluster_multihead_setup.log';
/** keepalived's health check: the health-check emitter writes it, keepalived.conf's vrrp_script runs it. */
export const CHECK_SCRIPT = '/usr/local/sbin/check_all_services.sh';
/**
 * "EPOCH REASON": until EPOCH the health check takes this node's slurmctld as healthy although it
 * does not answer: every slurmctld is stopped on purpose (a day-2 step), and keepalived moving the
 * VIP would only cut the database and Redis clients off too (seen in the deploy lab). The scripts
 * that stop slurmctld so write it, and remove it once slurmctld answers again.
 */
export const SLURMCTLD_HOLD = '/run/mhc/hold/slurmctld';
/** slurm.conf with this node as the only SlurmctldHost, for the health check's `scontrol ping` (the slurm emitter writes it). */
export const SLURMCTLD_PING_CONF = '/etc/mhc/health/slurmctld-ping.conf';
/** Debian's MariaDB server socket (50-server.cnf / my.cnf [client-server]; 60-galera.cnf does not move it). */
export const MARIADB_SOCKET = '/run/mysqld/mysqld.sock';
/** The cluster's host entries (the hosts emitter writes it), merged into /etc/hosts as one marked block by the start scripts. */
export const HOSTS_FILE = '/etc/mhc/hosts';
