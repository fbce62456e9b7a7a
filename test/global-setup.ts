// Regenerates src/generated/templates.ts (templates/**/*.hbs, precompiled) before any test, so
// `npx vitest run FILE` after a template edit never tests stale templates. `npm test` also builds
// first (pretest); this keeps the shortcut honest. ~0.2 s.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/generate.mjs', import.meta.url))], { stdio: 'inherit' });
}
