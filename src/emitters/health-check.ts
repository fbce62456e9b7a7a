// The health check keepalived's vrrp_script runs on every controller:
// files/usr/local/sbin/check_all_services.sh checks exactly the services enabled on the node
// (keepalived, its caller, excepted), all in parallel, each command under `timeout`, the whole
// script bounded by a deadline; exit 0 only when every check passed. What to check comes from the
// services' descriptors (Check); Slurm's uses the slurm emitter's slurmctld-ping.conf.
//
// Every check asks this node only — never the VIP, never a peer: a check that needed the VIP
// (e.g. slurmdbd, whose database is at the VIP) would keep every node unhealthy while no node
// holds the VIP, and so keep the VIP down for ever.
import { render } from '../compiler/render.js';
import { shellQuote } from '../compiler/quote.js';
import type { EmittedFile } from '../compiler/bundle.js';
import type { Controller, Model } from '../compiler/model.js';
import type { Emitter } from './emitter.js';
import { CHECK_SCRIPT, SLURMCTLD_HOLD } from './paths.js';
import type { Check } from './service.js';
import { checksOf } from './services.js';

/** Seconds one command may take, then seconds until SIGKILL. */
export const CMD_TIMEOUT = 2;
export const KILL_AFTER = 1;
/** Seconds the script waits for every result: it answers in about this long, whatever hangs. */
export const DEADLINE = 2.5;

const files = (p: string): string => `files${p}`;

/** The checks of one controller: its services' descriptors' checks, in phase order. */
export const checks = (model: Model, node: Controller): Check[] => checksOf(model, node);

const COMMANDS: Record<Check['fn'], string[]> = {
  check_mariadb: ['mariadb (or mysql)'],
  check_redis: ['redis-cli'],
  check_slurmctld: ['scontrol'],
  check_mount: ['mountpoint', 'stat'],
  check_http: ['curl'],
};

export function checkScript(model: Model, node: Controller): string {
  const list = checks(model, node);
  const uses = (fn: Check['fn']) => list.some((c) => c.fn === fn);
  const services = node.services.filter((s) => s !== 'keepalived');
  return render('health-check/usr/local/sbin/check_all_services.sh', {
    hostname: node.hostname,
    serviceList: services.length ? services.join(', ') : 'none',
    cmdTimeout: CMD_TIMEOUT,
    killAfter: KILL_AFTER,
    deadline: DEADLINE,
    mariadb: uses('check_mariadb'),
    redis: uses('check_redis'),
    slurm: uses('check_slurmctld'),
    ctldHold: SLURMCTLD_HOLD,
    mount: uses('check_mount'),
    http: uses('check_http'),
    commands: [...new Set(list.flatMap((c) => COMMANDS[c.fn]))],
    checks: list.map((c) => [c.name, c.fn, ...c.args].map(shellQuote).join(' ')),
  });
}

export const healthCheck: Emitter = {
  name: 'health-check',
  emit(model, target) {
    if (target.kind !== 'controller') return [];
    // keepalived's vrrp_script runs it: it is keepalived's file, and a new one is simply run next time
    const file: EmittedFile = {
      path: files(CHECK_SCRIPT),
      content: checkScript(model, target.node),
      mode: 0o755,
      owner: 'root',
      group: 'root',
      service: 'keepalived',
      change: { action: 'none', rule: 'keepalived.conf vrrp_script: keepalived runs the script afresh every interval' },
    };
    return [file];
  },
};
