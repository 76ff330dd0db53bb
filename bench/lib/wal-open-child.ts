// One restart, measured in a fresh process for `npm run bench -- wal-open`: opens the data
// directory given as the only argument with RaftStorage, builds a Raft core with a KvStore from
// what it recovered, and prints the times and memory as one JSON line.
import { KvStore } from '../../src/kv/index.js';
import { raftSpec, type RaftCore } from '../../src/raft/index.js';
import { RaftStorage } from '../../src/storage/index.js';

export interface ChildResult {
  readonly openMs: number;
  /** CPU time (user + system, all threads) spent in RaftStorage.open: less sensitive than wall time to other load. */
  readonly openCpuMs: number;
  /** spec.create(): replays the recovered ops and applies the committed entries to the store. */
  readonly createMs: number;
  readonly lastIndex: number;
  /** The process's peak resident set over its whole life, tsx's start-up included. */
  readonly peakRssMiB: number;
  /** Heap in use once the core is built (live state plus garbage not yet collected). */
  readonly heapMiB: number;
}

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: wal-open-child.ts DATA_DIR');
const openStart = performance.now();
const cpuStart = process.cpuUsage();
const storage = await RaftStorage.open(dir);
const openMs = performance.now() - openStart;
const openCpu = process.cpuUsage(cpuStart);
const spec = raftSpec({ createStateMachine: () => new KvStore(), snapshotThresholdEntries: 100_000 });
const createStart = performance.now();
const core = spec.create({ id: '1', members: ['1', '2', '3'], now: () => 0, random: () => 0.5 }, storage.durableOps) as RaftCore;
const createMs = performance.now() - createStart;
const result: ChildResult = {
  openMs,
  openCpuMs: (openCpu.user + openCpu.system) / 1000,
  createMs,
  lastIndex: core.status().lastIndex,
  peakRssMiB: process.resourceUsage().maxRSS / 1024,
  heapMiB: process.memoryUsage().heapUsed / 2 ** 20,
};
await storage.close();
process.stdout.write(JSON.stringify(result) + '\n');
