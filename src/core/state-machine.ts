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
}

/** The result a protocol reports for a command the machine could not decode. */
export function undecodable(problem: string): { readonly error: 'bad-request'; readonly message: string } {
  return { error: 'bad-request', message: problem };
}
