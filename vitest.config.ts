import { defineConfig } from 'vitest/config';

// One config, node environment: browser behaviour is tested by driving real Debian Chromium
// (playwright-core) against real server processes, not by emulating the DOM.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Browser tests share 2 cores; run files one at a time so timings and SwiftShader stay sane.
    fileParallelism: false,
    retry: 0,
  },
});
