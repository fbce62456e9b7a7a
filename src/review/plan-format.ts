// `mhc plan`'s output (pure): text for a terminal, markdown for a merge request, JSON for tools.
import { printable } from '../compiler/diagnostics.js';
import type { Plan, PlanStep } from './plan.js';

export type PlanFormat = 'text' | 'markdown' | 'json';

const p = (s: string) => printable(s);

function stepText(s: PlanStep): string[] {
  const out = [`   ${s.verb.padEnd(12)} ${s.service}`];
  for (const r of s.reasons) out.push(`     ${p(r.what)}: ${r.action} (${p(r.rule)})`);
  if (s.verb !== 'nothing') {
    out.push(`     disruption: ${p(s.disruption)}`);
    if (s.gates.length) out.push(`     gates: ${s.gates.map(p).join('; ')}`);
  }
  return out;
}

function text(plan: Plan): string {
  const out = [`mhc plan: ${p(plan.from)} -> ${p(plan.to)}`];
  if (!plan.changes) out.push('nothing to do: no node needs more than its files');
  if (plan.nodes.length) {
    out.push('', `${plan.nodes.length} node(s), in this order, one at a time (each step waits for its gates before it starts and after it ends):`);
    plan.nodes.forEach((n, i) => {
      out.push(`${i + 1}. ${p(n.bundle)} (${n.role})`);
      for (const s of n.steps) out.push(...stepText(s));
    });
  }
  for (const m of plan.membership) out.push('', `membership: ${p(m.node)} (${m.role}) ${m.change}`);
  if (plan.notes.length) out.push('', ...plan.notes.map((n) => `note: ${p(n)}`));
  return `${out.join('\n')}\n`;
}

const cell = (s: string) => p(s).replace(/\|/g, '\\|');

function markdown(plan: Plan): string {
  const out = [`## mhc plan: \`${cell(plan.from)}\` → \`${cell(plan.to)}\``, ''];
  if (!plan.changes) out.push('Nothing to do: no node needs more than its files.', '');
  plan.nodes.forEach((n, i) => {
    out.push(`### ${i + 1}. ${cell(n.bundle)} (${n.role})`, '', '| step | service | what | why | disruption | gates |', '|---|---|---|---|---|---|');
    for (const s of n.steps) {
      const what = s.reasons.map((r) => `${cell(r.what)} (${r.action})`).join('<br>');
      const why = [...new Set(s.reasons.map((r) => cell(r.rule)))].join('<br>');
      out.push(`| ${s.verb} | ${s.service} | ${what} | ${why} | ${cell(s.disruption)} | ${s.gates.map(cell).join('<br>')} |`);
    }
    out.push('');
  });
  for (const m of plan.membership) out.push(`- membership: ${cell(m.node)} (${m.role}) ${m.change}`);
  if (plan.membership.length) out.push('');
  for (const n of plan.notes) out.push(`> ${cell(n)}`);
  return `${out.join('\n')}\n`;
}

export function formatPlan(plan: Plan, format: PlanFormat): string {
  if (format === 'json') return `${JSON.stringify(plan, null, 2)}\n`;
  return format === 'markdown' ? markdown(plan) : text(plan);
}
