// A simulated cluster of one protocol, the part every primitive shares: time (run for, run
// until), faults (the one vocabulary, and shorthands for it), healing everything at the end of a
// chaos run, and the records (history, trace). A primitive's cluster (RaftCluster, say) extends
// it with its clients, monitors and readings of its cores.
import type { History, Message, NodeId } from '../core/index.js';
import { applyFault, type Fault, type LinkChange } from './faults.js';
import type { Simulation } from './simulation.js';

export class SimCluster<M extends Message, Req, Res, P> {
  constructor(readonly sim: Simulation<M, Req, Res, P>) {}

  // ---------------------------------------------------------------- time

  get nowMs(): number {
    return this.sim.nowMs;
  }

  get nodeIds(): NodeId[] {
    return this.sim.nodeIds;
  }

  runFor(ms: number): void {
    this.sim.runFor(ms);
  }

  /** Runs until `predicate` holds (true) or `timeoutMs` passed (false). */
  runUntil(predicate: () => boolean, timeoutMs: number): boolean {
    return this.sim.runUntilTrue(predicate, timeoutMs);
  }

  // ---------------------------------------------------------------- faults (each also in the trace)

  /** Injects a fault of the one vocabulary now; returns its description. */
  inject(fault: Fault): string {
    return applyFault(this.sim, fault);
  }

  partition(groups: readonly (readonly NodeId[])[]): void {
    this.inject({ kind: 'partition', groups });
  }

  partitionOneWay(from: readonly NodeId[], to: readonly NodeId[]): void {
    this.inject({ kind: 'partition-one-way', from, to });
  }

  isolate(id: NodeId): void {
    this.inject({ kind: 'isolate', target: { kind: 'node', id } });
  }

  heal(): void {
    this.inject({ kind: 'heal' });
  }

  crash(id: NodeId): void {
    this.inject({ kind: 'crash', target: { kind: 'node', id } });
  }

  restart(id: NodeId): void {
    this.inject({ kind: 'restart', target: { kind: 'node', id } });
  }

  crashAll(): void {
    for (const id of this.nodeIds) this.crash(id);
  }

  restartAll(): void {
    for (const id of this.nodeIds) this.restart(id);
  }

  pause(id: NodeId, ms: number): void {
    this.inject({ kind: 'pause', target: { kind: 'node', id }, durationMs: ms });
  }

  setSlow(id: NodeId, processingMs: number): void {
    this.inject({ kind: 'slow', target: { kind: 'node', id }, processingMs });
  }

  setClock(id: NodeId, offsetMs: number, driftPpm = 0): void {
    this.inject({ kind: 'clock', target: { kind: 'node', id }, offsetMs, driftPpm });
  }

  /** Changes links (loss, delay, duplication, reordering); '*' for all. */
  setLink(from: NodeId | '*', to: NodeId | '*', change: LinkChange): void {
    this.inject({ kind: 'link', from, to, both: false, change });
  }

  /**
   * Undoes every fault: partitions healed, links clean, every node up and at full speed (the
   * heal phase between a chaos run's safety phase and its liveness phase). Clock offsets stay:
   * a protocol must live with skewed clocks.
   */
  healEverything(): void {
    this.heal();
    this.setLink('*', '*', { lossRate: 0, duplicateRate: 0, reorderRate: 0, extraDelayMs: 0 });
    for (const id of this.nodeIds) {
      this.restart(id);
      this.setSlow(id, 0);
    }
  }

  // ---------------------------------------------------------------- nodes and records

  isUp(id: NodeId): boolean {
    return this.sim.isUp(id);
  }

  note(text: string): void {
    this.sim.note(text);
  }

  /** Round-robin over the nodes, for a client that has no better guess. */
  nextNode(after: NodeId): NodeId {
    const ids = this.nodeIds;
    return ids[(ids.indexOf(after) + 1) % ids.length] as NodeId;
  }

  history(): History {
    return this.sim.historySnapshot();
  }

  /** The trace's SHA-256 (ends the trace); undefined when tracing is off. */
  traceSha256(): string | undefined {
    return this.sim.trace?.sha256();
  }

  /** The trace as JSON Lines (needs `trace: { keepLines: true }`), e.g. for the visualizer. */
  traceJsonLines(): string {
    if (this.sim.trace === undefined) throw new RangeError('tracing is off: create the cluster with trace: { keepLines: true }');
    return this.sim.trace.toJsonLines();
  }
}
