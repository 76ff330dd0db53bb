// `npm run bench -- crdt [--trace FILE] [--json] [--help]`: the RGA sequence type (src/crdt/rga.ts)
// side by side with yjs on the B4 editing trace of the crdt-benchmarks project — Martin Kleppmann's
// 259,778 edits writing a LaTeX paper. The trace is not in the repository (it is public data under
// CC-BY, 0.9 MB compressed): get `sequential_traces/automerge-paper.json.gz` from
// github.com/josephg/editing-traces and pass its path (or set SYNOD_B4_TRACE). Reported per system:
// time to apply every edit, the bytes of the updates each edit produced, the encoded document (ours:
// the run encoding of src/crdt/rga-codec.ts), time to load that encoding into a fresh document, and
// the heap the loaded document holds.
import { existsSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gunzipSync } from 'node:zlib';
import * as Y from 'yjs';
import { decodeState, encodeState, MAX_ENCODED_BYTES } from '../src/crdt/codec.js';
import { G_COUNTER, type GCounterState } from '../src/crdt/counters.js';
import { OR_SET, type OrSetState } from '../src/crdt/or-set.js';
import { RGA, RgaDocument, type RgaState } from '../src/crdt/rga.js';
import { G_SET, LWW_ELEMENT_SET, type GSetState, type LwwElementSetState } from '../src/crdt/sets.js';
import { MAX_REPLICAS, type CrdtType } from '../src/crdt/types.js';
import { decodeRga, encodeRga } from '../src/crdt/rga-codec.js';

export const USAGE = `usage: npm run bench -- crdt [--trace FILE] [--sizes LIST] [--json] [--help]
  --trace FILE  the B4 trace: automerge-paper.json.gz from github.com/josephg/editing-traces
                (sequential_traces/); default $SYNOD_B4_TRACE, else data/automerge-paper.json.gz;
                without it only the per-type part runs
  --sizes LIST  element counts of the per-type part (default 1000,10000,100000,1000000)
  --json        print the results as one JSON document
goals (issue 19): within 2x of yjs's time and 1.5x of its document size
`;

type Edit = readonly [position: number, deleted: number, inserted: string];

interface Trace {
  readonly edits: readonly Edit[];
  readonly endContent: string;
}

interface Row {
  readonly system: string;
  readonly applyMs: number;
  readonly updateBytes: number;
  readonly documentBytes: number;
  readonly loadMs: number;
  readonly heapBytes: number;
}

function loadTrace(path: string): Trace {
  if (!existsSync(path)) throw new Error(`no trace at ${path}: download sequential_traces/automerge-paper.json.gz from github.com/josephg/editing-traces and pass --trace PATH`);
  const raw = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as { endContent?: unknown; txns?: { patches?: unknown }[] };
  if (typeof raw.endContent !== 'string' || !Array.isArray(raw.txns)) throw new Error(`${path} is not an editing trace (endContent, txns)`);
  const edits: Edit[] = [];
  for (const txn of raw.txns) for (const patch of (txn.patches ?? []) as Edit[]) edits.push(patch);
  return { edits, endContent: raw.endContent };
}

const gc: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/** Heap held by what `build` returns (kept alive until measured). */
function heapOf(build: () => unknown): { heapBytes: number; ms: number; kept: unknown } {
  gc();
  const before = process.memoryUsage().heapUsed;
  const started = performance.now();
  const kept = build();
  const ms = performance.now() - started;
  gc();
  return { heapBytes: process.memoryUsage().heapUsed - before, ms, kept };
}

function runRga(trace: Trace): Row {
  const doc = new RgaDocument('author');
  let updateBytes = 0;
  const started = performance.now();
  for (const [position, deleted, inserted] of trace.edits) {
    if (deleted > 0) updateBytes += encodeRga(doc.delete(position, deleted)).length;
    if (inserted.length > 0) updateBytes += encodeRga(doc.insertText(position, inserted)).length;
  }
  const applyMs = performance.now() - started;
  if (doc.text() !== trace.endContent) throw new Error('RGA: the final text differs from the trace\'s');
  const encoded = encodeRga(doc.state());
  const loaded = heapOf(() => new RgaDocument('reader', decodeRga(encoded)));
  if ((loaded.kept as RgaDocument).text() !== trace.endContent) throw new Error('RGA: the loaded document differs');
  return { system: 'Synod RGA', applyMs, updateBytes, documentBytes: encoded.length, loadMs: loaded.ms, heapBytes: loaded.heapBytes };
}

