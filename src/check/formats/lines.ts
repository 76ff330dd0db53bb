// Splits text that arrives in chunks into newline-terminated lines, so a line-based log can be
// read as a stream (hosts decode file chunks and push them here) with at most one line held at
// a time. What follows the last newline is handed back separately: it may be a cut-off line.
import { CheckError } from '../errors.js';

/** Longest line accepted by default: far above any real Jepsen line, far below V8's string limit. */
export const DEFAULT_MAX_LINE_CHARS = 16 * 1024 * 1024;

export class LineSplitter {
  /** The start of the current line, in pieces, until its newline arrives. */
  private pieces: string[] = [];
  private pendingChars = 0;
  private lines = 0;

  constructor(
    private readonly onLine: (line: string, lineNumber: number) => void,
    private readonly maxLineChars = DEFAULT_MAX_LINE_CHARS,
  ) {}

  /** Feeds the next chunk; calls onLine for every line it completes (without "\n" or "\r\n"). */
  push(chunk: string): void {
    let start = 0;
    // one pass per newline in the chunk, so bounded by its length
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      this.grow(nl - start);
      const piece = chunk.slice(start, nl);
      const line = this.pieces.length === 0 ? piece : this.pieces.join('') + piece;
      this.pieces = [];
      this.pendingChars = 0;
      start = nl + 1;
      this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line, ++this.lines);
    }
    if (start < chunk.length) {
      this.grow(chunk.length - start);
      this.pieces.push(chunk.slice(start));
      this.pendingChars += chunk.length - start;
    }
  }

  /** The text after the last newline ("" when the input ended with one), and its line number. */
  end(): { tail: string; lineNumber: number } {
    const tail = this.pieces.join('');
    this.pieces = [];
    this.pendingChars = 0;
    return { tail, lineNumber: this.lines + 1 };
  }

  private grow(chars: number): void {
    if (this.pendingChars + chars > this.maxLineChars) {
      const line = this.lines + 1;
      throw new CheckError('LINE_TOO_LONG', `line ${line}: longer than ${this.maxLineChars} characters`, line);
    }
  }
}
