// The mhc command line. The only module (with load, write and pack) that touches the disk,
// the clock or process.env. Exit codes: 0 ok, 1 invalid input, 2 usage error, 3 I/O error,
// 4 internal error (a bug in mhc: E900).
import { Command, CommanderError, Option } from 'commander';
import { randomBytes } from 'node:crypto';
import { relative, resolve as resolvePath } from 'node:path';
import { compile, type Compiled } from './compiler/compile.js';
import { formatJson, formatProblems, formatText, hasErrors, summaryLine, type Span } from './compiler/diagnostics.js';
import { InputReadError, readInput } from './compiler/load.js';
import { allTargets, build, selectTargets } from './compiler/build.js';
import type { NodeApplyPlan } from './emitters/day2.js';
import { applyPlans } from './review/apply-data.js';
import { rawFromBundle } from './review/build-side.js';
import { planSides } from './review/plan.js';
import { sideFromFiles, type Side } from './review/side.js';
import { loadSide, ReviewError } from './review/tree-source.js';
import { writeFileAtomic, removeFile, replaceFile, stageFile, stageTree, WriteError, type StagedFile } from './compiler/write.js';
import { packBundle, tarballMode } from './compiler/pack.js';
import { secretsOf } from './compiler/bundle.js';
import { jsonSchema, MAX_PRIORITY } from './compiler/schema.js';
import { DEFAULT_TARGET_OS, TARGET_OSES } from './compiler/targets.js';
import { formatSecretsEnv, generate, parseSecretsEnv } from './compiler/secrets.js';
import { MHC_VERSION } from './generated/version.js';
import { COMPUTE_BUNDLE } from './compiler/model.js';
import { join } from 'node:path';
import { registerReviewCommands } from './review/commands.js';
import { fmt } from './compiler/fmt.js';
import { DEFAULT_COMPUTE_NODES, DEFAULT_CONTROLLERS, DEFAULT_NAME, DEFAULT_SCHEMA, init, type InitOptions } from './compiler/init.js';
import { unifiedDiff } from './review/unified.js';
import { printable } from './compiler/diagnostics.js';
import { formatInternalError, isSystemError } from './compiler/internal.js';

export const EXIT = { OK: 0, INVALID: 1, USAGE: 2, IO: 3, INTERNAL: 4 } as const;

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

const out = (s: string) => process.stdout.write(s);
const err = (s: string) => process.stderr.write(s);

/** Every file the user names is read through readInput (regular files only, with a size cap). */
function readUserFile(path: string): Uint8Array {
  try {
    return readInput(path);
  } catch (e) {
    if (e instanceof InputReadError) {
      err(`mhc: ${e.message}\n`);
      throw new Exit(EXIT.IO);
    }
    throw e;
  }
}

function load(config: string): Compiled {
  return compile(config, readUserFile(config));
}

function report(c: Compiled, format: 'text' | 'json' = 'text'): void {
  const ds = c.diagnostics;
  if (format === 'json') {
    out(formatJson(c.loaded.name, c.loaded.source, ds));
    return;
  }
  if (ds.length) err(formatProblems(c.loaded.name, c.loaded.source, ds));
}

function secretFinder(c: Compiled): (name: string) => Span | undefined {
  return (name) => {
    const text = c.loaded.source?.text ?? '';
    const i = text.indexOf(`\${${name}}`);
    return i >= 0 ? { start: i, end: i + name.length + 3 } : undefined;
  };
}

const plural = (n: number, s: string) => `${n} ${s}${n === 1 ? '' : 's'}`;

type BuildOpts = { output: string; node: string[]; tar?: boolean; embedSecrets?: boolean; secrets?: string; quiet?: boolean; planFrom?: string };

/**
 * --plan-from OLD: the day-2 plan from OLD (anything `mhc diff` reads) to this YAML, cut per
 * controller bundle (plan/apply-plan.sh). The plan is decided on the whole cluster built in memory
 * without the plans (so it is the one `mhc plan OLD NEW` prints), whatever --node selects.
 */
