// Generates list-append transaction histories from a simulated store that applies each
// transaction atomically at its completion (so the history is strictly serializable), with
// optional stale reads that break that; and writes a history as Jepsen EDN or Synod's txn JSON.
import type { JsonValue } from '../../core/index.js';
import { CheckError } from '../errors.js';
import { show } from './infer.js';
import type { Mop, Txn, TxnHistory } from './types.js';

export interface GenerateOptions {
  readonly txns: number;
  /** Concurrent client processes (default 10). */
  readonly processes?: number;
  /** Keys in use at once (default 8); a key retires after `appendsPerKey` appends. */
  readonly activeKeys?: number;
  readonly appendsPerKey?: number;
  /** Most micro-operations per transaction (default 4). */
  readonly maxMops?: number;
  /** Chance that a read returns an older version of its key instead of the current one (default 0). */
  readonly staleReads?: number;
  readonly seed?: number;
}

/** A small deterministic generator (mulberry32); cores take no ambient randomness. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateAppendHistory(options: GenerateOptions): TxnHistory {
  const rand = random(options.seed ?? 1);
  const processes = options.processes ?? 10;
  const activeKeys = options.activeKeys ?? 8;
  const perKey = options.appendsPerKey ?? 32;
  const maxMops = options.maxMops ?? 4;
  const stale = options.staleReads ?? 0;
  if (!(processes >= 1 && activeKeys >= 1 && perKey >= 1 && maxMops >= 1 && Number.isSafeInteger(options.txns) && options.txns >= 0)) {
    throw new CheckError('BAD_OPTION', 'generateAppendHistory needs txns >= 0 and at least one process, key, append per key and micro-operation');
  }
  const pick = (n: number): number => Math.floor(rand() * n);
  const lists = new Map<number, number[]>();
  const active: number[] = [];
  let nextKey = 0;
  for (let i = 0; i < activeKeys; i++) active.push(nextKey++);
  const txns: Txn[] = [];
  const running: ({ mops: Mop[]; invokedAt: number; index: number } | null)[] = new Array<null>(processes).fill(null);
  let event = 0;
  let started = 0;
  let finished = 0;
  // each pass invokes or completes one transaction: 2 × txns passes in all
  while (finished < options.txns) {
    const p = pick(processes);
    const run = running[p];
    if (run === undefined) continue;
    if (run === null) {
      if (started >= options.txns) continue;
      started++;
      const n = 1 + pick(maxMops);
      const mops: Mop[] = [];
      for (let i = 0; i < n; i++) {
        const key = active[pick(active.length)]!;
        mops.push(rand() < 0.5 ? { f: 'append', key, value: null } : { f: 'r', key, value: null });
      }
      running[p] = { mops, invokedAt: event, index: event };
      event++;
      continue;
    }
    // apply the whole transaction now, atomically
    const done: Mop[] = run.mops.map((m) => {
      const list = lists.get(m.key as number) ?? [];
      lists.set(m.key as number, list);
      if (m.f === 'append') {
        list.push(list.length + 1);
        const value = list.length;
        if (list.length >= perKey) {
          const at = active.indexOf(m.key as number);
          if (at >= 0) active[at] = nextKey++;
        }
        return { ...m, value };
      }
      const shown = stale > 0 && rand() < stale && list.length > 0 ? list.slice(0, pick(list.length)) : list.slice();
      return { ...m, value: shown };
    });
    txns.push({ id: txns.length, index: event, process: p, outcome: 'ok', mops: done, invokedAt: run.invokedAt, completedAt: event });
    running[p] = null;
    event++;
    finished++;
  }
  return { txns, events: event };
}

function mopText(m: Mop): string {
  return `[:${m.f} ${show(m.key)} ${m.value === null ? 'nil' : show(m.value as JsonValue)}]`;
}

/** The history as Jepsen writes it: an invocation and a completion map per transaction, in event order. */
export function historyToEdn(history: TxnHistory): string {
  const lines: { at: number; text: string }[] = [];
  for (const t of history.txns) {
    const process = show(t.process);
    if (t.invokedAt >= 0) {
      const value = t.mops.map((m) => mopText(m.f === 'r' ? { ...m, value: null } : m)).join(' ');
      lines.push({ at: t.invokedAt, text: `{:type :invoke, :f :txn, :value [${value}], :process ${process}, :index ${t.invokedAt}}` });
    }
    if (t.completedAt >= 0) {
      lines.push({ at: t.completedAt, text: `{:type :${t.outcome}, :f :txn, :value [${t.mops.map(mopText).join(' ')}], :process ${process}, :index ${t.completedAt}}` });
    }
  }
  lines.sort((a, b) => a.at - b.at);
  return `${lines.map((l) => l.text).join('\n')}\n`;
}

/** The history in Synod's txn JSON form, {"events": [...]}, one event per line, in event order. */
export function historyToJson(history: TxnHistory): string {
  const events: { at: number; text: string }[] = [];
  for (const t of history.txns) {
    const process = t.process === null ? {} : { process: t.process };
    const value = (read: boolean): JsonValue => t.mops.map((m) => [m.f, m.key, m.f === 'r' && !read ? null : m.value]);
    if (t.invokedAt >= 0) events.push({ at: t.invokedAt, text: JSON.stringify({ type: 'invoke', f: 'txn', ...process, value: value(false) }) });
    if (t.completedAt >= 0) events.push({ at: t.completedAt, text: JSON.stringify({ type: t.outcome, f: 'txn', ...process, value: value(true), index: t.index }) });
  }
  events.sort((a, b) => a.at - b.at);
  return `{"events": [\n${events.map((e) => e.text).join(',\n')}\n]}\n`;
}
