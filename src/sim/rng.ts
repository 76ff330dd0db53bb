// Seeded randomness for hosts. One seed makes many independent named streams ("node:3",
// "link:1->2", "nemesis"), each derived from (seed, name), so adding a node or a fault never
// shifts the numbers another component draws.
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { mix32 } from '../util/index.js';

type Generator = ReturnType<typeof xoroshiro128plus>;

/** A 32-bit FNV-1a hash of a string, then mixed with the seed (murmur3 finaliser). */
function deriveSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ (seed | 0);
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h ^ Math.floor(seed / 0x100000000));
}

export class RandomStream {
  private readonly gen: Generator;

  constructor(seed: number, readonly name: string) {
    this.gen = xoroshiro128plus(deriveSeed(seed, name));
  }

  /** Uniform in [0, 1). */
  float(): number {
    return uniformFloat64(this.gen);
  }

  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number {
    return uniformInt(this.gen, min, max);
  }

  chance(probability: number): boolean {
    return probability > 0 && (probability >= 1 || this.float() < probability);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error(`rng ${this.name}: pick from an empty list`);
    return items[this.int(0, items.length - 1)] as T;
  }

  /** Fisher–Yates shuffle of a copy. */
  shuffled<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }
}

/** The root of a run's randomness: hands out one stream per name, created on first use. */
export class RandomSource {
  private readonly streams = new Map<string, RandomStream>();

  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`seed must be a safe integer, got ${seed}`);
  }

  stream(name: string): RandomStream {
    let s = this.streams.get(name);
    if (s === undefined) {
      s = new RandomStream(this.seed, name);
      this.streams.set(name, s);
    }
    return s;
  }
}
