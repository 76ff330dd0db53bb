// The shapes the Raft core shares with its hosts: durable records (the WAL's contract), wire
// messages, client requests and responses, the pluggable state machine and the options.
// Everything here is plain JSON-compatible data so hosts can store and send it as is.
import type { NodeId } from '../core/index.js';
import type { JsonValue } from '../core/index.js';

// ---------------------------------------------------------------- durable state (fixed interface)

export interface LogEntry {
  readonly index: number;
  readonly term: number;
  readonly kind: 'command' | 'config' | 'noop';
  readonly data: JsonValue;
}

export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly config: JsonValue;
}

export type RaftPersistOp =
  | { readonly kind: 'hardState'; readonly state: HardState }
  /** Appended in order; an entry at index i replaces the stored entry at i and every entry after it. */
  | { readonly kind: 'entries'; readonly entries: readonly LogEntry[] }
  /** A full checkpoint: supersedes every earlier op. */
  | { readonly kind: 'snapshot'; readonly meta: SnapshotMeta; readonly data: JsonValue; readonly hardState: HardState; readonly entriesAfter: readonly LogEntry[] };

// ---------------------------------------------------------------- membership

/** A configuration: voters decide elections and commits; learners only receive the log. */
export interface Membership {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export type Role = 'follower' | 'candidate' | 'precandidate' | 'leader' | 'learner';

// ---------------------------------------------------------------- messages between nodes

export type RaftMessage =
  /** `term` is the term the sender would campaign in (its own term + 1); nobody changes term for it. */
  | { readonly type: 'preVote'; readonly term: number; readonly lastIndex: number; readonly lastTerm: number }
  | { readonly type: 'preVoteResp'; readonly term: number; readonly granted: boolean }
  /** `transfer`: the campaign was asked for by the leader (TimeoutNow), so voters ignore their lease. */
  | { readonly type: 'vote'; readonly term: number; readonly lastIndex: number; readonly lastTerm: number; readonly transfer: boolean }
  | { readonly type: 'voteResp'; readonly term: number; readonly granted: boolean }
  | {
      readonly type: 'append';
      readonly term: number;
      readonly prevIndex: number;
      readonly prevTerm: number;
      readonly entries: readonly LogEntry[];
      readonly commit: number;
    }
  | {
      readonly type: 'appendResp';
      readonly term: number;
      readonly success: boolean;
      /** On success: the last index known to match the leader's log. */
      readonly matchIndex: number;
      /** On rejection: the prevIndex of the append that was rejected (to spot stale answers). */
      readonly rejectedIndex: number;
      /** On rejection: the follower's term at rejectedIndex (null when its log is shorter) ... */
      readonly conflictTerm: number | null;
      /** ... and the first index it holds with that term (or its last index + 1). */
      readonly conflictIndex: number;
    }
  /** `commit` is capped at what the leader knows the follower matches; `round` confirms leadership for reads. */
  | { readonly type: 'heartbeat'; readonly term: number; readonly commit: number; readonly round: number }
  | { readonly type: 'heartbeatResp'; readonly term: number; readonly round: number }
  | {
      readonly type: 'snapshot';
      readonly term: number;
      readonly meta: SnapshotMeta;
      /** Offset (in UTF-16 code units of the snapshot's JSON text) of this chunk. */
      readonly offset: number;
      readonly chunk: string;
      readonly done: boolean;
    }
  | {
      readonly type: 'snapshotResp';
      readonly term: number;
      /** The snapshot (by index) this answers. */
      readonly snapshotIndex: number;
      /** Installed (or no longer needed): the follower now matches up to matchIndex. */
      readonly done: boolean;
      readonly matchIndex: number;
      /** When not done: the offset the follower expects next. */
      readonly nextOffset: number;
    }
  | { readonly type: 'timeoutNow'; readonly term: number }
  /**
   * Sent by a leader to itself when it is the only voter: like every message it leaves only once
   * the writes before it are durable, so its arrival proves the leader's log durable up to the round.
   * Hosts must deliver messages a node addresses to itself.
   */
  | { readonly type: 'syncProbe'; readonly term: number; readonly round: number };

export type RaftMessageType = RaftMessage['type'];

// ---------------------------------------------------------------- client requests and responses

export type AdminRequestType = 'addLearner' | 'promote' | 'removeNode' | 'transferLeadership';

export type RaftRequest =
  /** A state-machine command; (clientId, seq) makes retries apply once. clientId null: no session. */
  | { readonly type: 'command'; readonly clientId: string | null; readonly seq: number; readonly op: JsonValue }
  /** A linearizable read (ReadIndex by default, lease when configured); never written to the log. */
  | { readonly type: 'read'; readonly op: JsonValue }
  /**
   * A leader-local read of the state machine's LeaderDuties (a lease keep-alive): answered by the
   * leader only, after a quorum confirmed its leadership as for a read; never written to the log.
   */
  | { readonly type: 'leaderRead'; readonly op: JsonValue }
  | { readonly type: AdminRequestType; readonly node: NodeId }
  /** Compacts this node's own log now: a snapshot at its applied index (answered after it is durable). */
  | { readonly type: 'snapshot' }
  | { readonly type: 'status' };

/**
 * Why a request did not succeed. Definitely not applied: not-leader, overloaded,
 * transfer-in-progress, config-change-in-progress, bad-request, not-a-member, already-member,
 * not-a-learner, not-a-voter, last-voter, catch-up-timeout, transfer-timeout.
 * Maybe applied (the client must treat the outcome as unknown or retry with the same seq):
 * leadership-lost, stale-session, timeout (reads only: a read never has an effect).
 */
export type RaftErrorReason =
  | 'not-leader'
  | 'leadership-lost'
  | 'timeout'
  | 'overloaded'
  | 'transfer-in-progress'
  | 'config-change-in-progress'
  | 'bad-request'
  | 'stale-session'
  | 'not-a-member'
  | 'already-member'
  | 'not-a-learner'
  | 'not-a-voter'
  | 'last-voter'
  | 'catch-up-timeout'
  | 'transfer-timeout';

export interface NodeStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly leader: NodeId | null;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  /** Index of the entry that set the configuration in effect (committed once commit >= it). */
  readonly configIndex: number;
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export type RaftResponse =
  | { readonly ok: true; readonly result: JsonValue; readonly index: number }
  | { readonly ok: true; readonly status: NodeStatus }
  | { readonly ok: false; readonly error: RaftErrorReason; readonly leaderHint: NodeId | null; readonly message?: string };

// ---------------------------------------------------------------- the replicated state machine

/** Hooks for monitors and tests; called synchronously inside the core. They must not call back into it. */
export interface RaftObserver {
  /** An entry was applied at `node`, whose current term is `term` (also during restart replay). */
  applied?(node: NodeId, entry: LogEntry, term: number): void;
  /** `node` became leader of `term`. */
  becameLeader?(node: NodeId, term: number): void;
}

// ---------------------------------------------------------------- options

export type ReadMode = 'readIndex' | 'lease';

export interface RaftOptions {
  /** Length of one tick on the node's local clock. */
  readonly tickMs: number;
  readonly heartbeatTicks: number;
  /** Election timeouts are drawn uniformly from [min, max] ticks, anew for every wait. */
  readonly electionTimeoutMinTicks: number;
  readonly electionTimeoutMaxTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxEntriesPerAppend: number;
  /** Upper bound on the JSON size of the entries of one append (at least one entry is always sent). */
  readonly maxBytesPerAppend: number;
  /** Appends in flight to one follower before the leader waits for acknowledgements. */
  readonly maxInflightAppends: number;
  /** Ticks without progress before the leader resends to a follower (lost messages). */
  readonly retransmitTicks: number;
  /** Take a snapshot once this many entries were applied since the last one; 0 never. */
  readonly snapshotThresholdEntries: number;
  /**
   * Entries before a snapshot's index kept in memory when taking it, so that a follower a little
   * behind still gets entries rather than the whole snapshot (etcd keeps 5,000). Under load one
   * follower is always a batch or so behind the commit index; compacting right up to it sent that
   * follower the full state. Only the in-memory log keeps them: on disk the snapshot replaces them.
   */
  readonly snapshotCatchUpEntries: number;
  readonly snapshotChunkChars: number;
  readonly readMode: ReadMode;
  /** Lease reads: the largest relative clock-rate error between any two nodes (e.g. 0.05 = 5%). */
  readonly maxClockDrift: number;
  readonly maxPendingProposals: number;
  /** Proposals are refused while the leader holds this many uncommitted entries. */
  readonly maxUncommittedEntries: number;
  readonly maxPendingReads: number;
  /** Client sessions kept for deduplication; the least recently used is evicted beyond it. */
  readonly maxSessions: number;
  /** Committed entries applied per call at most (the rest on the next tick). */
  readonly maxApplyPerCall: number;
  /** A learner promotion waits at most this many ticks for the learner to catch up. */
  readonly promoteTimeoutTicks: number;
  /**
   * A leader asks its state machine's LeaderDuties for due commands every this many ticks (for
   * the KV: how often expired leases are looked for; etcd looks every 500 ms).
   */
  readonly leaderDutyTicks: number;
  /** Commands proposed by leader duties and not yet applied, at most (the rest wait for the next check). */
  readonly maxLeaderDutyProposals: number;
  readonly observer?: RaftObserver;
}

export const DEFAULT_RAFT_OPTIONS: RaftOptions = {
  tickMs: 15,
  heartbeatTicks: 1,
  electionTimeoutMinTicks: 10,
  electionTimeoutMaxTicks: 20,
  preVote: true,
  checkQuorum: true,
  maxEntriesPerAppend: 64,
  maxBytesPerAppend: 64 * 1024,
  maxInflightAppends: 8,
  retransmitTicks: 3,
  snapshotThresholdEntries: 1000,
  snapshotCatchUpEntries: 0,
  snapshotChunkChars: 16 * 1024,
  readMode: 'readIndex',
  maxClockDrift: 0.05,
  maxPendingProposals: 4096,
  maxUncommittedEntries: 8192,
  maxPendingReads: 4096,
  maxSessions: 10_000,
  maxApplyPerCall: 10_000,
  promoteTimeoutTicks: 400,
  leaderDutyTicks: 4,
  maxLeaderDutyProposals: 64,
};
