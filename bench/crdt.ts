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
import { RgaDocument } from '../src/crdt/rga.js';
import { decodeRga, encodeRga } from '../src/crdt/rga-codec.js';

export const USAGE = `usage: npm run bench -- crdt [--trace FILE] [--json] [--help]
  --trace FILE  the B4 trace: automerge-paper.json.gz from github.com/josephg/editing-traces
                (sequential_traces/); default $SYNOD_B4_TRACE, else data/automerge-paper.json.gz
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

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) return void process.stdout.write(USAGE);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--trace') i++;
    else if (args[i] !== '--json') throw new Error(`unknown argument ${JSON.stringify(args[i])}\n${USAGE}`);
  }
  const path = args.includes('--trace') ? (args[args.indexOf('--trace') + 1] ?? '') : (process.env['SYNOD_B4_TRACE'] ?? 'data/automerge-paper.json.gz');
  const trace = loadTrace(path);
  process.stderr.write(`B4: ${trace.edits.length} edits, final text ${trace.endContent.length} characters\n`);
  // yjs first, then ours, then both again: the second round is reported (warm)
  runYjs(trace, true);
  runYjs(trace, false);
  runRga(trace);
  const rows = [runYjs(trace, true), runYjs(trace, false), runRga(trace)];
  await Promise.resolve();
  if (args.includes('--json')) return void process.stdout.write(`${JSON.stringify({ edits: trace.edits.length, rows })}\n`);
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
  process.stdout.write(`${lines.join('\n')}\n`);
}
