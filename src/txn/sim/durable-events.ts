// Collects the commit events cores annotate (key "txn") from a simulation's trace, keeping only
// those that survived: an event written in the same call as a persist counts once that persist
// is durable, and is dropped when a crash loses it (a decision the node never made durable was
// never made). The result is the history the commit checker judges.
import type { Message } from '../../core/index.js';
import type { Simulation } from '../../sim/simulation.js';
import type { TraceEvent } from '../../sim/trace.js';
import { EVENT_KEY, parseCommitEvent, type CommitEvent } from '../events.js';

interface NodeLog {
  /** Ops written by the node so far (this counter's own origin). */
  written: number;
  /** Events of the call now being flushed: a persist may follow them. */
  tentative: CommitEvent[];
  /** Events whose call persisted: durable once the ops up to `upTo` are. */
  awaiting: { readonly event: CommitEvent; readonly upTo: number }[];
}

export class DurableEventCollector {
  private readonly durable: CommitEvent[] = [];
  private readonly logs = new Map<string, NodeLog>();
  private tentativeNode: string | undefined;
  /** Events lost with a crash (their persist never became durable). */
  lost = 0;

  constructor(sim: Simulation<Message, unknown, unknown, unknown> | { subscribe(observer: (e: TraceEvent) => void): () => void }) {
    sim.subscribe((e) => this.observe(e));
  }

  private log(node: string): NodeLog {
    let l = this.logs.get(node);
    if (l === undefined) this.logs.set(node, (l = { written: 0, tentative: [], awaiting: [] }));
    return l;
  }

  private observe(e: TraceEvent): void {
    if (this.tentativeNode !== undefined && !(e.ev === 'annotate' && e.node === this.tentativeNode)) {
      const l = this.log(this.tentativeNode);
      if (e.ev === 'persist' && e.node === this.tentativeNode) {
        for (const event of l.tentative) l.awaiting.push({ event, upTo: l.written + e.ops });
      } else {
        this.durable.push(...l.tentative);
      }
      l.tentative = [];
      this.tentativeNode = undefined;
    }
    switch (e.ev) {
      case 'annotate': {
        if (e.key !== EVENT_KEY) return;
        const event = parseCommitEvent(e.value, e.node, e.t);
        if (event === undefined) return;
        this.log(e.node).tentative.push(event);
        this.tentativeNode = e.node;
        return;
      }
      case 'persist':
        this.log(e.node).written += e.ops;
        return;
      case 'crash': {
        const l = this.log(e.node);
        const durableUpTo = l.written - e.lostWrites;
        for (const a of l.awaiting) {
          if (a.upTo <= durableUpTo) this.durable.push(a.event);
          else this.lost++;
        }
        l.awaiting = [];
        l.written = durableUpTo;
        return;
      }
      default:
        return;
    }
  }

  /** The events so far, in time order (those still awaiting their fsync counted as durable). */
  events(): CommitEvent[] {
    const all = [...this.durable];
    for (const l of this.logs.values()) {
      all.push(...l.tentative);
      for (const a of l.awaiting) all.push(a.event);
    }
    return all.sort((a, b) => a.atMs - b.atMs);
  }
}
