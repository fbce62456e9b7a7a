// The review commands of the CLI: `mhc diff`, `mhc audit`, `mhc explain`, `mhc report`. Part of
// the CLI layer (it writes report -o FILE through write.ts; the environment and the terminal reach
// it through ReviewIO, from cli.ts); the work is done by the pure modules.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { compile } from '../compiler/compile.js';
import { formatProblems, hasErrors, printable } from '../compiler/diagnostics.js';
import { isSystemError } from '../compiler/internal.js';
import { writeFileAtomic, WriteError } from '../compiler/write.js';
import { MHC_VERSION } from '../generated/version.js';
import { auditConfig, auditFailed, auditTree, type AuditReport } from './audit.js';
import { formatAuditJson, formatAuditText } from './audit-format.js';
import { compareSides } from './compare.js';
import { formatDiff, type DiffFormat } from './diff-format.js';
import { explain, formatExplainJson, formatExplainText } from './explain.js';
import { planSides, type Plan } from './plan.js';
import { formatPlan, type PlanFormat } from './plan-format.js';
import { renderReport } from './report.js';
import type { SideInput } from './report-facts.js';
import { loadSide, parseSpec, readTarballs, readTree, readYamlBytes, ReviewError, type SourceSpec } from './tree-source.js';
import { sideFromFiles } from './side.js';

export interface ReviewIO {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  /** ends the command with this exit code */
  readonly exit: (code: number) => never;
  /** whether colour may be used at all: stdout is a terminal and NO_COLOR is unset or empty */
  readonly colorAllowed: () => boolean;
}

/** diff(1)'s convention: 0 identical, 1 different, 2 trouble. */
export const DIFF_EXIT = { SAME: 0, DIFFERENT: 1, ERROR: 2 } as const;

const useColor = (io: ReviewIO, flag: boolean | undefined): boolean => flag !== false && io.colorAllowed();

function fail(io: ReviewIO, e: unknown, code: number): never {
  // messages name files of a tree (or a git error line): never raw control characters
  if (e instanceof ReviewError || isSystemError(e)) io.err(`mhc: ${printable(e.message)}\n`);
  else throw e; // a bug in mhc: main() reports it (E900, exit 4)
  return io.exit(code);
}

/** The audit of a built tree (with the tarballs beside it) or of a YAML (its bytes, when already read). */
function auditSpec(spec: SourceSpec, bytes?: Uint8Array, treeDir?: string): AuditReport {
  if (spec.kind === 'tree') {
    if (treeDir !== undefined) throw new ReviewError('--tree compares a YAML with a tree: give a cluster YAML, not a tree');
    const t = readTree(spec.dir);
    return auditTree(spec.label, t.files, t.irregular, MHC_VERSION, readTarballs(t.root));
  }
  const recorded = treeDir === undefined ? undefined : sideFromFiles(treeDir, 'tree', readTree(treeDir).files);
  return auditConfig(spec.label, bytes ?? readYamlBytes(spec), MHC_VERSION, recorded);
}

/**
 * One side of `mhc report`: read (exit 3 when it cannot be), a YAML compiled first (its problems
 * printed as `mhc validate` prints them, exit 1), then audited: the model, findings and ports.
 */
function reportSide(io: ReviewIO, arg: string): SideInput {
  let spec: SourceSpec;
  let bytes: Uint8Array | undefined;
  try {
    spec = parseSpec(arg);
    if (spec.kind !== 'tree') bytes = readYamlBytes(spec);
  } catch (e) {
    return fail(io, e, 3);
  }
  if (bytes) {
    const c = compile(arg, bytes);
    if (!c.model || hasErrors(c.diagnostics)) {
      io.err(formatProblems(arg, c.loaded.source, c.diagnostics));
      return io.exit(1);
    }
  }
  let audit: AuditReport;
  try {
    audit = auditSpec(spec, bytes);
  } catch (e) {
    return fail(io, e, 3);
  }
  if (!audit.model) {
    io.err(`mhc: ${printable(arg)} has no readable cluster.json: nothing to draw (mhc audit ${printable(arg)} says more)\n`);
    return io.exit(1);
  }
  return { label: arg, model: audit.model, audit };
}

function renderOrFail(io: ReviewIO, now: SideInput, was: SideInput | undefined): string {
  try {
    const a = was?.audit.side;
    const b = now.audit.side;
    const diff = a && b ? compareSides(a, b, MHC_VERSION) : undefined;
    return renderReport({ now, ...(was ? { was } : {}), ...(diff ? { diff } : {}), mhcVersion: MHC_VERSION });
  } catch (e) {
    // a tree's cluster.json written by another mhc may lack what the report reads
    const tree = [now, was].find((s) => s?.audit.kind === 'tree');
    if (!tree) return fail(io, e, 3);
    io.err(`mhc: ${printable(tree.label)}: its cluster.json is not a model this mhc can draw (${printable(e instanceof Error ? e.message : String(e))}); rebuild the tree, or report on the YAML\n`);
    return io.exit(1);
  }
}

