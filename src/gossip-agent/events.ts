// The change feed an application subscribes to: membership events (join, leave, fail, update) and
// document changes, numbered, kept in a bounded ring, served to long-polling readers that wait
// (bounded in number) for what comes after the number they last saw.

export interface AgentEvent {
  readonly seq: number;
  readonly kind: 'member' | 'doc';
  /** member: "join 127.0.0.1:7001@3"; doc: the document version. */
  readonly detail: string;
  readonly atMs: number;
}

interface Waiter {
  readonly after: number;
  readonly resolve: (events: AgentEvent[]) => void;
  readonly timer: NodeJS.Timeout;
}

export class EventFeed {
  private readonly events: AgentEvent[] = [];
  private readonly waiters = new Set<Waiter>();
  private nextSeq = 1;

  constructor(
    private readonly maxEvents = 1_000,
    readonly maxWaiters = 256,
  ) {}

  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  push(kind: AgentEvent['kind'], detail: string): void {
    this.events.push({ seq: this.nextSeq++, kind, detail, atMs: Date.now() });
    if (this.events.length > this.maxEvents) this.events.shift();
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      this.waiters.delete(w);
      w.resolve(this.after(w.after));
    }
  }

  /** Events numbered above `seq` still kept (the oldest may be gone: the first seq says so). */
  after(seq: number): AgentEvent[] {
    return this.events.filter((e) => e.seq > seq);
  }

  /** Resolves with the events after `seq` at once when there are some, else when one comes or `waitMs` passes; undefined when too many wait. */
  wait(seq: number, waitMs: number): Promise<AgentEvent[]> | undefined {
    const ready = this.after(seq);
    if (ready.length > 0 || waitMs <= 0) return Promise.resolve(ready);
    if (this.waiters.size >= this.maxWaiters) return undefined;
    return new Promise((resolve) => {
      const waiter: Waiter = {
        after: seq,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          resolve([]);
        }, waitMs),
      };
      this.waiters.add(waiter);
    });
  }

  close(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve([]);
    }
    this.waiters.clear();
  }
}
