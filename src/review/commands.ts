// The review commands of the CLI: `mhc diff`, `mhc audit`, `mhc explain`. Part of the CLI layer
// (it reads process.env and stdout's TTY state); the work is done by the pure modules.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { printable } from '../compiler/diagnostics.js';
import { MHC_VERSION } from '../generated/version.js';
import { auditConfig, auditFailed, auditTree, type AuditReport } from './audit.js';
import { formatAuditJson, formatAuditText } from './audit-format.js';
import { compareSides } from './compare.js';
import { formatDiff, type DiffFormat } from './diff-format.js';
import { explain, formatExplainJson, formatExplainText } from './explain.js';
import { loadSide, parseSpec, readTarballs, readTree, readYamlBytes, ReviewError } from './tree-source.js';

export interface ReviewIO {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  /** ends the command with this exit code */
  readonly exit: (code: number) => never;
}

/** diff(1)'s convention: 0 identical, 1 different, 2 trouble. */
export const DIFF_EXIT = { SAME: 0, DIFFERENT: 1, ERROR: 2 } as const;

function useColor(flag: boolean | undefined): boolean {
  if (flag === false) return false;
  const nc = process.env.NO_COLOR;
  if (nc !== undefined && nc !== '') return false;
  return !!process.stdout.isTTY;
}

function fail(io: ReviewIO, e: unknown, code: number): never {
  // messages name files of a tree (or a git error line): never raw control characters
  if (e instanceof ReviewError) io.err(`mhc: ${printable(e.message)}\n`);
  else io.err(`mhc: internal error: ${printable(e instanceof Error ? e.message : String(e))}\n`);
  return io.exit(code);
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
            color: o.format === 'text' && useColor(o.color),
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

  p.command('audit')
    .description('check a cluster YAML or a built tree for HA pitfalls, leaked secrets, permissions and tampering; list the ports each node must open (exit 1 on errors)')
    .argument('<target>', 'a cluster YAML, or a built tree (out/<cluster>)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--strict', 'warnings fail too (exit 1)')
    .action((target: string, o: { format: 'text' | 'json'; strict?: boolean }) => {
      let r: AuditReport;
      try {
        const spec = parseSpec(target);
        if (spec.kind === 'tree') {
          const t = readTree(spec.dir);
          r = auditTree(target, t.files, t.irregular, MHC_VERSION, readTarballs(t.root));
        } else r = auditConfig(target, readYamlBytes(spec), MHC_VERSION);
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
}
