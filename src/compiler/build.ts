// The back half of the pipeline: Model → emitters → Bundle (path → content, mode, owner).
// Pure: the CLI passes the environment in for --embed-secrets and writes the result.
import { assertUnique, BundleFiles, makeFile, sortFiles, type BundleFile } from './bundle.js';
import { diag, type Diagnostic, type Span } from './diagnostics.js';
import { COMPUTE_BUNDLE, type Model, type Target } from './model.js';
import type { Literals } from './normalize.js';
import { fill, refusal, resolve } from './secrets.js';
import { CLUSTER_EMITTERS, EMITTERS, FINAL_EMITTER } from '../emitters/index.js';
import type { BuildInfo } from '../emitters/emitter.js';
import type { NodeApplyPlan } from '../emitters/day2.js';
import { didYouMean } from './did-you-mean.js';
import { nodeRefusal } from './node-rules.js';

export function allTargets(model: Model): Target[] {
  const t: Target[] = model.controllers.map((node) => ({ kind: 'controller', name: node.hostname, node }));
  if (model.computeNodes.length) t.push({ kind: 'compute', name: COMPUTE_BUNDLE, nodes: model.computeNodes });
  return t;
}

/** --node HOST…: controllers by hostname; any compute hostname (or "compute") selects the compute bundle. */
export function selectTargets(model: Model, names: readonly string[]): { targets: Target[]; unknown: { name: string; guess?: string }[] } {
  const all = allTargets(model);
  if (!names.length) return { targets: all, unknown: [] };
  const compute = new Set(model.computeNodes.map((n) => n.hostname));
  const want = new Set<string>();
  const unknown: { name: string; guess?: string }[] = [];
  for (const n of names) {
    if (all.some((t) => t.name === n)) want.add(n);
    else if (compute.has(n)) want.add(COMPUTE_BUNDLE);
    else {
      const guess = didYouMean(n, [...all.map((t) => t.name), ...compute]);
      unknown.push({ name: n, ...(guess ? { guess } : {}) });
    }
  }
  return { targets: all.filter((t) => want.has(t.name)), unknown };
}

export interface BuildRequest {
  readonly model: Model;
  readonly literals: Literals;
  readonly inputSha256: string;
  readonly mhcVersion: string;
  readonly targets: readonly Target[];
  /** set for --embed-secrets: the process environment */
  readonly embedFrom?: Readonly<Record<string, string | undefined>>;
  /** where `${NAME}` is written in the YAML, for diagnostics about secrets */
  readonly findSecretInSource?: (name: string) => Span | undefined;
  /** `--plan-from OLD`: per bundle, its part of the day-2 plan */
  readonly applyPlans?: ReadonlyMap<string, NodeApplyPlan>;
}

export interface BuildResult {
  readonly files?: readonly BundleFile[];
  readonly diagnostics: readonly Diagnostic[];
}

export function build(req: BuildRequest): BuildResult {
  const { model } = req;
  const info: BuildInfo = { mhcVersion: req.mhcVersion, inputSha256: req.inputSha256, secretsEmbedded: !!req.embedFrom, ...(req.applyPlans ? { applyPlans: req.applyPlans } : {}) };
  const perTarget = new Map<Target, BundleFile[]>();
  for (const t of req.targets) {
    const bundle = new BundleFiles(t.name);
    for (const e of EMITTERS) for (const f of e.emit(model, t, bundle.files, info)) bundle.add(e, f);
    perTarget.set(t, bundle.files);
  }

  // lib/common.sh refuses a whole bundle for one manifest entry it does not accept: apply its rule
  // here (node-rules.ts) to every file, so no such bundle is ever written
  const refused: Diagnostic[] = [];
  for (const f of [...perTarget.values()].flat()) {
    const why = nodeRefusal(f);
    if (why) {
      const bundle = f.path.slice(0, f.path.indexOf('/'));
      refused.push(
        diag(
          'E322',
          `the node would refuse the whole bundle ${bundle}: manifest.json: ${why}`,
          undefined,
          'a name or user written in the YAML gives this file its path or owner: change it to letters, digits, "_" and "-"',
        ),
      );
    }
  }
  if (refused.length) return { diagnostics: refused };

  if (req.embedFrom) {
    const names = [...new Set([...perTarget.values()].flat().flatMap((f) => f.secrets))].sort();
    const { values, missing } = resolve(names, req.literals, req.embedFrom);
    const ds: Diagnostic[] = [];
    if (missing.length) {
      ds.push(
        diag(
          'E311',
          `--embed-secrets: no value for ${missing.join(', ')} (looked in environment: of the YAML, then --secrets FILE, then the process environment)`,
          req.findSecretInSource?.(missing[0]!),
          'run `mhc secrets init CONFIG` and pass the file with --secrets secrets.env, or build without --embed-secrets',
        ),
      );
    }
    for (const [name, value] of values) {
      const spec = model.secrets.find((s) => s.name === name);
      const why = spec && refusal(spec, value);
      if (why) {
        const users = [...perTarget.values()]
          .flat()
          .filter((f) => f.secrets.includes(name))
          .map((f) => f.path);
        ds.push(diag('E318', `secret ${name} cannot be used: ${why} (needed by ${[...new Set(users.map((u) => u.split('/').slice(1).join('/')))].join(', ')})`, req.findSecretInSource?.(name)));
      }
    }
    if (ds.length) return { diagnostics: ds };
    for (const [t, files] of perTarget) {
      perTarget.set(
        t,
        files.map((f) => (f.secrets.length ? { ...f, content: fill(f.content, values), mode: f.mode & 0o700 } : f)),
      );
    }
  }

  const all: BundleFile[] = [];
  for (const [t, files] of perTarget) {
    const sorted = sortFiles(files);
    const man = FINAL_EMITTER.emit(model, t, sorted, info).map((f) => makeFile(t.name, f, { emitter: FINAL_EMITTER.name }));
    all.push(...sorted, ...man);
  }
  for (const e of CLUSTER_EMITTERS) {
    const produced = e.emit(model, sortFiles(all), info).map((f) => makeFile('', f, { emitter: e.name }));
    all.push(...produced);
  }
  const out = sortFiles(all);
  assertUnique(out);
  return { files: out, diagnostics: [] };
}
