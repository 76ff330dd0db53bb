// Builds the ProtocolSpec a host (the simulator, or a real node later) runs Multi-Paxos with:
// validated options, a fresh state machine per node life, and the rule that a snapshot op
// supersedes every earlier durable op, so hosts can drop them once it is synced.
import type { CoreEnv, JsonValue, ProtocolSpec, StateMachine } from '../../core/index.js';
import { PaxosError } from '../errors.js';
import { resolveQuorums } from '../quorums.js';
import { MultiPaxosCore } from './core.js';
import { DEFAULT_PAXOS_OPTIONS, type PaxosMessage, type PaxosOptions, type PaxosPersistOp, type PaxosRequest, type PaxosResponse } from './types.js';

/** A Multi-Paxos spec whose cores replicate a state machine of commands C, queries Q and results R. */
export type PaxosSpec<C = unknown, Q = unknown, R extends JsonValue = JsonValue> = ProtocolSpec<PaxosMessage, PaxosRequest, PaxosResponse, PaxosPersistOp, MultiPaxosCore<C, Q, R>>;

export interface PaxosSpecOptions<C, Q, R extends JsonValue> extends Partial<PaxosOptions> {
  /** Called once per node life (creation and every restart); the core restores it from snapshots. */
  readonly createStateMachine: (env: CoreEnv) => StateMachine<C, Q, R>;
}

const POSITIVE_INTEGERS = [
  'heartbeatTicks',
  'electionTimeoutMinTicks',
  'electionTimeoutMaxTicks',
  'retransmitTicks',
  'maxEntriesPerAccept',
  'maxDecidedRanges',
  'maxValuesPerMessage',
  'snapshotResendTicks',
  'maxPendingProposals',
  'maxPendingReads',
  'maxSessions',
] as const;

/** Fills in defaults and rejects contradictory or out-of-range options (PaxosError BAD_OPTION, BAD_QUORUM). */
export function resolvePaxosOptions(options: Partial<PaxosOptions> = {}): PaxosOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<PaxosOptions>;
  const o: PaxosOptions = { ...DEFAULT_PAXOS_OPTIONS, ...defined };
  const bad = (why: string): never => {
    throw new PaxosError('BAD_OPTION', why);
  };
  for (const name of POSITIVE_INTEGERS) {
    const value = o[name];
    if (!Number.isSafeInteger(value) || value < 1) bad(`${name} must be an integer >= 1, got ${String(value)}`);
  }
  if (!(o.tickMs > 0) || !Number.isFinite(o.tickMs)) bad(`tickMs must be a finite number > 0, got ${o.tickMs}`);
  for (const name of ['snapshotThresholdSlots', 'snapshotCatchUpSlots'] as const) {
    if (!Number.isSafeInteger(o[name]) || o[name] < 0) bad(`${name} must be an integer >= 0, got ${o[name]}`);
  }
  if (o.electionTimeoutMaxTicks < o.electionTimeoutMinTicks) bad(`electionTimeoutMaxTicks (${o.electionTimeoutMaxTicks}) < electionTimeoutMinTicks (${o.electionTimeoutMinTicks})`);
  if (o.electionTimeoutMinTicks <= o.heartbeatTicks) bad(`electionTimeoutMinTicks (${o.electionTimeoutMinTicks}) must exceed heartbeatTicks (${o.heartbeatTicks})`);
  if (o.backoff !== 'randomized' && o.backoff !== 'none') bad(`backoff must be "randomized" or "none", got ${String(o.backoff)}`);
  return o;
}

export function paxosSpec<C, Q, R extends JsonValue>(options: PaxosSpecOptions<C, Q, R>): PaxosSpec<C, Q, R> {
  const { createStateMachine, ...rest } = options;
  const opts = resolvePaxosOptions(rest);
  return {
    name: 'paxos',
    tickIntervalMs: opts.tickMs,
    create: (env, durable) => {
      // quorum sizes depend on the members: checked here too, so a bad pair fails before any core runs
      resolveQuorums(env.members.length, opts.quorums);
      return new MultiPaxosCore<C, Q, R>(env, durable, opts, createStateMachine(env));
    },
    supersedesEarlier: (op) => op.kind === 'snapshot',
  };
}
