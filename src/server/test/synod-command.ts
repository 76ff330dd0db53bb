// How tests start the real `synod` command and TypeScript entry points as child processes: the
// CLI from the bundle the test run built once (test/global/cli-bundle.ts), or from source.
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Node arguments that run a TypeScript file from source: `[...tsxCommand, file, ...args]` (tsx by absolute path: a test may run it from another working directory). */
export const tsxCommand: readonly string[] = ['--import', pathToFileURL(join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href];

/** The environment variable through which the test run's global setup names the bundled CLI. */
export const CLI_BUNDLE_ENV = 'SYNOD_TEST_CLI';

const bundled = process.env[CLI_BUNDLE_ENV];

/** Node arguments that run the `synod` CLI: the bundle built for this test run when there is one, else the source through tsx. */
export const synodCommand: readonly string[] = bundled !== undefined && bundled !== '' ? [bundled] : [...tsxCommand, join(repoRoot, 'src/cli/main.ts')];
