// The trace of a simulation: every event as one JSON line, in order. The SHA-256 of the lines
// is the run's fingerprint: same seed and configuration, same hash, byte for byte.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { JsonValue, Outcome } from '../core/index.js';
import type { NodeId } from '../core/index.js';
import { assertInvariant } from '../core/index.js';

export type DropReason = 'loss' | 'partition' | 'down' | 'stale' | 'manual';

export type TraceEvent =
  /** `id` names the message in flight; `arriveMs` is when it will arrive, null when lost at once. */
  | { t: number; ev: 'send'; id: number; from: NodeId; to: NodeId; type: string; arriveMs: number | null; msg: unknown }
  | { t: number; ev: 'deliver'; id: number; from: NodeId; to: NodeId; type: string }
  | { t: number; ev: 'drop'; id: number; from: NodeId; to: NodeId; type: string; reason: DropReason }
  /** A second copy of message `of`, travelling as message `id`. */
  | { t: number; ev: 'duplicate'; id: number; of: number; from: NodeId; to: NodeId; type: string; arriveMs: number }
  | { t: number; ev: 'tick'; node: NodeId }
  | { t: number; ev: 'persist'; node: NodeId; ops: number }
  | { t: number; ev: 'fsync'; node: NodeId }
  | { t: number; ev: 'crash'; node: NodeId; lostWrites: number }
  | { t: number; ev: 'restart'; node: NodeId; replayedOps: number; repairedRecords: number }
  | { t: number; ev: 'pause'; node: NodeId; ms: number }
  | { t: number; ev: 'slow'; node: NodeId; processingMs: number }
  | { t: number; ev: 'clock'; node: NodeId; offsetMs: number; driftPpm: number }
  | { t: number; ev: 'partition'; cuts: [NodeId, NodeId][] }
  | { t: number; ev: 'heal' }
  | { t: number; ev: 'link'; from: NodeId | '*'; to: NodeId | '*'; config: unknown }
  | { t: number; ev: 'request'; node: NodeId; requestId: string; process: string; request: unknown }
  | { t: number; ev: 'reply'; node: NodeId; requestId: string; response: unknown }
  | { t: number; ev: 'invoke'; index: number; process: string; f: string; input: JsonValue }
  | { t: number; ev: 'complete'; index: number; process: string; outcome: Outcome; output: JsonValue }
  | { t: number; ev: 'annotate'; node: NodeId; key: string; value: string | number | boolean | null }
  | { t: number; ev: 'note'; text: string };

export type TraceEventKind = TraceEvent['ev'];

const FLUSH_CHARS = 1 << 16;

export class TraceRecorder {
  private readonly hasher = sha256.create();
  private readonly encoder = new TextEncoder();
  private pending = '';
  private digest: string | undefined;
  readonly lines: string[] | undefined;
  count = 0;

  /**
   * @param keepLines keep every line in memory (for export and the visualizer)
   * @param sink receives each line as it is recorded (e.g. to stream into a file)
   */
  constructor(keepLines: boolean, private readonly sink?: (line: string) => void) {
    this.lines = keepLines ? [] : undefined;
  }

  record(event: TraceEvent): void {
    assertInvariant(this.digest === undefined, () => 'trace: recording after the hash was taken');
    const line = JSON.stringify(event);
    this.count++;
    this.lines?.push(line);
    this.sink?.(line);
    this.pending += line + '\n';
    if (this.pending.length >= FLUSH_CHARS) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.hasher.update(this.encoder.encode(this.pending));
    this.pending = '';
  }

  /** The SHA-256 (hex) of the JSON Lines text; ends the recording. */
  sha256(): string {
    if (this.digest === undefined) {
      this.flush();
      this.digest = bytesToHex(this.hasher.digest());
    }
    return this.digest;
  }

  toJsonLines(): string {
    if (this.lines === undefined) throw new Error('trace: lines were not kept (keepLines: false)');
    return this.lines.length === 0 ? '' : this.lines.join('\n') + '\n';
  }
}
