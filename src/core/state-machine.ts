// A replicated state machine, as a log-based protocol (Raft, Multi-Paxos) applies it. Commands
// and queries arrive as untrusted JSON (from clients, or read back from a log written by another
// version): the machine decodes them into its own types first, so that the protocol needs no
// casts and the machine's logic sees only well-formed input.
import type { JsonValue } from './json.js';

/** A decoded value, or why the input is not one. */
export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

/** Deterministic: the same commands in the same order give the same results everywhere. */
export interface StateMachine<Command, Query, Result extends JsonValue> {
  /** Parses a command from JSON; total (never throws). */
  decodeCommand(raw: JsonValue): Decoded<Command>;
  /** Parses a read; refuses what would change state. */
  decodeQuery(raw: JsonValue): Decoded<Query>;
  /**
   * Optional: a reason to refuse a well-formed command before it enters the log (size limits,
   * say). Asked only when a command is proposed, never at apply, so an entry already in a log
   * applies alike on every node whatever a later version admits.
   */
  admitCommand?(command: Command): string | null;
  /** Applies a committed command; `index` is its log index. Must not throw. */
  apply(command: Command, index: number): Result;
  /** Answers a read against the current state without changing it. */
  query(query: Query): Result;
  /**
   * The current state as a JSON value that later applies never change: the protocol keeps it to
   * send to followers, and a host may encode it lazily while the machine moves on.
   */
  snapshot(): JsonValue;
  restore(data: JsonValue): void;
  /**
   * Optional: leader-local state beside the replicated one (a lease table's clock, say) and the
   * work only a leader does with it. A machine without it runs exactly as before.
   */
  readonly leaderDuties?: LeaderDuties<unknown, Result>;
}

/**
 * What a leader does with its own clock for a replicated state machine (the Raft core calls it).
 * Nothing here is replicated: decisions reach the other nodes only as commands the leader
 * proposes, so a leader's clock never changes what a follower applies. `nowMs` is always the
 * leader's own local clock (CoreEnv.now), never a follower's.
 */
export interface LeaderDuties<LeaderRead, Result extends JsonValue> {
  /**
   * This node leads and has applied every entry of earlier terms. `extendMs`: how long an
   * election may take (the maximum election timeout), by which a new leader should extend any
   * deadline an old leader may have renewed just before it lost leadership (etcd's lessor Promote).
   */
  leaderStarted(nowMs: number, extendMs: number): void;
  /** This node no longer leads (stepped down, deposed, removed): it decides nothing until started again. */
  leaderStopped(): void;
  /**
   * Commands due now, as the log carries them, at most `max` (>= 1): the leader proposes each as
   * an ordinary entry without a client session. Called every few ticks while leading; returns
   * nothing when nothing is due (and then costs the run nothing: no entry, no message).
   */
  leaderDue(nowMs: number, max: number): readonly JsonValue[];
  /** Parses a leader-local read; total (never throws). */
  decodeLeaderRead(raw: JsonValue): Decoded<LeaderRead>;
  /**
   * Answers a leader-local read (a lease keep-alive, say), called only once a quorum confirmed
   * this node's leadership after the read arrived and the read index is applied. May change
   * leader-local state only, never the replicated state.
   */
  leaderRead(read: LeaderRead, nowMs: number): Result;
}

/** The result a protocol reports for a command the machine could not decode. */
export function undecodable(problem: string): { readonly error: 'bad-request'; readonly message: string } {
  return { error: 'bad-request', message: problem };
}
