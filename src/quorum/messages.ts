// What nodes of the leaderless store say to each other and what they persist. Replica traffic
// carries whole key states (a replica merges what it receives), so every message is idempotent
// and may be duplicated, reordered or lost without harm; only the coordinator's counts care.
import type { NodeId } from '../core/index.js';
import type { QuorumRequest, QuorumResponse } from './requests.js';
import type { RingRecord } from './membership.js';
import type { KeyState } from './versions.js';

/** A write kept for a home replica that missed it, until delivered or `hintWindowMs` old. */
export interface Hint {
  readonly id: string;
  readonly target: NodeId;
  readonly key: string;
  readonly state: KeyState;
  /** On the holder's clock. */
  readonly createdAtMs: number;
}

export type QuorumMessage =
  /**
   * Merge and store `state`; `hintFor`: keep it as a hint for that home replica instead (sloppy quorum).
   * `epoch`: the sender's ring epoch (as on 'handoff').
   */
  | { readonly type: 'store'; readonly rid: string; readonly key: string; readonly state: KeyState; readonly hintFor?: NodeId; readonly epoch?: number }
  | { readonly type: 'stored'; readonly rid: string }
  | { readonly type: 'fetch'; readonly rid: string; readonly key: string }
  | { readonly type: 'fetched'; readonly rid: string; readonly state: KeyState | null }
  /** A request for a key this node cannot coordinate, passed to a home replica that can. */
  /** A home replica takes a forward once (duplicates are dropped) and refuses ones that reach it right after its own pause. */
  | { readonly type: 'forward'; readonly rid: string; readonly request: QuorumRequest }
  | { readonly type: 'forwarded'; readonly rid: string; readonly response: QuorumResponse }
  | { readonly type: 'hint'; readonly id: string; readonly key: string; readonly state: KeyState }
  | { readonly type: 'hint-ack'; readonly id: string }
  /** Read repair and anti-entropy: merge these states, no answer. */
  | { readonly type: 'repair'; readonly states: readonly (readonly [key: string, state: KeyState])[] }
  /** Anti-entropy: one message of a Merkle-tree exchange (src/quorum/merkle) about one partition; `body` is checked by the session. */
  | { readonly type: 'ae'; readonly sid: string; readonly partition: number; readonly body: unknown }
  /** Tombstone collection: is your copy of `key` this very tombstone? (asked of current and next homes alike) */
  | { readonly type: 'tomb-check'; readonly key: string; readonly digest: string }
  | { readonly type: 'tomb-same'; readonly key: string; readonly digest: string; readonly same: boolean }
  /** Heartbeats carry the sender's ring epoch (none before it joined): a node behind asks for the record. */
  | { readonly type: 'ping'; readonly epoch?: number }
  | { readonly type: 'pong'; readonly epoch?: number }
  | { readonly type: 'ring-ask' }
  /** The sender's ring record (membership.ts), checked by the receiver; kept when its epoch is higher. */
  | { readonly type: 'ring'; readonly record: unknown }
  /** A member of the current ring finished handing off for the record at `epoch` (to the claimant). */
  | { readonly type: 'ring-done'; readonly epoch: number }
  /**
   * Streaming transfer: merge and store these states, then acknowledge (after they are durable).
   * `epoch`: the sender's ring epoch; a receiver behind it keeps every key it holds (forgets no
   * stray) until it has that record, since under the newer ring the keys may be its own.
   */
  | { readonly type: 'handoff'; readonly xid: string; readonly states: readonly (readonly [key: string, state: KeyState])[]; readonly epoch?: number }
  | { readonly type: 'handoff-ack'; readonly xid: string }
  /** Under `liveness: 'swim'`: a message of the gossip membership (src/gossip), checked by its core. */
  | { readonly type: 'swim'; readonly body: unknown };

export type QuorumPersistOp =
  | { readonly op: 'state'; readonly key: string; readonly state: KeyState }
  /** A tombstone collected. */
  | { readonly op: 'forget'; readonly key: string }
  /** The node's dot counter is at least `floor` (kept when what showed it is forgotten). */
  | { readonly op: 'dots'; readonly floor: number }
  | { readonly op: 'hint'; readonly hint: Hint }
  | { readonly op: 'hint-done'; readonly id: string }
  /** The ring record this node adopted (the one of highest epoch counts at replay). */
  | { readonly op: 'ring'; readonly record: RingRecord };
