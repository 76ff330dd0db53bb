// The shapes single-decree Paxos shares with its hosts: wire messages, durable ops, client
// requests and responses, options. Plain JSON-compatible data, stored and sent as is.
import type { JsonValue, NodeId } from '../../core/index.js';
import type { Ballot } from '../ballot.js';
import type { PaxosObserver } from '../observer.js';
import type { QuorumSizes } from '../quorums.js';

export type SynodMessage =
  /** Phase 1a, proposer → acceptors. */
  | { readonly type: 'prepare'; readonly ballot: Ballot }
  /** Phase 1b, acceptor → proposer: a promise never to accept below `ballot`, and what it accepted before. */
  | { readonly type: 'promise'; readonly ballot: Ballot; readonly accepted: { readonly ballot: Ballot; readonly value: JsonValue } | null }
  /** Phase 2a, proposer → acceptors. */
  | { readonly type: 'accept'; readonly ballot: Ballot; readonly value: JsonValue }
  /** Phase 2b, acceptor → the ballot's proposer and every learner. */
  | { readonly type: 'accepted'; readonly ballot: Ballot; readonly value: JsonValue }
  /** Acceptor → proposer: `ballot` is refused, the acceptor promised `promised`. */
  | { readonly type: 'reject'; readonly ballot: Ballot; readonly promised: Ballot }
  /** A proposer or learner that knows the chosen value tells a learner (or a proposer) that asked or missed it. */
  | { readonly type: 'decided'; readonly value: JsonValue }
  /** A learner that has not learned yet asks the others. */
  | { readonly type: 'ask' };

export type SynodMessageType = SynodMessage['type'];

export type SynodPersistOp =
  /** A proposer's highest round, written before any message of it leaves (a restart never reuses it). */
  | { readonly kind: 'round'; readonly round: number }
  /** An acceptor's promise. */
  | { readonly kind: 'promise'; readonly ballot: Ballot }
  /** An acceptor's acceptance (it also promises `ballot`). */
  | { readonly kind: 'accept'; readonly ballot: Ballot; readonly value: JsonValue }
  /** A learner's chosen value. */
  | { readonly kind: 'learned'; readonly value: JsonValue };

export type SynodRequest = { readonly type: 'propose'; readonly value: JsonValue } | { readonly type: 'status' };

export type SynodRole = 'proposer' | 'acceptor' | 'learner';

export interface SynodStatus {
  readonly id: NodeId;
  readonly roles: readonly SynodRole[];
  /** The proposer's phase: idle, preparing (phase 1), accepting (phase 2), backing off, done. */
  readonly phase: ProposerPhase | null;
  readonly ballot: Ballot | null;
  readonly promised: Ballot | null;
  readonly accepted: { readonly ballot: Ballot; readonly value: JsonValue } | null;
  readonly learned: JsonValue | undefined;
}

export type SynodResponse =
  /** The chosen value; `own`: it is the value this request proposed (otherwise an earlier value was adopted). */
  | { readonly ok: true; readonly value: JsonValue; readonly own: boolean }
  | { readonly ok: true; readonly status: SynodStatus }
  | { readonly ok: false; readonly error: 'not-a-proposer' | 'bad-request'; readonly message?: string };

export type ProposerPhase = 'idle' | 'preparing' | 'accepting' | 'backoff' | 'done';

export type Backoff = 'randomized' | 'none';

export interface SynodOptions {
  readonly tickMs: number;
  /** Who plays which role (default: every member plays all three). */
  readonly proposers?: readonly NodeId[];
  readonly acceptors?: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  /** Phase-1 and phase-2 quorum sizes among the acceptors (default: majorities); |Q1| + |Q2| must exceed their number. */
  readonly quorums?: Partial<QuorumSizes>;
  /** A phase that has not reached its quorum in this many ticks starts over with a higher ballot. */
  readonly phaseTimeoutTicks: number;
  /**
   * After a rejection: `randomized` waits a random 1..backoffMaxTicks ticks before the next ballot
   * (dueling proposers drift apart); `none` tries again at once (and may duel for ever).
   */
  readonly backoff: Backoff;
  readonly backoffMaxTicks: number;
  /** A learner that has not learned asks the others this often (ticks), once it saw the protocol run. */
  readonly askTicks: number;
  readonly observer?: PaxosObserver;
}

export const DEFAULT_SYNOD_OPTIONS: SynodOptions = {
  tickMs: 10,
  phaseTimeoutTicks: 30,
  backoff: 'randomized',
  backoffMaxTicks: 10,
  askTicks: 20,
};
