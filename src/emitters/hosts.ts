// files/etc/mhc/hosts: the cluster's host entries, merged into /etc/hosts on the node.
import { render } from '../compiler/render.js';
import type { Model } from '../compiler/model.js';
import type { Emitter } from './emitter.js';
import { HOSTS_FILE } from './paths.js';

/** The VIP's name in /etc/hosts (seed 002). */
export const VIP_HOSTNAME = 'vip-cluster';

export function hostEntries(model: Model): { ip: string; names: string }[] {
  const d = model.cluster.domain;
  const names = (h: string) => (d ? `${h}.${d} ${h}` : h);
  const out: { ip: string; names: string }[] = [];
  if (model.network.vip) out.push({ ip: model.network.vip.address, names: names(VIP_HOSTNAME) });
  for (const c of model.controllers) out.push({ ip: c.ip, names: names(c.hostname) });
  const arb = model.galera?.arbitrator;
  if (arb) out.push({ ip: arb.ip, names: names(arb.hostname) });
  for (const c of model.computeNodes) if (c.ip) out.push({ ip: c.ip, names: names(c.hostname) });
  return out;
}

export const hosts: Emitter = {
  name: 'hosts',
  emit(model) {
    return [
      {
        path: `files${HOSTS_FILE}`,
        content: render('hosts/etc/mhc/hosts', { entries: hostEntries(model) }),
        change: { action: 'runtime', rule: 'mhc: start_multihead.sh phase 0 (start_compute.sh on a compute node) merges it into /etc/hosts as one marked block' },
      },
    ];
  },
};