/** `listen`: encode each edit's update as an application that ships it would (ours always does); without, the bare edit time. */
function runYjs(trace: Trace, listen: boolean): Row {
  const doc = new Y.Doc();
  const text = doc.getText('text');
  let updateBytes = 0;
  if (listen) {
    doc.on('update', (update: Uint8Array) => {
      updateBytes += update.byteLength;
    });
  }
  const started = performance.now();
  for (const [position, deleted, inserted] of trace.edits) {
    if (deleted > 0) text.delete(position, deleted);
    if (inserted.length > 0) text.insert(position, inserted);
  }
  const applyMs = performance.now() - started;
  if (text.toString() !== trace.endContent) throw new Error('yjs: the final text differs from the trace\'s');
  const encoded = Y.encodeStateAsUpdate(doc);
  const loaded = heapOf(() => {
    const fresh = new Y.Doc();
    Y.applyUpdate(fresh, encoded);
    return fresh;
  });
  if ((loaded.kept as Y.Doc).getText('text').toString() !== trace.endContent) throw new Error('yjs: the loaded document differs');
  return { system: `yjs ${yjsVersion()}${listen ? '' : ' (no update listener)'}`, applyMs, updateBytes, documentBytes: encoded.byteLength, loadMs: loaded.ms, heapBytes: loaded.heapBytes };
}

function yjsVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../node_modules/yjs/package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '';
  }
}

interface TypeRow {
  readonly type: string;
  readonly elements: number;
  readonly joinMs: number;
  readonly encodeMs: number;
  readonly decodeMs: number;
  readonly bytes: number;
}

/**
 * Two states whose join holds `joined` elements, sharing a fifth of each (built directly in canonical form:
 * building a million elements through immutable mutators would measure the copying, not the
 * type), as two replicas hold after a partition.
 */
function statesOf(type: string, joined: number): [unknown, unknown] {
  // each replica holds n, a fifth of them shared: the join holds 1.8 n = `joined`
  const n = Math.floor(joined / 1.8);
  const ids = (from: number): number[] => Array.from({ length: n }, (_, i) => from + i);
  const [a, b] = [ids(0), ids(Math.floor(n * 0.8))];
  const name = (i: number): string => `element-${String(i).padStart(7, '0')}`;
  switch (type) {
    case 'g-counter':
      return [a, b].map((xs) => xs.map((i) => [`replica-${String(i).padStart(7, '0')}`, i + 1] as const)) as unknown as [GCounterState, GCounterState];
    case 'g-set':
      return [a, b].map((xs) => xs.map(name)) as unknown as [GSetState, GSetState];
    case 'lww-element-set':
      return [a, b].map((xs) => xs.map((i) => ({ element: name(i), added: { stamp: { physicalMs: 1_700_000_000_000 + i, logical: 0 }, replica: 'r' }, removed: null }))) as unknown as [LwwElementSetState, LwwElementSetState];
    case 'or-set': {
      // A added elements 0..n-1 (dots a:1..n); B saw A's adds of the shared fifth (a cloud in its context) and added the rest (b:1..)
      const start = Math.floor(n * 0.8);
      const sideA = { entries: a.map((i) => [name(i), [['a', i + 1]]]), context: { vv: [['a', n]], cloud: [] } };
      const sideB = { entries: b.map((i) => [name(i), [i < n ? ['a', i + 1] : ['b', i - n + 1]]]), context: { vv: [['b', start]], cloud: ids(start).slice(0, n - start).map((i) => ['a', i + 1]) } };
      return [sideA, sideB] as unknown as [OrSetState, OrSetState];
    }
    default: {
      // typed in chunks (one insertText takes at most MAX_TEXT_LENGTH characters)
      const type = (doc: RgaDocument, count: number, ch: string): void => {
        for (let done = 0; done < count; done += 10_000) doc.insertText(doc.length, ch.repeat(Math.min(10_000, count - done)));
      };
      const docA = new RgaDocument('a');
      type(docA, n, 'x');
      const docB = new RgaDocument('b', docA.state().slice(0, Math.floor(n * 0.2)));
      type(docB, Math.ceil(n * 0.8), 'y');
      return [docA.state(), docB.state()] as [RgaState, RgaState];
    }
  }
}

const TYPES: readonly (readonly [string, CrdtType<unknown, unknown>])[] = [
  ['g-counter', G_COUNTER as CrdtType<unknown, unknown>],
  ['g-set', G_SET as CrdtType<unknown, unknown>],
  ['lww-element-set', LWW_ELEMENT_SET as CrdtType<unknown, unknown>],
  ['or-set', OR_SET as unknown as CrdtType<unknown, unknown>],
  ['rga', RGA as CrdtType<unknown, unknown>],
];

