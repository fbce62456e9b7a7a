// The OS release: files made for one release's daemons differ from another's (targets.ts), so a
// YAML audited against the tree built from it must name the release that tree records
// (cluster.json's target.os and every manifest's target). A tree from before mhc knew targets
// records none: it was made for debian12.
import { DEFAULT_TARGET_OS } from '../../compiler/targets.js';
import type { AuditContext, AuditRule, Finding } from '../audit.js';

/** The release a built tree records per place (cluster.json, each bundle's manifest.json). */
function recordedTargets(ctx: AuditContext): Map<string, { node?: string; path: string }[]> {
  const out = new Map<string, { node?: string; path: string }[]>();
  const tree = ctx.recorded;
  if (!tree) return out;
  const add = (os: string, at: { node?: string; path: string }) => out.set(os, [...(out.get(os) ?? []), at]);
  const cj = tree.clusterJson as { target?: { os?: unknown } } | undefined;
  if (cj && typeof cj === 'object') add(typeof cj.target?.os === 'string' ? cj.target.os : DEFAULT_TARGET_OS, { path: 'cluster.json' });
  for (const b of tree.bundles.values()) if (b.manifest) add(b.manifest.target ?? DEFAULT_TARGET_OS, { node: b.name, path: 'manifest.json' });
  return out;
}

export const target: AuditRule = {
  name: 'target',
  codes: ['A005'],
  check(ctx) {
    const out: Finding[] = [];
    const os = ctx.model?.target?.os;
    if (ctx.kind !== 'config' || !os || !ctx.recorded) return out;
    for (const [recorded, places] of recordedTargets(ctx)) {
      if (recorded === os) continue;
      const where = places.map((p) => (p.node ? `${p.node}/${p.path}` : p.path));
      out.push(
        ctx.finding(
          'A005',
          ctx.at(['target', 'os'], places[0]?.node ? { node: places[0].node } : {}),
          `the YAML targets ${os}; the tree ${ctx.recorded.label} was built for ${recorded} (${where.slice(0, 3).join(', ')}${where.length > 3 ? `, +${where.length - 3} more` : ''})`,
          "the tree's files are made for the other release's daemon versions (e.g. nginx's http2 directive): installed on these nodes they warn or fail, and a rebuild changes them",
          `rebuild the tree from this YAML (mhc build), or set target.os: ${recorded} if the nodes run that release`,
        ),
      );
    }
    return out;
  },
};
