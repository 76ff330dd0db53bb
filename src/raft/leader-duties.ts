// A Raft leader's duties towards a state machine with leader-local state (StateMachine
// .leaderDuties): when its clock starts and stops, the due commands it proposes every few ticks
// (bounded in flight), and the reads it answers: the machine's queries and its leader-local reads.
import type { Decoded, JsonValue, LeaderDuties, StateMachine } from '../core/index.js';
import type { RaftOptions, RaftResponse } from './types.js';

/** A read waiting in the leader's read queue: a query of the machine, or a leader-local read. */
export type QueuedRead<Q> = { readonly leader: false; readonly op: Q } | { readonly leader: true; readonly op: unknown };

export type DutyOptions = Pick<RaftOptions, 'tickMs' | 'electionTimeoutMinTicks' | 'electionTimeoutMaxTicks' | 'leaderDutyTicks' | 'maxLeaderDutyProposals'>;

/** What the runner needs of the core. */
export interface DutyPort {
  /** The node's local clock. */
  now(): number;
  /** The latest send time of heartbeat rounds a quorum acknowledged (now, for the leader's own part). */
  confirmedSentAtMs(): number;
  /** Whether the leader takes proposals now (no leadership transfer under way, room in its log). */
  mayPropose(): boolean;
  /** Appends the commands as entries of this term without a session (nobody waits for them) and sends them; their log indexes. */
  propose(ops: readonly JsonValue[]): readonly number[];
}

/**
 * Drives the machine's LeaderDuties for the core. Leadership starts for the machine only once
 * the leader has applied the first entry of its term: every entry of earlier terms (a lease
 * grant, say) has then been applied, so the machine starts its clock over all of them at once.
 */
export class LeaderDutyRunner<C, Q, R extends JsonValue> {
  private readonly duties: LeaderDuties<unknown, R> | undefined;
  /** The first index of this node's term while it leads; 0 when it does not lead. */
  private termStart = 0;
  private started = false;
  private ticks = 0;
  /** Indexes of proposed due commands not yet applied (at most maxLeaderDutyProposals). */
  private readonly inFlight = new Set<number>();
  /** What an election may take: deadlines renewed by an old leader are extended by it. */
  readonly extendMs: number;
  /**
   * A leader-local read is answered only if a quorum acknowledged a heartbeat round sent at most
   * this long before (the minimum election timeout): no other leader can have been elected much
   * earlier than the answer, however long the answer took to come (see docs/raft.md).
   */
  readonly confirmWindowMs: number;

  constructor(
    private readonly machine: StateMachine<C, Q, R>,
    private readonly opts: DutyOptions,
    private readonly port: DutyPort,
  ) {
    this.duties = machine.leaderDuties;
    this.extendMs = opts.electionTimeoutMaxTicks * opts.tickMs;
    this.confirmWindowMs = opts.electionTimeoutMinTicks * opts.tickMs;
  }

  /** Whether the machine's leader-local state is running (for tests and monitors). */
  get isStarted(): boolean {
    return this.started;
  }

  get proposalsInFlight(): number {
    return this.inFlight.size;
  }

  /** This node became leader; `termStartIndex` is the index of its term's first entry. */
  lead(termStartIndex: number): void {
    this.stop();
    this.termStart = termStartIndex;
  }

  /** The node applied entries up to `index`: due commands are done, and a new leader may start. */
  applied(index: number): void {
    if (this.termStart === 0) return;
    for (const i of this.inFlight) if (i <= index) this.inFlight.delete(i);
    if (!this.started && index >= this.termStart && this.duties !== undefined) {
      this.started = true;
      this.ticks = 0;
      this.duties.leaderStarted(this.port.now(), this.extendMs);
    }
  }

  /** A leader tick: every leaderDutyTicks ticks, proposes what the machine says is due, within the bound. */
  tick(): void {
    if (!this.started || this.duties === undefined || ++this.ticks < this.opts.leaderDutyTicks) return;
    this.ticks = 0;
    const room = this.opts.maxLeaderDutyProposals - this.inFlight.size;
    // asked only when proposals can be made: the machine takes what it returns as under way
    if (room <= 0 || !this.port.mayPropose()) return;
    const due = this.duties.leaderDue(this.port.now(), room);
    if (due.length === 0) return;
    for (const index of this.port.propose(due.slice(0, room))) this.inFlight.add(index);
  }

  /** Leadership ended: the machine stops deciding; proposals still in the log are the next leader's business. */
  stop(): void {
    if (this.started) this.duties?.leaderStopped();
    this.started = false;
    this.termStart = 0;
    this.inFlight.clear();
  }

  /** Decodes a read for the queue: a machine query, or (leaderLocal) one of its leader-local reads. */
  decodeRead(raw: JsonValue, leaderLocal: boolean): Decoded<QueuedRead<Q>> {
    if (!leaderLocal) {
      const d = this.machine.decodeQuery(raw);
      return d.ok ? { ok: true, value: { leader: false, op: d.value } } : d;
    }
    if (this.duties === undefined) return { ok: false, problem: 'this state machine has no leader-local reads' };
    const d = this.duties.decodeLeaderRead(raw);
    return d.ok ? { ok: true, value: { leader: true, op: d.value } } : d;
  }

  /** The answer to a read whose leadership round is confirmed and whose read index is applied. */
  answer(read: QueuedRead<Q>, readIndex: number): RaftResponse {
    if (!read.leader) return { ok: true, result: this.machine.query(read.op), index: readIndex };
    if (!this.started || this.duties === undefined) return { ok: false, error: 'not-leader', leaderHint: null, message: 'this leader has not started its leader-local state yet; retry' };
    const now = this.port.now();
    const sinceMs = now - this.port.confirmedSentAtMs();
    if (sinceMs > this.confirmWindowMs) {
      return { ok: false, error: 'timeout', leaderHint: null, message: `leadership was last confirmed ${Number.isFinite(sinceMs) ? `${Math.round(sinceMs)} ms ago` : 'too long ago'} (more than ${this.confirmWindowMs} ms); retry` };
    }
    return { ok: true, result: this.duties.leaderRead(read.op, now), index: readIndex };
  }
}
