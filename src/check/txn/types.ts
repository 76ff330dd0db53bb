// Shapes shared by the transactional (Elle-style) checker: a history of transactions made of
// micro-operations, the dependency kinds inferred between them, and the anomalies and verdicts.
// Everything here is plain data, so results print as JSON without conversion.
import type { JsonValue } from '../../core/index.js';

/** A transaction's micro-operation: `append` (list-append), `r` (read) or `w` (register write). */
export type MopFunction = 'append' | 'r' | 'w';

export interface Mop {
  readonly f: MopFunction;
  /** The key (an EDN keyword is kept as a string with its leading colon, as in src/check). */
  readonly key: JsonValue;
  /** Appended element, written value, or the value read (null: nothing read / not known). */
  readonly value: JsonValue;
}

export type TxnOutcome = 'ok' | 'fail' | 'info';

/** One transaction: its invocation paired with its completion (or none). */
export interface Txn {
  /** Position in TxnHistory.txns. */
  readonly id: number;
  /** The completion's `:index` (else the invocation's, else the position of its event in the file). */
  readonly index: number;
  readonly process: JsonValue;
  readonly outcome: TxnOutcome;
  /** The completion's micro-operations for `ok`; the invocation's (reads not known) otherwise. */
  readonly mops: readonly Mop[];
  /** Event number of the invocation; -1 when the history has no invocation for it. */
  readonly invokedAt: number;
  /** Event number of the completion; -1 when it never completed (info without completion). */
  readonly completedAt: number;
}

export interface TxnHistory {
  readonly txns: readonly Txn[];
  /** How many events (invocations and completions) were read. */
  readonly events: number;
}

export const TXN_MODEL_NAMES = ['txn-append', 'txn-rw'] as const;
export type TxnModelName = (typeof TXN_MODEL_NAMES)[number];

export const ISOLATION_LEVELS = ['read-committed', 'snapshot-isolation', 'serializable', 'strict-serializable'] as const;
export type IsolationLevel = (typeof ISOLATION_LEVELS)[number];

/** Dependency kinds, as bits so that a search can take a mask of the kinds it may follow. */
export const WW = 1;
export const WR = 2;
export const RW = 4;
export const RT = 8;

/** Cycle anomalies (found in the dependency graph) and the others (found on single transactions or keys). */
export const CYCLE_ANOMALIES = [
  'G0',
  'G1c',
  'G-single',
  'G-nonadjacent',
  'G2',
  'G0-realtime',
  'G1c-realtime',
  'G-single-realtime',
  'G-nonadjacent-realtime',
  'G2-realtime',
] as const;
export type CycleAnomaly = (typeof CYCLE_ANOMALIES)[number];

export const OTHER_ANOMALIES = [
  'G1a',
  'G1b',
  'dirty-update',
  'internal',
  'future-read',
  'lost-update',
  'incompatible-order',
  'duplicate-elements',
  'garbage-read',
] as const;
export type OtherAnomaly = (typeof OTHER_ANOMALIES)[number];
export type AnomalyType = CycleAnomaly | OtherAnomaly;

/** One step of a cycle: an edge between two transactions and why it is there. */
export interface CycleStep {
  readonly type: 'ww' | 'wr' | 'rw' | 'realtime';
  /** Txn.index of both ends. */
  readonly from: number;
  readonly to: number;
  readonly key?: JsonValue;
  /** The element or value the edge starts from (null: the initial, empty state). */
  readonly value?: JsonValue;
  /** The element or value the edge ends at (ww, rw). */
  readonly valueAfter?: JsonValue;
  /** One sentence, e.g. "T3 appended 4 to key 256 after T1's 2 (ww)". */
  readonly why: string;
}

/** A transaction as an explanation shows it: its micro-operations as `[f, key, value]`. */
export interface TxnSummary {
  readonly index: number;
  readonly process: JsonValue;
  readonly outcome: TxnOutcome;
  readonly value: JsonValue;
}

export interface CycleExplanation {
  readonly type: CycleAnomaly;
  /** Txn.index of each transaction on the cycle, the first repeated at the end. */
  readonly cycle: readonly number[];
  readonly steps: readonly CycleStep[];
  /** The transactions of the cycle, in cycle order. */
  readonly txns: readonly TxnSummary[];
}

/** A non-cycle anomaly: the transactions involved and a sentence. */
export interface CaseExplanation {
  readonly type: OtherAnomaly;
  readonly txns: readonly number[];
  readonly key?: JsonValue;
  readonly why: string;
}

export type Explanation = CycleExplanation | CaseExplanation;

export type TxnVerdict = 'valid' | 'invalid' | 'unknown';

export interface TxnCheckResult {
  readonly model: TxnModelName;
  readonly isolation: IsolationLevel;
  readonly verdict: TxnVerdict;
  /** Every anomaly type found (forbidden by the isolation level or not), in a stable order. */
  readonly anomalyTypes: readonly AnomalyType[];
  /** The found anomaly types that the requested level forbids. */
  readonly forbidden: readonly AnomalyType[];
  /** Isolation levels (of the four) that the anomalies found rule out. */
  readonly notLevels: readonly IsolationLevel[];
  /** Up to `maxExamples` explanations per type; `counts` holds how many were found. */
  readonly anomalies: { readonly [type: string]: readonly Explanation[] };
  readonly counts: { readonly [type: string]: number };
  /** Set when a cycle search ran out of its step budget before classifying every component. */
  readonly incomplete?: string;
  readonly stats: {
    readonly txns: number;
    readonly ok: number;
    readonly fail: number;
    readonly info: number;
    readonly edges: number;
    /** Strongly connected components with more than one transaction (any edge kind). */
    readonly cyclicComponents: number;
  };
  /** Things the checker could not use (e.g. an element appended twice to a key). */
  readonly notes: readonly string[];
}
