// The protected resource of Kleppmann's figure (the storage a lock holder writes to), as a small
// database node: numbers under keys with versions, token-carrying writes (fenced with checkFence,
// or accepted blindly when unfenced), a version check, an atomic conditional decrement and row
// locks: every tool of the inventory race. Writes are synced before they are answered.
import { assertInvariant, type CoreEnv, type Effects, type NodeId, type ProtocolCore, type ProtocolSpec } from '../../core/index.js';
import { checkFence } from '../fence.js';

export type DbRequest =
  | { readonly op: 'read'; readonly key: string }
  /** A write: `token` null from a backend without tokens; `grant` names the lock grant it is made under (for the checkers), null outside any lock. */
  | { readonly op: 'write'; readonly key: string; readonly value: number; readonly token: number | null; readonly grant: string | null }
  /** Writes only if the key's version is `version` (0: absent), as Synod's casVersion. */
  | { readonly op: 'casVersion'; readonly key: string; readonly version: number; readonly value: number }
  /** UPDATE ... SET n = n - 1 WHERE n > 0, in one step. */
  | { readonly op: 'decrementIfPositive'; readonly key: string }
  /** SELECT ... FOR UPDATE: answered when `owner` holds the row lock (at once, or when it is its turn). */
  | { readonly op: 'lockRow'; readonly key: string; readonly owner: string }
  | { readonly op: 'unlockRow'; readonly key: string; readonly owner: string };

export type DbReply =
  | { readonly ok: true; readonly value: number | null; readonly version: number }
  | { readonly ok: false; readonly error: 'fenced'; readonly highest: number; readonly message: string }
  | { readonly ok: false; readonly error: 'version-mismatch' | 'not-positive' | 'not-owner' | 'busy' | 'bad-request'; readonly message: string };

export type DbMessage =
  | { readonly type: 'dbRequest'; readonly reqId: string; readonly request: DbRequest }
  | { readonly type: 'dbReply'; readonly reqId: string; readonly reply: DbReply };

/** One op per accepted change; `seq` numbers the accepted writes, so a monitor can tell which survived a crash. */
export type DbOp = { readonly kind: 'put'; readonly key: string; readonly value: number; readonly version: number; readonly highest: number | null; readonly seq: number };

/** What the resource accepted or refused, for the checkers (called inside the core; it must not call back). */
export interface DbWriteRecord {
  readonly key: string;
  readonly writer: NodeId;
  /** null: a write outside any lock. */
  readonly grant: string | null;
  readonly token: number | null;
  readonly value: number;
  readonly accepted: boolean;
  /** The accepted write's number (0 when refused). */
  readonly seq: number;
}

export interface DbObserver {
  write?(node: NodeId, record: DbWriteRecord): void;
  /** After a restart: the last accepted write that survived (later ones were lost with the crash). */
  restored?(node: NodeId, lastSeq: number): void;
}

export interface DbOptions {
  /** Refuse a write whose token is below the highest this key accepted (checkFence). */
  readonly fencing: boolean;
  /** Keys and values the database starts with (every life, before its synced ops). */
  readonly initial?: Readonly<Record<string, number>>;
  /** A row lock not unlocked within this long (the database's clock) is taken back. Default 1000. */
  readonly rowLockTimeoutMs?: number;
  readonly observer?: DbObserver;
}

export const DB_DEFAULTS = { rowLockTimeoutMs: 1000, tickIntervalMs: 10 } as const;
/** Waiters for one row lock at most; beyond, `busy`. Keys at most, for the same reason. */
export const MAX_ROW_WAITERS = 64;
export const MAX_DB_KEYS = 10_000;

interface Row {
  value: number;
  version: number;
  /** The highest token a write to this key carried and was accepted with. */
  highest: number | null;
}

interface RowLock {
  owner: string;
  expiresAtMs: number;
  readonly waiters: { readonly from: NodeId; readonly reqId: string; readonly owner: string }[];
}

type Fx = Effects<DbMessage, DbOp, never>;

export class DbCore implements ProtocolCore<DbMessage, never, never, DbOp> {
  private readonly rows = new Map<string, Row>();
  private readonly locks = new Map<string, RowLock>();
  private seq = 0;
  private refused = 0;
  private readonly rowLockTimeoutMs: number;

  constructor(
    private readonly env: CoreEnv,
    durable: readonly DbOp[],
    private readonly options: DbOptions,
  ) {
    this.rowLockTimeoutMs = options.rowLockTimeoutMs ?? DB_DEFAULTS.rowLockTimeoutMs;
    for (const [key, value] of Object.entries(options.initial ?? {})) this.rows.set(key, { value, version: 1, highest: null });
    for (const op of durable) {
      assertInvariant(op.seq > this.seq, () => `db ${env.id}: write ${op.seq} replayed after ${this.seq}`);
      this.rows.set(op.key, { value: op.value, version: op.version, highest: op.highest });
      this.seq = op.seq;
    }
    options.observer?.restored?.(env.id, this.seq);
  }

  start(fx: Fx): void {
    fx.annotate('writes', this.seq);
  }

  handleMessage(from: NodeId, msg: DbMessage, fx: Fx): void {
    if (msg.type !== 'dbRequest') return;
    const reply = this.execute(from, msg.reqId, msg.request, fx);
    if (reply !== undefined) fx.send(from, { type: 'dbReply', reqId: msg.reqId, reply });
  }

