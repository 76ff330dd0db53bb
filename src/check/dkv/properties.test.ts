// Properties of the dkv client-side checkers on histories of a correct sequential model (one replica;
// every op takes effect atomically inside its window, so each sees everything before it): every
// checker passes them, and planted faults in them are found. Plus the work bound on a large history.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkDkvCausal, joinVv, type DkvCheckedOp, type DkvReadOpWithDots } from './causal.js';
import type { DkvDot, DkvSibling, DkvVersionVector, DkvWriteOp } from './history.js';
import { vvCovers } from './history.js';
import { checkDkvSessions } from './sessions.js';
import { checkDkvStaleness } from './staleness.js';

type Kind = 'read' | 'write' | 'blind' | 'delete' | 'unknown-applied' | 'unknown-lost' | 'fail';

interface Step {
  readonly client: number;
  readonly key: number;
  readonly kind: Kind;
  /** How far the op's window reaches before and after its instant of effect. */
  readonly beforeMs: number;
  readonly afterMs: number;
}

const step: fc.Arbitrary<Step> = fc.record({
  client: fc.integer({ min: 0, max: 2 }),
  key: fc.integer({ min: 0, max: 2 }),
  kind: fc.constantFrom<Kind>('read', 'read', 'read', 'write', 'write', 'blind', 'delete', 'unknown-applied', 'unknown-lost', 'fail'),
  beforeMs: fc.integer({ min: 0, max: 9 }),
  afterMs: fc.integer({ min: 0, max: 9 }),
});

interface KeyState {
  vv: DkvVersionVector;
  siblings: DkvSibling[];
}

/**
 * A correct store in one replica. Each client is its own actor (as clients were in Dynamo's first
 * vector clocks), so a write's answer, the client's context plus its dot, covers nothing the client
 * did not see; contexts come back exactly as the clients last got them.
 */
function modelHistory(steps: readonly Step[], withDots: boolean): DkvCheckedOp[] {
  const ops: DkvCheckedOp[] = [];
  const state = new Map<number, KeyState>();
  const counters = new Map<number, number>();
  const contexts = new Map<string, DkvVersionVector>();
  const lastEndMs = new Map<number, number>();
  steps.forEach((s, i) => {
    const atMs = 10 * (i + 1);
    // a client's ops do not overlap: its next one starts after its last one ended
    const startMs = Math.max(atMs - s.beforeMs, (lastEndMs.get(s.client) ?? -1) + 1);
    const endMs = atMs + s.afterMs;
    lastEndMs.set(s.client, endMs);
    const client = `c${s.client}`;
    const key = `k${s.key}`;
    const ctxName = `${client}/${key}`;
    const current = state.get(s.key) ?? { vv: [], siblings: [] };
    if (s.kind === 'read') {
      const live = current.siblings.filter((x) => x.value !== null);
      const read: DkvReadOpWithDots = { kind: 'read', client, key, startMs, endMs, outcome: 'ok', values: live.map((x) => x.value as string), context: current.vv, ...(withDots ? { valueDots: live.map((x) => x.dot) } : {}) };
      ops.push(read);
      contexts.set(ctxName, current.vv);
      return;
    }
    const contextIn = s.kind === 'blind' ? [] : (contexts.get(ctxName) ?? []);
    const value = s.kind === 'delete' ? null : `${client}-${i}`;
    const applied = s.kind !== 'unknown-lost' && s.kind !== 'fail';
    let dot: DkvDot | null = null;
    if (applied) {
      const counter = (counters.get(s.client) ?? 0) + 1;
      counters.set(s.client, counter);
      dot = { actor: `a${s.client}`, counter };
      const kept = current.siblings.filter((x) => !vvCovers(contextIn, x.dot));
      state.set(s.key, { vv: joinVv(joinVv(current.vv, contextIn), [[dot.actor, dot.counter]]), siblings: [...kept, { dot, value }] });
    }
    const acked = s.kind === 'write' || s.kind === 'blind' || s.kind === 'delete';
    const contextOut = acked && dot !== null ? joinVv(contextIn, [[dot.actor, dot.counter]]) : null;
    if (contextOut !== null) contexts.set(ctxName, contextOut);
    const write: DkvWriteOp = { kind: 'write', client, key, value, contextIn, startMs, endMs, outcome: acked ? 'ok' : s.kind === 'fail' ? 'fail' : 'unknown', dot: acked ? dot : null, contextOut };
    ops.push(write);
  });
  return ops;
}

