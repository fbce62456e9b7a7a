// manifest.json: what the bundle holds and how to install it — per file: target path, mode,
// owner, sha256, the secrets it needs, the emitter that wrote it, its service and what a change
// to it needs (none / reload / runtime / restart, with whose rule that is). The generated scripts and `mhc audit` read it.
import { sha256Of, modeString, secretsOf } from '../compiler/bundle.js';
import { compress } from '../compiler/hostlist.js';
import type { Emitter } from './emitter.js';

export const manifest: Emitter = {
  name: 'manifest',
  emit(model, target, sofar, info) {
    const prefix = `${target.name}/`;
    const files = sofar.map((f) => ({
      path: f.path.slice(prefix.length),
      ...(f.dest ? { dest: f.dest } : {}),
      mode: modeString(f.mode),
      owner: f.owner,
      group: f.group,
      sha256: sha256Of(f),
      secrets: f.secrets,
      // provenance: who wrote it, whose file it is, and what a change to it needs on a running node
      emitter: f.from.emitter,
      ...(f.from.service ? { service: f.from.service } : {}),
      ...(f.from.change ? { change: f.from.change.action, change_rule: f.from.change.rule } : {}),
    }));
    const node =
      target.kind === 'controller'
        ? { role: 'controller', hostname: target.node.hostname, ip: target.node.ip, services: target.node.services }
        : { role: 'compute', nodes: compress(target.nodes.map((n) => n.hostname)), count: target.nodes.length };
    const m = {
      mhc_version: info.mhcVersion,
      input_sha256: info.inputSha256,
      cluster: model.cluster.name,
      // the OS release the files are for: `mhc audit` compares it with the YAML's (A005)
      target: model.target.os,
      bundle: target.name,
      ...node,
      secrets_embedded: info.secretsEmbedded,
      secrets: secretsOf(sofar),
      files,
    };
    return [{ path: 'manifest.json', content: JSON.stringify(m, null, 2) }];
  },
};
