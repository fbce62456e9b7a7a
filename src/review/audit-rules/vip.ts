// The virtual IP: who owns it, where it may live, and the VRRP router id it is announced under.
import type { Path } from '../../compiler/locate.js';
import { sameSubnet } from '../../compiler/net.js';
import type { AuditRule, Finding } from '../audit.js';

/** Router ids that configurations copied from keepalived's sample (51) or from tutorials leave in place. */
export const COMMON_ROUTER_IDS: readonly number[] = [1, 10, 50, 51, 52, 100, 255];

const KEEPALIVED_CONF = 'files/etc/keepalived/keepalived.conf';

export const vip: AuditRule = {
  name: 'vip',
  codes: ['A201', 'A202', 'A203', 'A204', 'A205'],
  check(ctx) {
    const m = ctx.model;
    const out: Finding[] = [];
    if (!m) return out;
    const f = ctx.folded;
    const ka = m.controllers.filter((c) => c.services.includes('keepalived'));
    const ctlPath = (host: string, key?: string): Path | undefined => {
      const c = f?.controllers.find((x) => x.hostname.value === host);
      if (!c) return undefined;
      if (key === 'priority') return c.priority?.path ?? c.path;
      if (key === 'vip_owner') return c.vipOwner?.path ?? c.path;
      if (key === 'ip') return c.ip?.path ?? c.path;
      return c.path;
    };
    const why201 =
      'keepalived hands the VIP to the highest priority; when the node meant to own it does not have the highest priority (or two have the same), the VIP settles on another node or flaps between two, and Slurm, Galera writes and nginx follow it there';

    // --- A201: owner and priorities ------------------------------------------------------
    const owners = f ? f.controllers.filter((c) => c.vipOwner?.value) : m.controllers.filter((c) => c.vipOwner);
    if (f && owners.length > 1) {
      out.push(
        ctx.finding(
          'A201',
          ctx.at((owners[1] as (typeof f.controllers)[number]).vipOwner!.path),
          `${owners.length} controllers are vip_owner (${f.controllers
            .filter((c) => c.vipOwner?.value)
            .map((c) => c.hostname.value)
            .join(', ')})`,
          why201,
          'set vip_owner: true on exactly one controller, or on none to let the highest priority own the VIP',
        ),
      );
    }
    const owner = m.controllers.find((c) => c.hostname === m.vipOwner);
    if (owner && ka.length && !owner.services.includes('keepalived')) {
      out.push(
        ctx.finding(
          'A201',
          ctx.at(ctlPath(owner.hostname, 'vip_owner'), {
            node: owner.hostname,
            path: 'cluster.json',
          }),
          `VIP owner ${owner.hostname} does not run keepalived`,
          why201,
          'enable services.keepalived on the owner, or make a keepalived controller the owner',
        ),
      );
    }
    if (owner && owner.services.includes('keepalived') && owner.priority !== undefined) {
      const rivals = ka.filter((c) => c !== owner && (c.priority ?? 0) >= owner.priority!);
      if (rivals.length) {
        out.push(
          ctx.finding(
            'A201',
            ctx.at(ctlPath(owner.hostname, 'priority'), {
              node: owner.hostname,
              path: 'cluster.json',
            }),
            `VIP owner ${owner.hostname} has priority ${owner.priority}, but ${rivals.map((c) => `${c.hostname} has ${c.priority}`).join(', ')}`,
            why201,
            'give the VIP owner the highest priority of all keepalived controllers',
          ),
        );
      }
    }
    const seen = new Map<number, string>();
    for (const c of ka) {
      if (c.priority === undefined) continue;
      const prev = seen.get(c.priority);
      if (prev && !(owner && (prev === owner.hostname || c === owner))) {
        out.push(
          ctx.finding(
            'A201',
            ctx.at(ctlPath(c.hostname, 'priority'), {
              node: c.hostname,
              path: 'cluster.json',
            }),
            `${prev} and ${c.hostname} both have keepalived priority ${c.priority}`,
            why201,
            'give every keepalived controller its own priority',
          ),
        );
      } else if (!prev) seen.set(c.priority, c.hostname);
    }
    // the generated keepalived.conf must agree with the model: the owner announces the highest priority
    if (ctx.side) {
      const prios: { node: string; prio: number }[] = [];
      for (const b of ctx.side.bundles.values()) {
        const conf = b.files.get(KEEPALIVED_CONF);
        const p = conf && /^\s*priority\s+(\d+)/m.exec(conf.content);
        if (p) prios.push({ node: b.name, prio: Number(p[1]) });
      }
      const top = Math.max(...prios.map((p) => p.prio));
      const tops = prios.filter((p) => p.prio === top);
      if (prios.length > 1 && m.vipOwner && (tops.length > 1 || tops[0]!.node !== m.vipOwner)) {
        out.push(
          ctx.finding(
            'A201',
            ctx.at(undefined, { node: tops[0]!.node, path: KEEPALIVED_CONF }),
            `keepalived.conf gives the highest priority (${top}) to ${tops.map((t) => t.node).join(', ')}, but the VIP owner is ${m.vipOwner}`,
            why201,
            'rebuild the tree from the YAML; never edit keepalived.conf by hand',
          ),
        );
      }
    }

    // --- A202: the VIP's subnet --------------------------------------------------------------
    const v = m.network.vip;
    const vipPath: Path | undefined = f?.vip ? (f.input.network && typeof f.input.network.vip === 'object' ? [...f.vip.path, 'address'] : f.vip.path) : undefined;
    if (v && ka.length) {
      const outside = ka.filter((c) => !sameSubnet(c.ip, v.address, v.prefix));
      const why =
        "VRRP moves the VIP only within one L2 segment: a node outside the VIP's subnet takes the address but nobody can reach it there (or never takes it), so failover to that node loses every client";
      if (outside.length === ka.length) {
        out.push(
          ctx.finding(
            'A202',
            ctx.at(vipPath),
            `the VIP ${v.address}/${v.prefix} is in none of the keepalived controllers' subnets (${ka.map((c) => c.ip).join(', ')})`,
            why,
            "pick a free address in the controllers' subnet, or fix the prefix/netmask",
          ),
        );
      } else {
        for (const c of outside)
          out.push(
            ctx.finding(
              'A202',
              ctx.at(ctlPath(c.hostname, 'ip'), {
                node: c.hostname,
                path: 'cluster.json',
              }),
              `${c.hostname} (${c.ip}) is outside the VIP subnet ${v.subnet}`,
              why,
              'move the controller into the VIP subnet, or do not run keepalived on it',
            ),
          );
      }
    }

    // --- A203: somebody must hold the VIP -------------------------------------------------------
    if (!ka.length && m.controllers.length) {
      if (v) {
        out.push(
          ctx.finding(
            'A203',
            ctx.at(vipPath),
            `network.vip is ${v.address}, but no controller runs keepalived`,
            'nobody ever brings the VIP up, yet slurmdbd, Galera clients and the web apps are configured to reach it: they fail from the first start',
            'enable services.keepalived on the controllers (at least two, for failover)',
          ),
        );
      } else if (m.controllers.length > 1) {
        out.push(
          ctx.finding(
            'A203',
            ctx.at(f?.controllersPath),
            `${m.controllers.length} controllers and no keepalived: there is no failover address`,
            "clients point at one controller's own address; when it fails they stay pointed at a dead node although the others are up",
            'add network.vip and enable services.keepalived on the controllers',
            'warning',
          ),
        );
      }
    }

    // --- A204 / A205: the VRRP router id ----------------------------------------------------------
    if (v && ka.length) {
      const explicit = f ? typeof f.input.network?.vip === 'object' && f.input.network.vip.virtual_router_id !== undefined : true;
      const idPath: Path | undefined = f?.vip && explicit ? [...f.vip.path, 'virtual_router_id'] : vipPath;
      if (explicit && COMMON_ROUTER_IDS.includes(v.virtualRouterId)) {
        out.push(
          ctx.finding(
            'A204',
            ctx.at(idPath),
            `virtual_router_id ${v.virtualRouterId} is a value many configurations leave in place (keepalived's sample uses 51)`,
            'two VRRP groups with the same id on one L2 segment read each other\'s adverts: VIPs move between unrelated clusters, or keepalived logs "ip address associated with VRID not present" and flaps',
            'pick an id (1–255) not used by any other VRRP router on the segment, and record it',
          ),
        );
      } else if (!explicit) {
        out.push(
          ctx.finding(
            'A205',
            ctx.at(idPath),
            `virtual_router_id is not written; mhc derived ${v.virtualRouterId} from the cluster name`,
            'the id must be unique on the L2 segment; a derived one may collide with another VRRP router nobody checked',
            'write network.vip.virtual_router_id explicitly after checking the segment',
          ),
        );
      }
    }
    return out;
  },
};