function planFrom(spec: string, config: string, c: Compiled, quiet: boolean): Map<string, NodeApplyPlan> | undefined {
  const model = c.model!;
  const whole = build({ model, literals: c.literals!, inputSha256: c.inputSha256, mhcVersion: MHC_VERSION, targets: allTargets(model) });
  if (!whole.files) return undefined; // the build below reports why
  const b = sideFromFiles(
    config,
    'yaml',
    rawFromBundle(whole.files),
    model.computeNodes.map((n) => n.hostname),
  );
  let a: Side;
  try {
    a = loadSide(spec, MHC_VERSION);
  } catch (e) {
    if (e instanceof ReviewError || isSystemError(e)) {
      err(`mhc: --plan-from ${printable(spec)}: ${printable(e.message)}\n`);
      throw new Exit(EXIT.IO);
    }
    throw e;
  }
  const plan = planSides(a, b, MHC_VERSION);
  if (!quiet) {
    const steps = plan.nodes.reduce((n, x) => n + x.steps.filter((st) => st.verb !== 'nothing').length, 0);
    out(
      `plan from ${printable(spec)}: ${plural(steps, 'step')} on ${plural(plan.nodes.length, 'node')}, in this order: ${plan.nodes.map((n) => n.bundle).join(' ') || '(none)'} (mhc plan prints it whole)\n`,
    );
  }
  return applyPlans(
    plan,
    a,
    model.controllers.map((n) => n.hostname),
  );
}

async function cmdBuild(config: string, o: BuildOpts): Promise<void> {
  if (o.secrets && !o.embedSecrets) {
    err('mhc: --secrets FILE is only read with --embed-secrets\n');
    throw new Exit(EXIT.USAGE);
  }
  let fromFile: Record<string, string> = {};
  if (o.secrets) fromFile = Object.fromEntries(parseSecretsEnv(Buffer.from(readUserFile(o.secrets)).toString('utf8')));
  const c = load(config);
  report(c);
  if (!c.model || hasErrors(c.diagnostics)) throw new Exit(EXIT.INVALID);
  const model = c.model;
  const sel = selectTargets(model, o.node);
  if (sel.unknown.length) {
    for (const u of sel.unknown) err(`mhc: --node ${u.name}: no such node in ${config}${u.guess ? ` (did you mean ${u.guess}?)` : ''}\n`);
    throw new Exit(EXIT.USAGE);
  }
  const plans = o.planFrom ? planFrom(o.planFrom, config, c, !!o.quiet) : undefined;
  const result = build({
    model,
    literals: c.literals!,
    inputSha256: c.inputSha256,
    mhcVersion: MHC_VERSION,
    targets: sel.targets,
    ...(plans ? { applyPlans: plans } : {}),
    // environment: of the YAML first (inside build), then --secrets FILE, then the process environment
    ...(o.embedSecrets ? { embedFrom: { ...process.env, ...fromFile } } : {}),
    findSecretInSource: secretFinder(c),
  });
  if (!result.files) {
    err(formatText(config, c.loaded.source, result.diagnostics));
    err(`mhc: build failed: ${summaryLine(result.diagnostics)}\n`);
    throw new Exit(EXIT.INVALID);
  }
  const files = result.files;
  // The tarballs are compressed on the thread pool while the tree is written beside its final
  // place, then each is written beside its own; only when all of that succeeded does the tree
  // move into place, and the tarballs after it, so a failure leaves the old tree and the old
  // tarballs as they were.
  const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? 0);
  const mtime = Number.isFinite(epoch) && epoch >= 0 ? Math.floor(epoch) : 0;
  const packing = o.tar ? Promise.all(sel.targets.map((t) => packBundle(t.name, files, mtime))) : Promise.resolve([]);
  packing.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
  try {
    const staged = stageTree(o.output, model.cluster.name, files);
    const tarballs: (StagedFile & { bytes: number })[] = [];
    try {
      let packed: Buffer[];
      try {
        packed = await packing;
      } catch (e) {
        throw new WriteError(`cannot pack the tarballs: ${String(e)}`);
      }
      sel.targets.forEach((t, i) => {
        if (!o.tar) return;
        // a tarball holding a secret value (--embed-secrets) is as private as the files inside
        const mode = tarballMode(t.name, files, !!o.embedSecrets);
        tarballs.push({ ...stageFile(join(o.output, `${model.cluster.name}-${t.name}.tar.gz`), packed[i]!, mode, true), bytes: packed[i]!.length });
      });
    } catch (e) {
      for (const t of tarballs) t.discard();
      staged.discard();
      throw e;
    }
    let w;
    try {
      w = staged.commit();
    } catch (e) {
      for (const t of tarballs) t.discard();
      throw e;
    }
    for (const [i, t] of tarballs.entries()) {
      try {
        t.commit();
      } catch (e) {
        for (const rest of tarballs.slice(i + 1)) rest.discard();
        throw e;
      }
    }
    for (const gone of w.removedBundles) removeFile(join(o.output, `${model.cluster.name}-${gone}.tar.gz`));
    if (!o.quiet) {
      const nCtl = sel.targets.filter((t) => t.kind === 'controller').length;
      const comp = sel.targets.find((t) => t.name === COMPUTE_BUNDLE);
      const shown = relative(process.cwd(), w.dir) || '.';
      out(
        `built ${shown}: ${plural(nCtl, 'controller bundle')}${comp ? ` + 1 compute bundle (${plural(model.computeNodes.length, 'node')})` : ''}, ${plural(w.files, 'file')}, ${w.bytes} bytes${o.embedSecrets ? ', secrets embedded (files holding them are mode 0600)' : ''}\n`,
      );
      for (const t of tarballs) out(`  ${relative(process.cwd(), resolvePath(t.path))} (${t.bytes} bytes)\n`);
    }
  } catch (e) {
    if (e instanceof WriteError) {
      err(`mhc: ${e.message}\n`);
      throw new Exit(EXIT.IO);
    }
    throw e;
  }
}

