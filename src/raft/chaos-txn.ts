// kv-txn chaos: a Raft + KV cluster under the random nemesis (partitions, crashes, pauses, clock
// offsets and drift, loss, slowness, membership changes) with clients issuing txns and watchers
// pulling the change log from single nodes. Verdicts: the monitors, linearizability of the client
// history with the txn-aware kv model, the revisions in results, and the watch checker.
import type { Effects, JsonValue, NodeId, ProtocolCore, ProtocolSpec } from '../core/index.js';
import { isInvariantError } from '../core/index.js';
import { checkHistory, checkKvRevisions, checkWatches, kvModel, type CommittedChanges, type RevisionedOp, type WatchEvent } from '../check/index.js';
import { decodeKvRequest, type KvEvent, type KvQuery, type KvRequest, type KvResult } from '../kv/store.js';
import { runChaosPhases, type ChaosResult, type ChaosSubject, type Violation } from '../sim/chaos.js';
import type { RandomNemesisOptions } from '../sim/nemesis.js';
import { CHAOS_NEMESIS, CHAOS_RAFT, startMembershipChurn } from './chaos.js';
import { RaftCluster, type ClusterOptions } from './cluster.js';
import { RaftCore } from './core.js';
import { RaftError } from './errors.js';
import type { RaftSpec } from './spec.js';
import type { RaftMessage, RaftOptions, RaftPersistOp, RaftRequest, RaftResponse } from './types.js';
import { startTxnWorkload, startWatchers, type TxnWorkload, type WatchBug, type Watchers } from './workload-txn.js';

export interface TxnChaosOptions {
  readonly seed: number;
  readonly nodes?: number;
  /** How long faults are injected and clients run (virtual ms). */
  readonly durationMs?: number;
  readonly clients?: number;
  readonly watchers?: number;
  readonly thinkMs?: number;
  readonly settleMs?: number;
  readonly raft?: Partial<Omit<RaftOptions, 'observer'>>;
  readonly nemesis?: Partial<Omit<RandomNemesisOptions, 'untilMs'>>;
  readonly trace?: ClusterOptions['trace'];
  readonly checkerMaxStates?: number;
  /** Membership changes and leadership transfers alongside the faults. Default true. */
  readonly membership?: boolean;
  /** A deliberately broken watcher, to show the watch checker catching it. */
  readonly watchBug?: WatchBug;
  /** Deliberately broken reads: a get is answered from the applied state of whichever node it reaches (stale on a follower), to show the linearizability and revision checks catching it. */
  readonly staleGets?: boolean;
}

/** What a kv-txn run found, beyond the generic chaos result. */
export interface TxnChaosResult extends ChaosResult {
  readonly watch: { readonly watchers: number; readonly events: number; readonly reconnects: number; readonly ok: boolean };
  readonly revisions: { readonly ops: number; readonly ok: boolean };
  /** The committed history's last revision. */
  readonly revision: number;
}

export const DEFAULT_TXN_CHAOS = {
  nodes: 5,
  durationMs: 3000,
  clients: 4,
  watchers: 4,
  thinkMs: 15,
  settleMs: 5000,
  checkerMaxStates: 2_000_000,
} as const;

// ================================================================ serving watches from a node's applied state

type Fx = Effects<RaftMessage, RaftPersistOp, RaftResponse>;

/**
 * A node as the hosts serve watchers: a `changes` read is answered at once from this node's
 * applied state (serializable, as etcd serves watches), not through the leader; everything else
 * goes to Raft. So a watcher's pull fails with its node (crashed, paused) and sees only what that
 * node has applied (stale when it is cut off).
 */
export class WatchServingCore implements ProtocolCore<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp> {
  constructor(
    readonly raft: RaftCore<KvRequest, KvQuery, KvResult>,
    /** Also answer gets locally: a deliberate bug (stale reads), for showing the checkers at work. */
    private readonly staleGets = false,
  ) {}

  start(fx: Fx): void {
    this.raft.start(fx);
  }

  handleMessage(from: NodeId, msg: RaftMessage, fx: Fx): void {
    this.raft.handleMessage(from, msg, fx);
  }

  handleTick(fx: Fx): void {
    this.raft.handleTick(fx);
  }

