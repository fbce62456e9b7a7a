// Sides of `mhc report` built in memory (as the CLI builds them from a YAML or a tree), and the
// page rendered from them: shared by the renderer's unit tests and the browser test.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticCluster } from '../../bench/synthetic.mjs';
import { auditConfig, auditTree } from '../../src/review/audit.js';
import { compareSides } from '../../src/review/compare.js';
import { renderReport } from '../../src/review/report.js';
import type { SideInput } from '../../src/review/report-facts.js';
import type { RawFile } from '../../src/review/side.js';
import { EXAMPLES } from '../helpers.js';
import { V } from './fixtures.js';

/** The examples the report is drawn for (examples/<name>.yaml). */
export const REPORT_EXAMPLES = ['my_multihead_cluster', 'two_controllers', 'five_controllers', 'slurm_only'] as const;

export const exampleText = (name: string): string => readFileSync(join(EXAMPLES, `${name}.yaml`), 'utf8');

/** 5 controllers and 10,000 compute nodes in racks (the bench's synthetic cluster). */
export const bigText = (): string => syntheticCluster(10_000);

export function configSide(text: string, label = 'rev.yaml'): SideInput {
  const audit = auditConfig(label, Buffer.from(text), V);
  if (!audit.model || !audit.side) throw new Error(`${label} does not build: ${audit.findings.map((f) => f.message).join('; ')}`);
  return { label, model: audit.model, audit };
}

export function treeInput(files: readonly RawFile[], label = 'out/rev'): SideInput {
  const audit = auditTree(label, files, [], V);
  if (!audit.model) throw new Error(`${label}: no model`);
  return { label, model: audit.model, audit };
}

/** The page, as `mhc report [OLD] NEW` renders it (with mhc diff's changes when two sides are given). */
export function reportOf(now: SideInput, was?: SideInput): string {
  const diff = was ? compareSides(was.audit.side!, now.audit.side!, V) : undefined;
  return renderReport({ now, ...(was ? { was } : {}), ...(diff ? { diff } : {}), mhcVersion: V });
}