function cmdValidate(config: string, o: { format: 'text' | 'json' }): void {
  const c = load(config);
  report(c, o.format);
  if (hasErrors(c.diagnostics)) throw new Exit(EXIT.INVALID);
  if (o.format === 'text') {
    const m = c.model!;
    out(
      `${config}: valid (${plural(m.controllers.length, 'controller')}, ${plural(m.computeNodes.length, 'compute node')}${c.diagnostics.length ? `, ${summaryLine(c.diagnostics).replace(/^0 errors, /, '')}` : ''})\n`,
    );
  }
}

/** Writes a new file (refusing to replace one unless force): a file that exists is a usage error (2), anything else I/O (3). */
function writeNew(path: string, text: string, mode: number, force: boolean): void {
  try {
    writeFileAtomic(path, text, mode, force);
  } catch (e) {
    if (e instanceof WriteError) {
      err(`mhc: ${e.message}\n`);
      throw new Exit(/exists/.test(e.message) ? EXIT.USAGE : EXIT.IO);
    }
    throw e;
  }
}

function cmdSecretsInit(config: string, o: { output: string; force?: boolean; for: string[]; from?: string }): void {
  // a subset with fresh values would not match the other nodes' (the munge key must be the same
  // everywhere): --for takes its values from the cluster's secrets.env
  if (o.for.length && !o.from) {
    err('mhc: --for writes the values of an existing secrets.env: give it with --from FILE (mhc secrets init CONFIG -o FILE makes one)\n');
    throw new Exit(EXIT.USAGE);
  }
  if (o.from && !o.for.length) {
    err('mhc: --from FILE is only read with --for\n');
    throw new Exit(EXIT.USAGE);
  }
  const given = o.from ? new Map(parseSecretsEnv(Buffer.from(readUserFile(o.from)).toString('utf8'))) : undefined;
  const c = load(config);
  report(c);
  if (!c.model || hasErrors(c.diagnostics)) throw new Exit(EXIT.INVALID);
  const model = c.model;
  const sel = selectTargets(model, o.for);
  if (sel.unknown.length) {
    for (const u of sel.unknown) err(`mhc: --for ${u.name}: no such node in ${config}${u.guess ? ` (did you mean ${u.guess}?)` : ''}\n`);
    throw new Exit(EXIT.USAGE);
  }
  // the secrets are those the selected bundles' manifests list: the same files, the same function
  const result = build({ model, literals: c.literals!, inputSha256: c.inputSha256, mhcVersion: MHC_VERSION, targets: sel.targets });
  if (!result.files) {
    err(formatText(config, c.loaded.source, result.diagnostics));
    err(`mhc: build failed: ${summaryLine(result.diagnostics)}\n`);
    throw new Exit(EXIT.INVALID);
  }
  const files = result.files;
  const needed = new Set(sel.targets.flatMap((t) => secretsOf(files.filter((f) => f.path.startsWith(`${t.name}/`)))));
  const specs = model.secrets.filter((s) => needed.has(s.name));
  const values = new Map<string, string>();
  if (given) {
    const missing = specs.filter((s) => !given.has(s.name)).map((s) => s.name);
    if (missing.length) {
      err(`mhc: ${o.from} lacks ${missing.join(', ')}, which ${sel.targets.map((t) => t.name).join(', ')} need${sel.targets.length === 1 ? 's' : ''}\n`);
      throw new Exit(EXIT.INVALID);
    }
  }
  for (const s of specs) values.set(s.name, given?.get(s.name) ?? c.literals!.get(s.name) ?? generate(s, (n) => randomBytes(n)));
  writeNew(o.output, formatSecretsEnv(specs, values), 0o600, !!o.force);
  const forWhom = o.for.length ? ` for ${sel.targets.map((t) => t.name).join(', ')}` : '';
  out(`wrote ${o.output} (mode 0600)${forWhom}: ${specs.length ? specs.map((s) => s.name).join(', ') : 'no secret'}\n`);
}

