// The simulated network: per-link latency distributions, loss, duplication, reordering,
// slowness and directed cuts (partitions). Pure data and sampling; the simulator applies it.
import type { RandomStream } from './rng.js';

export type LatencyDistribution =
  | { readonly kind: 'constant'; readonly ms: number }
  | { readonly kind: 'uniform'; readonly minMs: number; readonly maxMs: number }
  | { readonly kind: 'exponential'; readonly meanMs: number; readonly minMs?: number }
  | { readonly kind: 'pareto'; readonly scaleMs: number; readonly shape: number; readonly capMs?: number }
  | { readonly kind: 'mixture'; readonly parts: readonly { readonly weight: number; readonly dist: LatencyDistribution }[] };

export interface LinkConfig {
  readonly latency: LatencyDistribution;
  /** Probability that a message is lost. */
  readonly lossRate: number;
  /** Probability that a message is delivered twice (the copy with its own latency). */
  readonly duplicateRate: number;
  /** Probability that a message is held back by up to `reorderWindowMs` extra, letting later ones overtake it. */
  readonly reorderRate: number;
  readonly reorderWindowMs: number;
  /** Added to every message's latency: a slow link. */
  readonly extraDelayMs: number;
  /**
   * Latency of messages of these types instead of `latency`: for models where each message leg
   * has its own distribution, such as PBS's WARS (write, acknowledgement, read, response).
   * Absent: every message uses `latency`.
   */
  readonly latencyByType?: Readonly<Record<string, LatencyDistribution>>;
}

export const DEFAULT_LINK: LinkConfig = {
  latency: { kind: 'uniform', minMs: 1, maxMs: 5 },
  lossRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  reorderWindowMs: 50,
  extraDelayMs: 0,
};

const MAX_LATENCY_MS = 3_600_000;

export function validateLatency(d: LatencyDistribution): void {
  const fail = (why: string): never => {
    throw new RangeError(`invalid latency distribution ${JSON.stringify(d)}: ${why}`);
  };
  switch (d.kind) {
    case 'constant':
      if (!(d.ms >= 0)) fail('ms must be >= 0');
      break;
    case 'uniform':
      if (!(d.minMs >= 0 && d.maxMs >= d.minMs)) fail('need 0 <= minMs <= maxMs');
      break;
    case 'exponential':
      if (!(d.meanMs > 0) || (d.minMs ?? 0) < 0) fail('need meanMs > 0 and minMs >= 0');
      break;
    case 'pareto':
      if (!(d.scaleMs > 0 && d.shape > 0)) fail('need scaleMs > 0 and shape > 0');
      break;
    case 'mixture':
      if (d.parts.length === 0 || d.parts.some((p) => !(p.weight > 0))) fail('need parts with weight > 0');
      d.parts.forEach((p) => validateLatency(p.dist));
      break;
  }
}

export function validateLink(c: LinkConfig): void {
  validateLatency(c.latency);
  for (const d of Object.values(c.latencyByType ?? {})) validateLatency(d);
  for (const [name, rate] of [['lossRate', c.lossRate], ['duplicateRate', c.duplicateRate], ['reorderRate', c.reorderRate]] as const) {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${rate}`);
  }
  if (!(c.reorderWindowMs >= 0) || !(c.extraDelayMs >= 0)) throw new RangeError('reorderWindowMs and extraDelayMs must be >= 0');
}

/** Draws one latency in whole milliseconds (>= 0). */
export function sampleLatencyMs(d: LatencyDistribution, rng: RandomStream): number {
  let ms: number;
  switch (d.kind) {
    case 'constant':
      return Math.round(d.ms);
    case 'uniform':
      return rng.int(Math.round(d.minMs), Math.round(d.maxMs));
    case 'exponential':
      ms = (d.minMs ?? 0) - d.meanMs * Math.log(1 - rng.float());
      break;
    case 'pareto':
      ms = d.scaleMs / Math.pow(1 - rng.float(), 1 / d.shape);
      if (d.capMs !== undefined) ms = Math.min(ms, d.capMs);
      break;
    case 'mixture': {
      const total = d.parts.reduce((s, p) => s + p.weight, 0);
      let x = rng.float() * total;
      for (const part of d.parts) {
        x -= part.weight;
        if (x < 0) return sampleLatencyMs(part.dist, rng);
      }
      return sampleLatencyMs((d.parts[d.parts.length - 1] as { dist: LatencyDistribution }).dist, rng);
    }
  }
  return Math.min(MAX_LATENCY_MS, Math.round(ms));
}

/** Which directed links are cut. Cuts accumulate until `healAll`. */
export class CutSet {
  private blocked: Uint8Array;

  constructor(private size: number) {
    this.blocked = new Uint8Array(size * size);
  }

  /** Grows the matrix when nodes are added, keeping existing cuts. */
  resize(size: number): void {
    if (size <= this.size) return;
    const next = new Uint8Array(size * size);
    for (let a = 0; a < this.size; a++) for (let b = 0; b < this.size; b++) next[a * size + b] = this.blocked[a * this.size + b] as number;
    this.blocked = next;
    this.size = size;
  }

  isCut(from: number, to: number): boolean {
    return this.blocked[from * this.size + to] === 1;
  }

  cut(from: number, to: number): void {
    if (from !== to) this.blocked[from * this.size + to] = 1;
  }

  restore(from: number, to: number): void {
    this.blocked[from * this.size + to] = 0;
  }

  healAll(): void {
    this.blocked.fill(0);
  }

  any(): boolean {
    return this.blocked.includes(1);
  }
}
