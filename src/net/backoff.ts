// Reconnection delays: exponential growth with jitter, randomness injected so tests are exact.
// "Equal jitter": each delay is uniform in [cap/2, cap), so a retry is never immediate (no hot
// loop against a dead peer) yet nodes that lost a peer together do not redial in lockstep.

export interface BackoffOptions {
  /** The first retry's cap. */
  readonly initialMs: number;
  /** The cap never grows beyond this. */
  readonly maxMs: number;
  /** Growth of the cap per failed attempt. */
  readonly multiplier: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5_000, multiplier: 2 };

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number,
  ) {}

  /** Failed attempts since the last success. */
  get attempts(): number {
    return this.attempt;
  }

  /** The delay before the next attempt; each call counts one more failure. */
  nextDelayMs(): number {
    const { initialMs, maxMs, multiplier } = this.options;
    const capMs = Math.min(maxMs, initialMs * multiplier ** Math.min(this.attempt, 64));
    this.attempt += 1;
    const half = capMs / 2;
    return half + this.random() * half;
  }

  /** Called after a connection succeeds: the next failure starts from the initial delay. */
  reset(): void {
    this.attempt = 0;
  }
}