function measureTypes(sizes: readonly number[]): TypeRow[] {
  const rows: TypeRow[] = [];
  for (const n of sizes) {
    for (const [name, type] of TYPES) {
      // a counter's replicas are bounded (MAX_REPLICAS)
      if (name === 'g-counter' && n > MAX_REPLICAS) continue;
      const [a, b] = statesOf(name, n);
      const checkedA = type.decode(a);
      const checkedB = type.decode(b);
      let started = performance.now();
      const joined = type.join(checkedA, checkedB);
      const joinMs = performance.now() - started;
      started = performance.now();
      const bytes = encodeState(type, joined);
      const encodeMs = performance.now() - started;
      started = performance.now();
      let decodeMs = Number.NaN;
      // an encoding past MAX_ENCODED_BYTES is refused by design: reported as such
      if (bytes.length <= MAX_ENCODED_BYTES) {
        decodeState(type, bytes);
        decodeMs = performance.now() - started;
      }
      rows.push({ type: name, elements: n, joinMs, encodeMs, decodeMs, bytes: bytes.length });
    }
  }
  return rows;
}

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) return void process.stdout.write(USAGE);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--trace' || args[i] === '--sizes') i++;
    else if (args[i] !== '--json') throw new Error(`unknown argument ${JSON.stringify(args[i])}\n${USAGE}`);
  }
  const sizesText = args.includes('--sizes') ? (args[args.indexOf('--sizes') + 1] ?? '') : '1000,10000,100000,1000000';
  const sizes = sizesText.split(',').map(Number);
  if (!sizes.every((n) => Number.isSafeInteger(n) && n >= 10 && n <= 1_000_000)) throw new Error(`--sizes takes element counts from 10 to 1000000, comma-separated; got ${JSON.stringify(sizesText)}`);
  process.stderr.write(`per type: join, encode and decode at ${sizes.join(', ')} elements\n`);
  const typeRows = measureTypes(sizes);
  const typeLines = [
    'per type: two replicas whose join holds N elements (each holds N/1.8, a fifth of them shared) — join them, encode the join (MessagePack), decode it (with every check)',
    '| type | N | join | encode | decode | bytes | bytes per element |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...typeRows.map((r) => `| ${r.type} | ${r.elements.toLocaleString('en-US')} | ${r.joinMs.toFixed(1)} ms | ${r.encodeMs.toFixed(1)} ms | ${Number.isNaN(r.decodeMs) ? 'refused (over 64 MiB)' : `${r.decodeMs.toFixed(1)} ms`} | ${r.bytes.toLocaleString('en-US')} | ${(r.bytes / r.elements).toFixed(1)} |`),
  ];
  const path = args.includes('--trace') ? (args[args.indexOf('--trace') + 1] ?? '') : (process.env['SYNOD_B4_TRACE'] ?? 'data/automerge-paper.json.gz');
  if (!args.includes('--trace') && !existsSync(path)) {
    if (args.includes('--json')) return void process.stdout.write(`${JSON.stringify({ types: typeRows })}\n`);
    return void process.stdout.write(`${[...typeLines, `(B4 skipped: no trace at ${path}; see --help)`].join('\n')}\n`);
  }
  const trace = loadTrace(path);
  process.stderr.write(`B4: ${trace.edits.length} edits, final text ${trace.endContent.length} characters\n`);
  // yjs first, then ours, then both again: the second round is reported (warm)
  runYjs(trace, true);
  runYjs(trace, false);
  runRga(trace);
  const rows = [runYjs(trace, true), runYjs(trace, false), runRga(trace)];
  await Promise.resolve();
  if (args.includes('--json')) return void process.stdout.write(`${JSON.stringify({ types: typeRows, b4: { edits: trace.edits.length, rows } })}\n`);
  const [yjsListening, yjsBare, rga] = rows as [Row, Row, Row];
  const yjs = { ...yjsListening, applyMs: Math.min(yjsListening.applyMs, yjsBare.applyMs) };
  const kb = (n: number): string => `${(n / 1024).toFixed(0)} KiB`;
  const lines = [
    `npm run bench -- crdt: B4 (${trace.edits.length} edits), second of two rounds`,
    '| system | apply every edit | updates, total | document | load the document | heap held |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.system} | ${r.applyMs.toFixed(0)} ms | ${r.updateBytes === 0 ? '-' : kb(r.updateBytes)} | ${kb(r.documentBytes)} | ${r.loadMs.toFixed(0)} ms | ${(r.heapBytes / 2 ** 20).toFixed(1)} MiB |`),
    `ratios (RGA / yjs; time against yjs's faster row): time ${(rga.applyMs / yjs.applyMs).toFixed(2)}x (goal <= 2), document ${(rga.documentBytes / yjs.documentBytes).toFixed(2)}x (goal <= 1.5), updates ${(rga.updateBytes / yjs.updateBytes).toFixed(2)}x, load ${(rga.loadMs / yjs.loadMs).toFixed(2)}x, heap ${(rga.heapBytes / yjs.heapBytes).toFixed(2)}x`,
  ];
  process.stdout.write(`${[...typeLines, '', ...lines].join('\n')}\n`);
}
