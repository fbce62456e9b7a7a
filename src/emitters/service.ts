// A service's descriptor: everything mhc knows about one service besides its file contents, owned
// by the service's emitter (src/emitters/<svc>.ts) next to the files it writes. The registry
// (services.ts) lists them in phase order; lib/facts.sh, the start/stop/status scripts, the
// backup items, the package list, the health check, the port table (`mhc audit` A601, `mhc
// report`) and the manifest's per-file change action all read them. Pure data and functions of
// the Model.
import type { Controller, Model } from '../compiler/model.js';

/**
 * What a change to an installed file needs on a running node, weakest first:
 * - none: nothing (a script or plan read afresh at each use, or a file only mhc's scripts read);
 * - reload: the daemon re-reads it on `systemctl reload` (SIGHUP), without dropping a client;
 * - runtime: a command tells the running daemon (e.g. `scontrol reconfigure`);
 * - restart: the daemon reads it only when it starts.
 */
export type ChangeAction = 'none' | 'reload' | 'runtime' | 'restart';
export const CHANGE_ACTIONS: readonly ChangeAction[] = ['none', 'reload', 'runtime', 'restart'];

/** The action a change to one file needs, and whose rule that is (a man page, the daemon's documentation, or mhc's own). */
export interface ChangeRule {
  readonly action: ChangeAction;
  readonly rule: string;
}

/**
 * What a change to one setting of a file needs, where that is finer than the file's ChangeRule
 * (a day-2 plan decides per changed setting): `dynamic` is the daemon's own word on the setting
 * (MariaDB: information_schema.SYSTEM_VARIABLES.READ_ONLY = NO), checked against the real daemon
 * by its test in test/daemons/; `action` is what mhc does, stricter than `dynamic` where `rule` says why.
 */
export interface SettingRule extends ChangeRule {
  readonly dynamic: boolean;
}

/** One firewall rule a node needs for a service. */
export interface PortRule {
  /** 'vrrp' is IP protocol 112, not a port */
  readonly proto: 'tcp' | 'udp' | 'vrrp';
  /** "3306", "6379-6380"; "" for vrrp; "ephemeral" for a range the OS picks */
  readonly ports: string;
  readonly service: string;
  /** who connects: addresses or a description */
  readonly from: string;
}

/** A PortRule's `from`: the addresses of `xs`, comma-separated, or "(none)". */
export const addresses = (xs: readonly { ip: string }[]): string => xs.map((x) => x.ip).join(', ') || '(none)';

/** One check of the health check keepalived runs: its name (`service` or `service:what`), the bash function and its arguments. */
export interface Check {
  readonly name: string;
  readonly service: string;
  readonly fn: 'check_mariadb' | 'check_redis' | 'check_slurmctld' | 'check_mount' | 'check_http';
  readonly args: readonly string[];
}

/** A backup item of a service: what backup.sh/restore.sh call it, and whether this node has it. */
export interface BackupItem {
  readonly name: string;
  here(model: Model, node: Controller): boolean;
}

export interface ServiceDescriptor {
  /** the key in the YAML's `services:`, the Model, lib/facts.sh and the scripts' --service */
  readonly key: string;
  /** its human name in the scripts' output */
  readonly label: string;
  /** other names the scripts accept for it (--service, status FILTER) */
  readonly aliases: readonly string[];
  /** the name of start_multihead.sh's phase that sets it up (its number is its place in the registry) */
  readonly phase: string;
  /** does its phase concern this node (it runs here, or the node needs a part of it) */
  here(model: Model, node: Controller): boolean;
  /** Debian packages it needs on this node, when here */
  packages(model: Model, node: Controller): readonly string[];
  /** its systemd units on this node, in start order (reverse to stop) */
  units(model: Model, node: Controller): readonly string[];
  /** configuration directories a backup's "configs" item keeps when it runs here */
  readonly configDirs: readonly string[];
  /** the ports this node must open for it */
  ports(model: Model, node: Controller): readonly PortRule[];
  /** the health check's checks for it on this node */
  checks(model: Model, node: Controller): readonly Check[];
  /** its backup items, in backup order */
  readonly backupItems: readonly BackupItem[];
  /** what a change to each installed file (absolute path on the node) its emitter writes needs */
  change(dest: string): ChangeRule;
  /** for a day-2 plan: what each kind of change disrupts, and what must hold before (and after) a node's step */
  readonly day2?: {
    readonly disruption: Partial<Record<ChangeAction, string>>;
    readonly gates: readonly string[];
    /** compute nodes added or removed: the rule, and what it disrupts on a controller and on a compute node */
    readonly computeMembership?: { readonly rule: string; readonly controller: string; readonly compute: string; readonly gates: readonly string[] };
    /**
     * a controller added or removed: the rule, what the new node's join disrupts, and (on the plan's
     * last controller, for a node removed) what its leave does; a service without it joins by its
     * start_multihead.sh phase and leaves by stop_multihead.sh
     */
    /** `reconciles`: its phase, run with --membership on the last controller, takes a node leaving out of the service */
    readonly controllerMembership?: { readonly rule: string; readonly join: string; readonly leave?: string; readonly reconciles?: boolean };
    /**
     * a restart of it on the node holding the VIP keeps the VIP there (else keepalived stops there
     * first, so the VIP moves at once rather than when the health check fails)
     */
    readonly keepsVip?: boolean;
  };
  /** day 2: the units a reload reaches on this node (`systemctl reload`), when a change only needs one */
  reloadUnits(model: Model, node: Controller): readonly string[];
  /**
   * day 2: commands that judge its new files before a daemon reads them (bash words; run as root).
   * With `dest`, the file's path is appended (a staged copy under --dry-run); without, the command
   * checks the installed tree (so only after the new files are in).
   */
  readonly validate: readonly { readonly argv: readonly string[]; readonly dest?: string }[];
  /** for a file whose settings change apart (its key → rule), the rules of every key mhc writes there; undefined: the file's rule */
  settings(dest: string): Readonly<Record<string, SettingRule>> | undefined;
}

/** A descriptor with the parts a service lacks left empty. */
export function service(d: Pick<ServiceDescriptor, 'key' | 'label' | 'phase' | 'here' | 'change'> & Partial<ServiceDescriptor>): ServiceDescriptor {
  return {
    aliases: [],
    packages: () => [],
    units: () => [],
    configDirs: [],
    ports: () => [],
    checks: () => [],
    backupItems: [],
    settings: () => undefined,
    reloadUnits: () => [],
    validate: [],
    ...d,
  };
}

/** Changes to files only mhc's scripts read: nothing to do on a running node (the next run of a script reads them). */
export const SCRIPT_RULE: ChangeRule = { action: 'none', rule: "mhc: read afresh by mhc's scripts at each run" };

/** A systemd unit or drop-in: `systemctl daemon-reload`, then a restart of the unit (systemd.unit(5)). */
export const UNIT_RULE: ChangeRule = { action: 'restart', rule: 'systemd.unit(5): a changed unit file takes effect after systemctl daemon-reload and a restart of the unit' };

/** `path` is a systemd unit or drop-in. */
export const isUnitFile = (dest: string): boolean => dest.startsWith('/etc/systemd/system/');
