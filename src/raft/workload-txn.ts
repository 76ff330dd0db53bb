// The kv-txn chaos load: clients issuing txns (compares, puts and deletes over several keys,
// reads, ranges, sometimes nested) among puts, gets, cas, casVersion, incr, reads of past
// revisions and prefix deletes; and watchers that pull the change log from one node's applied
// state and resume on another node from where they stopped when that node fails them.
import type { JsonValue, NodeId } from '../core/index.js';
import type { WatchDelivery, WatchEvent, WatcherRecord, WatchSelector } from '../check/index.js';
import { emitByRevision } from '../kv/watch-lines.js';
import { kvCommandProblem, kvRequestToJson, type Compare, type KvRequest, type KvResult, type TxnOp } from '../kv/store.js';
import type { RandomStream } from '../sim/rng.js';
import type { KvClient, RaftCluster } from './cluster.js';

/** The keys of the load: two prefixes (for ranges and prefix deletes) and a loner. */
export const TXN_CHAOS_KEYS = ['x/0', 'x/1', 'x/2', 'y/0', 'y/1', 'z'] as const;

/** An ok operation with its request and full result (revisions included), for the revision check. */
export interface CompletedOp {
  readonly index: number;
  readonly request: JsonValue;
  readonly result: JsonValue;
}

export interface TxnWorkloadOptions {
  readonly clients: number;
  /** Upper bound of the random pause between a client's operations. */
  readonly thinkMs: number;
  /** No operation starts at or after this virtual time. */
  readonly untilMs: number;
  /** Client process names are `${prefix}${n}`. */
  readonly prefix: string;
}

export interface TxnWorkload {
  readonly clients: readonly KvClient[];
  /** Every operation that completed ok, with its full result. */
  readonly completed: readonly CompletedOp[];
  /** Txns the generator made that the store would refuse (a generator bug if ever above 0). */
  readonly refusedByDecoder: number;
}

/** What the clients remember of what they saw: values and versions to compare with, the highest revision for reads of the past. */
export interface Seen {
  readonly values: Map<string, JsonValue>;
  readonly versions: Map<string, number>;
  maxRevision: number;
}

export function startTxnWorkload(cluster: RaftCluster, options: TxnWorkloadOptions): TxnWorkload {
  const rng = cluster.sim.random.stream(`workload:${options.prefix}`);
  const seen: Seen = { values: new Map(), versions: new Map(), maxRevision: 0 };
  const completed: CompletedOp[] = [];
  let nextValue = 1;
  const fresh = (): number => nextValue++;
  const state = { refused: 0 };
  const loop = (client: KvClient): void => {
    if (cluster.nowMs >= options.untilMs) return;
    const op = randomTxnChaosOp(rng, seen, fresh, state);
    client.submit(op, {
      onDone: (handle) => {
        if (handle.outcome === 'ok' && handle.result !== undefined) {
          completed.push({ index: handle.historyIndex, request: kvRequestToJson(op), result: handle.result as unknown as JsonValue });
          noteSeen(seen, op, handle.result);
        }
        cluster.sim.after(rng.int(0, options.thinkMs), () => loop(client));
      },
    });
  };
  const clients: KvClient[] = [];
  for (let c = 1; c <= options.clients; c++) {
    const client = cluster.client(`${options.prefix}${c}`);
    clients.push(client);
    cluster.sim.after(rng.int(0, options.thinkMs), () => loop(client));
  }
  return {
    clients,
    completed,
    get refusedByDecoder() {
      return state.refused;
    },
  };
}

