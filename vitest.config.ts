import { configDefaults, defineConfig } from 'vitest/config';

// Four projects, chosen by folder: a new test file joins the project of the folder it is in.
//   unit        test/unit/                       pure code in-process, no server or browser; answers in under a minute
//   browser     test/browser/                    real Chromium (playwright-core) against real servers
//   acceptance  test/acceptance/, test/package/  end-to-end runs of a minute or more (retraining, the packed package)
//   node        every other folder               real server processes and databases (collector, releases, retrain, …)
// `npm run test:<project>` runs one; `npm test` runs them all, side by side (scripts/runTests.mjs).
// All run in the node environment: browser behaviour is tested by driving real Debian Chromium, not by emulating the DOM.
const FOLDERS = {
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
      // Pure tests share nothing: as many files at once as the machine has cores.
      { extends: true, test: { name: 'unit', include: FOLDERS.unit, maxWorkers: '100%', sequence: { groupOrder: 0 } } },
      // One file at a time: servers, Chromium and SwiftShader share the cores with the other projects' lanes.
      ...(['browser', 'acceptance'] as const).map((name) => ({
        extends: true as const,
        test: { name, include: FOLDERS[name], maxWorkers: 1, sequence: { groupOrder: 1 } },
      })),
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...Object.values(FOLDERS).flat()],
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
