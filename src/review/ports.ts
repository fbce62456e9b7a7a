// The ports each node must open to its peers (firewall rules), derived from the Model: one table
// that `mhc audit` (A601, A602) and `mhc report` both read. Pure.
import { compress } from '../compiler/hostlist.js';
import type { Model } from '../compiler/model.js';
import { SLURMD_PORT } from '../emitters/slurm.js';
import { GALERA_GROUP_PORT } from '../emitters/mariadb.js';
import { addresses as ips, type PortRule } from '../emitters/service.js';
import { portsOf } from '../emitters/services.js';

export type { PortRule };

export interface NodePorts {
  /** hostname, or "compute (node[001-004])" for the compute bundle */
  readonly node: string;
  readonly bundle?: string;
  readonly role: 'controller' | 'compute' | 'arbitrator';
  readonly address?: string;
  readonly rules: readonly PortRule[];
}

export function networkPlan(m: Model): NodePorts[] {
  const out: NodePorts[] = [];
  for (const c of m.controllers) {
    // each service's descriptor says what its daemons listen on (in start-phase order)
    const rules = portsOf(m, c);
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
          ports: `${GALERA_GROUP_PORT}`,
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
