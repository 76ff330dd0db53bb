// A watch as an async iterator: reads the API's JSON-lines stream and, when the connection drops
// (the node died, paused, shut down, or cancelled a slow watcher), resumes on the next endpoint
// from the revision after the last one it yielded, so that the caller sees every revision once,
// in order: no gap, no duplicate. Only compaction past that revision ends it (COMPACTED), or, with
// `once`, its first events message (the node ends that stream, and its connection is reused).
import { StringDecoder } from 'node:string_decoder';
import type { KvEvent } from '../kv/index.js';
import type { RangeResult } from './client.js';
import { SynodError, errorOfAnswer } from './errors.js';
import type { StreamedAnswer, Transport } from './transport.js';

/** Which keys to watch: one key, the keys in [key, end), or every key under a prefix ("" for all). */
export type WatchSelector = { readonly key: string; readonly end?: string } | { readonly prefix: string };

export interface WatchOptions {
  /** The first revision to see (past revisions are replayed from history). Default: the next one. */
  readonly startRevision?: number;
  /** Each event also carries the key's item before the change. */
  readonly prevKv?: boolean;
  readonly noPut?: boolean;
  readonly noDelete?: boolean;
  /** Ask for a progress message after this long without any message (default 5 s); a stream silent for 3 times as long plus 2 s is taken as dead. */
  readonly progressMs?: number;
  /**
   * Finish after the first events message (progress messages may come before it). The node ends
   * the stream itself, so its connection goes back to a keep-alive pool instead of being cut: for
   * a caller that waits for one change at a time (a lock's waiter). A node that does not know the
   * parameter serves a plain watch, cut after that message.
   */
  readonly once?: boolean;
  /**
   * With `once`: the events message also carries `range`, the live keys under this prefix (at
   * most 10,000; `more` past that) at the serving node's state when it sent the message, which is
   * at the message's revision or later. A lock's waiter learns its place in line from it without
   * a read of its own. A node that does not know the parameter sends the message without it.
   */
  readonly rangePrefix?: string;
  /** Give up (the iterator throws UNREACHABLE) when no node served the watch for this long. Default 30 s. */
  readonly reconnectForMs?: number;
  /** Ends the watch (the iterator finishes). */
  readonly signal?: AbortSignal;
  /** Told each time the watch moves to another node, with the revision it resumes from. */
  readonly onReconnect?: (info: ReconnectInfo) => void;
}

export interface ReconnectInfo {
  readonly from: string;
  readonly to: string;
  /** The revision the watch resumes from: one past the last revision seen. */
  readonly nextRevision: number;
  readonly reason: string;
}

/**
 * What the iterator yields: the events of one revision (all of them, in key order), or a
 * progress message saying that every change up to `revision` has been seen.
 */
export type WatchMessage = { readonly type: 'events'; readonly revision: number; readonly events: readonly KvEvent[]; readonly range?: RangeResult } | { readonly type: 'progress'; readonly revision: number; readonly events: readonly [] };

export interface WatchTarget {
  readonly transport: Transport;
  readonly endpoints: readonly string[];
  /** Index of the endpoint to try first. */
  readonly firstEndpoint: number;
  readonly connectTimeoutMs: number;
}

/** The reason a closed watch's signal carries. */
const WATCH_CLOSED = new Error('the watch was closed');
/** A longer line than this (one revision's events) is refused rather than buffered without end. */
const MAX_LINE_CHARS = 256 * 1024 * 1024;
const DEFAULT_RECONNECT_FOR_MS = 30_000;
const DEFAULT_PROGRESS_MS = 5000;

export class Watch implements AsyncIterable<WatchMessage> {
  private next: number;
  private readonly controller = new AbortController();
  private started = false;

  constructor(
    private readonly target: WatchTarget,
    private readonly selector: WatchSelector,
    private readonly options: WatchOptions = {},
  ) {
    const start = options.startRevision ?? 0;
    if (!Number.isSafeInteger(start) || start < 0) throw new SynodError('BAD_REVISION', `startRevision must be a whole number >= 0, not ${start}`);
    this.next = start;
    if (options.rangePrefix !== undefined && options.once !== true) throw new SynodError('BAD_REQUEST', 'rangePrefix goes with once: true (only the one events message of a once-watch carries the range)');
    options.signal?.addEventListener('abort', () => this.close(), { once: true });
    if (options.signal?.aborted === true) this.close();
  }

  /** The revision the watch would resume from: one past the last revision it yielded (0 before the first answer when started from now). */
  get nextRevision(): number {
    return this.next;
  }

