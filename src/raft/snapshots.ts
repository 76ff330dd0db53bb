// Snapshots in the Raft core: the replicated payload (state machine and client sessions) and its
// checks, a node's latest snapshot, when a node takes one, and moving one to a follower in chunks
// (the leader cuts its JSON text; the follower reassembles it in order). Pure: the core decides,
// sends and installs.
import type { JsonValue, NodeId } from '../core/index.js';
import { RaftError } from './errors.js';
import type { OutgoingSnapshot } from './progress.js';
import type { RaftMessage, SnapshotMeta } from './types.js';

/** The replicated payload of a snapshot: the state machine's data and the client sessions. */
export interface SnapshotPayload {
  readonly machine: JsonValue;
  readonly sessions: JsonValue;
}

/** A snapshot being received may not grow beyond this (UTF-16 code units). */
export const MAX_INCOMING_SNAPSHOT_CHARS = 256 * 1024 * 1024;

export function parseSnapshotPayload(data: JsonValue): SnapshotPayload {
  if (typeof data !== 'object' || data === null || Array.isArray(data) || !('machine' in data) || !Array.isArray(data['sessions'])) {
    throw new RaftError('BAD_SNAPSHOT', 'a snapshot must be {machine, sessions}');
  }
  return { machine: data['machine'] as JsonValue, sessions: data['sessions'] };
}

export function parseSnapshotText(text: string, from: NodeId): SnapshotPayload {
  let data: JsonValue;
  try {
    data = JSON.parse(text) as JsonValue;
  } catch {
    throw new RaftError('BAD_SNAPSHOT', `snapshot from ${from} is not valid JSON`);
  }
  return parseSnapshotPayload(data);
}

/** A node's latest snapshot: what it covers, its payload (none before the first one), and its JSON text for followers. */
export class LatestSnapshot {
  private current: { readonly meta: SnapshotMeta; readonly payload: SnapshotPayload | undefined };
  /** The payload's JSON text, made when a follower first needs it and kept until the next snapshot. */
  private text: string | undefined;

  constructor(meta: SnapshotMeta, payload?: SnapshotPayload) {
    this.current = { meta, payload };
  }

  get meta(): SnapshotMeta {
    return this.current.meta;
  }

  get payload(): SnapshotPayload | undefined {
    return this.current.payload;
  }

  /** A snapshot was taken, installed or recovered: it replaces the latest one. */
  replace(meta: SnapshotMeta, payload: SnapshotPayload | undefined): void {
    this.current = { meta, payload };
    this.text = undefined;
  }

  /** What a leader sends a follower: the metadata and the payload's JSON text; undefined before the first snapshot. */
  outgoing(): { readonly meta: SnapshotMeta; readonly text: string } | undefined {
    const { meta, payload } = this.current;
    if (payload === undefined) return undefined;
    this.text ??= JSON.stringify(payload);
    return { meta, text: this.text };
  }
}

// ---------------------------------------------------------------- when to take one

/**
 * Where in each snapshot interval a node snapshots: bootstrap members are spread evenly, so the
 * nodes of a cluster do not all pause to write a snapshot of the whole store at once.
 */
export function snapshotPhase(position: number, thresholdEntries: number, memberCount: number): number {
  return Math.floor((Math.max(0, position) * thresholdEntries) / Math.max(1, memberCount));
}

/**
 * Whether to snapshot at `applied`: when it crosses this node's next boundary (every threshold
 * entries, shifted by its phase), at least half a threshold after the last snapshot, and at the
 * latest two thresholds after it. A threshold of 0 or less turns automatic snapshots off.
 */
export function snapshotDue(applied: number, lastSnapshotIndex: number, thresholdEntries: number, phaseEntries: number): boolean {
  if (thresholdEntries <= 0 || applied - lastSnapshotIndex < thresholdEntries / 2) return false;
  const interval = (index: number): number => Math.floor((index + phaseEntries) / thresholdEntries);
  return interval(applied) > interval(lastSnapshotIndex) || applied - lastSnapshotIndex >= thresholdEntries * 2;
}

// ---------------------------------------------------------------- sending

/** The chunk of an outgoing snapshot at the offset the follower expects, and whether it is the last. */
export function nextChunk(snap: OutgoingSnapshot, chunkChars: number): { readonly offset: number; readonly chunk: string; readonly done: boolean } {
  const chunk = snap.text.slice(snap.offset, snap.offset + chunkChars);
  return { offset: snap.offset, chunk, done: snap.offset + chunk.length >= snap.text.length };
}

// ---------------------------------------------------------------- receiving

type SnapshotChunk = Extract<RaftMessage, { type: 'snapshot' }>;

/** `more`: answer with the offset expected next; `complete`: the whole payload, to install. */
export type ChunkResult = { readonly kind: 'more'; readonly nextOffset: number } | { readonly kind: 'complete'; readonly payload: SnapshotPayload };

/**
 * A follower's snapshot being reassembled. Chunks must come in order; one for another snapshot (or
 * another term) starts over if it is the first chunk and is refused otherwise.
 */
export class SnapshotReceiver {
  private incoming: { readonly term: number; readonly meta: SnapshotMeta; readonly parts: string[]; received: number } | undefined;

  constructor(
    private readonly self: NodeId,
    private readonly maxChars = MAX_INCOMING_SNAPSHOT_CHARS,
  ) {}

  /** Whether a snapshot is partly received (for tests). */
  get receiving(): boolean {
    return this.incoming !== undefined;
  }

  discard(): void {
    this.incoming = undefined;
  }

  /** Takes a chunk sent by the leader `from` in `term`; throws a RaftError on a snapshot too large or not a payload. */
  receive(term: number, from: NodeId, msg: SnapshotChunk): ChunkResult {
    let inc = this.incoming;
    if (inc === undefined || inc.term !== term || inc.meta.index !== msg.meta.index || inc.meta.term !== msg.meta.term) {
      if (msg.offset !== 0) return { kind: 'more', nextOffset: 0 };
      inc = this.incoming = { term, meta: msg.meta, parts: [], received: 0 };
    }
    if (msg.offset !== inc.received) return { kind: 'more', nextOffset: inc.received };
    if (inc.received + msg.chunk.length > this.maxChars) {
      this.incoming = undefined;
      throw new RaftError('BAD_SNAPSHOT', `node ${this.self}: snapshot from ${from} exceeds ${this.maxChars} characters`);
    }
    inc.parts.push(msg.chunk);
    inc.received += msg.chunk.length;
    if (!msg.done) return { kind: 'more', nextOffset: inc.received };
    this.incoming = undefined;
    return { kind: 'complete', payload: parseSnapshotText(inc.parts.join(''), from) };
  }
}
