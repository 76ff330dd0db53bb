// Length-prefixed framing on a TCP byte stream: [u32 big-endian payload length][payload].
// The decoder turns arbitrarily split chunks back into whole payloads in O(bytes), enforces the
// maximum frame size before allocating, and fails only with a typed NetError.
import { NetError } from './errors.js';

export const FRAME_HEADER_BYTES = 4;
/** The largest length a u32 header can carry. */
export const MAX_FRAME_LIMIT_BYTES = 0xffff_ffff;

/** Builds one frame around `payload` (copies; the result is a single buffer ready to write). */
export function encodeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

export type FrameSink = (payload: Buffer) => void;

/**
 * Incremental frame decoder for one connection. `push` hands every complete payload to the sink,
 * in order, and throws NET_FRAME_OVERSIZE when a header exceeds the limit; after that the decoder
 * stays failed (the stream cannot be resynchronised). `finish` reports a stream that ended
 * mid-frame. A payload that lies wholly inside one chunk is passed as a view of that chunk (no
 * copy); only frames spanning chunks are assembled, into a buffer of exactly their size.
 */
export class FrameDecoder {
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFilled = 0;
  private body: Buffer | null = null;
  private bodyFilled = 0;
  private failure: NetError | null = null;

  constructor(private maxFrameBytes: number) {}

  /** Raises or lowers the limit, e.g. from the small handshake limit to the data limit. */
  setMaxFrameBytes(maxFrameBytes: number): void {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received (header included) that belong to a frame not yet complete. */
  get pendingBytes(): number {
    return this.body === null ? this.headerFilled : FRAME_HEADER_BYTES + this.bodyFilled;
  }

  push(chunk: Uint8Array, sink: FrameSink): void {
    if (this.failure !== null) throw this.failure;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    let pos = 0;
    while (pos < bytes.length) {
      pos = this.body === null ? this.readHeader(bytes, pos, sink) : this.readBody(bytes, pos, sink);
    }
  }

  /** Call when the stream ends: throws NET_FRAME_TRUNCATED if a frame was cut off. */
  finish(): void {
    if (this.failure !== null || this.pendingBytes === 0) return;
    const pending = this.pendingBytes;
    this.failure = new NetError('NET_FRAME_TRUNCATED', `stream ended ${pending} bytes into a frame`);
    throw this.failure;
  }

  /** Reads (part of) a header; on a complete header, emits the frame at once if it is all here. */
  private readHeader(bytes: Buffer, start: number, sink: FrameSink): number {
    let pos = start;
    let length: number;
    if (this.headerFilled === 0 && bytes.length - pos >= FRAME_HEADER_BYTES) {
      length = bytes.readUInt32BE(pos);
      pos += FRAME_HEADER_BYTES;
    } else {
      const take = Math.min(FRAME_HEADER_BYTES - this.headerFilled, bytes.length - pos);
      bytes.copy(this.header, this.headerFilled, pos, pos + take);
      this.headerFilled += take;
      pos += take;
      if (this.headerFilled < FRAME_HEADER_BYTES) return pos;
      this.headerFilled = 0;
      length = this.header.readUInt32BE(0);
    }
    this.checkLength(length);
    if (bytes.length - pos >= length) {
      sink(bytes.subarray(pos, pos + length));
      return pos + length;
    }
    this.body = Buffer.allocUnsafe(length);
    this.bodyFilled = 0;
    return pos;
  }

  private readBody(bytes: Buffer, pos: number, sink: FrameSink): number {
    const body = this.body as Buffer;
    const take = Math.min(body.length - this.bodyFilled, bytes.length - pos);
    bytes.copy(body, this.bodyFilled, pos, pos + take);
    this.bodyFilled += take;
    if (this.bodyFilled === body.length) {
      this.body = null;
      this.bodyFilled = 0;
      sink(body);
    }
    return pos + take;
  }

  private checkLength(length: number): void {
    if (length <= this.maxFrameBytes) return;
    this.failure = new NetError('NET_FRAME_OVERSIZE', `frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`, { detail: { length, limit: this.maxFrameBytes } });
    throw this.failure;
  }
}