  handleRequest(requestId: string, request: RaftRequest, fx: Fx): void {
    const op = request.type === 'read' ? request.op : null;
    const local = op !== null && typeof op === 'object' && !Array.isArray(op) && (op['op'] === 'changes' || (this.staleGets && op['op'] === 'get'));
    if (!local) return this.raft.handleRequest(requestId, request, fx);
    const decoded = decodeKvRequest(op);
    if (!decoded.ok) return fx.reply(requestId, { ok: false, error: 'bad-request', leaderHint: null, message: decoded.problem });
    const result = this.raft.queryLocal(decoded.value as KvQuery) as unknown as JsonValue;
    fx.reply(requestId, { ok: true, result, index: this.raft.status().applied });
  }
}

export function watchServingSpec(spec: RaftSpec<KvRequest, KvQuery, KvResult>, staleGets = false): ProtocolSpec<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp> {
  return {
    name: spec.name,
    tickIntervalMs: spec.tickIntervalMs,
    create: (env, durable) => new WatchServingCore(spec.create(env, durable), staleGets),
    ...(spec.supersedesEarlier === undefined ? {} : { supersedesEarlier: spec.supersedesEarlier }),
  };
}

export const unwrapWatchServing = (core: unknown): RaftCore | undefined => (core instanceof WatchServingCore ? (core.raft as unknown as RaftCore) : undefined);

// ================================================================ the committed history

/** Every change a node has applied, with prevKv, read from its change log (complete: chaos runs never compact). */
export function committedChanges(cluster: RaftCluster, node: NodeId): CommittedChanges | string {
  const core = cluster.core(node);
  if (core === undefined) return `node ${node} is down`;
  const events: WatchEvent[] = [];
  let from = 1;
  let through = 0;
  // pages of whole revisions; bounded by the log's length
  for (let pages = 0; pages < 1_000_000; pages++) {
    const page = core.queryLocal({ op: 'changes', prefix: '', fromRevision: from, prevKv: true, maxEvents: 10_000 }) as KvResult;
    if (!('events' in page)) return `node ${node}: the change log from revision 1 answered ${JSON.stringify(page)}`;
    events.push(...(page.events as KvEvent[] as WatchEvent[]));
    through = page.revision;
    if (page.nextRevision > page.revision) break;
    from = page.nextRevision;
  }
  return { events, throughRevision: through };
}

/** The up node that has applied the most (every applied prefix is committed, so it has all others' changes). */
export function mostApplied(cluster: RaftCluster): NodeId | undefined {
  let best: NodeId | undefined;
  let applied = -1;
  for (const id of cluster.nodeIds) {
    const core = cluster.core(id);
    if (core !== undefined && core.status().applied > applied) [best, applied] = [id, core.status().applied];
  }
  return best;
}

// ================================================================ the run

export function runTxnChaos(options: TxnChaosOptions): TxnChaosResult {
  const o = {
    nodes: options.nodes ?? DEFAULT_TXN_CHAOS.nodes,
    durationMs: options.durationMs ?? DEFAULT_TXN_CHAOS.durationMs,
    clients: options.clients ?? DEFAULT_TXN_CHAOS.clients,
    watchers: options.watchers ?? DEFAULT_TXN_CHAOS.watchers,
    thinkMs: options.thinkMs ?? DEFAULT_TXN_CHAOS.thinkMs,
    settleMs: options.settleMs ?? DEFAULT_TXN_CHAOS.settleMs,
    checkerMaxStates: options.checkerMaxStates ?? DEFAULT_TXN_CHAOS.checkerMaxStates,
  };
  const cluster = new RaftCluster({
    seed: options.seed,
    nodes: o.nodes,
    raft: { ...CHAOS_RAFT, ...options.raft },
    fsyncMs: 1,
    trace: options.trace,
    client: { requestTimeoutMs: 250, opTimeoutMs: 2000 },
    wrapSpec: (spec) => watchServingSpec(spec, options.staleGets === true),
    unwrapCore: unwrapWatchServing,
  });
  const found: Violation[] = [];
  const report = (kind: string, message: string): void => void found.push({ kind, atMs: cluster.nowMs, message });
  let workload: TxnWorkload | undefined;
  let watchers: Watchers | undefined;
  const summary = { watch: { watchers: 0, events: 0, reconnects: 0, ok: true }, revisions: { ops: 0, ok: true }, revision: 0 };
  const subject: ChaosSubject<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp> = {
    cluster,
    startLoad: (untilMs) => {
      workload = startTxnWorkload(cluster, { clients: o.clients, thinkMs: o.thinkMs, untilMs, prefix: 'c' });
      watchers = startWatchers(cluster, { watchers: o.watchers, startBeforeMs: Math.floor(untilMs / 2), stallMs: 400, pullTimeoutMs: 150, ...(options.watchBug === undefined ? {} : { bug: options.watchBug }) });
      if (options.membership !== false) startMembershipChurn(cluster, untilMs);
    },
    settle: (timeoutMs) => cluster.settle(timeoutMs) !== undefined,
    afterSettle: (v) => afterSettle(cluster, o.clients, v, watchers),
    finalChecks: () => {
      cluster.monitor.checkLogs();
      watchers?.stop();
      finalChecks(cluster, workload, watchers, report, summary);
    },
    check: () => {
      const check = checkHistory(cluster.history(), kvModel, { maxStates: o.checkerMaxStates });
      const v = check.violation;
      const keys = v?.keys === undefined ? JSON.stringify(v?.key ?? '') : v.keys.map((k) => JSON.stringify(k)).join(', ');
      return { verdict: check.verdict, explanation: `history not linearizable (kv model with txns) on ${keys}: operation ${v?.stuck ?? '?'} cannot be placed` };
    },
    violations: () => [...cluster.violations(), ...found],
    violationCount: () => cluster.monitor.violationCount + found.length,
    elections: () => cluster.monitor.elections,
    isInvariantError: (err): err is Error & { readonly code: string } => err instanceof RaftError || isInvariantError(err),
  };
  const result = runChaosPhases(subject, { seed: options.seed, durationMs: o.durationMs, nemesis: { ...CHAOS_NEMESIS, ...options.nemesis }, settleMs: o.settleMs });
  return { ...result, ...summary };
}