interface InitFlags {
  output?: string;
  force?: boolean;
  name?: string;
  controllers?: number;
  computeNodes: string | boolean;
  gluster: boolean;
  mariadb: boolean;
  redis: boolean;
  slurm: boolean;
  keepalived: boolean;
  web?: boolean;
  schema?: string;
  target?: string;
}

function cmdInit(o: InitFlags): void {
  const opts: InitOptions = {
    ...(o.name !== undefined ? { name: o.name } : {}),
    ...(o.controllers !== undefined ? { controllers: o.controllers } : {}),
    ...(o.computeNodes === false ? { computeNodes: false } : typeof o.computeNodes === 'string' ? { computeNodes: o.computeNodes } : {}),
    services: { glusterfs: o.gluster, mariadb: o.mariadb, redis: o.redis, slurm: o.slurm, keepalived: o.keepalived, web: !!o.web },
    ...(o.schema !== undefined ? { schema: o.schema } : {}),
    ...(o.target !== undefined ? { target: o.target } : {}),
  };
  const r = init(opts);
  if ('problems' in r) {
    for (const p of r.problems) err(`mhc init: ${printable(p)}\n`);
    throw new Exit(EXIT.USAGE);
  }
  for (const w of r.warnings) err(`mhc init: warning: ${printable(w)}\n`);
  if (!o.output) {
    out(r.text);
    return;
  }
  writeNew(o.output, r.text, 0o644, !!o.force);
  out(`wrote ${o.output}; next: mhc secrets init ${o.output} -o secrets.env, then mhc build ${o.output}\n`);
}