function allPass(ops: readonly DkvCheckedOp[]): void {
  const staleness = checkDkvStaleness({ ops });
  expect(staleness.staleReads).toBe(0);
  expect(staleness.reads.every((r) => r.k === 0 && r.lagMs === null)).toBe(true);
  const sessions = checkDkvSessions({ ops });
  expect(sessions.violations).toEqual([]);
  const causal = checkDkvCausal({ ops });
  expect(causal.violations).toEqual([]);
  expect(causal.suspects).toEqual([]);
  expect(causal.crossKey.anomalies).toBe(0);
  expect(causal.crossKey.complete).toBe(true);
}

describe('histories of a correct sequential model', () => {
  it('pass every checker, with and without the dots of returned values', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), fc.boolean(), (steps, withDots) => {
        allPass(modelHistory(steps, withDots));
      }),
      { numRuns: 300 },
    );
  });

  it('judge every read they contain (the checkers do not pass them by skipping)', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        const ops = modelHistory(steps, true);
        const reads = ops.filter((o) => o.kind === 'read').length;
        expect(checkDkvStaleness({ ops }).judgedReads).toBe(reads);
        expect(checkDkvSessions({ ops }).readsChecked).toBe(reads);
        expect(checkDkvCausal({ ops }).readsChecked).toBe(reads);
      }),
    );
  });
});

/** Reads after an acknowledged write of their own key that ended before they started. */
function readsAfterOwnWrite(ops: readonly DkvCheckedOp[]): { read: number; write: number }[] {
  const out: { read: number; write: number }[] = [];
  ops.forEach((r, i) => {
    if (r.kind !== 'read') return;
    for (let j = i - 1; j >= 0; j--) {
      const w = ops[j] as DkvCheckedOp;
      if (w.kind === 'write' && w.client === r.client && w.key === r.key && w.outcome === 'ok' && w.endMs < r.startMs) {
        out.push({ read: i, write: j });
        return;
      }
    }
  });
  return out;
}

