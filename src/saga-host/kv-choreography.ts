// Choreographed sagas across processes over Synod's KV: the event log is a key prefix (one key
// per event, written only if absent, so an event's deterministic id makes a second write a
// no-op), each service is a process that watches the prefix and reacts to the events meant for
// it, and on start reads the prefix again to finish the reactions its last life owed.
import { setTimeout as sleep } from 'node:timers/promises';
import type { SynodClient } from '../client/index.js';
import type { JsonValue } from '../core/index.js';
import { ChoreographyLog, choreographyOutcome, reactionTo, resultEvent, startEvent, type ChoreoEvent, type ChoreographyPlan, type Reaction, type ReactionResult } from '../saga/choreography.js';
import { backoffMs } from '../saga/orchestrator.js';
import { DEFAULT_RETRY, idempotencyKey, SagaError, type RetryPolicy, type SagaOutcome } from '../saga/types.js';
import { StepRejected, type StepFunction } from './runner.js';

/** Events read per page when a service starts (the whole prefix is read, page by page). */
const PAGE = 1_000;
/** Pages read at most at start: past this many events, older sagas must be archived first. */
const MAX_PAGES = 1_000;
/** Reactions one service runs at once. */
const MAX_CONCURRENT_REACTIONS = 16;
/** Problems kept (the rest are counted). */
const MAX_PROBLEMS = 100;
const MAX_EVENT_CHARS = 1_000;

/** The prefix under which a plan's events live. */
export function eventPrefix(plan: ChoreographyPlan, base = 'saga-events/'): string {
  return `${base}${plan.name}/`;
}

export interface KvChoreographyServiceOptions {
  readonly client: SynodClient;
  readonly plan: ChoreographyPlan;
  /** The step this process serves. */
  readonly service: string;
  readonly action: StepFunction;
  /** Needed by every step but the last. */
  readonly compensation?: StepFunction;
  /** Attempts of a throwing action before it counts as failed (its effect is then undone under its compensation key). */
  readonly retry?: Partial<RetryPolicy>;
  /** Per attempt; default 5 s. */
  readonly timeoutMs?: number;
  /** Default `saga-events/`. */
  readonly prefixBase?: string;
}

/** Reads an event back from the KV (input from outside: checked field by field). */
export function decodeChoreoEvent(value: unknown): ChoreoEvent | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const e = value as Record<string, unknown>;
  const text = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_EVENT_CHARS;
  if (!text(e['id']) || !text(e['correlationId']) || !text(e['type']) || !text(e['source'])) return undefined;
  if (!Number.isSafeInteger(e['hop']) || (e['hop'] as number) < 0) return undefined;
  if (!(e['causedBy'] === null || text(e['causedBy'])) || !('payload' in e)) return undefined;
  return { id: e['id'], correlationId: e['correlationId'], type: e['type'], hop: e['hop'] as number, source: e['source'], causedBy: e['causedBy'] as string | null, payload: (e['payload'] ?? null) as JsonValue };
}

/** Appends `event` under `prefix` unless an event of that id is there: true when this call wrote it. */
async function appendEvent(client: SynodClient, prefix: string, event: ChoreoEvent): Promise<boolean> {
  const key = prefix + event.id;
  const answer = await client.txn({ compare: [{ key, target: 'createRevision', cmp: '=', value: 0 }], success: [{ op: 'put', key, value: event as unknown as JsonValue }] });
  return answer.succeeded;
}

/** Starts a saga: writes its start event (a second start of the same correlation id is a no-op). */
export async function startKvSaga(client: SynodClient, plan: ChoreographyPlan, correlationId: string, payload: JsonValue, prefixBase?: string): Promise<boolean> {
  return appendEvent(client, eventPrefix(plan, prefixBase), startEvent(correlationId, payload));
}

