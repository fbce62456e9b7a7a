// Shared test helpers: compile and build in memory (no disk), as the pure core allows.
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, type Compiled } from '../src/compiler/compile.js';
import { build, allTargets } from '../src/compiler/build.js';
import type { BundleFile } from '../src/compiler/bundle.js';
import type { Model } from '../src/compiler/model.js';
import { formatText } from '../src/compiler/diagnostics.js';
import { TARGET_OSES, type TargetOs } from '../src/compiler/targets.js';
import { parseDocument } from 'yaml';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const EXAMPLES = join(ROOT, 'examples');
/** The source documents' samples, as users wrote them. */
export const SEEDS = join(ROOT, 'test', 'fixtures', 'seeds');
/**
 * Seeds that ask for what the cluster they describe cannot give, with the one error each gets
 * (seed003 asks replica 3 of its 2 gluster nodes: mhc never lowers a count the user wrote).
 */
export const REFUSED_SEEDS: Readonly<Record<string, string>> = { 'seed003-readme.yaml': 'E308' };
/** The seeds that build as written (every other one is in REFUSED_SEEDS), full paths, sorted. */
export const SEED_INPUTS: readonly string[] = readdirSync(SEEDS)
  .filter((f) => f.endsWith('.yaml') && !Object.hasOwn(REFUSED_SEEDS, f))
  .sort()
  .map((f) => join(SEEDS, f));

/** Compiles YAML text; throws with the formatted diagnostics when it has errors. */
export function compileText(text: string, name = 'test.yaml'): Compiled & { model: Model } {
  const c = compile(name, Buffer.from(text, 'utf8'));
  if (!c.model) throw new Error(`does not compile:\n${formatText(name, c.loaded.source, c.diagnostics)}`);
  return c as Compiled & { model: Model };
}

export function compileFile(path: string): Compiled & { model: Model } {
  return compileText(readFileSync(path, 'utf8'), path);
}

/** Builds every bundle in memory; returns path → file (paths relative to out/<cluster>/). */
export function buildText(text: string, opts: { embed?: Record<string, string> } = {}): Map<string, BundleFile> {
  const c = compileText(text);
  const r = build({
    model: c.model,
    literals: c.literals!,
    inputSha256: c.inputSha256,
    mhcVersion: '0.0.0-test',
    targets: allTargets(c.model),
    ...(opts.embed ? { embedFrom: opts.embed } : {}),
  });
  if (!r.files) throw new Error(`build failed:\n${formatText('test.yaml', c.loaded.source, r.diagnostics)}`);
  return new Map(r.files.map((f) => [f.path, f]));
}

export const buildFile = (path: string, opts: { embed?: Record<string, string> } = {}) => buildText(readFileSync(path, 'utf8'), opts);

/** Awkward secret values: every character that breaks naive quoting. */
export const AWKWARD = {
  DB_ROOT_PASSWORD: `r&o\\o/t'p"a$s#s w0rd`,
  REDIS_PASSWORD: `re"d\\is & $HOME 'x' #1`,
  REDIS_SENTINEL_PASSWORD: `se"n\\ti nel & $x 'y' #2`,
  GALERA_SST_PASSWORD: `s$t'"\\ &/ #`,
  SLURMDBD_DB_PASSWORD: `sl&urm\\db'pa ss $x #y`, // slurmdbd.conf cannot hold a double quote together with a space (E318)
  KEEPALIVED_AUTH_PASS: `&' $#!\\/`, // keepalived.conf cannot hold a double quote (E318)
  MUNGE_KEY: Buffer.alloc(1024, 7).toString('base64'),
  JWT_SECRET: `j"w't\\&$ #/ secret`,
  SESSION_SECRET: `s e s s'"\\&$#/`,
} as const;

/** The YAML text with target.os set to `os` (the rest as written). */
/** The YAML text with Slurm accounting off. */
export function withoutAccounting(text: string): string {
  const doc = parseDocument(text);
  doc.setIn(['slurm', 'accounting_storage_type'], 'none');
  return doc.toString({ lineWidth: 0 });
}

export function withTarget(text: string, os: TargetOs): string {
  const doc = parseDocument(text);
  doc.setIn(['target', 'os'], os);
  return doc.toString({ lineWidth: 0 });
}

/**
 * What the daemon tests judge: every source at the target its YAML names, and every example at
 * every other target too (each release's daemons see every example).
 */
export function targetRuns(sources: readonly string[]): { src: string; os: TargetOs; text: string }[] {
  const out: { src: string; os: TargetOs; text: string }[] = [];
  for (const src of sources) {
    const text = readFileSync(src, 'utf8');
    const own = compileText(text).model.target.os;
    out.push({ src, os: own, text });
    if (src.startsWith(EXAMPLES)) for (const os of TARGET_OSES) if (os !== own) out.push({ src, os, text: withTarget(text, os) });
  }
  return out;
}
