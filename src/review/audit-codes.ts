// Every finding `mhc audit` can report. Codes are stable: auditors' reports, CI filters and
// tests depend on them. Add new codes; never renumber or reuse one. (Compiler diagnostics have
// their own registry, src/compiler/codes.ts.)
export type AuditSeverity = 'error' | 'warning' | 'info';

export const AUDIT_CODES = {
  // A0xx — the input itself
  A001: { severity: 'error', title: 'the cluster YAML does not compile' },
  A002: { severity: 'warning', title: 'compiler warning' },
  A003: { severity: 'info', title: 'a rule could not check this tree' },
  A004: {
    severity: 'error',
    title: 'incomplete tree: cluster.json or a manifest.json is missing or unreadable',
  },
  A005: { severity: 'warning', title: "the YAML's target differs from the target the built tree records" },
  // A1xx — quorum
  A101: { severity: 'error', title: 'two Galera nodes without an arbitrator' },
  A102: { severity: 'warning', title: 'even number of Galera nodes' },
  A103: { severity: 'error', title: 'two Redis Sentinels' },
  A104: { severity: 'warning', title: 'gluster replica 2 without an arbiter' },
  A105: { severity: 'error', title: 'Redis Cluster masters without replicas' },
  A106: {
    severity: 'error',
    title: 'Sentinel quorum larger than the number of Sentinels',
  },
  // A2xx — the virtual IP
  A201: {
    severity: 'error',
    title: 'VIP owner and keepalived priorities disagree',
  },
  A202: {
    severity: 'error',
    title: "VIP outside the keepalived controllers' subnet",
  },
  A203: { severity: 'error', title: 'no controller runs keepalived' },
  A204: {
    severity: 'warning',
    title: 'virtual_router_id left at a common default',
  },
  A205: {
    severity: 'info',
    title: 'virtual_router_id derived from the cluster name',
  },
  // A3xx — Slurm
  A301: { severity: 'error', title: 'slurm.conf differs between nodes' },
  A302: { severity: 'error', title: 'StateSaveLocation not on shared storage' },
  A303: {
    severity: 'error',
    title: 'Slurm accounting without a database node',
  },
  A304: { severity: 'error', title: 'munge key differs between nodes' },
  A305: { severity: 'error', title: 'configless: a compute bundle ships what slurmctld serves' },
  // A4xx — secrets
  A401: { severity: 'error', title: 'literal secret in the YAML' },
  A402: { severity: 'error', title: 'secret value embedded in a built tree' },
  A403: {
    severity: 'error',
    title: 'file holding a secret is readable by group or others',
  },
  A404: { severity: 'error', title: 'placeholder names no known secret' },
  // A5xx — files
  A501: { severity: 'error', title: "file mode or owner breaks mhc's rules" },
  A502: {
    severity: 'error',
    title: 'file mode on disk differs from the manifest',
  },
  A503: {
    severity: 'error',
    title: 'SHA256SUMS or manifest checksums do not match the files (tampering)',
  },
  A504: { severity: 'warning', title: 'tree built by another mhc version' },
  A505: { severity: 'error', title: 'symbolic link or special file in a tree' },
  A506: { severity: 'error', title: 'manifest entry path outside the bundle or malformed' },
  A507: { severity: 'error', title: 'manifest dest not a place mhc installs into' },
  A508: { severity: 'error', title: 'manifest mode malformed, setuid/setgid/sticky or world-writable' },
  A509: { severity: 'error', title: 'manifest owner or group not an account mhc installs files for' },
  // A6xx — network
  A601: { severity: 'info', title: 'ports this node must open' },
  A602: {
    severity: 'error',
    title: 'two services on one node use the same port',
  },
} as const satisfies Record<string, { severity: AuditSeverity; title: string }>;

export type AuditCode = keyof typeof AUDIT_CODES;
