// Vitest global setup: bundles the CLI once per test run with esbuild, so that the hundreds of
// `synod` processes the tests start (node processes of real clusters, CLI commands) load one
// plain JavaScript file instead of compiling TypeScript through tsx at every start (measured:
// `synod --help` 1.16 s through tsx, 0.50 s built, on this machine). Same source, same code.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { CLI_BUNDLE_ENV } from '../../src/server/test/synod-command.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export default async function setup(): Promise<() => Promise<void>> {
  // inside the package, so that the bundle's imports of dependencies resolve from node_modules
  const cacheDir = join(repoRoot, 'node_modules', '.cache');
  await mkdir(cacheDir, { recursive: true });
  const outdir = await mkdtemp(join(cacheDir, 'synod-test-cli-'));
  try {
    await build({
      entryPoints: { main: join(repoRoot, 'src/cli/main.ts') },
      outdir,
      bundle: true,
      splitting: true, // the CLI's lazily imported parts stay lazy
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      outExtension: { '.js': '.mjs' },
      logLevel: 'error',
    });
    process.env[CLI_BUNDLE_ENV] = join(outdir, 'main.mjs');
  } catch (err) {
    // the tests fall back to running the CLI from source through tsx
    console.warn(`could not bundle the CLI for the tests (${(err as Error).message}); running it through tsx`);
  }
  return () => rm(outdir, { recursive: true, force: true });
}
