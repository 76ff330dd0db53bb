import { describe, expect, it } from 'vitest';
import type { JsonValue, StateMachine } from '../core/index.js';
import { InvariantError } from '../core/index.js';
import { applyEntry, commandOf, requestProblem } from './commands.js';
import { SessionTable } from './sessions.js';
import type { LogEntry, RaftRequest } from './types.js';

/** A counter: a command is a number to add; it answers the new total. */
class Counter implements StateMachine<number, null, number> {
  total = 0;
  applied = 0;
  decodeCommand(raw: JsonValue) {
    return typeof raw === 'number' ? { ok: true as const, value: raw } : { ok: false as const, problem: 'not a number' };
  }
  decodeQuery() {
    return { ok: true as const, value: null };
  }
  apply(command: number): number {
    this.applied++;
    return (this.total += command);
  }
  query(): number {
    return this.total;
  }
  snapshot(): JsonValue {
    return this.total;
  }
  restore(data: JsonValue): void {
    this.total = data as number;
  }
}

const command = (index: number, clientId: string | null, seq: number, op: JsonValue): LogEntry => ({ index, term: 1, kind: 'command', data: { clientId, seq, op } });

describe('requestProblem', () => {
  it('accepts well-formed requests', () => {
    const ok: RaftRequest[] = [
      { type: 'status' },
      { type: 'snapshot' },
      { type: 'command', clientId: null, seq: 0, op: 1 },
      { type: 'command', clientId: 'c', seq: 3, op: null },
      { type: 'read', op: 'k' },
      { type: 'promote', node: '2' },
    ];
    for (const req of ok) expect(requestProblem(req)).toBeNull();
  });

  it('says what is wrong with a malformed one', () => {
    const bad = (req: unknown): string | null => requestProblem(req as RaftRequest);
    expect(bad(null)).toBe('a request must be an object with a "type"');
    expect(bad({ type: 'command', clientId: 7, seq: 0, op: 1 })).toBe('command.clientId must be a string or null');
    expect(bad({ type: 'command', clientId: null, seq: -1, op: 1 })).toBe('command.seq must be an integer >= 0');
    expect(bad({ type: 'command', clientId: null, seq: 0 })).toBe('command.op is missing');
    expect(bad({ type: 'read' })).toBe('read.op is missing');
    expect(bad({ type: 'removeNode', node: '' })).toBe('removeNode.node must be a node id');
    expect(bad({ type: 'explode' })).toBe('unknown request type "explode"');
  });
});

describe('commandOf', () => {
  it('reads the session and the op, defaulting what is missing', () => {
    expect(commandOf(command(1, 'c', 4, 'x'))).toEqual({ clientId: 'c', seq: 4, op: 'x' });
    expect(commandOf({ index: 2, term: 1, kind: 'command', data: { op: 5 } })).toEqual({ clientId: null, seq: 0, op: 5 });
  });

  it('fails an invariant on an entry without an op', () => {
    expect(() => commandOf({ index: 3, term: 1, kind: 'command', data: { seq: 1 } })).toThrow(InvariantError);
  });
});

describe('applyEntry', () => {
  it('applies a command once per session, answering a retry with the first result', () => {
    const machine = new Counter();
    const sessions = new SessionTable(10);
    expect(applyEntry(command(1, 'c', 1, 5), machine, sessions)).toEqual({ kind: 'result', value: 5 });
    expect(applyEntry(command(2, 'c', 1, 5), machine, sessions)).toEqual({ kind: 'result', value: 5 });
    expect(applyEntry(command(3, 'c', 2, 1), machine, sessions)).toEqual({ kind: 'result', value: 6 });
    expect(applyEntry(command(4, 'c', 1, 5), machine, sessions)).toEqual({ kind: 'stale' });
    expect(machine.applied).toBe(2);
  });

  it('applies commands without a session every time', () => {
    const machine = new Counter();
    const sessions = new SessionTable(10);
    applyEntry(command(1, null, 0, 2), machine, sessions);
    applyEntry(command(2, null, 0, 2), machine, sessions);
    expect(machine.total).toBe(4);
    expect(sessions.size).toBe(0);
  });

  it('answers configuration entries with their data and no-ops with null, leaving the machine alone', () => {
    const machine = new Counter();
    const sessions = new SessionTable(10);
    expect(applyEntry({ index: 1, term: 1, kind: 'noop', data: null }, machine, sessions)).toEqual({ kind: 'result', value: null });
    expect(applyEntry({ index: 2, term: 1, kind: 'config', data: { voters: ['a'], learners: [] } }, machine, sessions)).toEqual({ kind: 'result', value: { voters: ['a'], learners: [] } });
    expect(machine.applied).toBe(0);
  });

  it('applies an undecodable command as the same error everywhere, and remembers it for the session', () => {
    const machine = new Counter();
    const sessions = new SessionTable(10);
    const err = { kind: 'result', value: { error: 'bad-request', message: 'not a number' } };
    expect(applyEntry(command(1, 'c', 1, 'oops'), machine, sessions)).toEqual(err);
    expect(applyEntry(command(2, 'c', 1, 'oops'), machine, sessions)).toEqual(err);
    expect(machine.applied).toBe(0);
  });
});
