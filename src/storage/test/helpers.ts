// Shared test helpers for src/storage: temp data directories that clean up after themselves,
// byte-level file surgery (truncate, flip a bit, append garbage) and a warning collector.
import { mkdtemp, readFile, readdir, rm, truncate, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { StorageWarning } from '../errors.js';

/** Returns a function making fresh temp dirs, all removed after each test. */
export function useTempDirs(): () => Promise<string> {
  const made: string[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'synod-storage-'));
    made.push(dir);
    return dir;
  };
}

export async function listNames(dir: string, suffix: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith(suffix)).sort();
}

export async function flipBit(path: string, offsetBytes: number, bit = 0): Promise<void> {
  const buf = await readFile(path);
  buf[offsetBytes] = (buf[offsetBytes] as number) ^ (1 << bit);
  await writeFile(path, buf);
}

export async function fileBytes(path: string): Promise<number> {
  return (await readFile(path)).length;
}

export { appendFile, truncate, writeFile };

export function collectWarnings(): { warnings: StorageWarning[]; onWarning: (w: StorageWarning) => void } {
  const warnings: StorageWarning[] = [];
  return { warnings, onWarning: (w) => warnings.push(w) };
}

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
