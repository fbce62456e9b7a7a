// The deploy lab (test/deploy, `npm run test:deploy`): real Debian 12 nodes booted with systemd
// (systemd-nspawn) run the bundles as the README's "Deploy" section says. Root only; one file;
// its own time limits (every wait inside is bounded).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/deploy/**/*.deploy.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 900_000,
    hookTimeout: 1_800_000,
    fileParallelism: false,
    silent: false,
  },
});