/** After settling: every client gets a write through, then every watcher catches up with the end of the history. */
function afterSettle(cluster: RaftCluster, clients: number, report: (v: Violation) => void, watchers: Watchers | undefined): void {
  for (let c = 1; c <= clients; c++) {
    const client = cluster.client(`c${c}`);
    cluster.runUntil(() => !client.busy, 5000);
    const handle = cluster.exec({ op: 'put', key: `final-${c}`, value: c }, client);
    if (handle.outcome !== 'ok') report({ kind: 'liveness', atMs: cluster.nowMs, message: `client c${c}: a write after settling ended ${handle.outcome ?? 'unfinished'} (${handle.error ?? ''})` });
  }
  const leader = cluster.readyLeader();
  const core = leader === undefined ? undefined : cluster.core(leader);
  if (watchers === undefined || core === undefined) return;
  const revision = (core.queryLocal({ op: 'leaseList', limit: 1 }) as { revision: number }).revision;
  if (!watchers.drain(revision, 5000)) {
    const behind = watchers.all.filter((w) => w.next <= revision).map((w) => `${w.id} at ${w.next}`);
    report({ kind: 'liveness', atMs: cluster.nowMs, message: `watchers did not catch up with revision ${revision} within 5000 ms of settling: ${behind.join(', ')}` });
  }
}

function finalChecks(
  cluster: RaftCluster,
  workload: TxnWorkload | undefined,
  watchers: Watchers | undefined,
  report: (kind: string, message: string) => void,
  summary: { watch: { watchers: number; events: number; reconnects: number; ok: boolean }; revisions: { ops: number; ok: boolean }; revision: number },
): void {
  const node = mostApplied(cluster);
  const committed = node === undefined ? 'no node is up' : committedChanges(cluster, node);
  if (typeof committed === 'string') return report('watch', `cannot read the committed history: ${committed}`);
  summary.revision = committed.throughRevision;
  if (workload !== undefined && workload.refusedByDecoder > 0) report('workload', `${workload.refusedByDecoder} generated txn(s) were malformed`);
  if (watchers !== undefined) {
    for (const problem of watchers.problems()) report('watch', problem);
    const result = checkWatches(committed, watchers.records());
    summary.watch = { watchers: result.watchers, events: result.events, reconnects: watchers.reconnects(), ok: result.ok };
    for (const d of result.discrepancies) report('watch', d.message);
  }
  if (workload !== undefined) {
    const ops = new Map(cluster.history().ops.map((op) => [op.index, op]));
    const revisioned: RevisionedOp[] = workload.completed.map((c) => {
      const op = ops.get(c.index)!;
      return { index: c.index, request: c.request, result: c.result, invokeMs: op.invokeMs, completeMs: op.completeMs };
    });
    const result = checkKvRevisions(committed, revisioned);
    summary.revisions = { ops: result.ops, ok: result.ok };
    for (const p of result.problems) report('revisions', p.message);
  }
}
