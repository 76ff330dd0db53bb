// Safety monitors for Raft runs. They watch every leader election and every applied entry as it
// happens (through the core's observer hooks), check logs pairwise on demand, and record each
// violation with the virtual time it was seen: election safety, leader completeness, log
// matching, state-machine safety, no acknowledged write lost, and convergence after settling.
import type { NodeId } from '../core/index.js';
import type { JsonValue } from '../core/index.js';
import type { RaftCore } from './core.js';
import type { LogEntry, RaftObserver } from './types.js';

export type ViolationKind =
  | 'election-safety'
  | 'leader-completeness'
  | 'log-matching'
  | 'state-machine-safety'
  | 'lost-write'
  | 'convergence'
  | 'invariant'
  | 'linearizability'
  | 'liveness';

export interface MonitorViolation {
  readonly kind: ViolationKind;
  readonly atMs: number;
  readonly message: string;
}

/** What the monitor needs from a running cluster. */
export interface MonitorSource {
  now(): number;
  nodeIds(): readonly NodeId[];
  /** The running core of an up node, undefined while it is down. */
  core(id: NodeId): RaftCore | undefined;
}

interface CommittedEntry {
  readonly entry: LogEntry;
  /** The lowest current term of a node that applied it: the entry was committed in this term or earlier. */
  minTerm: number;
}

/** Violations kept at most (the first ones matter; the rest are counted). */
const MAX_VIOLATIONS = 100;

export function sameEntry(a: LogEntry, b: LogEntry): boolean {
  if (a === b) return true;
  return a.index === b.index && a.term === b.term && a.kind === b.kind && JSON.stringify(a.data) === JSON.stringify(b.data);
}

export class RaftMonitor implements RaftObserver {
  readonly violations: MonitorViolation[] = [];
  violationCount = 0;
  elections = 0;
  private readonly leaders = new Map<number, NodeId>();
  private readonly committed = new Map<number, CommittedEntry>();
  private maxCommitted = 0;

  constructor(private readonly source: MonitorSource) {}

  get ok(): boolean {
    return this.violationCount === 0;
  }

  report(kind: ViolationKind, message: string): void {
    this.violationCount++;
    if (this.violations.length < MAX_VIOLATIONS) this.violations.push({ kind, atMs: this.source.now(), message });
  }

  /** The entry known committed at `index` (applied somewhere), if any. */
  committedAt(index: number): LogEntry | undefined {
    return this.committed.get(index)?.entry;
  }

  get highestCommitted(): number {
    return this.maxCommitted;
  }

  // ---------------------------------------------------------------- observer hooks (every step)

  becameLeader(node: NodeId, term: number): void {
    this.elections++;
    const other = this.leaders.get(term);
    if (other !== undefined && other !== node) this.report('election-safety', `two leaders in term ${term}: ${other} and ${node}`);
    this.leaders.set(term, node);
    this.checkLeaderCompleteness(node, term);
  }

  applied(node: NodeId, entry: LogEntry, term: number): void {
    const known = this.committed.get(entry.index);
    if (known === undefined) {
      this.committed.set(entry.index, { entry, minTerm: term });
      if (entry.index > this.maxCommitted) this.maxCommitted = entry.index;
      return;
    }
    if (term < known.minTerm) known.minTerm = term;
    if (!sameEntry(known.entry, entry)) {
      this.report('state-machine-safety', `node ${node} applied ${describeEntry(entry)} at index ${entry.index}, where ${describeEntry(known.entry)} was applied before`);
    }
  }

  /** A new leader must hold every entry committed in an earlier term (Raft §5.4). */
  private checkLeaderCompleteness(node: NodeId, term: number): void {
    const core = this.source.core(node);
    if (core === undefined) return;
    const status = core.status();
    for (let index = status.snapshotIndex + 1; index <= this.maxCommitted; index++) {
      const known = this.committed.get(index);
      if (known === undefined || known.minTerm >= term) continue;
      const local = core.entryAt(index);
      if (local === undefined || !sameEntry(local, known.entry)) {
        this.report('leader-completeness', `leader ${node} of term ${term} lacks committed ${describeEntry(known.entry)} at index ${index} (has ${local === undefined ? 'nothing' : describeEntry(local)})`);
        return;
      }
    }
  }

  /** A client was told its command (clientId, seq) was applied at `index`. */
  acknowledged(index: number, clientId: string, seq: number): void {
    const known = this.committed.get(index);
    const data = known?.entry.data;
    const matches = typeof data === 'object' && data !== null && !Array.isArray(data) && data['clientId'] === clientId && data['seq'] === seq;
    if (!matches) {
      this.report('lost-write', `client ${clientId} seq ${seq} was acknowledged at index ${index}, but the entry applied there is ${known === undefined ? 'unknown' : describeEntry(known.entry)}`);
    }
  }

  // ---------------------------------------------------------------- periodic and final checks

  /** Log matching: two logs with an entry of the same index and term are identical up to it. */
  checkLogs(): void {
    const logs = this.source.nodeIds().flatMap((id) => {
      const core = this.source.core(id);
      return core === undefined ? [] : [{ id, core, status: core.status() }];
    });
    for (let a = 0; a < logs.length; a++) {
      for (let b = a + 1; b < logs.length; b++) {
        const x = logs[a] as (typeof logs)[number];
        const y = logs[b] as (typeof logs)[number];
        const problem = compareLogs(x.core, y.core, Math.max(x.status.snapshotIndex, y.status.snapshotIndex) + 1, Math.min(x.status.lastIndex, y.status.lastIndex));
        if (problem !== null) this.report('log-matching', `nodes ${x.id} and ${y.id}: ${problem}`);
      }
    }
  }

  /**
   * After faults are healed and the cluster settled: every up member of the leader's configuration
   * applied everything the leader committed, and their state machines are identical.
   */
  checkConvergence(leaderId: NodeId | undefined): void {
    if (leaderId === undefined) {
      this.report('liveness', 'no leader after settling');
      return;
    }
    const leader = this.source.core(leaderId);
    if (leader === undefined) return;
    const status = leader.status();
    const expected = JSON.stringify(leader.machineSnapshot());
    for (const id of [...status.voters, ...status.learners]) {
      const core = this.source.core(id);
      if (core === undefined || id === leaderId) continue;
      const s = core.status();
      if (s.applied !== status.applied) {
        this.report('liveness', `node ${id} applied ${s.applied} but leader ${leaderId} applied ${status.applied} after settling`);
        continue;
      }
      if (JSON.stringify(core.machineSnapshot()) !== expected) this.report('convergence', `node ${id} and leader ${leaderId} applied up to ${s.applied} but their state machines differ`);
    }
  }
}

function compareLogs(x: RaftCore, y: RaftCore, from: number, to: number): string | null {
  // Find the highest index where the terms agree; everything from `from` up to it must be identical.
  let agree = to;
  while (agree >= from && x.termAt(agree) !== y.termAt(agree)) agree--;
  for (let i = from; i <= agree; i++) {
    const ex = x.entryAt(i) as LogEntry;
    const ey = y.entryAt(i) as LogEntry;
    if (!sameEntry(ex, ey)) return `agree on term ${y.termAt(agree)} at index ${agree} but differ at ${i}: ${describeEntry(ex)} vs ${describeEntry(ey)}`;
  }
  return null;
}

export function describeEntry(entry: LogEntry): string {
  const data: JsonValue = entry.data;
  const text = JSON.stringify(data);
  return `${entry.kind}@${entry.index}/t${entry.term}${text === 'null' ? '' : ` ${text.length > 120 ? `${text.slice(0, 117)}...` : text}`}`;
}
