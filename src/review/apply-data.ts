// One plan, cut per bundle for `mhc build --plan-from OLD` (pure): what each node's
// plan/apply-plan.sh holds (src/emitters/day2.ts lays it out).
import { sha256 } from '../compiler/bundle.js';
import type { ApplyStep, NodeApplyPlan } from '../emitters/day2.js';
import type { Plan, PlanStep } from './plan.js';
import type { Side } from './side.js';

const ACTION_OF: Record<PlanStep['verb'], ApplyStep['action']> = { nothing: 'none', 'live change': 'runtime', reload: 'reload', restart: 'restart', membership: 'membership' };

function stepOf(s: PlanStep): ApplyStep {
  const action = ACTION_OF[s.verb];
  const live = action === 'runtime' ? s.reasons.filter((r) => r.action === 'runtime' && r.setting).map((r) => ({ dest: r.path.slice('files'.length), key: r.setting! })) : [];
  return { service: s.service, action, disruption: s.disruption, live };
}

/** Per bundle of NEW (`bundles`): its part of the plan. `old`: the side the plan starts from (its manifests name what must be installed). */
export function applyPlans(plan: Plan, old: Side, bundles: readonly string[]): Map<string, NodeApplyPlan> {
  const id = sha256(JSON.stringify(plan)).slice(0, 16);
  const order = plan.nodes.map((n) => n.bundle);
  const ctl = (change: 'added' | 'removed') => plan.membership.filter((m) => m.role === 'controller' && m.change === change).map((m) => m.node);
  // a controller leaving is reached by its old address (the new bundles no longer name it)
  const oldIps = new Map(
    (((old.clusterJson as { controllers?: unknown } | undefined)?.controllers ?? []) as { hostname?: unknown; ip?: unknown }[]).map((c) => [String(c.hostname), String(c.ip ?? '')]),
  );
  const compute = (change: 'added' | 'removed') => plan.membership.filter((m) => m.role === 'compute' && m.change === change).map((m) => m.node);
  const manifestSha = (b: string) => {
    const m = old.raw.find((f) => f.path === `${b}/manifest.json`);
    return m ? sha256(m.content) : '';
  };
  const out = new Map<string, NodeApplyPlan>();
  for (const b of bundles) {
    const steps = (plan.nodes.find((n) => n.bundle === b)?.steps ?? []).map(stepOf);
    out.set(b, {
      id,
      from: plan.from,
      to: plan.to,
      fromManifest: manifestSha(b),
      order,
      steps,
      joining: ctl('added'),
      leaving: ctl('removed').map((node) => ({ node, ip: oldIps.get(node) ?? '' })),
      computeAdded: compute('added'),
      computeRemoved: compute('removed'),
    });
  }
  return out;
}
