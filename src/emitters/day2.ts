// A bundle's day-2 plan (`mhc build --plan-from OLD`): plan/apply-plan.sh, the bash data
// bin/apply_multihead.sh reads to bring this node from OLD's bundle to this one. The plan itself
// is decided by `mhc plan` (src/review/plan.ts); this file only lays one node's part of it out.
import { render } from '../compiler/render.js';
import type { EmittedFile } from '../compiler/bundle.js';
import type { ChangeAction } from './service.js';

export const APPLY_SH = 'bin/apply_multihead.sh';
export const APPLY_PLAN = 'plan/apply-plan.sh';
/** Rotates the Redis or the database root password without an outage (rotations are not in the bundles: the values live in secrets.env). */
export const ROTATE_SH = 'bin/rotate_secret.sh';
/** Per plan, what the apply has done on this node: one marker per step, so a second run resumes. */
export const APPLY_JOURNAL = '/var/lib/mhc/apply';
/** sha256 of the manifest.json of the bundle last installed on this node (start_multihead.sh and apply_multihead.sh write it). */
export const INSTALLED_MARK = '/var/lib/mhc/installed-bundle.sha256';

/** One step of this node's part of a plan: a service, the action it needs, and what is changed live. */
export interface ApplyStep {
  readonly service: string;
  /** membership: Slurm's procedure for compute nodes added or removed (apply_multihead.sh) */
  readonly action: ChangeAction | 'membership';
  readonly disruption: string;
  /** settings changed on the running daemon (action runtime): the installed file and the key in it */
  readonly live: readonly { readonly dest: string; readonly key: string }[];
}

export interface NodeApplyPlan {
  /** the plan's id: the same in every bundle of one `mhc build --plan-from` */
  readonly id: string;
  readonly from: string;
  readonly to: string;
  /** sha256 of this bundle's manifest.json on the side the plan starts from ('' when the node is new) */
  readonly fromManifest: string;
  /** every node with a step, in the order to run them (controllers by hostname; "compute" for the compute bundle) */
  readonly order: readonly string[];
  readonly steps: readonly ApplyStep[];
  /** controllers added: each joins by its own apply, after the controllers both sides have */
  readonly joining: readonly string[];
  /** controllers removed, with the address they are reached at (the plan's last controller takes them out, over ssh) */
  readonly leaving: readonly { readonly node: string; readonly ip: string }[];
  /** compute nodes added or removed (by hostname): Slurm's membership step handles them */
  readonly computeAdded: readonly string[];
  readonly computeRemoved: readonly string[];
}

export function applyPlanFile(p: NodeApplyPlan, bundle: string): EmittedFile {
  const live = p.steps.flatMap((s, i) => s.live.map((l) => ({ step: String(i), ...l })));
  return { path: APPLY_PLAN, content: render('lifecycle/plan/apply-plan.sh', { ...p, bundle, live }), mode: 0o644 };
}