/** Every event of the plan (or of one saga), in the order they were written: a choreography's whole flow. */
export async function readKvEvents(client: SynodClient, plan: ChoreographyPlan, correlationId?: string, prefixBase?: string): Promise<{ events: ChoreoEvent[]; revision: number; malformed: number }> {
  const prefix = eventPrefix(plan, prefixBase) + (correlationId === undefined ? '' : `${correlationId}/`);
  const found: { event: ChoreoEvent; createRevision: number }[] = [];
  let malformed = 0;
  let start: string | undefined;
  let revision = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    // one revision for every page, so that the pages make one consistent picture
    const r = await client.range({ prefix, ...(start === undefined ? {} : { start }), limit: PAGE, ...(revision === 0 ? {} : { revision }) });
    if (revision === 0) revision = r.revision;
    for (const item of r.items) {
      const event = decodeChoreoEvent(item.value);
      if (event === undefined || prefix + event.id.slice(correlationId === undefined ? 0 : correlationId.length + 1) !== item.key) malformed++;
      else found.push({ event, createRevision: item.createRevision });
    }
    if (!r.more || r.items.length === 0) break;
    start = `${(r.items[r.items.length - 1] as { key: string }).key}\u0000`;
  }
  found.sort((a, b) => a.createRevision - b.createRevision);
  return { events: found.map((f) => f.event), revision, malformed };
}

/** How one saga stands, read from the KV. */
export async function kvSagaOutcome(client: SynodClient, plan: ChoreographyPlan, correlationId: string, prefixBase?: string): Promise<SagaOutcome | 'running'> {
  return choreographyOutcome(plan, (await readKvEvents(client, plan, correlationId, prefixBase)).events);
}

/** One service of a choreography, in this process: reacts to the events meant for it until closed. */
export class KvChoreographyService {
  private readonly log: ChoreographyLog;
  private readonly retry: RetryPolicy;
  private readonly prefix: string;
  private readonly controller = new AbortController();
  private readonly running = new Set<string>();
  private readonly queue: Reaction[] = [];
  private readonly problemList: string[] = [];
  private problemCount = 0;
  private watching: Promise<void> | undefined;
  private reactionsRun = 0;

  private constructor(private readonly o: KvChoreographyServiceOptions) {
    this.log = new ChoreographyLog(o.plan);
    this.retry = { ...DEFAULT_RETRY, ...o.retry };
    this.prefix = eventPrefix(o.plan, o.prefixBase);
    const at = o.plan.steps.indexOf(o.service);
    if (at < 0) throw new SagaError('SAGA_BAD_PLAN', `choreography ${o.plan.name} has no step ${o.service}`);
    if (at < o.plan.steps.length - 1 && o.compensation === undefined) throw new SagaError('SAGA_BAD_PLAN', `choreography ${o.plan.name}: step ${o.service} needs a compensation`);
  }

  /** Reads the log, takes up what is owed to this service, and watches for more. */
  static async start(options: KvChoreographyServiceOptions): Promise<KvChoreographyService> {
    const s = new KvChoreographyService(options);
    const { events, revision, malformed } = await readKvEvents(options.client, options.plan, undefined, options.prefixBase);
    if (malformed > 0) s.problem(`${malformed} malformed events under ${s.prefix} ignored`);
    for (const e of events) s.admit(e);
    for (const r of s.log.pending()) s.enqueue(r);
    s.watching = s.watch(revision + 1);
    return s;
  }

  /** Reactions this process ran (each possibly over several attempts). */
  get reactions(): number {
    return this.reactionsRun;
  }

  problems(): { readonly count: number; readonly first: readonly string[] } {
    return { count: this.problemCount, first: [...this.problemList] };
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.watching?.catch(() => undefined);
  }

  private problem(text: string): void {
    this.problemCount++;
    if (this.problemList.length < MAX_PROBLEMS) this.problemList.push(text);
  }

  private admit(event: ChoreoEvent): void {
    try {
      this.log.add(event);
    } catch (err) {
      this.problem((err as Error).message); // past the hop limit: the event is not acted on
    }
  }

