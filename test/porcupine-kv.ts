// Porcupine's six KV test histories, committed gzipped under test/fixtures/porcupine-kv (see its
// README for source, commit and licence), with the verdict each must get.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

export const porcupineKvDir = fileURLToPath(new URL('./fixtures/porcupine-kv/', import.meta.url));

export const PORCUPINE_KV = ['c01-ok', 'c01-bad', 'c10-ok', 'c10-bad', 'c50-ok', 'c50-bad'] as const;
export type PorcupineKvName = (typeof PORCUPINE_KV)[number];

/** The text of one history. */
export function porcupineKvText(name: PorcupineKvName): string {
  return gunzipSync(readFileSync(`${porcupineKvDir}${name}.txt.gz`)).toString('utf8');
}

/** `-ok` histories are linearizable, `-bad` ones are not. */
export function porcupineKvExpected(name: PorcupineKvName): 'linearizable' | 'not-linearizable' {
  return name.endsWith('-ok') ? 'linearizable' : 'not-linearizable';
}
