import { configDefaults, defineConfig } from 'vitest/config';

// Four projects, chosen by folder: a new test file joins the project of the folder it is in.
//   unit        test/unit/                     pure code in-process; the whole project answers in under a minute
//   browser     test/browser/                  real Chromium (playwright-core) against real server processes
//   acceptance  test/acceptance/, test/package/  end-to-end runs of a minute or more (retraining, the packed package)
//   node        every other folder             real server processes and databases (collector, releases, retrain, …)
// `npm run test:<project>` runs one; `npm test` runs them all (scripts/runTests.mjs: one lane per project group).
// All run in the node environment: browser behaviour is tested by driving real Debian Chromium, not by emulating the DOM.
const PROJECT_FOLDERS = {
  unit: ['test/unit/**/*.test.ts'],
  browser: ['test/browser/**/*.test.ts'],
  acceptance: ['test/acceptance/**/*.test.ts', 'test/package/**/*.test.ts'],
};

export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    retry: 0,
    projects: [
      ...Object.entries(PROJECT_FOLDERS).map(([name, include]) => ({ extends: true as const, test: { name, include } })),
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...Object.values(PROJECT_FOLDERS).flat()],
        },
      },
    ],
  },
});
