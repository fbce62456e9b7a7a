// Bundles the CLI into dist/mhc.cjs with esbuild: one file loads far faster than hundreds of
// modules (mhc build must start fast). archiver, which only `--tar` needs, is bundled apart into
// dist/archiver.cjs and loaded from there on first use: in dist/mhc.cjs it would be a quarter of
// the bytes every start reads and parses.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', minify: true, sourcemap: false, legalComments: 'none', logLevel: 'warning' };
await build({
  ...common,
  entryPoints: [join(root, 'src', 'main.ts')],
  outfile: join(root, 'dist', 'mhc.cjs'),
  plugins: [lazyChildProcess(), archiverApart()],
});
await build({
  ...common,
  stdin: { contents: "export { TarArchive } from 'archiver';", resolveDir: root, loader: 'js' },
  outfile: join(root, 'dist', 'archiver.cjs'),
});

// `import('archiver')` in src/ becomes a require of ./archiver.cjs, the bundle beside
// dist/mhc.cjs (a require: bin/mhc.cjs runs the bundle as a vm.Script, which has no import()).
function archiverApart() {
  return {
    name: 'archiver-apart',
    setup(b) {
      b.onResolve({ filter: /^archiver$/ }, () => ({ path: 'archiver', namespace: 'mhc-apart' }));
      b.onResolve({ filter: /^\.\/archiver\.cjs$/ }, () => ({ path: './archiver.cjs', external: true }));
      b.onLoad({ filter: /.*/, namespace: 'mhc-apart' }, () => ({ contents: "module.exports = require('./archiver.cjs');\n", loader: 'js' }));
    },
  };
}

// commander requires node:child_process (and with it node:net) at load time, for executable
// subcommands mhc does not have: ~5 ms of every start. Its reference is made lazy: the module is
// loaded on first use (mhc's own git: reader loads it itself when needed).
function lazyChildProcess() {
  return {
    name: 'lazy-child-process',
    setup(b) {
      b.onResolve({ filter: /^(node:)?child_process$/ }, (args) => (/[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'lazy-child-process', namespace: 'mhc-lazy' } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'mhc-lazy' }, () => ({
        contents: "let m; const get = () => (m ??= require('node:child_process'));\n" + 'module.exports = new Proxy({}, { get: (_, k) => get()[k], has: (_, k) => k in get() });\n',
        loader: 'js',
      }));
    },
  };
}

// Training run: build the main example (with --tar) once and keep V8's code cache of every
// function it compiled next to each bundle (bin/mhc.cjs loads them).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
const out = mkdtempSync(join(tmpdir(), 'mhc-cache-'));
for (const b of ['mhc.cjs', 'archiver.cjs']) rmSync(join(root, 'dist', `${b}.cache`), { force: true });
const r = spawnSync(process.execPath, [join(root, 'bin', 'mhc.cjs'), 'build', join(root, 'examples', 'my_multihead_cluster.yaml'), '-o', out, '--tar', '-q'], {
  env: { ...process.env, MHC_WRITE_CODE_CACHE: '1' },
  stdio: 'inherit',
});
rmSync(out, { recursive: true, force: true });
if (r.status !== 0) process.exit(r.status ?? 1);
