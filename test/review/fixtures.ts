// Small YAMLs the review tests control, and in-memory trees built from them.
import { allTargets, build } from '../../src/compiler/build.js';
import { compile } from '../../src/compiler/compile.js';
import { formatText } from '../../src/compiler/diagnostics.js';
import { MHC_VERSION } from '../../src/generated/version.js';
import { rawFromBundle } from '../../src/review/build-side.js';
import { sideFromFiles, type RawFile, type Side } from '../../src/review/side.js';
import { sideFromYaml } from '../../src/review/build-side.js';

export const V = MHC_VERSION;

/** Three controllers running everything, a VIP, two compute nodes, one partition. */
export const BASE = `cluster: { name: rev }
network:
  vip: { address: 10.9.0.100, prefix: 24, virtual_router_id: 87 }
controllers:
  - { hostname: c1, ip: 10.9.0.11, vip_owner: true, priority: 100 }
  - { hostname: c2, ip: 10.9.0.12, priority: 90 }
  - { hostname: c3, ip: 10.9.0.13, priority: 80 }
compute_nodes:
  - { hostname: n1, ip: 10.9.0.51, cpus: 8, memory: 16000 }
  - { hostname: n2, ip: 10.9.0.52, cpus: 8, memory: 16000 }
database:
  password: \${DB_ROOT_PASSWORD}
redis:
  password: \${REDIS_PASSWORD}
web:
  session_secret: \${SESSION_SECRET}
  jwt_secret: \${JWT_SECRET}
slurm:
  partitions:
    - { name: batch, nodes: ALL, default: true, max_time: "01:00:00" }
`;

/** Replaces one exact substring (which must occur once). */
export function edit(text: string, from: string, to: string): string {
  const i = text.indexOf(from);
  if (i < 0 || text.indexOf(from, i + 1) >= 0) throw new Error(`edit: "${from}" must occur exactly once`);
  return text.slice(0, i) + to + text.slice(i + from.length);
}

/** Every file of the tree built from `text` (as `mhc build` writes it), optionally with secrets embedded. */
export function treeFiles(text: string, embed?: Record<string, string>, version = V): RawFile[] {
  const c = compile('t.yaml', Buffer.from(text));
  if (!c.model) throw new Error(formatText('t.yaml', c.loaded.source, c.diagnostics));
  const r = build({
    model: c.model,
    literals: c.literals!,
    inputSha256: c.inputSha256,
    mhcVersion: version,
    targets: allTargets(c.model),
    ...(embed ? { embedFrom: embed } : {}),
  });
  if (!r.files) throw new Error(formatText('t.yaml', c.loaded.source, r.diagnostics));
  // a tree read from disk carries modes, not owners or secrets (those are in the manifests)
  return rawFromBundle(r.files).map((f) => ({
    path: f.path,
    content: f.content,
    mode: f.mode!,
  }));
}

export const treeSide = (text: string, embed?: Record<string, string>, label = 'out/rev'): Side => sideFromFiles(label, 'tree', treeFiles(text, embed));
export const yamlSide = (text: string, label = 'rev.yaml'): Side => sideFromYaml(label, Buffer.from(text), V);
