// Network: the ports each node must open to its peers (A601, from the one port table in
// ../ports.ts), and ports two services on one node would both bind (A602).
import type { AuditRule, Finding } from '../audit.js';
import { networkPlan, portsText } from '../ports.js';

export const network: AuditRule = {
  name: 'network',
  codes: ['A601', 'A602'],
  check(ctx) {
    const m = ctx.model;
    const out: Finding[] = [];
    if (!m) return out;
    const plan = networkPlan(m);
    for (const n of plan) {
      const yaml =
        n.role === 'controller' ? ctx.folded?.controllers.find((c) => c.hostname.value === n.node)?.path : n.role === 'compute' ? ctx.folded?.computePath : ['database', 'galera', 'arbitrator'];
      const at = ctx.at(yaml, {
        ...(n.bundle ? { node: n.bundle } : { node: n.node }),
        path: 'cluster.json',
      });
      if (n.rules.length) {
        out.push(
          ctx.finding(
            'A601',
            at,
            `${n.node}${n.address ? ` (${n.address})` : ''} must accept: ${portsText(n)}`,
            'a firewall that drops any of these breaks the service quietly: VRRP dropped means two MASTERs and a split VIP, Galera ports dropped means a node that never rejoins',
            'open these ports (and IP protocol 112) between the nodes listed, and nothing more',
          ),
        );
      }
      // --- A602: one port, two services ---------------------------------------------------------
      const used = new Map<string, string>();
      for (const r of n.rules) {
        if (r.proto === 'vrrp' || r.ports === 'ephemeral') continue;
        const [a, b] = r.ports.split('-').map(Number);
        for (let p = a!; p <= (b ?? a!); p++) {
          const k = `${r.proto}/${p}`;
          const prev = used.get(k);
          if (prev && prev !== r.service)
            out.push(
              ctx.finding(
                'A602',
                at,
                `${n.node}: ${r.proto} port ${p} is used by ${prev} and by ${r.service}`,
                'the second daemon cannot bind its port and does not start (or starts on the wrong one): the service is down on this node from the first start',
                'give one of them another port in the YAML',
              ),
            );
          else used.set(k, r.service);
        }
      }
    }
    return out;
  },
};
