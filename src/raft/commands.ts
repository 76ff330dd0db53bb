// Client commands at the Raft core's edge: the shape check of a request that comes from outside,
// the session and command a command entry carries, and applying an entry to the state machine
// once per client session (a retried command is answered with its first result, not re-applied).
import type { JsonValue } from '../core/index.js';
import { assertInvariant, undecodable, type StateMachine } from '../core/index.js';
import type { SessionTable } from './sessions.js';
import type { LogEntry, RaftRequest } from './types.js';

/** What applying an entry gives: its result, or `stale` for a command older than its session's last. */
export type ApplyOutcome = { readonly kind: 'result'; readonly value: JsonValue } | { readonly kind: 'stale' };

function isRecord(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a client request's shape (it comes from outside); null when it is well formed. */
export function requestProblem(req: RaftRequest): string | null {
  if (!isRecord(req)) return 'a request must be an object with a "type"';
  switch (req.type) {
    case 'status':
    case 'snapshot':
      return null;
    case 'command':
      if (req.clientId !== null && typeof req.clientId !== 'string') return 'command.clientId must be a string or null';
      if (!Number.isSafeInteger(req.seq) || req.seq < 0) return 'command.seq must be an integer >= 0';
      return req.op === undefined ? 'command.op is missing' : null;
    case 'read':
    case 'leaderRead':
      return req.op === undefined ? `${req.type}.op is missing` : null;
    case 'addLearner':
    case 'promote':
    case 'removeNode':
    case 'transferLeadership':
      return typeof req.node === 'string' && req.node.length > 0 ? null : `${req.type}.node must be a node id`;
    default:
      return `unknown request type ${JSON.stringify((req as { type?: unknown }).type)}`;
  }
}

/** The client session and state-machine command a command entry carries. */
export function commandOf(entry: LogEntry): { clientId: string | null; seq: number; op: JsonValue } {
  const data = entry.data;
  assertInvariant(isRecord(data) && 'op' in data, () => `command entry ${entry.index} has no op: ${JSON.stringify(data)}`);
  const clientId = data['clientId'];
  const seq = data['seq'];
  return { clientId: typeof clientId === 'string' ? clientId : null, seq: typeof seq === 'number' ? seq : 0, op: data['op'] as JsonValue };
}

/**
 * Applies a committed entry: a configuration entry gives its data, a no-op null, a command the
 * machine's result, unless its session already applied it (the first result again) or a later one.
 */
export function applyEntry<C, Q, R extends JsonValue>(entry: LogEntry, machine: StateMachine<C, Q, R>, sessions: SessionTable): ApplyOutcome {
  if (entry.kind === 'config') return { kind: 'result', value: entry.data };
  if (entry.kind === 'noop') return { kind: 'result', value: null };
  const { clientId, seq, op } = commandOf(entry);
  if (clientId !== null) {
    const seen = sessions.check(clientId, seq);
    if (seen.kind === 'duplicate') return { kind: 'result', value: seen.result };
    if (seen.kind === 'stale') return { kind: 'stale' };
  }
  // the same answer on every node: a command that does not decode applies as an error
  const decoded = machine.decodeCommand(op);
  const value: JsonValue = decoded.ok ? machine.apply(decoded.value, entry.index) : undecodable(decoded.problem);
  if (clientId !== null) sessions.record(clientId, seq, value);
  return { kind: 'result', value };
}