describe('planted faults in model histories', () => {
  it('a read made to miss its client\'s acknowledged write is stale and breaks read-your-writes', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 5, maxLength: 80 }), fc.nat(), (steps, pick) => {
        const ops = modelHistory(steps, false);
        const candidates = readsAfterOwnWrite(ops);
        fc.pre(candidates.length > 0);
        const { read, write } = candidates[pick % candidates.length] as { read: number; write: number };
        const dot = (ops[write] as DkvWriteOp).dot as DkvDot;
        const r = ops[read] as DkvReadOpWithDots;
        // the read answered as a replica that never got the write would have: below the write's counter
        const context = (r.context ?? []).map(([a, c]): readonly [string, number] => [a, a === dot.actor ? Math.min(c, dot.counter - 1) : c]).filter(([, c]) => c > 0);
        const planted = ops.map((o, i) => (i === read ? { ...r, context, values: [] } : o));
        const staleness = checkDkvStaleness({ ops: planted });
        expect(staleness.reads.find((x) => x.read === read)?.k).toBeGreaterThanOrEqual(1);
        const sessions = checkDkvSessions({ ops: planted });
        expect(sessions.violations.some((v) => v.guarantee === 'read-your-writes' && v.later === read)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('a read made to forget what its client\'s earlier read saw breaks monotonic reads', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 5, maxLength: 80 }), fc.nat(), (steps, pick) => {
        const ops = modelHistory(steps, false);
        const candidates = ops.flatMap((o, i) => (o.kind === 'read' && ops.slice(0, i).some((e) => e.kind === 'read' && e.client === o.client && e.key === o.key && (e.context?.length ?? 0) > 0 && e.endMs < o.startMs) ? [i] : []));
        fc.pre(candidates.length > 0);
        const r = candidates[pick % candidates.length] as number;
        const planted = ops.map((o, i) => (i === r ? { ...(o as DkvReadOpWithDots), context: [], values: [] } : o));
        expect(checkDkvSessions({ ops: planted }).violations.some((v) => v.guarantee === 'monotonic-reads' && v.later === r)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('a write sent with a context that forgot the session breaks monotonic writes or writes-follow-reads', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 5, maxLength: 80 }), fc.nat(), (steps, pick) => {
        const ops = modelHistory(steps, false);
        // non-blind writes after an op of the same session since its last blind write
        const candidates: { write: number; after: 'write' | 'read' }[] = [];
        ops.forEach((o, i) => {
          if (o.kind !== 'write' || o.contextIn.length === 0) return;
          for (let j = i - 1; j >= 0; j--) {
            const e = ops[j] as DkvCheckedOp;
            if (e.client !== o.client || e.key !== o.key) continue;
            if (e.kind === 'write' && e.contextIn.length === 0) {
              if (e.outcome === 'ok') candidates.push({ write: i, after: 'write' });
              return;
            }
            if (e.kind === 'write' && e.outcome === 'ok') return void candidates.push({ write: i, after: 'write' });
            if (e.kind === 'read' && (e.context?.length ?? 0) > 0) return void candidates.push({ write: i, after: 'read' });
          }
        });
        fc.pre(candidates.length > 0);
        const { write, after } = candidates[pick % candidates.length] as { write: number; after: 'write' | 'read' };
        // a context from nowhere: not blind, but covering nothing the session saw
        const planted = ops.map((o, i) => (i === write ? { ...(o as DkvWriteOp), contextIn: [['zz', 1]] as DkvVersionVector } : o));
        const guarantee = after === 'write' ? 'monotonic-writes' : 'writes-follow-reads';
        expect(checkDkvSessions({ ops: planted }).violations.some((v) => v.guarantee === guarantee && v.part === 'session' && v.later === write)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('a returned value nobody wrote is thin air; a version seen without what its writer had seen is a missing cause', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 5, maxLength: 80 }), fc.nat(), (steps, pick) => {
        const ops = modelHistory(steps, true);
        const reads = ops.flatMap((o, i) => (o.kind === 'read' && (o.context?.length ?? 0) > 0 ? [i] : []));
        fc.pre(reads.length > 0);
        const r = reads[pick % reads.length] as number;
        const read = ops[r] as DkvReadOpWithDots;
        const ghost = { ...read, values: [...read.values, 'never-written'], valueDots: [...(read.valueDots ?? []), { actor: 'zz', counter: 1 }] };
        expect(checkDkvCausal({ ops: ops.map((o, i) => (i === r ? ghost : o)) }).violations.some((v) => v.kind === 'thin-air' && v.read === r)).toBe(true);
        // a client that had seen what read r saw writes; a later read shows that write but nothing of what it had seen
        const endMs = Math.max(...ops.map((o) => o.endMs)) + 10;
        const effect: DkvWriteOp = { kind: 'write', client: 'late', key: read.key, value: 'late-1', contextIn: read.context ?? [], startMs: endMs, endMs: endMs + 1, outcome: 'ok', dot: { actor: 'zz', counter: 9 }, contextOut: joinVv(read.context ?? [], [['zz', 9]]) };
        const blind = { ...read, startMs: endMs + 2, endMs: endMs + 3, values: ['late-1'], valueDots: [{ actor: 'zz', counter: 9 }], context: [['zz', 9]] as DkvVersionVector };
        const result = checkDkvCausal({ ops: [...ops, effect, blind] });
        expect(result.violations.some((v) => v.kind === 'missing-cause' && v.read === ops.length + 1 && v.write === ops.length)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

describe('a large history', () => {
  // how long the checkers take is measured, not asserted here (docs/dkv-checkers.md): tests never assert timings
  it('judges a 20,000-op history from a correct model as clean', () => {
    const rng = mulberry32(7);
    const steps: Step[] = [];
    for (let i = 0; i < 20_000; i++) {
      const kinds: Kind[] = ['read', 'read', 'read', 'read', 'read', 'write', 'write', 'write', 'blind', 'delete'];
      steps.push({ client: Math.floor(rng() * 20), key: Math.floor(rng() * 50), kind: kinds[Math.floor(rng() * kinds.length)] as Kind, beforeMs: Math.floor(rng() * 10), afterMs: Math.floor(rng() * 10) });
    }
    const ops = modelHistory(steps, false);
    const staleness = checkDkvStaleness({ ops });
    const sessions = checkDkvSessions({ ops });
    const causal = checkDkvCausal({ ops });
    expect(staleness.judgedReads).toBeGreaterThan(8_000);
    expect(staleness.staleReads).toBe(0);
    expect(sessions.ok).toBe(true);
    expect(causal.ok).toBe(true);
  }, 120_000);
});

/** A small seeded generator for the large history (tests may not use Math.random either: runs must replay). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