  /** Ends the watch: the iterator finishes. */
  close(): void {
    // a reason of our own: abort() without one builds a DOMException (with its stack) each time
    this.controller.abort(WATCH_CLOSED);
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchMessage> {
    if (this.started) throw new SynodError('BAD_REQUEST', 'a watch can be iterated once');
    this.started = true;
    return this.run();
  }

  private path(once: boolean, withRange: boolean): string {
    const q = new URLSearchParams();
    if ('prefix' in this.selector) q.set('prefix', this.selector.prefix);
    else {
      q.set('key', this.selector.key);
      if (this.selector.end !== undefined) q.set('end', this.selector.end);
    }
    if (this.next > 0) q.set('startRevision', String(this.next));
    if (this.options.prevKv === true) q.set('prevKv', 'true');
    if (this.options.noPut === true) q.set('noPut', 'true');
    if (this.options.noDelete === true) q.set('noDelete', 'true');
    if (once) q.set('once', 'true');
    if (once && withRange && this.options.rangePrefix !== undefined) q.set('rangePrefix', this.options.rangePrefix);
    // always named: the silence after which the stream is taken as dead follows from it
    q.set('progressMs', String(this.options.progressMs ?? DEFAULT_PROGRESS_MS));
    // spaces as %20: the API decodes "+" as a space too, but a key may hold a "+"
    return `/v1/watch?${q.toString().replaceAll('+', '%20')}`;
  }

  private async *run(): AsyncGenerator<WatchMessage, void, undefined> {
    const { endpoints, transport } = this.target;
    const signal = this.controller.signal;
    const reconnectForMs = this.options.reconnectForMs ?? DEFAULT_RECONNECT_FOR_MS;
    const idleMs = 3 * (this.options.progressMs ?? DEFAULT_PROGRESS_MS) + 2000;
    const once = this.options.once === true;
    // false once a node refused the parameter (one from before it): then the watch is cut after its first events
    let askOnce = once;
    // false once a node refused `rangePrefix`: the events message then comes without the range
    let askRange = this.options.rangePrefix !== undefined;
    let at = this.target.firstEndpoint;
    let failingSince: number | undefined;
    let attempts = 0;
    // each turn is one connection; bounded by reconnectForMs of failures in a row (plus a turn after a node refused `once` or `rangePrefix`)
    while (!signal.aborted) {
      const endpoint = endpoints[at % endpoints.length] as string;
      let reason: string;
      let res: StreamedAnswer | undefined;
      // a once-watch's events message, held until its stream has ended so that the connection is free before the caller goes on
      let last: WatchMessage | undefined;
      try {
        res = await transport.openStream(endpoint, this.path(askOnce, askRange), this.target.connectTimeoutMs, signal, askOnce);
        if (res.status !== 200) {
          const error = errorOfAnswer(res.status, await readJson(res), endpoint);
          if (askOnce && error.code === 'UNKNOWN_PARAMETER' && error.message.includes('"once"')) {
            askOnce = false;
            continue;
          }
          if (askRange && error.code === 'UNKNOWN_PARAMETER' && error.message.includes('"rangePrefix"')) {
            askRange = false;
            continue;
          }
          // bad input, compaction and permissions are the same on every node: no point moving on
          if (error.status < 500) throw error;
          reason = error.message;
        } else {
          const lines = readLines(res, idleMs);
          reason = 'the stream ended';
          // one line at a time: bounded by the stream, which the server ends or the idle timeout cuts
          for await (const line of lines) {
            if (last !== undefined) {
              // the node was to end the stream after the events line; the message is whole all the same
              reason = `${endpoint} went on after the events line of a once-watch`;
              break;
            }
            const message = parseLine(line);
            if (message === undefined) {
              reason = `${endpoint} sent a line that is not a watch message`;
              break;
            }
            if (message.type === 'created') {
              failingSince = undefined;
              attempts = 0;
              if (this.next === 0) this.next = message.startRevision;
            } else if (message.type === 'events') {
              // never yield a revision twice (a node cannot send one below the start it was asked for, but be sure)
              if (message.revision < this.next) continue;
              this.next = message.revision + 1;
              const events: WatchMessage = message.range === undefined ? { type: 'events', revision: message.revision, events: message.events } : { type: 'events', revision: message.revision, events: message.events, range: message.range };
              // read on to the stream's end (it comes next) rather than cut it: that frees the connection for reuse
              if (askOnce) last = events;
              else {
                yield events;
                if (once) return;
              }
            } else if (message.type === 'progress') {
              if (message.revision + 1 > this.next) this.next = message.revision + 1;
              yield { type: 'progress', revision: message.revision, events: [] };
            } else {
              if (message.code === 'COMPACTED') throw new SynodError('COMPACTED', `${message.message} (from ${endpoint})`, 410, false, { compactRevision: message.compactRevision, nextRevision: message.nextRevision }, endpoint);
              reason = `${message.code}: ${message.message}`;
              break;
            }
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof SynodError) throw err;
        // a stream cut short (a node killed mid-stream) or silent past the idle limit
        reason = `connection lost (${(err as Error).message})`;
      } finally {
        // a body read to its end leaves its connection alone (pooled, for a once-watch); any other is cut
        if (res !== undefined && !res.complete) res.destroy();
      }
      // whatever became of the connection since, the events line came whole: the watch is done
      if (last !== undefined) {
        yield last;
        return;
      }
      if (signal.aborted) return;
      failingSince ??= performance.now();
      if (performance.now() - failingSince > reconnectForMs) {
        throw new SynodError('UNREACHABLE', `no node served the watch for ${reconnectForMs} ms (last: ${reason}); resume from revision ${this.next}`, 0, true, { nextRevision: this.next });
      }
      at++;
      this.options.onReconnect?.({ from: endpoint, to: endpoints[at % endpoints.length] as string, nextRevision: this.next, reason });
      // the first move is at once (another node is likely up); then back off while every node fails
      if (attempts > 0) await sleep(Math.min(100 * 2 ** Math.min(attempts, 4), 1000), signal);
      attempts++;
    }
  }
}

type Line =
  | { readonly type: 'created'; readonly startRevision: number }
  | { readonly type: 'events'; readonly revision: number; readonly events: readonly KvEvent[]; readonly range?: RangeResult }
  | { readonly type: 'progress'; readonly revision: number }
  | { readonly type: 'canceled'; readonly code: string; readonly message: string; readonly nextRevision?: number; readonly compactRevision?: number };

/** A stream line checked for the fields the iterator relies on; undefined when it is not one. */
function parseLine(text: string): Line | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const isRevision = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  switch (v['type']) {
    case 'created':
      return isRevision(v['startRevision']) ? { type: 'created', startRevision: v['startRevision'] } : undefined;
    case 'events': {
      if (!isRevision(v['revision']) || !Array.isArray(v['events'])) return undefined;
      const events = { type: 'events', revision: v['revision'], events: v['events'] as KvEvent[] } as const;
      if (v['range'] === undefined) return events;
      // a range is at the line's revision or later, else it is not what the node was asked for
      const r = v['range'] as Record<string, unknown> | null;
      if (typeof r !== 'object' || r === null || !isRevision(r['revision']) || r['revision'] < v['revision'] || !Array.isArray(r['items']) || typeof r['more'] !== 'boolean') return undefined;
      return { ...events, range: { revision: r['revision'], items: r['items'] as RangeResult['items'], more: r['more'] } };
    }
    case 'progress':
      return isRevision(v['revision']) ? { type: 'progress', revision: v['revision'] } : undefined;
    case 'canceled':
      return {
        type: 'canceled',
        code: typeof v['code'] === 'string' ? v['code'] : 'CANCELED',
        message: typeof v['message'] === 'string' ? v['message'] : 'the watch was cancelled',
        ...(isRevision(v['nextRevision']) ? { nextRevision: v['nextRevision'] } : {}),
        ...(isRevision(v['compactRevision']) ? { compactRevision: v['compactRevision'] } : {}),
      };
    default:
      return undefined;
  }
}

/** The lines of a streamed body; the stream is destroyed (and the iteration fails) after `idleMs` without data. */
async function* readLines(res: StreamedAnswer, idleMs: number): AsyncGenerator<string, void, undefined> {
  res.setIdleTimeout(idleMs);
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of res) {
    pending += decoder.write(chunk);
    let from = 0;
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n', from)) {
      const line = pending.slice(from, nl);
      from = nl + 1;
      if (line.trim() !== '') yield line;
    }
    pending = pending.slice(from);
    if (pending.length > MAX_LINE_CHARS) throw new Error(`a watch line is longer than ${MAX_LINE_CHARS} characters`);
  }
}

async function readJson(res: StreamedAnswer): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += chunk.length;
    // an error answer is small; anything larger is not one
    if (size > 1 << 20) break;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
