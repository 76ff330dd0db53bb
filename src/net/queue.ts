// A per-peer outbound queue of encoded frames, bounded in both messages and bytes. When a new
// frame does not fit, the oldest frames are dropped to make room (see docs/net.md for why that
// is the right choice for Raft); the caller is told how many were dropped so it can count them.

export interface QueueLimits {
  readonly maxMessages: number;
  readonly maxBytes: number;
}

/** What `push` had to discard to admit the new frame. */
export interface PushResult {
  readonly droppedMessages: number;
  readonly droppedBytes: number;
}

const NOTHING_DROPPED: PushResult = { droppedMessages: 0, droppedBytes: 0 };
const INITIAL_CAPACITY = 16;

/** A growable ring buffer (amortised O(1) push and shift) that never holds more than the limits. */
export class FrameQueue {
  private slots: (Buffer | undefined)[] = new Array<Buffer | undefined>(INITIAL_CAPACITY);
  private head = 0;
  private count = 0;
  private byteCount = 0;

  constructor(private readonly limits: QueueLimits) {}

  get length(): number {
    return this.count;
  }

  get bytes(): number {
    return this.byteCount;
  }

  /** Appends a frame. The caller guarantees `frame.length <= maxBytes`, so it always fits after drops. */
  push(frame: Buffer): PushResult {
    let droppedMessages = 0;
    let droppedBytes = 0;
    while (this.count > 0 && (this.count + 1 > this.limits.maxMessages || this.byteCount + frame.length > this.limits.maxBytes)) {
      droppedBytes += (this.shift() as Buffer).length;
      droppedMessages += 1;
    }
    if (this.count === this.slots.length) this.grow();
    this.slots[(this.head + this.count) % this.slots.length] = frame;
    this.count += 1;
    this.byteCount += frame.length;
    return droppedMessages === 0 ? NOTHING_DROPPED : { droppedMessages, droppedBytes };
  }

  peek(): Buffer | undefined {
    return this.count === 0 ? undefined : this.slots[this.head];
  }

  shift(): Buffer | undefined {
    if (this.count === 0) return undefined;
    const frame = this.slots[this.head] as Buffer;
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.slots.length;
    this.count -= 1;
    this.byteCount -= frame.length;
    return frame;
  }

  /** Empties the queue; returns what was discarded, for counting. */
  clear(): PushResult {
    const dropped = { droppedMessages: this.count, droppedBytes: this.byteCount };
    this.slots = new Array<Buffer | undefined>(INITIAL_CAPACITY);
    this.head = 0;
    this.count = 0;
    this.byteCount = 0;
    return dropped;
  }

  private grow(): void {
    const next = new Array<Buffer | undefined>(Math.min(this.slots.length * 2, Math.max(this.limits.maxMessages, INITIAL_CAPACITY)));
    for (let i = 0; i < this.count; i++) next[i] = this.slots[(this.head + i) % this.slots.length];
    this.slots = next;
    this.head = 0;
  }
}
