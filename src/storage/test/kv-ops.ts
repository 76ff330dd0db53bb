// A minimal op type for OpLogStore's tests: a key set to a number, its decoder, and the fold
// that keeps each key's latest op (kept op by op, as a store's folder does).
import type { OpFolder } from '../op-log.js';

export type KeyValueOp = { readonly key: string; readonly value: number };

export const decodeKeyValueOp = (v: unknown): { op: KeyValueOp } | { problem: string } => {
  const o = v as Partial<KeyValueOp> | null;
  return typeof o === 'object' && o !== null && typeof o.key === 'string' && typeof o.value === 'number' ? { op: { key: o.key, value: o.value } } : { problem: 'not a {key, value} op' };
};

/** Each key's latest op, in first-write order. */
export class LatestValueFolder implements OpFolder<KeyValueOp> {
  private readonly byKey = new Map<string, KeyValueOp>();
  add(op: KeyValueOp): void {
    this.byKey.set(op.key, op);
  }
  ops(): KeyValueOp[] {
    return [...this.byKey.values()];
  }
}
