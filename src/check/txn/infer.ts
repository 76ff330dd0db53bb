// What both models' inference shares: interning keys and values to small ids (edges store ids,
// explanations turn them back into values), the list of non-cycle anomalies found so far, and
// the graph's nodes (committed or possibly-committed transactions; failed ones are not nodes).
import type { JsonValue } from '../../core/index.js';
import { CheckError } from '../errors.js';
import { canonicalJson } from '../json.js';
import { EdgeList } from './graph.js';
import type { CaseExplanation, OtherAnomaly, Txn, TxnHistory } from './types.js';

/** A value usable as a Map key that is equal exactly when the values are (structurally). */
export type Atom = string | number | boolean | null;

export function atomOf(value: JsonValue): Atom {
  if (value === null || typeof value !== 'object') return value;
  // \u0000 keeps a structured value apart from any string
  return `\u0000${canonicalJson(value)}`;
}

/** Rendering of a key or value as Elle prints them (keywords keep their colon, strings are quoted). */
export function show(value: JsonValue | readonly JsonValue[]): string {
  if (value === null) return 'nil';
  if (typeof value === 'string') return value.startsWith(':') ? value : JSON.stringify(value);
  if (isList(value)) return `[${value.map((v) => show(v)).join(' ')}]`;
  return JSON.stringify(value);
}

function isList(value: JsonValue | readonly JsonValue[]): value is readonly JsonValue[] {
  return Array.isArray(value);
}

/** Most cases of one type kept with their explanation; the rest are only counted. */
export const DEFAULT_MAX_EXAMPLES = 8;

export class Inference {
  readonly edges = new EdgeList();
  readonly keys: JsonValue[] = [];
  readonly values: JsonValue[] = [];
  readonly notes: string[] = [];
  readonly cases = new Map<OtherAnomaly, CaseExplanation[]>();
  readonly caseCounts = new Map<OtherAnomaly, number>();
  private readonly keyIds = new Map<Atom, number>();
  private readonly valueIds = new Map<Atom, number>();

  constructor(
    readonly history: TxnHistory,
    readonly maxExamples: number,
  ) {}

  /** Failed transactions never took effect: they are not nodes of the graph. */
  isNode(t: Txn): boolean {
    return t.outcome !== 'fail';
  }

  keyId(key: JsonValue): number {
    const atom = atomOf(key);
    let id = this.keyIds.get(atom);
    if (id === undefined) {
      id = this.keys.length;
      this.keys.push(key);
      this.keyIds.set(atom, id);
    }
    return id;
  }

  valueId(value: JsonValue): number {
    const atom = atomOf(value);
    let id = this.valueIds.get(atom);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.valueIds.set(atom, id);
    }
    return id;
  }

  /** A transaction that does not fit its model (BAD_OP). */
  badOp(t: Txn, message: string): CheckError {
    return new CheckError('BAD_OP', `T${t.index}: ${message}`);
  }

  report(type: OtherAnomaly, txns: readonly Txn[], why: string, key?: JsonValue): void {
    this.caseCounts.set(type, (this.caseCounts.get(type) ?? 0) + 1);
    let list = this.cases.get(type);
    if (list === undefined) this.cases.set(type, (list = []));
    if (list.length >= this.maxExamples) return;
    list.push({ type, txns: txns.map((t) => t.index), ...(key === undefined ? {} : { key }), why });
  }
}
