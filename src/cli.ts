// The mhc command line. The only module (with load, write and pack) that touches the disk,
// the clock or process.env. Exit codes: 0 ok, 1 invalid input, 2 usage error, 3 I/O error.
import { Command, CommanderError, Option } from 'commander';
import { randomBytes } from 'node:crypto';
import { relative, resolve as resolvePath } from 'node:path';
import { compile, type Compiled } from './compiler/compile.js';
import { formatJson, formatProblems, formatText, hasErrors, summaryLine, type Span } from './compiler/diagnostics.js';
import { InputReadError, readInput } from './compiler/load.js';
import { build, selectTargets } from './compiler/build.js';
import { writeFileAtomic, removeFile, stageFile, stageTree, WriteError, type StagedFile } from './compiler/write.js';
import { packBundle, tarballMode } from './compiler/pack.js';
import { secretsOf } from './compiler/bundle.js';
import { jsonSchema } from './compiler/schema.js';
import { formatSecretsEnv, generate, parseSecretsEnv } from './compiler/secrets.js';
import { MHC_VERSION } from './generated/version.js';
import { COMPUTE_BUNDLE } from './compiler/model.js';
import { join } from 'node:path';
import { registerReviewCommands } from './review/commands.js';

export const EXIT = { OK: 0, INVALID: 1, USAGE: 2, IO: 3 } as const;

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

async function cmdBuild(config: string, o: { output: string; node: string[]; tar?: boolean; embedSecrets?: boolean; secrets?: string; quiet?: boolean }): Promise<void> {
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
  const result = build({
    model,
    literals: c.literals!,
    inputSha256: c.inputSha256,
    mhcVersion: MHC_VERSION,
    targets: sel.targets,
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
  try {
    writeFileAtomic(o.output, formatSecretsEnv(specs, values), 0o600, !!o.force);
  } catch (e) {
    if (e instanceof WriteError) {
      err(`mhc: ${e.message}\n`);
      throw new Exit(/exists/.test(e.message) ? EXIT.USAGE : EXIT.IO);
    }
    throw e;
  }
  const forWhom = o.for.length ? ` for ${sel.targets.map((t) => t.name).join(', ')}` : '';
  out(`wrote ${o.output} (mode 0600)${forWhom}: ${specs.length ? specs.map((s) => s.name).join(', ') : 'no secret'}\n`);
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
    .action((config: string, o: { output: string; node: string[]; tar?: boolean; embedSecrets?: boolean; secrets?: string; quiet?: boolean }) => cmdBuild(config, o));

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
  registerReviewCommands(p, {
    out,
    err,
    exit: (code) => {
      throw new Exit(code);
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
    const msg = e instanceof Error ? e.message : String(e);
    err(`mhc: internal error: ${msg}\n`);
    return EXIT.IO;
  }
}
