// The shapes Multi-Paxos shares with its hosts: durable ops (a write-ahead log's contract), wire
// messages, client requests and responses, options. Plain JSON-compatible data, stored and sent
// as is. Requests and responses have the Raft KV's shapes (command with a client session, read,
// status, snapshot), so the same clients, workloads and checker drive either protocol.
import type { JsonValue, NodeId } from '../../core/index.js';
import type { Ballot } from '../ballot.js';
import type { PaxosObserver } from '../observer.js';
import type { QuorumSizes } from '../quorums.js';

// ---------------------------------------------------------------- values and slots

/** What a slot holds: a client command with its session, or a no-op that fills a hole. */
export type PaxosValue =
  | { readonly kind: 'noop' }
  | { readonly kind: 'command'; readonly clientId: string | null; readonly seq: number; readonly op: JsonValue };

export interface SlotValue {
  readonly slot: number;
  readonly value: PaxosValue;
}

/** An acceptance an acceptor holds (or, in a `values` message, the ballot a value was chosen in). */
export interface AcceptedEntry {
  readonly slot: number;
  readonly ballot: Ballot;
  readonly value: PaxosValue;
}

/** Consecutive slots `from`..`to` chosen in `ballot`: a follower that accepted them in that ballot holds their values. */
export interface DecidedRange {
  readonly from: number;
  readonly to: number;
  readonly ballot: Ballot;
}

// ---------------------------------------------------------------- durable state (fixed interface)

export type PaxosPersistOp =
  /** The acceptor's promise (for every slot): never accept below `ballot`. Also a proposer's own ballot, before its prepares leave. */
  | { readonly kind: 'promise'; readonly ballot: Ballot }
  /** Acceptances in `ballot` (which is promised too). */
  | { readonly kind: 'accept'; readonly ballot: Ballot; readonly entries: readonly SlotValue[] }
  /**
   * A checkpoint: the state machine (and client sessions) after applying every slot up to `slot`,
   * the promise, and the acceptances above `slot`. Supersedes every earlier op.
   */
  | { readonly kind: 'snapshot'; readonly slot: number; readonly data: JsonValue; readonly promised: Ballot; readonly accepted: readonly AcceptedEntry[] };

// ---------------------------------------------------------------- messages between nodes

export type PaxosMessage =
  /** Phase 1a for every slot above `fromSlot` (the proposer knows what is chosen up to there). */
  | { readonly type: 'prepare'; readonly ballot: Ballot; readonly fromSlot: number }
  /** Phase 1b: the promise, and every acceptance above max(fromSlot, snapshotSlot). */
  | { readonly type: 'promise'; readonly ballot: Ballot; readonly snapshotSlot: number; readonly known: number; readonly accepted: readonly AcceptedEntry[] }
  /** Phase 2a from the leader of `ballot`, with what it knows chosen that this follower may not. */
  | { readonly type: 'accept'; readonly ballot: Ballot; readonly entries: readonly SlotValue[]; readonly decided: readonly DecidedRange[] }
  /**
   * Phase 2b: `slots` accepted in `ballot`. Every answer to the leader says how far this node knows
   * the chosen values (`known`), where its snapshot is, and which chosen slots it lacks values for.
   */
  | { readonly type: 'accepted'; readonly ballot: Ballot; readonly slots: readonly number[]; readonly known: number; readonly snapshotSlot: number; readonly need: readonly number[] }
  /** `ballot` (a prepare, accept or heartbeat of it) is refused: the acceptor promised `promised`. */
  | { readonly type: 'reject'; readonly ballot: Ballot; readonly promised: Ballot }
  /** The leader's heartbeat: leadership, decisions, and the read round `round` it confirms. */
  | { readonly type: 'heartbeat'; readonly ballot: Ballot; readonly round: number; readonly decided: readonly DecidedRange[] }
  | { readonly type: 'heartbeatResp'; readonly ballot: Ballot; readonly round: number; readonly known: number; readonly snapshotSlot: number; readonly need: readonly number[] }
  /** Chosen values (each with the ballot it was chosen in) for a node that lacks them. */
  | { readonly type: 'values'; readonly entries: readonly AcceptedEntry[] }
  /** Asks for the sender's latest snapshot (the asker is behind it). */
  | { readonly type: 'snapshotReq' }
  /** A snapshot: the state after applying every slot up to `slot` (data: machine and sessions). */
  | { readonly type: 'snapshot'; readonly slot: number; readonly data: JsonValue };

export type PaxosMessageType = PaxosMessage['type'];

// ---------------------------------------------------------------- client requests and responses

