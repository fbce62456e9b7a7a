// `mhc diff` end to end on two loaded sides (pure): mask embedded secrets, then diff.
import { rebuildFromClusterJson } from './build-side.js';
import { diffSides, type DiffOptions, type TreeDiff } from './diff.js';
import { maskSecrets, type References } from './mask.js';
import { placeholdersIn, type Side } from './side.js';

/** Placeholder versions of a tree's files: this mhc's rebuild of the tree's own cluster.json. */
export function referencesFor(side: Side, mhcVersion: string): References {
  if (side.kind !== 'tree') return () => [];
  let rebuilt: ReturnType<typeof rebuildFromClusterJson> | null = null;
  return (bundle, rel) => {
    if (rebuilt === null) rebuilt = rebuildFromClusterJson(side.clusterJson, mhcVersion);
    const f = rebuilt?.get(`${bundle}/${rel}`);
    return f && placeholdersIn(f.content).size ? [f.content] : [];
  };
}

export function compareSides(a: Side, b: Side, mhcVersion: string, opts: DiffOptions = {}): TreeDiff {
  const m = maskSecrets(a, b, referencesFor(a, mhcVersion), referencesFor(b, mhcVersion));
  const notes: string[] = [...(opts.notes ?? [])];
  for (const [k, list] of [
    ['a', m.masked.a],
    ['b', m.masked.b],
  ] as const) {
    if (list.length) notes.push(`${k} holds embedded secret values in ${list.length === 1 ? '1 file' : `${list.length} files`}; they are shown as @@MHC_SECRET:…@@ placeholders`);
  }
  return diffSides(m.a, m.b, { ...opts, notes });
}
