// TCP framing for packets too large for one datagram: [u32 big-endian length][packet]. The
// reader keeps only the bytes that actually arrived (a 4-byte header announcing 16 MiB allocates
// nothing), so memory per connection follows what the peer has really sent.

export const FRAME_HEADER_BYTES = 4;

/** One frame ready to write. */
export function encodeFrame(packet: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + packet.length);
  frame.writeUInt32BE(packet.length, 0);
  frame.set(packet, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Reassembles frames from the chunks of one connection. Chunks are kept as received and joined
 * once a frame (or a header) is complete, so each byte is copied at most about twice whatever the
 * chunking. A header over the limit fails the reader for good: the stream cannot be resynchronised.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  /** Offset into chunks[0] of the first byte not yet consumed. */
  private offset = 0;
  private held = 0;
  /** Length of the frame in progress once its header is read; -1 before. */
  private expected = -1;
  /** Frames are read until a header is over the limit or the connection lets go of the reader. */
  private state: 'reading' | 'oversize' | 'released' = 'reading';

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes held that belong to frames not yet complete. */
  get bufferedBytes(): number {
    return this.held;
  }

  /**
   * Takes one chunk; hands each complete frame to `sink` in order. Returns 'oversize' (and stops)
   * when a header announces more than the limit.
   */
  push(chunk: Buffer, sink: (packet: Buffer) => void): 'ok' | 'oversize' {
    if (this.state !== 'reading') return this.state === 'oversize' ? 'oversize' : 'ok';
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.held += chunk.length;
    }
    for (;;) {
      if (this.expected < 0) {
        if (this.held < FRAME_HEADER_BYTES) return 'ok';
        const head = this.contiguous(FRAME_HEADER_BYTES);
        const length = head.readUInt32BE(this.offset);
        if (length > this.maxFrameBytes) {
          this.release();
          this.state = 'oversize';
          return 'oversize';
        }
        this.consume(FRAME_HEADER_BYTES);
        this.expected = length;
      }
      if (this.held < this.expected) return 'ok';
      const length = this.expected;
      const packet = length === 0 ? Buffer.alloc(0) : this.contiguous(length).subarray(this.offset, this.offset + length);
      this.consume(length);
      this.expected = -1;
      sink(packet);
      // the sink may have closed the connection (a bad packet): read nothing more
      if (this.state !== 'reading') return 'ok';
    }
  }

  /** Forgets everything and reads nothing more (the connection is closing). */
  release(): void {
    this.state = 'released';
    this.chunks = [];
    this.offset = 0;
    this.held = 0;
  }

  /** Makes the next `bytes` bytes lie in chunks[0] from `offset`, joining chunks if needed; returns chunks[0]. */
  private contiguous(bytes: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length - this.offset >= bytes) return first;
    const joined = Buffer.concat([first.subarray(this.offset), ...this.chunks.slice(1)]);
    this.chunks = [joined];
    this.offset = 0;
    return joined;
  }

  private consume(bytes: number): void {
    this.held -= bytes;
    this.offset += bytes;
    while (this.chunks.length > 0 && this.offset >= (this.chunks[0] as Buffer).length) {
      this.offset -= (this.chunks[0] as Buffer).length;
      this.chunks.shift();
    }
  }
}