export function registerReviewCommands(p: Command, io: ReviewIO): void {
  p.command('diff')
    .description('show what changes on which node between two YAML files, built trees or git:REF:PATH (exit 0 same, 1 different, 2 error)')
    .argument('<a>', 'old side: a cluster YAML, a built tree (out/<cluster>) or git:REF:PATH')
    .argument('<b>', 'new side: same choices')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'markdown', 'json']).default('text'))
    .option('--stat', 'only the summary: files, nodes and line counts')
    .option('-U, --context <lines>', 'lines of context around each change', (v: string) => {
      if (!/^\d{1,3}$/.test(v)) throw new InvalidArgumentError('a number of lines (0-999)');
      return Number(v);
    })
    .option('--no-color', 'never colour the output (colour is used only on a terminal, and never when NO_COLOR is set)')
    .action(
      (
        a: string,
        b: string,
        o: {
          format: DiffFormat;
          stat?: boolean;
          context?: number;
          color?: boolean;
        },
      ) => {
        let text: string;
        let same: boolean;
        try {
          const d = compareSides(loadSide(a, MHC_VERSION), loadSide(b, MHC_VERSION), MHC_VERSION, o.context !== undefined ? { context: o.context } : {});
          text = formatDiff(d, o.format, {
            color: o.format === 'text' && useColor(io, o.color),
            stat: !!o.stat,
          });
          same = d.identical;
        } catch (e) {
          return fail(io, e, DIFF_EXIT.ERROR);
        }
        io.out(text);
        if (!same) io.exit(DIFF_EXIT.DIFFERENT);
      },
    );

  p.command('plan')
    .description(
      'what applying NEW to a cluster running OLD takes, node by node in order: each step (nothing, live change, reload, restart, membership), why and by whose rule, its disruption and gates (exit 0 nothing to do, 1 changes, 2 usage, 3 cannot read)',
    )
    .argument('<old>', 'what the cluster runs: a cluster YAML, a built tree (out/<cluster>) or git:REF:PATH')
    .argument('<new>', 'what it is to run: same choices')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'markdown', 'json']).default('text'))
    .action((a: string, b: string, o: { format: PlanFormat }) => {
      let plan: Plan;
      try {
        plan = planSides(loadSide(a, MHC_VERSION), loadSide(b, MHC_VERSION), MHC_VERSION);
      } catch (e) {
        return fail(io, e, 3);
      }
      io.out(formatPlan(plan, o.format));
      if (plan.changes) io.exit(1);
    });

  p.command('audit')
    .description('check a cluster YAML or a built tree for HA pitfalls, leaked secrets, permissions and tampering; list the ports each node must open (exit 1 on errors)')
    .argument('<target>', 'a cluster YAML, or a built tree (out/<cluster>)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--strict', 'warnings fail too (exit 1)')
    .option('--tree <dir>', 'with a cluster YAML: also compare it with this tree built from it (out/<cluster>): the target it records (A005)')
    .action((target: string, o: { format: 'text' | 'json'; strict?: boolean; tree?: string }) => {
      let r: AuditReport;
      try {
        r = auditSpec(parseSpec(target), undefined, o.tree);
      } catch (e) {
        return fail(io, e, 3);
      }
      io.out(o.format === 'json' ? formatAuditJson(r, { strict: !!o.strict }) : formatAuditText(r, { strict: !!o.strict }));
      if (auditFailed(r, !!o.strict)) io.exit(1);
    });

  p.command('explain')
    .description('which files and lines on which nodes a YAML key controls (built with the value changed, then diffed)')
    .argument('<config>', 'the cluster YAML (or git:REF:PATH)')
    .argument('<key>', 'the key, e.g. network.vip.virtual_router_id or controllers[0].priority')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((config: string, key: string, o: { format: 'text' | 'json' }) => {
      let text: string;
      let bytes: Uint8Array;
      try {
        bytes = readYamlBytes(parseSpec(config));
      } catch (e) {
        return fail(io, e, 3);
      }
      try {
        const r = explain(config, bytes, key, MHC_VERSION);
        text = o.format === 'json' ? formatExplainJson(r) : formatExplainText(r);
      } catch (e) {
        // an invalid YAML or a key not in the file is the input's fault
        return fail(io, e, 1);
      }
      io.out(text);
    });

  p.command('report')
    .description('one self-contained HTML page (no script, no network): topology, services per node, HA roles, ports, audit findings; with OLD and NEW, what the change adds, removes and moves')
    .argument('<input>', 'a cluster YAML, a built tree (out/<cluster>) or git:REF:PATH; with a second one, the old side')
    .argument('[new]', 'the new side: the page shows the change from <input> to it')
    .option('-o, --output <file>', 'write the page to this file (atomically, replacing it) instead of stdout')
    .action((first: string, second: string | undefined, o: { output?: string }) => {
      const was = second === undefined ? undefined : reportSide(io, first);
      const now = reportSide(io, second ?? first);
      const page = renderOrFail(io, now, was);
      if (!o.output) return io.out(page);
      try {
        writeFileAtomic(o.output, page, 0o644, true);
      } catch (e) {
        if (!(e instanceof WriteError)) throw e;
        io.err(`mhc: ${printable(e.message)}\n`);
        return io.exit(3);
      }
      io.out(`wrote ${printable(o.output)} (${Buffer.byteLength(page)} bytes)\n`);
    });
}
