// Durability bookkeeping for the Raft core: which hard state was last written (so a new term or
// vote is stored before anything that depends on it, and the commit index only rides along), the
// writes in that order, and on a leader how far its own log is known synced, learnt from answers
// to messages that waited for the host's sync. Sans-I/O: ops go to the core's persist sink.
import type { JsonValue } from '../core/index.js';
import type { HardState, LogEntry, RaftPersistOp, SnapshotMeta } from './types.js';

/** Heartbeat rounds whose record is kept (for lease reads and durability). */
export const MAX_ROUNDS_KEPT = 256;

/** What was last written of the hard state, and whether the current host call wrote anything. */
export class HardStateTracker {
  private stored: HardState = { term: 0, vote: null, commit: 0 };
  private wroteInCall = false;

  /** The hard state read back from storage at restart. */
  restored(state: HardState): void {
    this.stored = state;
  }

  beginCall(): void {
    this.wroteInCall = false;
  }

  /** Something other than the hard state (entries) was written in this call. */
  noteWrite(): void {
    this.wroteInCall = true;
  }

  /** `state` was written, alone or within a snapshot. */
  written(state: HardState): void {
    this.stored = state;
    this.wroteInCall = true;
  }

  /** Whether `current` differs from the hard state last written. */
  differs(current: HardState): boolean {
    const s = this.stored;
    return s.term !== current.term || s.vote !== current.vote || s.commit !== current.commit;
  }

  /**
   * At the end of a call: a new term or vote must be stored, but the commit index is volatile in
   * Raft (a restarted node learns it again from the leader), so it is written only along with
   * other writes. That spares an fsync on every call that merely advances the commit index.
   */
  dueAtEndOfCall(current: HardState): boolean {
    const s = this.stored;
    return s.term !== current.term || s.vote !== current.vote || (s.commit !== current.commit && this.wroteInCall);
  }
}

/**
 * Writes a node's durable ops in the order Raft needs: a changed term or vote before the entries
 * that follow it (so a log never holds a term above the stored one), the commit index only along
 * with other writes, a snapshot together with the hard state it was taken under.
 */
export class DurableWriter {
  private readonly stored = new HardStateTracker();

  /** `current`: the node's hard state now; `persist`: where ops go (in order). */
  constructor(
    private readonly current: () => HardState,
    private readonly persist: (op: RaftPersistOp) => void,
  ) {}

  /** The hard state read back from storage at restart. */
  restored(state: HardState): void {
    this.stored.restored(state);
  }

  /** A host call begins. */
  beginCall(): void {
    this.stored.beginCall();
  }

  /** Writes the hard state if it differs from the one last written. */
  writeHardState(): void {
    const state = this.current();
    if (!this.stored.differs(state)) return;
    this.persist({ kind: 'hardState', state });
    this.stored.written(state);
  }

  /** A host call ends: a new term or vote is written; a new commit index only if something else was. */
  endCall(): void {
    if (this.stored.dueAtEndOfCall(this.current())) this.writeHardState();
  }

  /** Writes entries, a changed hard state first. */
  writeEntries(entries: readonly LogEntry[]): void {
    if (entries.length === 0) return;
    this.writeHardState();
    this.persist({ kind: 'entries', entries });
    this.stored.noteWrite();
  }

  /** Writes a snapshot (the log's entries after it included), which carries the hard state now. */
  writeSnapshot(meta: SnapshotMeta, data: JsonValue, entriesAfter: readonly LogEntry[]): void {
    const hardState = this.current();
    this.persist({ kind: 'snapshot', meta, data, hardState, entriesAfter });
    this.stored.written(hardState);
  }
}

/** What a leader recorded when it sent a heartbeat or probe round. */
export interface RoundRecord {
  /** When it was sent, by this node's clock (for lease reads). */
  readonly sentAtMs: number;
  /** The last index of the leader's log at that moment. */
  readonly lastIndex: number;
  /** Its messages waited for the host's sync: an answer proves the log durable up to lastIndex. */
  readonly waitedForSync: boolean;
}

/** A leader's numbered rounds, the latest MAX_ROUNDS_KEPT of them remembered. */
export class HeartbeatRounds {
  private latest = 0;
  private readonly records = new Map<number, RoundRecord>();

  constructor(private readonly keep = MAX_ROUNDS_KEPT) {}

  /** Records a new round; its number (1 for the first of a term). */
  start(record: RoundRecord): number {
    this.latest++;
    this.records.set(this.latest, record);
    this.records.delete(this.latest - this.keep);
    return this.latest;
  }

  get(round: number): RoundRecord | undefined {
    return this.records.get(round);
  }

  /** A new term of leadership numbers its rounds from 1 again. */
  reset(): void {
    this.latest = 0;
    this.records.clear();
  }
}

/**
 * How far a leader's own log is known durable. Appends do not wait for the leader's sync (thesis
 * §10.2.1), so their answers prove nothing about its disk; an answer to a message that waited for
 * the sync (a heartbeat, a self-addressed syncProbe) proves every write before it durable.
 */
export class LeaderDurability {
  private durable = 0;
  private termSynced = false;
  private probe: number | null = null;

  /** The highest index of the leader's own log known durable. */
  get durableIndex(): number {
    return this.durable;
  }

  /** The term (and vote) are known durable, so appends of this term may leave before their entries are synced here. */
  get termDurable(): boolean {
    return this.termSynced;
  }

  /** The round of the syncProbe in flight, if any. */
  get probeRound(): number | null {
    return this.probe;
  }

  /**
   * A new term of leadership. `votedByOthers`: granted votes answer requests sent after the whole
   * log and the term were written, so both are durable; otherwise only the snapshot is known to be.
   */
  startTerm(votedByOthers: boolean, lastIndex: number, snapshotIndex: number): void {
    this.termSynced = votedByOthers;
    this.durable = votedByOthers ? lastIndex : snapshotIndex;
    this.probe = null;
  }

  /**
   * A message of this term that waited for the sync, sent when the log ended at `index`, was
   * answered. True when the durable index rose (capped at the log's end, which may have been truncated since).
   */
  synced(index: number, logLastIndex: number): boolean {
    this.termSynced = true;
    if (index <= this.durable) return false;
    this.durable = Math.min(index, logLastIndex);
    return true;
  }

  /** Whether to send a probe: part of the log is not known durable and no probe is in flight. */
  needsProbe(logLastIndex: number): boolean {
    return this.durable < logLastIndex && this.probe === null;
  }

  probeSent(round: number): void {
    this.probe = round;
  }

  /** A probe came back (any probe: only the one in flight frees the slot). */
  probeReturned(round: number): void {
    if (round === this.probe) this.probe = null;
  }

  /** A probe can be lost (in the simulator): each heartbeat allows one more. */
  allowProbe(): void {
    this.probe = null;
  }
}
