// The ports each node must open to its peers (firewall rules), derived from the Model: one table
// that `mhc audit` (A601, A602) and `mhc report` both read. Pure.
import { compress } from '../compiler/hostlist.js';
import type { Model } from '../compiler/model.js';
import { SLURMCTLD_PORT, SLURMD_PORT } from '../emitters/slurm.js';

export interface PortRule {
  /** 'vrrp' is IP protocol 112, not a port */
  readonly proto: 'tcp' | 'udp' | 'vrrp';
  /** "3306", "6379-6380"; "" for vrrp */
  readonly ports: string;
  readonly service: string;
  /** who connects: addresses or a description */
  readonly from: string;
}

export interface NodePorts {
  /** hostname, or "compute (node[001-004])" for the compute bundle */
  readonly node: string;
  readonly bundle?: string;
  readonly role: 'controller' | 'compute' | 'arbitrator';
  readonly address?: string;
  readonly rules: readonly PortRule[];
}

const range = (a: number, b: number) => (a === b ? `${a}` : `${a}-${b}`);
const GLUSTER_BRICK_BASE = 49152;

export function networkPlan(m: Model): NodePorts[] {
  const out: NodePorts[] = [];
  const ips = (xs: readonly { ip: string }[]) => xs.map((x) => x.ip).join(', ') || '(none)';
  const others = (xs: readonly { hostname: string; ip: string }[], me: string) => ips(xs.filter((x) => x.hostname !== me));
  const ctlIps = ips(m.controllers);
  const allNodes = `${m.controllers.length} controllers${m.computeNodes.length ? ` and ${m.computeNodes.length} compute nodes` : ''}`;
  for (const c of m.controllers) {
    const rules: PortRule[] = [];
    const on = (s: string) => c.services.includes(s as never);
    if (on('keepalived') && m.network.vip) {
      rules.push({
        proto: 'vrrp',
        ports: '',
        service: 'keepalived VRRP adverts (IP protocol 112, unicast)',
        from: others(m.keepalived.nodes, c.hostname),
      });
    }
    const g = m.galera;
    if (g && on('mariadb')) {
      const peers = `${others(g.members, c.hostname)}${g.arbitrator ? `, ${g.arbitrator.ip} (garbd)` : ''}`;
      rules.push({
        proto: 'tcp',
        ports: `${g.port}`,
        service: 'MariaDB clients (slurmdbd, web apps; through the VIP)',
        from: ctlIps,
      });
      rules.push({
        proto: 'tcp',
        ports: '4567',
        service: 'Galera group communication',
        from: peers,
      });
      rules.push({
        proto: 'udp',
        ports: '4567',
        service: 'Galera group communication (UDP: only with multicast replication)',
        from: peers,
      });
      rules.push({
        proto: 'tcp',
        ports: '4568',
        service: 'Galera IST (incremental state transfer)',
        from: others(g.members, c.hostname),
      });
      rules.push({
        proto: 'tcp',
        ports: '4444',
        service: `Galera SST (${g.sstMethod})`,
        from: others(g.members, c.hostname),
      });
    }
    const r = m.redis;
    if (r && on('redis')) {
      if (r.mode === 'sentinel') {
        rules.push({
          proto: 'tcp',
          ports: `${r.port}`,
          service: 'Redis (clients and replication)',
          from: ctlIps,
        });
        rules.push({
          proto: 'tcp',
          ports: `${r.sentinel.port}`,
          service: 'Redis Sentinel',
          from: ctlIps,
        });
      } else {
        rules.push({
          proto: 'tcp',
          ports: range(r.port, r.port + r.replicas),
          service: `Redis Cluster instances (master${r.replicas ? ` + ${r.replicas} replica${r.replicas > 1 ? 's' : ''}` : ''})`,
          from: ctlIps,
        });
        rules.push({
          proto: 'tcp',
          ports: range(r.port + 10000, r.port + r.replicas + 10000),
          service: 'Redis Cluster bus (port + 10000)',
          from: others(r.members, c.hostname),
        });
      }
    }
    const s = m.slurm;
    if (s && on('slurm')) {
      rules.push({
        proto: 'tcp',
        ports: `${SLURMCTLD_PORT}`,
        service: 'slurmctld',
        from: allNodes,
      });
      if (s.accounting)
        rules.push({
          proto: 'tcp',
          ports: `${s.accounting.port}`,
          service: 'slurmdbd',
          from: ips(s.controllers),
        });
    }
    const w = m.web;
    if (w && on('web')) {
      rules.push({
        proto: 'tcp',
        ports: '80',
        service: 'nginx (HTTP)',
        from: 'users',
      });
      if (w.ssl.mode !== 'off')
        rules.push({
          proto: 'tcp',
          ports: '443',
          service: 'nginx (HTTPS)',
          from: 'users',
        });
      for (const ws of w.services)
        rules.push({
          proto: 'tcp',
          ports: `${ws.port}`,
          service: `web backend ${ws.name} (nginx on the peers proxies to it as backup)`,
          from: ips(w.members),
        });
    }
    const gl = m.gluster;
    if (gl && on('glusterfs')) {
      rules.push({
        proto: 'tcp',
        ports: '24007-24008',
        service: 'glusterd and its management',
        from: ctlIps,
      });
      rules.push({
        proto: 'tcp',
        ports: `${GLUSTER_BRICK_BASE}`,
        service: `gluster brick of volume ${gl.volumeName} (one port per brick, from ${GLUSTER_BRICK_BASE})`,
        from: ctlIps,
      });
    }
    out.push({
      node: c.hostname,
      bundle: c.hostname,
      role: 'controller',
      address: c.ip,
      rules,
    });
  }
  if (m.computeNodes.length && m.slurm) {
    out.push({
      node: `compute (${compress(m.computeNodes.map((n) => n.hostname))})`,
      bundle: 'compute',
      role: 'compute',
      rules: [
        {
          proto: 'tcp',
          ports: `${SLURMD_PORT}`,
          service: 'slurmd',
          from: ips(m.slurm.controllers),
        },
        {
          proto: 'tcp',
          ports: 'ephemeral',
          service: 'srun I/O and PMI (Slurm SrunPortRange; all ports unless set)',
          from: 'compute nodes and login hosts',
        },
      ],
    });
  }
  if (m.galera?.arbitrator) {
    const a = m.galera.arbitrator;
    out.push({
      node: a.hostname,
      role: 'arbitrator',
      address: a.ip,
      rules: [
        {
          proto: 'tcp',
          ports: '4567',
          service: 'garbd (Galera arbitrator)',
          from: ips(m.galera.members),
        },
      ],
    });
  }
  return out;
}

const ruleText = (r: PortRule) => (r.proto === 'vrrp' ? `VRRP (IP protocol 112) from ${r.from}` : `${r.proto} ${r.ports} (${r.service}) from ${r.from}`);
export const portsText = (n: NodePorts) => n.rules.map(ruleText).join('; ');
