// npm run bench: median wall time and peak RSS of `mhc build` and `mhc build --tar` (rebuilds into
// the same out/) on each example and on a synthetic 5 + 10,000 node cluster, next to a bare
// `node -e 0` measured in the same run; deploy.sh's cost per node on 10,000 local targets; and
// the fan-out on an ssh lab: deploy.sh (clush) and the Ansible playbook against the same hosts
// (bench/deploy-bench.ts).
// Benchmarks are separate from tests; nothing here asserts, it reports.
//
//   MHC_BENCH_ONLY=build,exec,noop,lab   the sections to run (default: all four)
//   MHC_BENCH_HOSTS=40                   compute hosts of the ssh lab (lab; root only)
//   MHC_BENCH_LAB_ROUNDS=1               rounds of the lab's runs
//   MHC_BENCH_NOOP_NODES=10000           compute nodes of the no-op ssh section (noop)
//   MHC_BENCH_NOOP_STEPS=check,push,secrets,apply,verify   its steps, each a deploy.sh run
//   MHC_BENCH_NOOP_STEP_S=600            the time limit of each (push to 10,000 needs more)
//   BENCH_RUNS=11                        runs of each build case (build)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build as esbuild } from 'esbuild';
import { syntheticCluster } from './synthetic.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const probe = join(root, 'bench', 'rss-probe.cjs');
const mhc = join(root, 'bin', 'mhc.cjs');
const runs = Number(process.env.BENCH_RUNS ?? 11);
// Scratch under out/, where `mhc build` writes by default: the bench measures the build where
// users run it. (On this project's CI machine /tmp sits in a fragmented part of the disk where
// creating a file costs ~10× more than elsewhere on the same file system.)
const work = mkdtempSync(join(root, 'out', '.bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(130));
const only = new Set((process.env.MHC_BENCH_ONLY ?? 'build,exec,noop,lab').split(',').map((s) => s.trim()));
const positive = (name, dflt) => {
  const n = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not ${process.env[name]}`);
  return n;
};
const hosts = positive('MHC_BENCH_HOSTS', 40);
if (hosts > 239) throw new Error('MHC_BENCH_HOSTS: at most 239 (one /24)');

function run(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--require', probe, ...args], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`failed: ${args.join(' ')}\n${r.stderr}`);
  return { ms, rssMB: Number(String(r.output[3]).trim()) / 1024 };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The case and a bare `node -e 0` alternate run by run, so both see the same machine: on a
 * shared VM the speed drifts by ±10% within a minute, and a baseline measured once at the start
 * skews every ratio after it. The ratio is median(case) / median(baseline) of this window.
 */
function measure(args) {
  const times = [];
  const base = [];
  const rss = [];
  for (let i = 0; i < runs + 1; i++) {
    const b = run(['-e', '0']);
    const m = run(args);
    if (i === 0) continue; // warm-up (disk cache)
    base.push(b.ms);
    times.push(m.ms);
    rss.push(m.rssMB);
  }
  return { ms: median(times), baseMs: median(base), rssMB: Math.max(...rss) };
}

const synth = join(work, 'synthetic-5+10000.yaml');
writeFileSync(synth, syntheticCluster(10000));
const cases = [
  ...readdirSync(join(root, 'examples'))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => [f, join(root, 'examples', f)]),
  ['synthetic 5 + 10,000 nodes', synth],
];

if (only.has('build')) {
  const bare = run(['-e', '0']).rssMB;
  console.log(`node ${process.version}, ${runs} runs each alternating with a bare \`node -e 0\`, median wall time, peak RSS (bare node: ${bare.toFixed(1)} MB)`);
  console.log(`${'case'.padEnd(36)} ${'median ms'.padStart(10)} ${'node -e 0 ms'.padStart(13)} ${'× node -e 0'.padStart(12)} ${'peak RSS MB'.padStart(12)}`);
  for (const [name, file] of cases) {
    for (const tar of [false, true]) {
      const out = join(work, 'out');
      const m = measure([mhc, 'build', file, '-o', out, ...(tar ? ['--tar'] : []), '--quiet']);
      rmSync(out, { recursive: true, force: true });
      const label = `${name}${tar ? ' --tar' : ''}`;
      console.log(`${label.padEnd(36)} ${m.ms.toFixed(1).padStart(10)} ${m.baseMs.toFixed(1).padStart(13)} ${(m.ms / m.baseMs).toFixed(2).padStart(12)} ${m.rssMB.toFixed(1).padStart(12)}`);
    }
  }
}

// deploy.sh's own cost per node: `deploy.sh check` on the 10,000 compute nodes of the synthetic
// cluster, each a local no-op target (clush -R exec runs node.sh here instead of over ssh), so
// the figure is the driver + node.sh per node, without ssh or a network.
if (only.has('exec')) {
  const built = spawnSync(process.execPath, [mhc, 'build', synth, '-o', join(work, 'deploy-out')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(built.stderr);
  const t0 = process.hrtime.bigint();
  const d = spawnSync('bash', [join(work, 'deploy-out', 'synthetic', 'deploy', 'deploy.sh'), 'check', '--nodes', '@compute', '--clush-opt', '-Rexec', '--fanout', '64', '--runs', join(work, 'runs')], {
    encoding: 'utf8',
    env: { ...process.env, MHC_ROOT: join(work, 'node-root') },
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`deploy.sh check, 10,000 local no-op targets (clush -R exec, fanout 64): ${(ms / 1000).toFixed(1)} s, ${(ms / 10000).toFixed(2)} ms per node, exit ${d.status}`);
  console.log(
    d.stdout
      .split('\n')
      .filter((l) => /^(ok|failed|timeout|unreachable) /.test(l))
      .join('\n'),
  );
}

// the fan-out sections: TypeScript (they share test/live/sshlab.ts with the scale lab), bundled here
if (only.has('noop') || only.has('lab')) {
  const bundle = join(work, 'deploy-bench.mjs');
  await esbuild({ entryPoints: [join(root, 'bench', 'deploy-bench.ts')], bundle: true, platform: 'node', target: 'node20', format: 'esm', outfile: bundle, logLevel: 'warning' });
  const { noopBench, labBench } = await import(pathToFileURL(bundle).href);
  const log = (line) => console.log(line);
  if (only.has('noop')) {
    const steps = (process.env.MHC_BENCH_NOOP_STEPS ?? 'check,push,secrets,apply,verify').split(',').map((s) => s.trim());
    for (const s of steps) if (!['check', 'push', 'secrets', 'apply', 'verify'].includes(s)) throw new Error(`MHC_BENCH_NOOP_STEPS: ${s} is not a step of deploy.sh`);
    await noopBench({ root, work, nodes: positive('MHC_BENCH_NOOP_NODES', 10000), steps, stepLimitS: positive('MHC_BENCH_NOOP_STEP_S', 600), log });
  }
  if (only.has('lab')) await labBench({ root, hosts, rounds: positive('MHC_BENCH_LAB_ROUNDS', 1), log });
}
