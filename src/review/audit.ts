// `mhc audit`: HA pitfalls, leaked secrets, permissions, tampering and the ports every node must
// open, for a cluster YAML (findings at file:line:col) or a built tree (findings at node + path).
// Pure: the CLI reads the YAML bytes or the tree's files (tree-source.ts) and passes them in.
import { allTargets, build } from '../compiler/build.js';
import type { Diagnostic, Span } from '../compiler/diagnostics.js';
import { fold, type Folded } from '../compiler/fold.js';
import { parseSource } from '../compiler/load.js';
import { makeLocator, type Path } from '../compiler/locate.js';
import type { Model } from '../compiler/model.js';
import { normalize } from '../compiler/normalize.js';
import { checkRules } from '../compiler/rules.js';
import type { SourceText } from '../compiler/source.js';
import { validate } from '../compiler/validate.js';
import { AUDIT_CODES, type AuditCode, type AuditSeverity } from './audit-codes.js';
import { rawFromBundle } from './build-side.js';
import { sideFromFiles, type RawFile, type Side, type Tarball } from './side.js';
import { RULES, COVERED_COMPILER_CODES } from './audit-rules/index.js';
import { networkPlan, type NodePorts } from './ports.js';

export interface TreeLoc {
  readonly node?: string;
  readonly path?: string;
}

export type Location =
  | {
      readonly kind: 'yaml';
      readonly file: string;
      readonly line: number;
      readonly col: number;
      readonly endLine: number;
      readonly endCol: number;
      /** the bundle (controller, or compute) the finding concerns, when the rule names one */
      readonly node?: string;
    }
  | { readonly kind: 'tree'; readonly node?: string; readonly path?: string };

export interface Finding {
  readonly code: AuditCode;
  readonly severity: AuditSeverity;
  readonly title: string;
  readonly location: Location;
  /** what is wrong */
  readonly message: string;
  /** why it matters in a real outage */
  readonly why: string;
  /** how to fix it */
  readonly fix: string;
  /** the underlined text is a secret: text output masks it instead of quoting the line */
  readonly sensitive?: boolean;
}

export interface AuditContext {
  readonly kind: 'config' | 'tree';
  readonly target: string;
  /** config: the normalized model (also when cross-field rules failed); tree: cluster.json */
  readonly model?: Model;
  /** config only: the folded input, with the path of every value */
  readonly folded?: Folded;
  /** config only: the compiler's diagnostics */
  readonly diagnostics: readonly Diagnostic[];
  /** the built files: the tree as read, or the config built in memory */
  readonly side?: Side;
  /** config only: a tree built earlier (`mhc audit YAML --tree DIR`), compared with the YAML */
  readonly recorded?: Side;
  /** tree only: symbolic links and special files found */
  readonly irregular: readonly string[];
  /** tree only: the tarballs beside it (out/<cluster>-<bundle>.tar.gz) */
  readonly tarballs: readonly Tarball[];
  readonly mhcVersion: string;
  /** where to point: the YAML path in a config; else the node and path in the tree */
  at(yaml: Path | undefined, tree?: TreeLoc): Location;
  /** a finding; severity defaults to the code's */
  finding(code: AuditCode, location: Location, message: string, why: string, fix: string, severity?: AuditSeverity): Finding;
}

export interface AuditRule {
  readonly name: string;
  /** the codes this rule can report */
  readonly codes: readonly AuditCode[];
  readonly check: (ctx: AuditContext) => readonly Finding[];
}

export interface AuditReport {
  readonly target: string;
  readonly kind: 'config' | 'tree';
  readonly mhcVersion: string;
  readonly findings: readonly Finding[];
  readonly network: readonly NodePorts[];
  /** config only: the source text, for carets */
  readonly source?: SourceText;
  /** the model the rules read (config: normalized, also when cross-field rules failed; tree: cluster.json) */
  readonly model?: Model;
  /** the built files the rules read (the tree, or the config built in memory when it compiles) */
  readonly side?: Side;
}

function makeFinding(code: AuditCode, location: Location, message: string, why: string, fix: string, severity?: AuditSeverity): Finding {
  const c = AUDIT_CODES[code];
  return {
    code,
    severity: severity ?? c.severity,
    title: c.title,
    location,
    message,
    why,
    fix,
  };
}

function yamlLocation(file: string, src: SourceText | undefined, span: Span | undefined): Location {
  const s = src && span ? src.position(span.start) : { line: 1, col: 1 };
  const e = src && span ? src.position(Math.max(span.start, span.end)) : s;
  return {
    kind: 'yaml',
    file,
    line: s.line,
    col: s.col,
    endLine: e.line,
    endCol: e.col,
  };
}

const SEVERITY_ORDER: Record<AuditSeverity, number> = {
  error: 0,
  warning: 1,
  info: 2,
};

function locKey(l: Location): string {
  return l.kind === 'yaml' ? `0 ${String(l.line).padStart(8, '0')} ${String(l.col).padStart(6, '0')}` : `1 ${l.node ?? ''} ${l.path ?? ''}`;
}

