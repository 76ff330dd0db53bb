// Vitest global setup: builds the visualizer once per test run into a temporary directory, so that
// the browser tests (which each serve a copy of their own, since they run in parallel) copy it
// instead of running Vite again — about eight builds of several CPU-seconds each on two cores.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildInto } from './vite-build.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The app built once for this run ('' when the build failed: each test then builds its own). */
    webBuildDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'synod-web-once-'));
  try {
    await buildInto(dir);
    project.provide('webBuildDir', dir);
  } catch {
    project.provide('webBuildDir', '');
  }
  return () => rm(dir, { recursive: true, force: true });
}
