// Measures Merkle anti-entropy (src/quorum/merkle) for docs/merkle.md: for n keys (default 10^3
// to 10^6, depth from depthForKeys) and d differences (1, 10, 100: a third changed digests, a
// third deleted, a third new keys), what diffTrees exchanges (messages, hashes, entries, JSON
// bytes) and how long it takes (median of 5 runs, trees already hashed), plus the cost of
// building a tree and its heap. Usage: node --expose-gc --import tsx scripts/merkle-measure.ts [--max-n N] [--json]
import { performance } from 'node:perf_hooks';
import { depthForKeys, diffTrees, leafCount, MerkleTree } from '../src/quorum/merkle/index.js';

interface Row {
  readonly n: number;
  readonly depth: number;
  readonly leaves: number;
  readonly d: number;
  readonly found: number;
  readonly messages: number;
  readonly hashes: number;
  readonly entries: number;
  readonly bytes: number;
  readonly diffMs: number;
}

interface Build {
  readonly n: number;
  readonly depth: number;
  readonly buildMs: number;
  readonly usPerSet: number;
  readonly heapBytesPerKey: number | undefined;
}

const DIFFERENCES = [1, 10, 100];
const RUNS = 5;

/** A 16-byte digest (32 hex characters) standing for the hash of a key's versions. */
function digestOf(i: number, salt = 0): string {
  let out = '';
  let x = (i ^ Math.imul(salt, 0x9e3779b9)) >>> 0;
  for (let w = 0; w < 4; w++) {
    x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
    x = (x ^ (x >>> 13) ^ (w + 1)) >>> 0;
    out += x.toString(16).padStart(8, '0');
  }
  return out;
}

function heapUsed(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return undefined;
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

function build(n: number): { tree: MerkleTree; build: Build } {
  const depth = depthForKeys(n);
  const before = heapUsed();
  const started = performance.now();
  const tree = new MerkleTree({ depth });
  for (let i = 0; i < n; i++) tree.set(`user/${i}`, digestOf(i));
  tree.rootHash();
  const buildMs = performance.now() - started;
  const after = heapUsed();
  const heapBytesPerKey = before === undefined || after === undefined ? undefined : (after - before) / n;
  return { tree, build: { n, depth, buildMs, usPerSet: (buildMs * 1000) / n, heapBytesPerKey } };
}

/** A copy of `tree` with d differences spread over the key space. */
function modified(tree: MerkleTree, n: number, d: number): MerkleTree {
  const other = tree.clone();
  const stride = Math.max(1, Math.floor(n / d));
  for (let i = 0; i < d; i++) {
    const key = `user/${(i * stride + 17) % n}`;
    if (i % 3 === 0) other.set(key, digestOf(i, 1));
    else if (i % 3 === 1) other.delete(key);
    else other.set(`fresh/${i}`, digestOf(i, 2));
  }
  other.rootHash();
  return other;
}

function measure(tree: MerkleTree, n: number, d: number): Row {
  const other = modified(tree, n, d);
  const times: number[] = [];
  let result = diffTrees(tree, other);
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    result = diffTrees(tree, other);
    times.push(performance.now() - started);
  }
  times.sort((x, y) => x - y);
  return { n, depth: tree.shape.depth, leaves: leafCount(tree.shape), d, found: result.differences.length, messages: result.messages, hashes: result.hashes, entries: result.entries, bytes: result.bytes, diffMs: times[Math.floor(RUNS / 2)] as number };
}

function main(): void {
  const args = process.argv.slice(2);
  const maxAt = args.indexOf('--max-n');
  const maxN = maxAt < 0 ? 1_000_000 : Number(args[maxAt + 1]);
  const rows: Row[] = [];
  const builds: Build[] = [];
  for (let n = 1000; n <= maxN; n *= 10) {
    const { tree, build: b } = build(n);
    builds.push(b);
    for (const d of DIFFERENCES) rows.push(measure(tree, n, d));
  }
  if (args.includes('--json')) {
    console.log(JSON.stringify({ builds, rows }, null, 2));
    return;
  }
  console.log('| n | depth | leaves | d | found | messages | hashes | entries | JSON bytes | diffTrees ms |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.n.toLocaleString('en')} | ${r.depth} | ${r.leaves.toLocaleString('en')} | ${r.d} | ${r.found} | ${r.messages} | ${r.hashes} | ${r.entries} | ${r.bytes.toLocaleString('en')} | ${r.diffMs.toFixed(2)} |`);
  console.log('\n| n | depth | build ms | µs per set | heap bytes per key |');
  console.log('| ---: | ---: | ---: | ---: | ---: |');
  for (const b of builds) console.log(`| ${b.n.toLocaleString('en')} | ${b.depth} | ${b.buildMs.toFixed(0)} | ${b.usPerSet.toFixed(1)} | ${b.heapBytesPerKey === undefined ? 'n/a' : b.heapBytesPerKey.toFixed(0)} |`);
}

main();