/** Stable order: by location (YAML position, or node and path), then severity, then code; exact repeats dropped. */
export function sortFindings(fs: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  const unique = fs.filter((f) => {
    const k = JSON.stringify([f.code, f.location, f.message]);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return unique.sort((a, b) => {
    const ka = locKey(a.location);
    const kb = locKey(b.location);
    return (ka < kb ? -1 : ka > kb ? 1 : 0) || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) || (a.message < b.message ? -1 : 1);
  });
}

function runRules(ctx: AuditContext): Finding[] {
  const out: Finding[] = [];
  for (const r of RULES) {
    try {
      out.push(...r.check(ctx));
    } catch (e) {
      out.push(
        ctx.finding(
          'A003',
          ctx.at(undefined, { path: 'cluster.json' }),
          `rule ${r.name} (${r.codes.join(', ')}) could not run: ${e instanceof Error ? e.message : String(e)}`,
          'a tree from another mhc version, or an edited cluster.json, may not hold what this rule reads; the rule checked nothing',
          'rebuild the tree with this mhc, or audit the cluster YAML instead',
        ),
      );
    }
  }
  return out;
}

/** Audits a cluster YAML (its bytes). */
/** Audits a YAML; with `recorded`, a tree built earlier, also what that tree records of it (its target). */
export function auditConfig(name: string, bytes: Uint8Array, mhcVersion: string, recorded?: Side): AuditReport {
  const loaded = parseSource(name, bytes);
  const src = loaded.source;
  const loc = makeLocator(loaded.doc);
  const base = {
    kind: 'config' as const,
    target: name,
    mhcVersion,
    irregular: [] as string[],
    tarballs: [] as Tarball[],
    finding: makeFinding,
  };
  const passThrough = (ds: readonly Diagnostic[], covered: ReadonlySet<string>): Finding[] =>
    ds
      .filter((d) => !covered.has(d.code))
      .map((d) =>
        makeFinding(
          d.severity === 'error' ? 'A001' : 'A002',
          yamlLocation(name, src, d.span),
          `${d.code}: ${d.message}`,
          d.severity === 'error' ? 'mhc builds nothing from a file with errors, so nothing can be deployed from it' : 'the compiler accepts the file but flags a setting that is risky in operation',
          d.hint ?? 'see the message',
        ),
      );
  if (loaded.value === undefined) {
    return {
      target: name,
      kind: 'config',
      mhcVersion,
      findings: sortFindings(passThrough(loaded.diagnostics, new Set())),
      network: [],
      ...(src ? { source: src } : {}),
    };
  }
  const v = validate(loaded.value, loc);
  if (!v.input) {
    return {
      target: name,
      kind: 'config',
      mhcVersion,
      findings: sortFindings(passThrough(v.diagnostics, new Set())),
      network: [],
      ...(src ? { source: src } : {}),
    };
  }
  const f = fold(v.input, loc);
  const n = normalize(f.folded);
  const { model, literals } = n;
  const diagnostics = [...f.diagnostics, ...checkRules(f.folded, n, loc)];
  let side: Side | undefined;
  let buildProblem: string | undefined;
  if (!diagnostics.some((d) => d.severity === 'error')) {
    try {
      const r = build({
        model,
        literals,
        inputSha256: '',
        mhcVersion,
        targets: allTargets(model),
      });
      if (r.files)
        side = sideFromFiles(
          name,
          'yaml',
          rawFromBundle(r.files),
          model.computeNodes.map((n) => n.hostname),
        );
    } catch (e) {
      buildProblem = e instanceof Error ? e.message : String(e);
    }
  }
  const ctx: AuditContext = {
    ...base,
    model,
    folded: f.folded,
    diagnostics,
    ...(side ? { side } : {}),
    ...(recorded ? { recorded } : {}),
    at: (yaml, tree) =>
      yaml
        ? { ...yamlLocation(name, src, loc(yaml)), ...(tree?.node ? { node: tree.node } : {}) }
        : {
            kind: 'tree',
            ...(tree?.node ? { node: tree.node } : {}),
            ...(tree?.path ? { path: tree.path } : {}),
          },
  };
  const findings = runRules(ctx);
  // compiler diagnostics an audit rule reports itself (with why and fix) are not repeated
  const reported = new Set(findings.map((x) => x.code));
  const covered = new Set(
    Object.entries(COVERED_COMPILER_CODES)
      .filter(([, a]) => reported.has(a))
      .map(([c]) => c),
  );
  findings.push(...passThrough(diagnostics, covered));
  if (buildProblem) findings.push(makeFinding('A003', ctx.at(undefined, {}), `the in-memory build failed (${buildProblem}): the file rules checked nothing`, 'an mhc bug', 'report it'));
  return {
    target: name,
    kind: 'config',
    mhcVersion,
    findings: sortFindings(findings),
    network: safeNetwork(model),
    ...(src ? { source: src } : {}),
    model,
    ...(side ? { side } : {}),
  };
}

function safeNetwork(model: Model | undefined): NodePorts[] {
  if (!model) return [];
  try {
    return networkPlan(model);
  } catch {
    return [];
  }
}

/** Audits a built tree (its files as read from disk, with their modes, and the tarballs beside it). */
export function auditTree(target: string, files: readonly RawFile[], irregular: readonly string[], mhcVersion: string, tarballs: readonly Tarball[] = []): AuditReport {
  const side = sideFromFiles(target, 'tree', files);
  const cj = side.clusterJson;
  const model = cj && typeof cj === 'object' && !Array.isArray(cj) ? (cj as Model) : undefined;
  const ctx: AuditContext = {
    kind: 'tree',
    target,
    ...(model ? { model } : {}),
    diagnostics: [],
    side,
    irregular,
    tarballs,
    mhcVersion,
    finding: makeFinding,
    at: (_yaml, tree) => ({
      kind: 'tree',
      ...(tree?.node ? { node: tree.node } : {}),
      path: tree?.path ?? 'cluster.json',
    }),
  };
  const findings = runRules(ctx);
  return {
    target,
    kind: 'tree',
    mhcVersion,
    findings: sortFindings(findings),
    network: safeNetwork(model),
    ...(model ? { model } : {}),
    side,
  };
}

export const auditFailed = (r: AuditReport, strict: boolean): boolean => r.findings.some((f) => f.severity === 'error' || (strict && f.severity === 'warning'));
