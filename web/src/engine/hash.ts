// A small rolling hash over the events the visualizer sees: cheap enough for every event, and
// equal runs give equal hashes. It is a fingerprint for the DOM and the tests, not the
// simulator's SHA-256 trace hash (that one can only be read once, at the end of a run).

/** FNV-1a over a string, continuing from `h`. */
export function hashString(h: number, s: string): number {
  let x = h >>> 0;
  for (let i = 0; i < s.length; i++) {
    x ^= s.charCodeAt(i);
    x = Math.imul(x, 0x01000193);
  }
  return x >>> 0;
}

export function hashNumber(h: number, n: number): number {
  let x = (h ^ (n | 0)) >>> 0;
  x = Math.imul(x, 0x01000193);
  x ^= Math.floor(n / 0x100000000) | 0;
  return Math.imul(x, 0x01000193) >>> 0;
}

export const HASH_SEED = 0x811c9dc5;

/** Two independent 32-bit lanes, printed as 16 hex digits. */
export class RollingHash {
  private a = HASH_SEED;
  private b = 0x9e3779b9;

  add(s: string): void {
    this.a = hashString(this.a, s);
    this.b = hashString(this.b ^ 0x5bd1e995, s);
  }

  addNumber(n: number): void {
    this.a = hashNumber(this.a, n);
    this.b = hashNumber(this.b ^ 0x27d4eb2f, n);
  }

  hex(): string {
    return (this.a >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0');
  }
}

export function hashText(text: string): string {
  const h = new RollingHash();
  h.add(text);
  return h.hex();
}