/** One random operation of the load; a txn the store would refuse (never expected) becomes a get. */
export function randomTxnChaosOp(rng: RandomStream, seen: Seen, fresh: () => number, state: { refused: number }): KvRequest {
  const key = rng.pick(TXN_CHAOS_KEYS);
  const roll = rng.int(1, 100);
  if (roll <= 30) {
    const txn = randomTxn(rng, seen, fresh, new Set(), 1);
    if (kvCommandProblem(kvRequestToJson(txn)) === null) return txn;
    state.refused++;
    return { op: 'get', key };
  }
  if (roll <= 45) return { op: 'get', key };
  if (roll <= 55) return { op: 'put', key, value: fresh() };
  if (roll <= 62) return { op: 'cas', key, from: rng.chance(0.8) ? (seen.values.get(key) ?? null) : fresh(), to: fresh() };
  if (roll <= 67) return { op: 'casVersion', key, version: rng.chance(0.8) ? (seen.versions.get(key) ?? 0) : rng.int(0, 3), value: fresh() };
  if (roll <= 72) return { op: 'incr', key, by: rng.int(1, 3) };
  if (roll <= 78) return { op: 'delete', key };
  if (roll <= 86) return { op: 'get', key, revision: seen.maxRevision === 0 ? 0 : rng.int(1, seen.maxRevision) };
  if (roll <= 94) return rng.pick<KvRequest>([{ op: 'range', prefix: 'x/' }, { op: 'range', prefix: '' }, { op: 'range', start: 'x/1', end: 'y/1' }, { op: 'range', prefix: 'y/', limit: 1 }]);
  return { op: 'delete', prefix: rng.pick(['y/', 'x/']) };
}

function randomCompare(rng: RandomStream, seen: Seen, fresh: () => number): Compare {
  const key = rng.pick(TXN_CHAOS_KEYS);
  const roll = rng.int(1, 10);
  if (roll <= 4) {
    const cmp = rng.pick(['=', '=', '!=', '<', '>'] as const);
    const value = rng.chance(0.7) ? (seen.values.get(key) ?? null) : fresh();
    // < and > order numbers and strings only (the store refuses them of anything else)
    return { key, target: 'value', cmp, value: value === null && (cmp === '<' || cmp === '>') ? fresh() : value };
  }
  if (roll <= 8) return { key, target: 'version', cmp: rng.pick(['=', '=', '!=', '<', '>'] as const), value: rng.chance(0.7) ? (seen.versions.get(key) ?? 0) : rng.int(0, 3) };
  return { key, target: rng.pick(['createRevision', 'modRevision'] as const), cmp: rng.pick(['=', '>'] as const), value: 0 };
}

/**
 * A txn whose runs never write a key twice (the store refuses those at decode): `written` holds
 * the keys written (or covered by a delete) on the way to this txn; a nested txn's two branches
 * start from the same set, and what either writes is taken by the operations after it.
 */
function randomTxn(rng: RandomStream, seen: Seen, fresh: () => number, written: Set<string>, depth: number): TxnRequest {
  const compare = Array.from({ length: rng.int(0, 2) }, () => randomCompare(rng, seen, fresh));
  const successWritten = new Set(written);
  const failureWritten = new Set(written);
  const success = branch(rng, seen, fresh, successWritten, depth, rng.int(1, 3));
  const failure = branch(rng, seen, fresh, failureWritten, depth, rng.int(0, 2));
  for (const k of [...successWritten, ...failureWritten]) written.add(k);
  return { op: 'txn', compare, success, failure };
}

type TxnRequest = Extract<KvRequest, { op: 'txn' }>;

function branch(rng: RandomStream, seen: Seen, fresh: () => number, written: Set<string>, depth: number, length: number): TxnOp[] {
  const ops: TxnOp[] = [];
  for (let i = 0; i < length; i++) {
    const key = rng.pick(TXN_CHAOS_KEYS);
    const roll = rng.int(1, 100);
    if (roll <= 40 && !written.has(key)) {
      written.add(key);
      ops.push({ op: 'put', key, value: fresh(), ...(rng.chance(0.3) ? { prevKv: true } : {}) });
    } else if (roll <= 52 && !written.has(key)) {
      written.add(key);
      ops.push({ op: 'delete', key, ...(rng.chance(0.3) ? { prevKv: true } : {}) });
    } else if (roll <= 57) {
      const prefix = rng.pick(['x/', 'y/']);
      const keys = TXN_CHAOS_KEYS.filter((k) => k.startsWith(prefix));
      if (keys.some((k) => written.has(k))) ops.push({ op: 'get', key });
      else {
        for (const k of keys) written.add(k);
        ops.push({ op: 'delete', prefix, ...(rng.chance(0.5) ? { prevKv: true } : {}) });
      }
    } else if (roll <= 70) ops.push({ op: 'range', prefix: rng.pick(['x/', 'y/', '']) });
    else if (roll <= 78 && depth < 3) ops.push(randomTxn(rng, seen, fresh, written, depth + 1));
    else ops.push({ op: 'get', key });
  }
  return ops;
}

