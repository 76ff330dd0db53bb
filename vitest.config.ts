import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    // cleaning up a real cluster waits for its processes to stop (up to 8 s each, then SIGKILL)
    hookTimeout: 60_000,
    pool: 'forks',
    // two test files at once on the 2-core CI machine: most of a file's time is spent waiting on
    // child processes, sockets and browsers, so the wall time falls from about 15 to about 11
    // minutes (measured 2026-12-07: 877 s -> 642 s for vitest) — vitest's default there is one
    maxWorkers: 2,
    // the visualizer is built once for the browser tests (test/e2e/build-once.ts), and the CLI is
    // bundled once for the hundreds of `synod` processes the tests start (test/global/cli-bundle.ts)
    globalSetup: ['test/global/cli-bundle.ts', 'test/e2e/build-once.ts'],
  },
});
