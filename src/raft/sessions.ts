// Client sessions: the last sequence number applied per client and its result, so a command
// retried after a timeout or a leader change is applied once and answered with the first result.
// The table is replicated state (it changes only when entries are applied) and goes into snapshots.
import type { JsonValue } from '../core/index.js';
import { RaftError } from './errors.js';

export type SessionCheck = { readonly kind: 'new' } | { readonly kind: 'duplicate'; readonly result: JsonValue } | { readonly kind: 'stale' };

interface SessionRecord {
  readonly lastSeq: number;
  readonly result: JsonValue;
}

export class SessionTable {
  /** Map order is least recently used first, so eviction is deterministic everywhere. */
  private readonly records = new Map<string, SessionRecord>();

  constructor(private readonly maxSessions: number) {}

  get size(): number {
    return this.records.size;
  }

  check(clientId: string, seq: number): SessionCheck {
    const record = this.records.get(clientId);
    if (record === undefined || seq > record.lastSeq) return { kind: 'new' };
    return seq === record.lastSeq ? { kind: 'duplicate', result: record.result } : { kind: 'stale' };
  }

  record(clientId: string, seq: number, result: JsonValue): void {
    this.records.delete(clientId);
    this.records.set(clientId, { lastSeq: seq, result });
    if (this.records.size > this.maxSessions) {
      const oldest = this.records.keys().next().value as string;
      this.records.delete(oldest);
    }
  }

  toJson(): JsonValue {
    return [...this.records].map(([clientId, r]) => [clientId, r.lastSeq, r.result]);
  }

  restore(data: JsonValue): void {
    if (!Array.isArray(data)) throw new RaftError('BAD_SNAPSHOT', 'sessions must be a list of [clientId, lastSeq, result]');
    this.records.clear();
    for (const row of data) {
      if (!Array.isArray(row) || row.length !== 3 || typeof row[0] !== 'string' || typeof row[1] !== 'number') {
        throw new RaftError('BAD_SNAPSHOT', `bad session record ${JSON.stringify(row)}`);
      }
      this.records.set(row[0], { lastSeq: row[1], result: row[2] as JsonValue });
    }
  }
}