function noteSeen(seen: Seen, op: KvRequest, result: KvResult): void {
  if ('revision' in result && typeof result.revision === 'number') seen.maxRevision = Math.max(seen.maxRevision, result.revision);
  if ('error' in result) return;
  if (op.op === 'get' && (op.revision ?? 0) === 0 && 'value' in result && 'createRevision' in result) {
    seen.values.set(op.key, result.value);
    seen.versions.set(op.key, result.version);
  } else if (op.op === 'put' && 'version' in result) {
    seen.values.set(op.key, op.value);
    seen.versions.set(op.key, result.version);
  }
}

// ================================================================ watchers

/** A deliberately broken watcher, to show what the watch checker catches (never used by default). */
export type WatchBug =
  /** On reconnect, resume from the revision of the last event seen instead of the next one: duplicates. */
  | 'resume-at-last-event'
  /** On reconnect, resume one revision past where it should: skips a revision. */
  | 'skip-on-reconnect'
  /** Keep only the first event of each page and resume after its revision: loses the rest of a revision. */
  | 'cut-pages';

export interface WatcherOptions {
  readonly watchers: number;
  /** When watchers start (each at a random time before it), and with what start revision. */
  readonly startBeforeMs: number;
  /** A watcher whose node gives no progress for this long moves to another node (its node may be partitioned or removed). */
  readonly stallMs: number;
  /** How long a pull may take before the watcher gives up on its node (crashed or paused). */
  readonly pullTimeoutMs: number;
  readonly bug?: WatchBug;
}

const SELECTORS: readonly { readonly selector: WatchSelector; readonly noDelete?: boolean }[] = [
  { selector: { prefix: 'x/' } },
  { selector: { prefix: '' } },
  { selector: { key: 'z' } },
  { selector: { key: 'x/1', end: 'y/1' } },
  { selector: { prefix: '' }, noDelete: true },
];

/** One watcher's loop: pull a page, record it, pull again (soon when it got events), move on a failure. */
class Watcher {
  readonly deliveries: WatchDelivery[] = [];
  next = 0;
  startRevision = 0;
  reconnects = 0;
  private node: NodeId;
  private lastProgressMs = 0;
  private stopped = false;
  private inFlight = false;
  private lastEvent: WatchEvent | null = null;
  /** A pull's answer that breaks the contract of `changes` (an error where none can be). */
  problem: string | null = null;

  constructor(
    private readonly cluster: RaftCluster,
    private readonly rng: RandomStream,
    readonly id: string,
    readonly selector: WatchSelector,
    readonly prevKv: boolean,
    readonly noDelete: boolean,
    private readonly options: WatcherOptions,
  ) {
    this.node = rng.pick(cluster.nodeIds);
  }

  start(): void {
    // from the beginning, or from about where the node it first asks is (a watch of what comes next)
    const here = localRevision(this.cluster, this.node);
    this.startRevision = this.rng.chance(0.3) || here === null ? 1 : Math.max(1, here - this.rng.int(0, 5));
    this.next = this.startRevision;
    this.lastProgressMs = this.cluster.nowMs;
    this.pull();
  }

  stop(): void {
    this.stopped = true;
  }

  get idle(): boolean {
    return !this.inFlight;
  }

  record(): WatcherRecord {
    return { id: this.id, selector: this.selector, startRevision: this.startRevision, prevKv: this.prevKv, noDelete: this.noDelete, deliveries: this.deliveries };
  }

  private pull(): void {
    if (this.stopped) return;
    const sim = this.cluster.sim;
    const node = this.node;
    const op: JsonValue = {
      op: 'changes',
      ...this.selector,
      fromRevision: this.next,
      maxEvents: this.rng.int(1, 6),
      ...(this.prevKv ? { prevKv: true } : {}),
      ...(this.noDelete ? { noDelete: true } : {}),
    };
    this.inFlight = true;
    sim.request(node, { type: 'read', op }, { timeoutMs: this.options.pullTimeoutMs, process: this.id }, (res) => {
      this.inFlight = false;
      if (this.stopped) return;
      if (res === undefined || !res.ok || !('result' in res)) return this.reconnect(`no answer from ${node}`);
      const result = res.result as KvResult;
      if (!('events' in result)) {
        this.problem ??= `a pull from ${node} at revision ${this.next} answered ${JSON.stringify(result)}`;
        return this.stop();
      }
      this.take(result.events as WatchEvent[], result.nextRevision, node);
      const stalled = sim.nowMs - this.lastProgressMs > this.options.stallMs;
      if (stalled || this.rng.chance(0.03)) return this.reconnect(stalled ? `no progress from ${node}` : 'a random reconnect');
      sim.after(result.events.length > 0 ? this.rng.int(0, 3) : this.rng.int(10, 40), () => this.pull());
    });
  }

