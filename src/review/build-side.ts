// A YAML side: compiled and built in memory, secrets as placeholders (never embedded). Pure.
import { compile, type Compiled } from '../compiler/compile.js';
import { allTargets, build } from '../compiler/build.js';
import type { BundleFile } from '../compiler/bundle.js';
import { formatText, hasErrors, summaryLine } from '../compiler/diagnostics.js';
import type { Model } from '../compiler/model.js';
import { sideFromFiles, type RawFile, type Side } from './side.js';

export class ReviewError extends Error {}

export interface BuiltYaml {
  readonly compiled: Compiled & { model: Model };
  readonly files: readonly BundleFile[];
}

/** Compiles and builds; throws ReviewError with the formatted diagnostics when the YAML is invalid. */
export function buildYaml(name: string, bytes: Uint8Array, mhcVersion: string): BuiltYaml {
  const c = compile(name, bytes);
  if (!c.model || hasErrors(c.diagnostics)) {
    throw new ReviewError(
      `${formatText(
        name,
        c.loaded.source,
        c.diagnostics.filter((d) => d.severity === 'error'),
      )}mhc: ${name} is not valid: ${summaryLine(c.diagnostics)}`,
    );
  }
  const r = build({
    model: c.model,
    literals: c.literals!,
    inputSha256: c.inputSha256,
    mhcVersion,
    targets: allTargets(c.model),
  });
  if (!r.files) throw new ReviewError(`${name}: build failed: ${summaryLine(r.diagnostics)}`);
  return { compiled: c as Compiled & { model: Model }, files: r.files };
}

export const rawFromBundle = (files: readonly BundleFile[]): RawFile[] =>
  files.map((f) => ({
    path: f.path,
    content: f.content,
    mode: f.mode,
    owner: f.owner,
    group: f.group,
    secrets: f.secrets,
  }));

export function sideFromYaml(label: string, bytes: Uint8Array, mhcVersion: string): Side {
  const b = buildYaml(label, bytes, mhcVersion);
  return sideFromFiles(
    label,
    'yaml',
    rawFromBundle(b.files),
    b.compiled.model.computeNodes.map((n) => n.hostname),
  );
}

/**
 * The placeholder version of a tree, rebuilt with this mhc from the tree's own cluster.json (the
 * normalized Model). Used to find where embedded secret values stand; undefined when the JSON is
 * not a Model this mhc can build.
 */
export function rebuildFromClusterJson(clusterJson: unknown, mhcVersion: string): Map<string, BundleFile> | undefined {
  if (!clusterJson || typeof clusterJson !== 'object') return undefined;
  try {
    const model = clusterJson as Model;
    const r = build({
      model,
      literals: new Map(),
      inputSha256: '',
      mhcVersion,
      targets: allTargets(model),
    });
    return r.files ? new Map(r.files.map((f) => [f.path, f])) : undefined;
  } catch {
    return undefined;
  }
}