export type PaxosRequest =
  /** A state-machine command; (clientId, seq) makes retries apply once. clientId null: no session. */
  | { readonly type: 'command'; readonly clientId: string | null; readonly seq: number; readonly op: JsonValue }
  /** A linearizable read, confirmed by a quorum round (never written to the log). */
  | { readonly type: 'read'; readonly op: JsonValue }
  /** Start phase 1 now (an operator's "lead"): answered at once; watch the status for the outcome. */
  | { readonly type: 'campaign' }
  /** Compacts this node's log now: a snapshot at its applied slot. */
  | { readonly type: 'snapshot' }
  | { readonly type: 'status' };

/**
 * Why a request did not succeed. Certainly not applied: not-leader, overloaded, bad-request.
 * Maybe applied (retry with the same seq, or treat the outcome as unknown): leadership-lost,
 * stale-session; timeout (reads only: a read never has an effect).
 */
export type PaxosErrorReason = 'not-leader' | 'leadership-lost' | 'timeout' | 'overloaded' | 'bad-request' | 'stale-session';

export type PaxosRole = 'follower' | 'candidate' | 'leader';

export interface PaxosStatus {
  readonly id: NodeId;
  readonly role: PaxosRole;
  /** The node's own ballot (candidate or leader), else null. */
  readonly ballot: Ballot | null;
  readonly promised: Ballot;
  /** The leader this node follows, as far as it knows. */
  readonly leader: NodeId | null;
  /** Every slot up to here is known chosen. */
  readonly known: number;
  readonly applied: number;
  /** The next slot a leader assigns (leader only, else 0). */
  readonly nextSlot: number;
  readonly snapshotSlot: number;
  /** A leader that has chosen every slot phase 1 recovered (it serves reads at once). */
  readonly ready: boolean;
  readonly quorums: QuorumSizes;
}

export type PaxosResponse =
  | { readonly ok: true; readonly result: JsonValue; readonly index: number }
  | { readonly ok: true; readonly status: PaxosStatus }
  | { readonly ok: false; readonly error: PaxosErrorReason; readonly leaderHint: NodeId | null; readonly message?: string };

// ---------------------------------------------------------------- options

export interface PaxosOptions {
  /** Length of one tick on the node's local clock. */
  readonly tickMs: number;
  /** Ticks between a leader's heartbeats (each also starts a read round). */
  readonly heartbeatTicks: number;
  /** A follower that heard no leader for a random number of ticks in [min, max] runs phase 1. */
  readonly electionTimeoutMinTicks: number;
  readonly electionTimeoutMaxTicks: number;
  /**
   * After its ballot is rejected or its phase 1 times out: `randomized` waits a new random
   * election timeout before a higher ballot (dueling proposers drift apart); `none` tries again at once.
   */
  readonly backoff: 'randomized' | 'none';
  /** Phase-1 and phase-2 quorum sizes (default: majorities); |Q1| + |Q2| must exceed the members. */
  readonly quorums?: Partial<QuorumSizes>;
  /** A leader steps down when fewer than |Q2| - 1 peers answered it within a maximum election timeout. */
  readonly checkQuorum: boolean;
  /** Ticks before an unanswered accept is sent again. */
  readonly retransmitTicks: number;
  readonly maxEntriesPerAccept: number;
  /** Decided ranges per message, and chosen values per `values` message, at most. */
  readonly maxDecidedRanges: number;
  readonly maxValuesPerMessage: number;
  /** Take a snapshot once this many slots were applied since the last one; 0 never. */
  readonly snapshotThresholdSlots: number;
  /** Chosen values kept in memory below a snapshot, for followers slightly behind (a snapshot otherwise). */
  readonly snapshotCatchUpSlots: number;
  /** Ticks between snapshots (or snapshot requests) to the same peer. */
  readonly snapshotResendTicks: number;
  readonly maxPendingProposals: number;
  readonly maxPendingReads: number;
  /** Client sessions kept for deduplication; the least recently used is evicted beyond it. */
  readonly maxSessions: number;
  readonly observer?: PaxosObserver;
}

export const DEFAULT_PAXOS_OPTIONS: PaxosOptions = {
  tickMs: 15,
  heartbeatTicks: 1,
  electionTimeoutMinTicks: 10,
  electionTimeoutMaxTicks: 20,
  backoff: 'randomized',
  checkQuorum: true,
  retransmitTicks: 3,
  maxEntriesPerAccept: 64,
  maxDecidedRanges: 32,
  maxValuesPerMessage: 64,
  snapshotThresholdSlots: 1000,
  snapshotCatchUpSlots: 64,
  snapshotResendTicks: 10,
  maxPendingProposals: 4096,
  maxPendingReads: 4096,
  maxSessions: 10_000,
};
