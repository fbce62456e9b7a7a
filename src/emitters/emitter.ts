// The emitter interface. An emitter reads the Model (never the input) and returns files for
// one bundle target. Emitters are pure and run in the order of the registry (index.ts).
import type { BundleFile, EmittedFile } from '../compiler/bundle.js';
import type { Model, Target } from '../compiler/model.js';
import type { ServiceDescriptor } from './service.js';
import type { NodeApplyPlan } from './day2.js';

export interface BuildInfo {
  readonly mhcVersion: string;
  /** sha256 of the input bytes */
  readonly inputSha256: string;
  readonly secretsEmbedded: boolean;
  /** `mhc build --plan-from OLD`: per bundle, its part of the day-2 plan (plan/apply-plan.sh) */
  readonly applyPlans?: ReadonlyMap<string, NodeApplyPlan>;
}

export interface Emitter {
  readonly name: string;
  /**
   * The service whose files this emitter writes: each file is recorded as that service's, with the
   * change action its descriptor gives the file's path (a file may name another service itself).
   */
  readonly service?: ServiceDescriptor;
  /** `sofar`: what earlier emitters produced for this target (the manifest lists it; operations keeps its paths in a backup's configs; no emitter reads another's content) */
  emit(model: Model, target: Target, sofar: readonly BundleFile[], info: BuildInfo): readonly EmittedFile[];
}

/** Runs once per build after every target is done: files at the top of out/<cluster>/. */
export interface ClusterEmitter {
  readonly name: string;
  emit(model: Model, files: readonly BundleFile[], info: BuildInfo): readonly EmittedFile[];
}
