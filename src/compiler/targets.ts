// The OS releases mhc generates for (YAML `target.os`), and what each one's daemons are: the
// Debian package versions, and the facts emitters choose by. normalize.ts puts the facts of the
// YAML's target into the Model once (model.target); emitters read those facts and never compare
// OS names. Each fact that differs between the releases cites its source beside it; the README's
// "Targets" table lists them all. Versions: the Debian packages of each release (packages.debian.org).
//
// Ubuntu is not a target: no Ubuntu release ships the daemon versions of a Debian one (Ubuntu
// 24.04 has Slurm 23.11 and nginx 1.24, Ubuntu 22.04 Slurm 21.08 and MariaDB 10.6), so an alias
// would claim facts nobody checked.

export const TARGET_OSES = ['debian12', 'debian13'] as const;
export type TargetOs = (typeof TARGET_OSES)[number];
export const DEFAULT_TARGET_OS: TargetOs = 'debian12';

export interface TargetFacts {
  os: TargetOs;
  /** the Debian release (debootstrap's suite name) */
  release: 'bookworm' | 'trixie';
  /** daemon versions (major.minor) of the release's packages */
  versions: { slurm: string; mariadb: string; galera: string; redis: string; keepalived: string; nginx: string; glusterfs: string };
  /**
   * nginx turns HTTP/2 on with its own `http2 on;` directive; the `listen … http2` parameter is
   * deprecated from 1.25.1 (nginx -t warns: the "listen ... http2" directive is deprecated).
   * Source: nginx ngx_http_v2_module docs ("http2" directive, appeared in 1.25.1) and CHANGES 1.25.1.
   */
  nginxHttp2Directive: boolean;
}

const FACTS: Readonly<Record<TargetOs, TargetFacts>> = {
  debian12: {
    os: 'debian12',
    release: 'bookworm',
    versions: { slurm: '22.05', mariadb: '10.11', galera: '26.4', redis: '7.0', keepalived: '2.2', nginx: '1.22', glusterfs: '10.3' },
    nginxHttp2Directive: false,
  },
  debian13: {
    os: 'debian13',
    release: 'trixie',
    versions: { slurm: '24.11', mariadb: '11.8', galera: '26.4', redis: '8.0', keepalived: '2.3', nginx: '1.26', glusterfs: '11.1' },
    nginxHttp2Directive: true,
  },
};

/** The facts of an OS release (a fresh copy: the Model freezes it). */
export function targetFacts(os: TargetOs): TargetFacts {
  return structuredClone(FACTS[os]);
}
