import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    // cleaning up a real cluster waits for its processes to stop (up to 8 s each, then SIGKILL)
    hookTimeout: 60_000,
    pool: 'forks',
    // the visualizer is built once for the browser tests (test/e2e/build-once.ts)
    globalSetup: ['test/e2e/build-once.ts'],
  },
});