interface FmtFlags {
  check?: boolean;
  canonical?: boolean;
  stdout?: boolean;
}

/** Formats one file; returns its exit code (several files are all formatted, the worst code wins). */
function fmtFile(file: string, o: FmtFlags): number {
  let bytes: Uint8Array;
  try {
    bytes = readUserFile(file);
  } catch (e) {
    if (e instanceof Exit) return e.code;
    throw e;
  }
  const r = fmt(file, bytes, { canonical: !!o.canonical });
  const bug = r.diagnostics.find((d) => d.code === 'E900');
  if (bug) {
    // fmt's result did not build what the file builds: its self-check caught a bug in it
    err(formatInternalError(new Error(`${file}: ${bug.message}`), false));
    return EXIT.INTERNAL;
  }
  if (r.text === undefined) {
    err(formatText(file, r.source, r.diagnostics));
    err(`mhc: ${file} is not valid: ${summaryLine(r.diagnostics)}; it was left as it is\n`);
    return EXIT.INVALID;
  }
  const what = o.canonical ? 'canonical' : 'formatted';
  if (o.check) {
    if (!r.changed) return EXIT.OK;
    err(`${file}: not ${what} (mhc fmt${o.canonical ? ' --canonical' : ''} ${file} rewrites it)\n`);
    const diff = unifiedDiff(file, `${file} (${what})`, r.source?.text ?? '', r.text);
    out(
      diff
        .split('\n')
        .map((l) => printable(l, true))
        .join('\n'),
    );
    return EXIT.INVALID;
  }
  if (o.stdout) {
    out(r.text);
    return EXIT.OK;
  }
  if (!r.changed) return EXIT.OK;
  try {
    replaceFile(file, r.text);
  } catch (e) {
    if (!(e instanceof WriteError)) throw e;
    err(`mhc: ${e.message}\n`);
    return EXIT.IO;
  }
  out(`${file}: rewritten (${what})\n`);
  return EXIT.OK;
}

function cmdFmt(files: string[], o: FmtFlags): void {
  if (o.check && o.stdout) {
    err('mhc: --check and --stdout exclude each other\n');
    throw new Exit(EXIT.USAGE);
  }
  const code = files.reduce((worst, f) => Math.max(worst, fmtFile(f, o)), EXIT.OK as number);
  if (code) throw new Exit(code);
}