  /** Takes back row locks held past the timeout. */
  handleTick(fx: Fx): void {
    const now = this.env.now();
    for (const [key, lock] of this.locks) if (now >= lock.expiresAtMs) this.passRowLock(key, lock, fx);
  }

  handleRequest(): void {}

  /** The value under `key` now (for tests and scenario verdicts). */
  valueOf(key: string): number | null {
    return this.rows.get(key)?.value ?? null;
  }

  private execute(from: NodeId, reqId: string, r: DbRequest, fx: Fx): DbReply | undefined {
    if (typeof r !== 'object' || r === null || typeof r.key !== 'string') return { ok: false, error: 'bad-request', message: 'a request needs an op and a key' };
    const row = this.rows.get(r.key);
    const read = (): DbReply => ({ ok: true, value: row?.value ?? null, version: row?.version ?? 0 });
    switch (r.op) {
      case 'read':
        return read();
      case 'write':
        return this.write(from, r, row, fx);
      case 'casVersion':
        if ((row?.version ?? 0) !== r.version) return { ok: false, error: 'version-mismatch', message: `version is ${row?.version ?? 0}, not ${r.version}` };
        return this.put(r.key, r.value, row?.highest ?? null, fx);
      case 'decrementIfPositive':
        if (row === undefined || row.value <= 0) return { ok: false, error: 'not-positive', message: `${r.key} is ${row?.value ?? 'absent'}` };
        return this.put(r.key, row.value - 1, row.highest, fx);
      case 'lockRow':
        return this.lockRow(from, reqId, r.key, r.owner, read, fx);
      case 'unlockRow': {
        const lock = this.locks.get(r.key);
        if (lock === undefined || lock.owner !== r.owner) return { ok: false, error: 'not-owner', message: `${r.owner} does not hold the row lock on ${r.key}` };
        this.passRowLock(r.key, lock, fx);
        return read();
      }
      default:
        return { ok: false, error: 'bad-request', message: `unknown op ${JSON.stringify((r as { op?: unknown }).op ?? null)}` };
    }
  }

  private write(from: NodeId, r: Extract<DbRequest, { op: 'write' }>, row: Row | undefined, fx: Fx): DbReply {
    const record = (accepted: boolean, seq: number): void => this.options.observer?.write?.(this.env.id, { key: r.key, writer: from, grant: r.grant, token: r.token, value: r.value, accepted, seq });
    let highest = row?.highest ?? null;
    if (r.token !== null) {
      const verdict = checkFence(highest, r.token);
      if (this.options.fencing && !verdict.ok) {
        this.refused++;
        fx.annotate('refused', this.refused);
        record(false, 0);
        return { ok: false, error: 'fenced', highest: verdict.highest, message: verdict.reason };
      }
      // an unfenced store keeps no order: it remembers the last token, not the highest
      highest = this.options.fencing ? verdict.highest : r.token;
    }
    const reply = this.put(r.key, r.value, highest, fx);
    record(reply.ok, reply.ok ? this.seq : 0);
    fx.annotate('lastToken', r.token);
    return reply;
  }

  private put(key: string, value: number, highest: number | null, fx: Fx): DbReply {
    const row = this.rows.get(key);
    if (row === undefined && this.rows.size >= MAX_DB_KEYS) return { ok: false, error: 'busy', message: `more than ${MAX_DB_KEYS} keys` };
    const version = (row?.version ?? 0) + 1;
    this.rows.set(key, { value, version, highest });
    this.seq++;
    fx.persist({ kind: 'put', key, value, version, highest, seq: this.seq });
    fx.annotate('writes', this.seq);
    fx.annotate(`value:${key}`, value);
    return { ok: true, value, version };
  }

  private lockRow(from: NodeId, reqId: string, key: string, owner: string, read: () => DbReply, fx: Fx): DbReply | undefined {
    const lock = this.locks.get(key);
    if (lock === undefined || lock.owner === owner) {
      this.locks.set(key, { owner, expiresAtMs: this.env.now() + this.rowLockTimeoutMs, waiters: lock?.waiters ?? [] });
      fx.annotate(`rowLock:${key}`, owner);
      return read();
    }
    if (lock.waiters.length >= MAX_ROW_WAITERS) return { ok: false, error: 'busy', message: `${MAX_ROW_WAITERS} already wait for the row lock on ${key}` };
    lock.waiters.push({ from, reqId, owner });
    return undefined;
  }

  /** Frees a row lock and hands it to the first waiter, whose lockRow is answered now. */
  private passRowLock(key: string, lock: RowLock, fx: Fx): void {
    const next = lock.waiters.shift();
    if (next === undefined) {
      this.locks.delete(key);
      fx.annotate(`rowLock:${key}`, null);
      return;
    }
    lock.owner = next.owner;
    lock.expiresAtMs = this.env.now() + this.rowLockTimeoutMs;
    fx.annotate(`rowLock:${key}`, next.owner);
    const row = this.rows.get(key);
    fx.send(next.from, { type: 'dbReply', reqId: next.reqId, reply: { ok: true, value: row?.value ?? null, version: row?.version ?? 0 } });
  }
}

export type DbSpec = ProtocolSpec<DbMessage, never, never, DbOp, DbCore>;

export function dbSpec(options: DbOptions): DbSpec {
  return { name: 'db', tickIntervalMs: DB_DEFAULTS.tickIntervalMs, create: (env, durable) => new DbCore(env, durable, options) };
}