  private async watch(fromRevision: number): Promise<void> {
    const watch = this.o.client.watch({ prefix: this.prefix }, { startRevision: fromRevision, noDelete: true, signal: this.controller.signal, reconnectForMs: 365 * 24 * 3600 * 1000 });
    try {
      for await (const message of watch) {
        if (message.type !== 'events') continue;
        for (const change of message.events) {
          const event = decodeChoreoEvent(change.kv.value);
          if (event === undefined) {
            this.problem(`a malformed event at ${change.kv.key.slice(0, 200)} ignored`);
            continue;
          }
          if (this.log.has(event.id)) continue;
          this.admit(event);
          const reaction = reactionTo(this.o.plan, event);
          if (reaction !== undefined && !this.log.has(reaction.key)) this.enqueue(reaction);
        }
      }
    } catch (err) {
      if (!this.controller.signal.aborted) this.problem(`the watch ended: ${(err as Error).message}`);
    } finally {
      watch.close();
    }
  }

  private enqueue(reaction: Reaction): void {
    if (reaction.service !== this.o.service || this.running.has(reaction.key)) return;
    this.queue.push(reaction);
    this.drain();
  }

  private drain(): void {
    while (this.running.size < MAX_CONCURRENT_REACTIONS && this.queue.length > 0) {
      const reaction = this.queue.shift() as Reaction;
      if (this.running.has(reaction.key) || this.log.has(reaction.key)) continue;
      this.running.add(reaction.key);
      void this.react(reaction)
        .catch((err: unknown) => this.problem(`${reaction.key}: ${(err as Error).message}`))
        .finally(() => {
          this.running.delete(reaction.key);
          this.drain();
        });
    }
  }

  /** Runs the reaction (retrying), then appends its result event; a crash before the append means it runs again with the same key. */
  private async react(reaction: Reaction): Promise<void> {
    const sagaId = reaction.cause.correlationId;
    const actionKey = idempotencyKey(sagaId, reaction.step, reaction.service, 'action');
    const input = this.inputOf(sagaId);
    let result: ReactionResult;
    if (reaction.phase === 'compensation') {
      await this.untilDone(this.o.compensation as StepFunction, input, sagaId, reaction.key, actionKey, Infinity);
      result = { ok: true, output: null };
    } else {
      const last = reaction.step === this.o.plan.steps.length - 1;
      const outcome = await this.untilDone(this.o.action, input, sagaId, reaction.key, actionKey, last ? Infinity : this.retry.maxAttempts);
      if (outcome.kind === 'done') result = { ok: true, output: outcome.output };
      else {
        // given up: the action may have taken effect, so this service undoes it itself before saying it failed
        if (outcome.kind === 'gave-up') await this.untilDone(this.o.compensation as StepFunction, input, sagaId, idempotencyKey(sagaId, reaction.step, reaction.service, 'compensation'), actionKey, Infinity);
        result = { ok: false, error: outcome.error };
      }
    }
    if (this.controller.signal.aborted) return;
    const event = resultEvent(reaction, result);
    await appendEvent(this.o.client, this.prefix, event);
    this.admit(event);
    this.reactionsRun++;
  }

  private inputOf(sagaId: string): JsonValue {
    return this.log.trace(sagaId).find((e) => e.type === 'started')?.payload ?? null;
  }

  private async untilDone(fn: StepFunction, input: JsonValue, sagaId: string, key: string, actionKey: string, maxAttempts: number): Promise<{ kind: 'done'; output: JsonValue } | { kind: 'rejected' | 'gave-up'; error: string }> {
    const outputs = Object.fromEntries(this.log.trace(sagaId).filter((e) => e.type.endsWith(':done')).map((e) => [e.source, e.payload]));
    for (let attempt = 1; ; attempt++) {
      if (this.controller.signal.aborted) return { kind: 'gave-up', error: 'closed' };
      const attemptSignal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.o.timeoutMs ?? 5_000)]);
      try {
        const output = await fn(input, { sagaId, step: this.o.service, idempotencyKey: key, actionKey, attempt, outputs, signal: attemptSignal });
        return { kind: 'done', output: output ?? null };
      } catch (err) {
        if (err instanceof StepRejected) return { kind: 'rejected', error: err.message };
        if (attempt >= maxAttempts) return { kind: 'gave-up', error: (err as Error).message };
        await sleep(backoffMs(this.retry, attempt, Math.random()), undefined, { signal: this.controller.signal }).catch(() => undefined);
      }
    }
  }
}
