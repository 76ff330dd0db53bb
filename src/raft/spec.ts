// Builds the ProtocolSpec a host (the simulator, or a real server) runs Raft with: validated
// options, a fresh state machine per node life, and the rule that a snapshot op supersedes
// every earlier durable op, so hosts can drop them once it is synced.
import type { CoreEnv, JsonValue, ProtocolSpec, StateMachine } from '../core/index.js';
import { RaftCore } from './core.js';
import { RaftError } from './errors.js';
import { DEFAULT_RAFT_OPTIONS, type RaftMessage, type RaftOptions, type RaftPersistOp, type RaftRequest, type RaftResponse } from './types.js';

/** A Raft spec whose cores are RaftCores over a state machine of commands C, queries Q and results R. */
export type RaftSpec<C = unknown, Q = unknown, R extends JsonValue = JsonValue> = ProtocolSpec<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp, RaftCore<C, Q, R>>;

export interface RaftSpecOptions<C, Q, R extends JsonValue> extends Partial<RaftOptions> {
  /**
   * Called once per node life (creation and every restart); the core restores it from snapshots.
   * `env` is the node's: a machine with leader duties reads the node's clock from it.
   */
  readonly createStateMachine: (env: CoreEnv) => StateMachine<C, Q, R>;
}

const POSITIVE_INTEGERS = [
  'heartbeatTicks',
  'electionTimeoutMinTicks',
  'electionTimeoutMaxTicks',
  'maxEntriesPerAppend',
  'maxBytesPerAppend',
  'maxInflightAppends',
  'retransmitTicks',
  'snapshotChunkChars',
  'maxPendingProposals',
  'maxUncommittedEntries',
  'maxPendingReads',
  'maxSessions',
  'maxApplyPerCall',
  'promoteTimeoutTicks',
  'leaderDutyTicks',
  'maxLeaderDutyProposals',
] as const;

/** Fills in defaults and rejects contradictory or out-of-range options (RaftError BAD_OPTION). */
export function resolveRaftOptions(options: Partial<RaftOptions> = {}): RaftOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<RaftOptions>;
  const o: RaftOptions = { ...DEFAULT_RAFT_OPTIONS, ...defined };
  const bad = (why: string): never => {
    throw new RaftError('BAD_OPTION', why);
  };
  for (const name of POSITIVE_INTEGERS) {
    const value = o[name];
    if (!Number.isSafeInteger(value) || value < 1) bad(`${name} must be an integer >= 1, got ${String(value)}`);
  }
  if (!(o.tickMs > 0) || !Number.isFinite(o.tickMs)) bad(`tickMs must be a finite number > 0, got ${o.tickMs}`);
  for (const name of ['snapshotThresholdEntries', 'snapshotCatchUpEntries'] as const) {
    if (!Number.isSafeInteger(o[name]) || o[name] < 0) bad(`${name} must be an integer >= 0, got ${o[name]}`);
  }
  if (o.electionTimeoutMaxTicks < o.electionTimeoutMinTicks) bad(`electionTimeoutMaxTicks (${o.electionTimeoutMaxTicks}) < electionTimeoutMinTicks (${o.electionTimeoutMinTicks})`);
  if (o.electionTimeoutMinTicks <= o.heartbeatTicks) bad(`electionTimeoutMinTicks (${o.electionTimeoutMinTicks}) must exceed heartbeatTicks (${o.heartbeatTicks})`);
  if (o.readMode !== 'readIndex' && o.readMode !== 'lease') bad(`readMode must be "readIndex" or "lease", got ${String(o.readMode)}`);
  if (!(o.maxClockDrift >= 0 && o.maxClockDrift < 1)) bad(`maxClockDrift must be in [0, 1), got ${o.maxClockDrift}`);
  if (o.readMode === 'lease' && !o.checkQuorum) bad('lease reads need checkQuorum: followers must ignore campaigns while a leader is alive');
  if (o.readMode === 'lease' && o.electionTimeoutMinTicks < 3) bad('lease reads need electionTimeoutMinTicks >= 3');
  return o;
}

export function raftSpec<C, Q, R extends JsonValue>(options: RaftSpecOptions<C, Q, R>): RaftSpec<C, Q, R> {
  const { createStateMachine, ...rest } = options;
  const opts = resolveRaftOptions(rest);
  return {
    name: 'raft',
    tickIntervalMs: opts.tickMs,
    create: (env, durable) => new RaftCore<C, Q, R>(env, durable, opts, createStateMachine(env)),
    supersedesEarlier: (op) => op.kind === 'snapshot',
  };
}
