// keepalived on every controller that runs it (and only when network.vip is set): one VRRP
// instance that moves the cluster VIP between the keepalived controllers, and the notify script
// keepalived runs on every state change.
//
// Health and failover. chk_services runs check_all_services.sh (exit 0 only when every service
// enabled on this node is healthy; it answers within 3 s) every 3 s with `weight 0`: after `fall`
// failed checks the instance goes to FAULT, drops the VIP and sends a priority-0 advert, so the
// healthy peer with the highest priority takes the VIP at once (≈ 2 × 3 s + skew after the
// failure starts). A negative weight is not used: to drop a node below every healthy peer it
// would have to exceed the spread of the priorities (up to 253, beyond keepalived's range), and
// with `nopreempt` a backup never takes the VIP from a master whose priority merely fell, so the
// VIP would stay on the failing node. The price of FAULT: when every node fails its check, no node
// holds the VIP (a VIP in front of broken services would only hide the outage). `init_fail`: a
// node that (re)starts is not healthy until `rise` checks pass, so it never claims the VIP early.
//
// Preemption follows the YAML: preempt (default) → the VIP owner starts MASTER, the others
// BACKUP, and the VIP returns to the highest healthy priority; `preempt: false` → every node starts
// BACKUP with `nopreempt`, and the VIP stays where it is until its holder fails.
//
// Peers talk unicast (clouds and many switches drop multicast): unicast_src_ip is this node,
// unicast_peer every other keepalived node, and check_unicast_src drops adverts from anyone else.
// auth_pass is a secret written through the `keepalived` encoding (secrets.ts): in double quotes,
// refused when keepalived's parser cannot read it back exactly.
import { render } from '../compiler/render.js';
import { placeholder } from '../compiler/secrets.js';
import { runs, type Controller, type Model } from '../compiler/model.js';
import { CompilerBug, type EmittedFile } from '../compiler/bundle.js';
import type { Emitter } from './emitter.js';
import { CHECK_SCRIPT } from './paths.js';
import { addresses, service } from './service.js';

/** The script keepalived runs on every state change of the instance. */
export const NOTIFY_SCRIPT = '/usr/local/sbin/mhc-keepalived-notify';
export const KEEPALIVED_CONF = '/etc/keepalived/keepalived.conf';
/** Where the notify script records the current state (under $MHC_ROOT). */
export const STATE_FILE = '/run/mhc/keepalived.state';
export const TRACK_SCRIPT = 'chk_services';
/** vrrp_script timing: the check answers within 3 s (health-check.ts DEADLINE + margin). */
export const CHECK_INTERVAL = 3;
export const CHECK_TIMEOUT = 3;
export const CHECK_FALL = 2;
export const CHECK_RISE = 2;

/** The vrrp_instance name: VI_ + the cluster name, every character outside [A-Za-z0-9_] as `_`. */
export const instanceName = (model: Model): string => `VI_${model.cluster.name.replace(/[^A-Za-z0-9_]/g, '_')}`;

/** Whether this controller gets keepalived files. */
export const hasKeepalived = (model: Model, node: Controller): boolean => runs(node, 'keepalived') && model.network.vip !== undefined;

const files = (p: string): string => `files${p}`;

export function keepalivedFiles(model: Model, node: Controller): EmittedFile[] {
  const vip = model.network.vip!;
  if (node.priority === undefined) throw new CompilerBug(`keepalived node ${node.hostname} has no priority`);
  const preempt = vip.preempt;
  const peers = model.keepalived.nodes.filter((m) => m.hostname !== node.hostname);
  const priorities = model.keepalived.nodes.map((m) => {
    const c = model.controllers.find((x) => x.hostname === m.hostname);
    return {
      hostname: m.hostname,
      ip: m.ip,
      priority: c?.priority ?? 0,
      owner: m.hostname === model.vipOwner,
    };
  });
  const state = preempt && node.vipOwner ? 'MASTER' : 'BACKUP';
  const instance = instanceName(model);
  const conf = render('keepalived/etc/keepalived/keepalived.conf', {
    hostname: node.hostname,
    cluster: model.cluster.name,
    instance,
    state,
    preempt,
    nopreempt: !preempt,
    interface: node.interface,
    vrid: vip.virtualRouterId,
    priority: node.priority,
    advertInt: vip.advertInt,
    ip: node.ip,
    peers,
    unicast: peers.length > 0,
    nodes: priorities,
    authPass: placeholder(vip.authPass.name, 'keepalived'),
    vip: vip.address,
    prefix: vip.prefix,
    checkScript: CHECK_SCRIPT,
    trackScript: TRACK_SCRIPT,
    interval: CHECK_INTERVAL,
    timeout: CHECK_TIMEOUT,
    fall: CHECK_FALL,
    rise: CHECK_RISE,
    notifyScript: NOTIFY_SCRIPT,
    stateFile: STATE_FILE,
  });
  const notify = render('keepalived/usr/local/sbin/mhc-keepalived-notify', {
    hostname: node.hostname,
    instance,
    vip: `${vip.address}/${vip.prefix}`,
    stateFile: STATE_FILE,
  });
  return [
    {
      path: files(KEEPALIVED_CONF),
      content: conf,
      mode: 0o644,
      owner: 'root',
      group: 'root',
    },
    {
      path: files(NOTIFY_SCRIPT),
      content: notify,
      mode: 0o755,
      owner: 'root',
      group: 'root',
    },
  ];
}

export const keepalivedService = service({
  key: 'keepalived',
  label: 'Keepalived',
  aliases: ['vip'],
  phase: 'keepalived',
  day2: {
    disruption: {
      restart: 'the VIP moves away if this node holds it (and back by priority): clients of the VIP reconnect once',
      reload: 'none: keepalived re-reads its file; the VIP stays unless a priority or the instance changed',
    },
    gates: ['keepalived: the VIP on exactly one node'],
    controllerMembership: {
      rule: "keepalived.conf(5): the unicast peers are in each node's file (a reload re-reads them); a new node starts as BACKUP with its own priority",
      join: 'the new node starts as BACKUP with the lowest priority: the VIP stays where it is',
      leave: 'keepalived stops there with the rest of the node (a BACKUP: the VIP stays where it is)',
    },
  },
  here: hasKeepalived,
  packages: () => ['keepalived'],
  units: () => ['keepalived.service'],
  reloadUnits: () => ['keepalived.service'],
  // keepalived(8) --config-test: parses the file and exits non-zero on an error
  validate: [{ argv: ['keepalived', '--config-test', '-f'], dest: KEEPALIVED_CONF }],
  configDirs: ['/etc/keepalived'],
  ports: (model, node) =>
    hasKeepalived(model, node)
      ? [
          {
            proto: 'vrrp',
            ports: '',
            service: 'keepalived VRRP adverts (IP protocol 112, unicast)',
            from: addresses(model.keepalived.nodes.filter((m) => m.hostname !== node.hostname)),
          },
        ]
      : [],
  change: (dest) =>
    dest === KEEPALIVED_CONF
      ? { action: 'reload', rule: 'keepalived(8): SIGHUP (systemctl reload keepalived) re-reads keepalived.conf; the VIP stays where it is unless priorities change' }
      : { action: 'none', rule: 'keepalived.conf notify: keepalived runs the script afresh at each state change' },
});

export const keepalived: Emitter = {
  name: 'keepalived',
  service: keepalivedService,
  emit(model, target) {
    if (target.kind !== 'controller' || !hasKeepalived(model, target.node)) return [];
    return keepalivedFiles(model, target.node);
  },
};