  private take(events: WatchEvent[], nextRevision: number, node: NodeId): void {
    if (this.options.bug === 'cut-pages' && events.length > 1) {
      const kept = events.slice(0, 1);
      this.deliveries.push({ events: kept, progressRevision: kept[0]!.revision, source: node });
      this.lastEvent = kept[0]!;
      this.next = kept[0]!.revision + 1;
      this.lastProgressMs = this.cluster.nowMs;
      return;
    }
    // as the HTTP host writes a page (src/kv/watch-lines.ts): a line per revision until its send
    // window is full, here after a random number of lines; the rest is pulled again from `next`
    let room = this.rng.int(1, 4);
    const next = emitByRevision(events, nextRevision, () => --room > 0, (batch) => {
      this.deliveries.push({ events: [...batch.events], progressRevision: batch.revision, source: node });
      this.lastEvent = batch.events[batch.events.length - 1] ?? this.lastEvent;
    });
    // all of the page went: what it scanned past without a match is progress (the host's progress line)
    if (next === nextRevision && (events.length === 0 || nextRevision - 1 > events[events.length - 1]!.revision)) this.deliveries.push({ events: [], progressRevision: nextRevision - 1, source: node });
    if (next > this.next) this.lastProgressMs = this.cluster.nowMs;
    this.next = next;
  }

  /** Moves to another node (its own may be down, paused, cut off or removed) and resumes from the next revision. */
  private reconnect(why: string): void {
    this.reconnects++;
    const others = this.cluster.nodeIds.filter((id) => id !== this.node);
    const from = this.node;
    this.node = others.length === 0 ? this.node : this.rng.pick(others);
    this.lastProgressMs = this.cluster.nowMs;
    if (this.options.bug === 'resume-at-last-event' && this.lastEvent !== null) this.next = this.lastEvent.revision;
    if (this.options.bug === 'skip-on-reconnect') this.next += 1;
    this.cluster.note(`${this.id}: ${why}; resumes on ${this.node} (from ${from}) at revision ${this.next}`);
    this.cluster.sim.after(this.rng.int(5, 30), () => this.pull());
  }
}

/** The revision of a node's applied state (a harness's look, to pick start revisions); null when it is down. */
export function localRevision(cluster: RaftCluster, node: NodeId): number | null {
  const core = cluster.core(node);
  if (core === undefined) return null;
  const result = core.queryLocal({ op: 'leaseList', limit: 1 }) as KvResult;
  return 'revision' in result ? result.revision : null;
}

export interface Watchers {
  readonly all: readonly Watcher[];
  /** Runs until every watcher has been told everything through `revision` (false if not within `timeoutMs`). */
  drain(revision: number, timeoutMs: number): boolean;
  stop(): void;
  records(): WatcherRecord[];
  reconnects(): number;
  problems(): string[];
}

export function startWatchers(cluster: RaftCluster, options: WatcherOptions): Watchers {
  const rng = cluster.sim.random.stream('watchers');
  const all: Watcher[] = [];
  for (let w = 1; w <= options.watchers; w++) {
    const pick = SELECTORS[(w - 1) % SELECTORS.length]!;
    const watcher = new Watcher(cluster, rng, `watch${w}`, pick.selector, rng.chance(0.5), pick.noDelete === true, options);
    all.push(watcher);
    cluster.sim.after(rng.int(0, options.startBeforeMs), () => watcher.start());
  }
  return {
    all,
    drain: (revision, timeoutMs) => cluster.runUntil(() => all.every((w) => w.next > revision || w.problem !== null), timeoutMs),
    stop: () => all.forEach((w) => w.stop()),
    records: () => all.map((w) => w.record()),
    reconnects: () => all.reduce((n, w) => n + w.reconnects, 0),
    problems: () => all.flatMap((w) => (w.problem === null ? [] : [`${w.id}: ${w.problem}`])),
  };
}