export function program(): Command {
  const p = new Command('mhc')
    .description('mhc compiles one my_multihead_cluster.yaml into a static bundle per node')
    .version(MHC_VERSION, '-V, --version')
    .showHelpAfterError('(run mhc --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err });

  p.command('validate')
    .description('check a cluster YAML and print every problem with file:line:col')
    .argument('<config>', 'the cluster YAML')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((config: string, o: { format: 'text' | 'json' }) => cmdValidate(config, o));

  p.command('build')
    .description('compile the cluster YAML into out/<cluster>/ (one bundle per controller + one shared compute bundle)')
    .argument('<config>', 'the cluster YAML')
    .option('-o, --output <dir>', 'output directory', 'out')
    .option('--node <host>', 'build only this node (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--tar', 'also write <dir>/<cluster>-<bundle>.tar.gz (reproducible)')
    .option('--embed-secrets', 'write secret values into the files (from environment:, then --secrets FILE, then the process environment)')
    .option('--secrets <file>', 'with --embed-secrets: read values from this secrets.env (NAME=value lines)')
    .option('-q, --quiet', 'print nothing on success')
    .option('--plan-from <old>', 'day 2: each controller bundle carries the plan from OLD (what the cluster runs: its built tree, a YAML or git:REF:PATH) for bin/apply_multihead.sh')
    .action((config: string, o: BuildOpts) => cmdBuild(config, o));

  p.command('schema')
    .description('print the JSON Schema of the cluster YAML (for yaml-language-server)')
    .action(() => {
      out(JSON.stringify(jsonSchema(), null, 2) + '\n');
    });

  const s = p.command('secrets').description('manage secrets.env');
  s.command('init')
    .description('write a secrets.env with a strong random value for every secret the bundles need')
    .argument('<config>', 'the cluster YAML')
    .option('-o, --output <file>', 'where to write', 'secrets.env')
    .option('--force', 'replace an existing file')
    .option(
      '--for <node>',
      "only the secrets this bundle's manifest lists: a controller, or compute (any compute node) (repeatable; with --from)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--from <file>', "with --for: the cluster's secrets.env the values are taken from")
    .action((config: string, o: { output: string; force?: boolean; for: string[]; from?: string }) => cmdSecretsInit(config, o));

  p.command('init')
    .description('write a commented starting cluster YAML: every section with its defaults, secrets as ${NAME} references')
    .option('-o, --output <file>', 'write it here (default: stdout)')
    .option('--force', 'replace an existing file')
    .option('--name <cluster>', 'the cluster name', DEFAULT_NAME)
    .option('--controllers <n>', `how many controllers, 1-${MAX_PRIORITY} (default: ${DEFAULT_CONTROLLERS})`, (v: string) => (/^\d{1,9}$/.test(v) ? Number(v) : NaN))
    .option('--compute-nodes <hostlist>', `the compute nodes, a hostlist such as cn[001-064] (default: ${DEFAULT_COMPUTE_NODES})`)
    .option('--no-compute-nodes', 'no compute nodes')
    .option('--no-gluster', 'no GlusterFS (storage: commented out)')
    .option('--no-mariadb', 'no MariaDB Galera (database: commented out; Slurm without accounting)')
    .option('--no-redis', 'no Redis (redis: commented out)')
    .option('--no-slurm', 'no Slurm (slurm: commented out; no compute nodes)')
    .option('--no-keepalived', 'no keepalived and no VIP')
    .option('--web', 'nginx and the web services (off by default: their applications must be on the nodes first)')
    .option('--schema <ref>', 'what the yaml-language-server line points at', DEFAULT_SCHEMA)
    .option('--target <os>', `the nodes' OS release: ${TARGET_OSES.join(' or ')} (default: ${DEFAULT_TARGET_OS})`)
    .action((o: InitFlags) => cmdInit(o));

  p.command('fmt')
    .description("rewrite cluster YAMLs in mhc's layout, or with --canonical in the canonical shape (comments kept; the bundles stay byte-identical)")
    .argument('<files...>', 'the cluster YAMLs (rewritten in place, atomically, keeping their mode)')
    .option('--canonical', "also the canonical shape: canonical keys and places, the schema's key order, aliases and merge keys folded")
    .option('--check', 'write nothing; exit 1 when a file would change (a line per file on stderr, a unified diff on stdout)')
    .option('--stdout', 'print the result instead of rewriting the file')
    .action((files: string[], o: FmtFlags) => cmdFmt(files, o));
  registerReviewCommands(p, {
    out,
    err,
    exit: (code) => {
      throw new Exit(code);
    },
    colorAllowed: () => {
      const nc = process.env.NO_COLOR;
      return (nc === undefined || nc === '') && !!process.stdout.isTTY;
    },
  });
  return p;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await program().parseAsync([...argv], { from: 'user' });
    return EXIT.OK;
  } catch (e) {
    if (e instanceof Exit) return e.code;
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.OK;
      if (e.code === 'commander.executeSubCommandAsync') return EXIT.USAGE;
      return EXIT.USAGE;
    }
    // a failed system call or write no layer turned into a message is still I/O, not a bug
    if (isSystemError(e) || e instanceof WriteError || e instanceof InputReadError) {
      err(`mhc: ${printable(e.message)}\n`);
      return EXIT.IO;
    }
    const debug = process.env.MHC_DEBUG;
    err(formatInternalError(e, debug !== undefined && debug !== '' && debug !== '0'));
    return EXIT.INTERNAL;
  }
}
