// The Raft rows of the consistency table: Synod's Raft KV under the same nemesis and client mix as
// the quorum store, its history translated into the dkv checkers' terms so that one set of
// checkers judges both. Raft has one order of writes: a write's dot is (raft, its revision); a
// read that saw the store at revision r has the context {raft: r} — it saw every write up to r.
// Reads are linearizable (through the leader) or serializable (a random node's applied state).
import type { DkvOp, DkvReadOp } from '../../check/dkv/index.js';
import type { NodeId } from '../../core/index.js';
import type { KvResult } from '../../kv/index.js';
import { RaftCluster } from '../../raft/cluster.js';
import { runChaosPhases } from '../../sim/chaos.js';
import { DEFAULT_RANDOM_NEMESIS } from '../../sim/nemesis.js';
import { QUORUM_CHAOS, QUORUM_CHAOS_LOAD } from './chaos.js';

export type RaftReadMode = 'linearizable' | 'serializable';

const ACTOR = 'raft';

export interface RaftConsistencyRun {
  readonly ops: readonly DkvOp[];
  readonly linearizable: boolean | 'unknown';
  readonly monitorViolations: number;
}

/** One chaos run of the Raft KV with the quorum store's load shape; its history as dkv ops. */
export function runRaftConsistency(seed: number, mode: RaftReadMode): RaftConsistencyRun {
  const cluster = new RaftCluster({ seed, nodes: QUORUM_CHAOS.nodes, fsyncMs: 1, trace: {} });
  const rng = cluster.sim.random.stream('workload:consistency');
  const ops: DkvOp[] = [];
  let nextValue = 0;
  const load = QUORUM_CHAOS_LOAD;
  const loop = (name: string, untilMs: number): void => {
    if (cluster.nowMs >= untilMs) return;
    const key = `k${rng.int(0, load.keys - 1)}`;
    const startMs = cluster.nowMs;
    const next = (): void => void cluster.sim.after(load.thinkMs, () => loop(name, untilMs));
    if (rng.chance(0.5)) {
      if (mode === 'serializable') {
        // a follower read: the contacted node's applied state, no round to the leader
        const node = rng.pick(cluster.nodeIds) as NodeId;
        cluster.sim.after(1, () => {
          const core = cluster.core(node);
          if (core !== undefined) {
            const r = core.queryLocal({ op: 'get', key }) as KvResult & { value?: unknown; revision: number };
            ops.push(readOp(name, key, startMs, cluster.nowMs, 'ok', r.value, r.revision));
          }
          next();
        });
        return;
      }
      cluster.client(name).submit({ op: 'get', key }, {
        onDone: (h) => {
          const r = h.result as (KvResult & { value?: unknown; revision: number }) | undefined;
          ops.push(readOp(name, key, startMs, cluster.nowMs, h.outcome === 'ok' ? 'ok' : h.outcome === 'fail' ? 'fail' : 'unknown', r?.value, r?.revision ?? 0));
          next();
        },
      });
      return;
    }
    const value = rng.chance(0.1) ? null : `${name}-${nextValue++}`;
    cluster.client(name).submit(value === null ? { op: 'delete', key } : { op: 'put', key, value }, {
      onDone: (h) => {
        const result = h.result as { revision?: number; deleted?: boolean } | undefined;
        const revision = result?.revision;
        const ok = h.outcome === 'ok' && revision !== undefined;
        // deleting an absent key makes no revision: no version, no dot
        const made = ok && result?.deleted !== false;
        ops.push({ kind: 'write', client: name, key, value, contextIn: [], startMs, endMs: cluster.nowMs, outcome: ok ? 'ok' : h.outcome === 'fail' ? 'fail' : 'unknown', dot: made ? { actor: ACTOR, counter: revision } : null, contextOut: null });
        next();
      },
    });
  };
  const result = runChaosPhases(
    {
      cluster,
      startLoad: (untilMs) => {
        for (let c = 0; c < load.clients; c++) loop(`c${c}`, untilMs);
      },
      settle: (timeoutMs) => {
        cluster.healEverything();
        return cluster.settle(timeoutMs) !== undefined;
      },
      afterSettle: () => undefined,
      finalChecks: () => undefined,
      check: () => ({ verdict: 'skipped' }),
      violations: () => cluster.violations().map((v) => ({ kind: 'monitor', atMs: cluster.nowMs, message: String(v) })),
      violationCount: () => cluster.violations().length,
      elections: () => 0,
      isInvariantError: (err): err is Error & { readonly code: string } => err instanceof Error && 'code' in err && (err as { code: unknown }).code === 'INVARIANT',
    },
    { seed, durationMs: QUORUM_CHAOS.durationMs, nemesis: DEFAULT_RANDOM_NEMESIS, settleMs: 10_000 },
  );
  // follower reads are not in the simulator's history: its linearizability check covers the leader's operations only
  const verdict = mode === 'linearizable' ? cluster.checkLinearizability(1_000_000).verdict : 'unknown';
  return { ops, linearizable: verdict === 'unknown' ? 'unknown' : verdict === 'linearizable', monitorViolations: result.violations.length };
}

/**
 * A read in dkv terms. Raft writes need no context and return none (contextOut null): every write
 * is blind, exempt from the session parts of monotonic writes and writes-follow-reads; what
 * remains are the store parts and the read guarantees.
 */
function readOp(client: string, key: string, startMs: number, endMs: number, outcome: DkvReadOp['outcome'], value: unknown, revision: number): DkvReadOp {
  const found = value !== null && value !== undefined;
  return { kind: 'read', client, key, startMs, endMs, outcome, values: found ? [String(value)] : [], context: outcome === 'ok' && revision > 0 ? [[ACTOR, revision]] : outcome === 'ok' ? [] : null };
}
