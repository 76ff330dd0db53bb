// Runs the real `synod` command (bundled for the test run, or from source through tsx) for end-to-end tests.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { synodCommand } from '../../server/test/synod-command.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runSynod(args: readonly string[], options: { timeoutMs?: number } = {}): CliRun {
  const run = spawnSync(process.execPath, [...synodCommand, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** `runSynod` without blocking this process: tests of one file can run several at once. */
export function runSynodAsync(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...synodCommand, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}
