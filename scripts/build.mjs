// Bundles the CLI into dist/mhc.cjs with esbuild: one file loads far faster than hundreds of
// modules (mhc build must start fast). archiver stays a separate chunk-free require, loaded
// only for --tar.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [join(root, 'src', 'main.ts')],
  outfile: join(root, 'dist', 'mhc.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  external: ['archiver'],
  logLevel: 'warning',
});
