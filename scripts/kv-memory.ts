// Measures what the KV state machine costs: heap bytes per live key and per retained revision,
// snapshot text per key and per revision, and the put rate of KvStore.apply, on one machine.
// The numbers in docs/kv.md ("Memory") come from it. `--module PATH` measures another build of
// the store (a copy of an older src/kv/store.ts, say) with the same workload. Values are unique
// flat strings of --value-bytes characters; heap = V8 heap used + array buffers, after two GCs.
// Usage: node --expose-gc --import tsx scripts/kv-memory.ts [--keys N] [--revisions M] [--value-bytes B] [--retain R] [--module PATH]
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

interface Store {
  apply(command: unknown, index: number): unknown;
  snapshot(): unknown;
  restore(data: unknown): void;
}
type StoreClass = new (options?: unknown) => Store;

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} needs a whole number`);
  return value;
}

const keys = option('keys', 100_000);
const revisions = option('revisions', 1_000_000);
const valueBytes = option('value-bytes', 16);
const retain = option('retain', 0);
const moduleAt = process.argv.indexOf('--module');
const modulePath = moduleAt < 0 ? resolve(import.meta.dirname, '../src/kv/store.ts') : resolve(process.argv[moduleAt + 1] as string);

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function heapBytes(): number {
  (gc as () => void)();
  (gc as () => void)();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * A value of about `valueBytes` characters that differs per write (so no two writes share a
 * string), flat as JSON.parse makes it when a command is decoded (a concatenation would leave a
 * rope of several strings and count more than a real value costs).
 */
function valueFor(i: number): string {
  const text = `v${i}`;
  return JSON.parse(JSON.stringify(text.length >= valueBytes ? text : text + 'x'.repeat(valueBytes - text.length))) as string;
}

/** Puts per second into a fresh store: `keys` creations, then `updates` puts over them, values from a small pool (what is timed is apply). */
function putRate(updates: number): { create: number; update: number } {
  const pool = Array.from({ length: 1024 }, (_, i) => valueFor(i));
  const fresh = retain > 0 ? new KvStore({ autoCompactRetainRevisions: retain }) : new KvStore();
  let at = 0;
  let t = performance.now();
  for (let i = 0; i < keys; i++) fresh.apply({ op: 'put', key: keyNames[i], value: pool[i & 1023] }, ++at);
  const create = keys / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let i = 0; i < updates; i++) fresh.apply({ op: 'put', key: keyNames[i % keys], value: pool[i & 1023] }, ++at);
  const update = updates / ((performance.now() - t) / 1000);
  return { create: Math.round(create), update: Math.round(update) };
}

const { KvStore } = (await import(pathToFileURL(modulePath).href)) as { KvStore: StoreClass };
const keyNames = Array.from({ length: keys }, (_, i) => `key/${String(i).padStart(7, '0')}`);

const before = heapBytes();
const store = retain > 0 ? new KvStore({ autoCompactRetainRevisions: retain }) : new KvStore();
let index = 0;
for (let i = 0; i < keys; i++) store.apply({ op: 'put', key: keyNames[i], value: valueFor(i) }, ++index);
const afterKeys = heapBytes();
for (let i = 0; i < revisions; i++) store.apply({ op: 'put', key: keyNames[i % keys], value: valueFor(keys + i) }, ++index);
const afterRevisions = heapBytes();
const rss = process.memoryUsage().rss;

let started = performance.now();
const snapshotText = JSON.stringify(store.snapshot());
const snapshotMs = performance.now() - started;
started = performance.now();
const copy = new KvStore();
copy.restore(JSON.parse(snapshotText));
const restoreMs = performance.now() - started;
const rate = putRate(revisions);

const perKey = keys === 0 ? 0 : (afterKeys - before) / keys;
const perRevision = revisions === 0 ? 0 : (afterRevisions - afterKeys) / revisions;
const out = {
  module: modulePath,
  node: process.version,
  keys,
  revisions,
  valueBytes,
  autoCompactRetainRevisions: retain,
  heapBytesPerKey: Math.round(perKey),
  heapBytesPerRetainedRevision: Math.round(perRevision * 10) / 10,
  heapMiBTotal: Math.round(((afterRevisions - before) / 2 ** 20) * 10) / 10,
  /** The whole process once the store is built (Node and tsx included, about 60 MiB alone). */
  rssMiB: Math.round(rss / 2 ** 20),
  createPutsPerSecond: rate.create,
  updatePutsPerSecond: rate.update,
  snapshotMiB: Math.round((snapshotText.length / 2 ** 20) * 10) / 10,
  snapshotMs: Math.round(snapshotMs),
  restoreMs: Math.round(restoreMs),
};
process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
