// The live lab (test/live, `npm run test:live`): network namespaces running the generated files
// for real. Root only; one file at a time; its own time limits (the whole lab is bounded inside).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/live/**/*.live.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    // the lab prints its figures (console.log) as it goes
    silent: false,
  },
});
