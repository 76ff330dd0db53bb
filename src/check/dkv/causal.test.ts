// The causal checker on hand-built histories: one that passes, and for each kind of violation one
// that shows it (and its near misses that must not). Also the cross-key measure and the CoverIndex.
import { describe, expect, it } from 'vitest';
import { checkDkvCausal, CoverIndex, joinVv, vvMap, type DkvCausalKind, type DkvCheckedOp, type DkvReadOpWithDots } from './causal.js';
import type { DkvDot, DkvVersionVector, DkvWriteOp } from './history.js';

type Pair = readonly [string, number];

function put(client: string, key: string, value: string | null, [startMs, endMs]: readonly [number, number], dot: Pair | null, contextIn: readonly Pair[] = [], outcome: DkvWriteOp['outcome'] = 'ok'): DkvWriteOp {
  const acked = outcome === 'ok' && dot !== null;
  return { kind: 'write', client, key, value, contextIn, startMs, endMs, outcome, dot: acked ? { actor: dot[0], counter: dot[1] } : null, contextOut: acked ? joinVv(contextIn, [dot]) : null };
}

function get(client: string, key: string, [startMs, endMs]: readonly [number, number], values: readonly string[], context: readonly Pair[], valueDots?: readonly Pair[]): DkvReadOpWithDots {
  return { kind: 'read', client, key, startMs, endMs, outcome: 'ok', values, context, ...(valueDots === undefined ? {} : { valueDots: valueDots.map(([actor, counter]): DkvDot => ({ actor, counter })) }) };
}

function kinds(ops: readonly DkvCheckedOp[]): DkvCausalKind[] {
  return checkDkvCausal({ ops }).violations.map((v) => v.kind);
}

/** x then y (which saw x), and z concurrent with both; reads that see what they should. */
const valid: DkvCheckedOp[] = [
  put('c0', 'k', 'x', [0, 10], ['n1', 1]),
  get('c1', 'k', [20, 30], ['x'], [['n1', 1]], [['n1', 1]]),
  put('c1', 'k', 'y', [40, 50], ['n2', 1], [['n1', 1]]),
  put('c2', 'k', 'z', [45, 55], ['n3', 1]),
  get('c0', 'k', [60, 70], ['y', 'z'], [['n1', 1], ['n2', 1], ['n3', 1]], [['n2', 1], ['n3', 1]]),
  put('c0', 'k', null, [80, 90], ['n1', 2], [['n1', 1], ['n2', 1], ['n3', 1]]),
  get('c2', 'k', [100, 110], [], [['n1', 2], ['n2', 1], ['n3', 1]], []),
];

describe('checkDkvCausal', () => {
  it('passes a history where every read sees causes with effects, with and without value dots', () => {
    const withDots = checkDkvCausal({ ops: valid });
    expect(withDots.ok).toBe(true);
    expect(withDots.violations).toEqual([]);
    expect(withDots.readsChecked).toBe(3);
    expect(withDots.writesChecked).toBe(4);
    const withoutDots = checkDkvCausal({ ops: valid.map((o) => (o.kind === 'read' ? { ...o, valueDots: undefined } : o)) });
    expect(withoutDots.ok).toBe(true);
    expect(withoutDots.suspects).toEqual([]);
  });

  it('finds a value nobody wrote, and one written to another key (thin air)', () => {
    const ops = [put('c0', 'k', 'x', [0, 10], ['n1', 1]), put('c0', 'other', 'o', [0, 10], ['n1', 2]), get('c1', 'k', [20, 30], ['ghost'], [['n1', 1]]), get('c1', 'k', [40, 50], ['o'], [['n1', 1]])];
    const result = checkDkvCausal({ ops });
    expect(result.counts['thin-air']).toBe(2);
    expect(result.violations.map((v) => v.read)).toEqual([2, 3]);
    expect(result.violations[1]?.message).toContain('written to other');
  });

  it('finds a read returning a value whose write started after it ended (a read from the future)', () => {
    const ops = [get('c1', 'k', [0, 10], ['x'], [['n1', 1]]), put('c0', 'k', 'x', [20, 30], ['n1', 1])];
    expect(kinds(ops)).toEqual(['future-read']);
  });

  it('finds a read whose context does not cover a version it returned', () => {
    const ops = [put('c0', 'k', 'x', [0, 10], ['n1', 1]), put('c0', 'k', 'x2', [20, 30], ['n1', 2], [['n1', 1]]), get('c1', 'k', [40, 50], ['x2'], [['n1', 1]], [['n1', 2]])];
    expect(kinds(ops)).toEqual(['uncovered-value']);
    // without the value's dot the same read is only a suspect: the write might have been applied under another dot too
    const byValue = checkDkvCausal({ ops: ops.map((o) => (o.kind === 'read' ? { ...o, valueDots: undefined } : o)) });
    expect(byValue.ok).toBe(true);
    expect(byValue.suspectCounts.uncoveredValue).toBe(1);
  });

  it('finds an effect seen without its cause, by the effect\'s dot and by its value', () => {
    const base = [put('c0', 'k', 'x', [0, 10], ['n1', 1]), put('c1', 'k', 'y', [20, 30], ['n2', 1], [['n1', 1]])];
    // the read covers y's dot but not x's, which y's writer had seen
    const byDot = checkDkvCausal({ ops: [...base, get('c2', 'k', [40, 50], [], [['n2', 1]])] });
    expect(byDot.violations.map((v) => [v.kind, v.read, v.write, v.related])).toEqual([['missing-cause', 2, 1, 0]]);
    // a write whose answer was lost (no dot known) shown by value, without what its client had seen
    const lost = [put('c0', 'k', 'x', [0, 10], ['n1', 1]), put('c1', 'k', 'y', [20, 30], null, [['n1', 1]], 'unknown'), get('c2', 'k', [40, 50], ['y'], [['n3', 4]])];
    const byValue = checkDkvCausal({ ops: lost });
    expect(byValue.counts['missing-cause']).toBe(1);
    expect(byValue.unjudgedValues).toBe(1);
  });

  it('finds a version returned alongside (or after) the version that replaced it', () => {
    const ops = [put('c0', 'k', 'x', [0, 10], ['n1', 1]), put('c1', 'k', 'y', [20, 30], ['n2', 1], [['n1', 1]]), get('c2', 'k', [40, 50], ['x', 'y'], [['n1', 1], ['n2', 1]], [['n1', 1], ['n2', 1]])];
    const result = checkDkvCausal({ ops });
    expect(result.violations.map((v) => [v.kind, v.write, v.related])).toEqual([['superseded-value', 0, 1]]);
    // the replacing version covered by the context but not returned: still a resurrection
    const hidden = [...ops.slice(0, 2), get('c2', 'k', [40, 50], ['x'], [['n1', 1], ['n2', 1]], [['n1', 1]])];
    expect(kinds(hidden)).toEqual(['superseded-value']);
  });

  it('does not call a second version of a write applied twice superseded, when reads report dots', () => {
    // x was applied twice (a forwarded write that timed out): n1:1 (acknowledged) and n3:1; y replaced only n1:1
    const ops = [put('c0', 'k', 'x', [0, 10], ['n1', 1]), put('c1', 'k', 'y', [20, 30], ['n2', 1], [['n1', 1]]), get('c2', 'k', [40, 50], ['x', 'y'], [['n1', 1], ['n2', 1], ['n3', 1]], [['n3', 1], ['n2', 1]])];
    const result = checkDkvCausal({ ops });
    expect(result.violations).toEqual([]);
    // judged by value only it is a suspect, and said to be one
    const byValue = checkDkvCausal({ ops: ops.map((o) => (o.kind === 'read' ? { ...o, valueDots: undefined } : o)) });
    expect(byValue.ok).toBe(true);
    expect(byValue.suspects.map((v) => v.kind)).toEqual(['superseded-value']);
  });

  it('finds a write answer that does not carry the client\'s context and the new dot', () => {
    const w = put('c0', 'k', 'x', [0, 10], ['n1', 3], [['n2', 1]]);
    expect(kinds([{ ...w, contextOut: [['n1', 3]] }])).toEqual(['write-context']);
    expect(kinds([w])).toEqual([]);
  });

  it('finds a write answer that covers another client\'s version the client never saw (a context gap)', () => {
    // c1's blind write got n1:2 through the node that had just coordinated c0's n1:1; n1:2 also covers n1:1
    const ops = [put('c0', 'k', 'x', [0, 10], ['n1', 1]), put('c1', 'k', 'y', [20, 30], ['n1', 2])];
    const result = checkDkvCausal({ ops });
    expect(result.violations.map((v) => [v.kind, v.write, v.related])).toEqual([['context-gap', 1, 0]]);
    // the client's own earlier versions are no gap: it wrote them
    expect(kinds([put('c0', 'k', 'x', [0, 10], ['n1', 1]), put('c0', 'k', 'y', [20, 30], ['n1', 2])])).toEqual([]);
    // nor versions of other keys, which share the node's counter
    expect(kinds([put('c0', 'other', 'x', [0, 10], ['n1', 1]), put('c1', 'k', 'y', [20, 30], ['n1', 2])])).toEqual([]);
  });

  it('finds a dot naming two writes, and a write whose own context already covered its dot', () => {
    expect(kinds([put('c0', 'k', 'x', [0, 10], ['n1', 1]), put('c1', 'k', 'y', [20, 30], ['n1', 1], [['n2', 1]])])).toContain('dot-conflict');
    expect(kinds([put('c0', 'k', 'x', [0, 10], ['n1', 1], [['n1', 1]])])).toContain('dot-conflict');
  });

  it('lists at most 50 violations per kind and counts them all', () => {
    const ops: DkvCheckedOp[] = [];
    for (let i = 0; i < 70; i++) ops.push(get('c0', 'k', [i, i + 1], [`ghost-${i}`], []));
    const result = checkDkvCausal({ ops });
    expect(result.counts['thin-air']).toBe(70);
    expect(result.violations).toHaveLength(50);
  });

  it('refuses a history whose version vectors are not sorted by actor (an invariant, not a verdict)', () => {
    expect(() => checkDkvCausal({ ops: [get('c0', 'k', [0, 1], [], [['n2', 1], ['n1', 1]])] })).toThrow(expect.objectContaining({ code: 'INVARIANT' }));
    expect(() => checkDkvCausal({ ops: [get('c0', 'k', [0, 1], ['x'], [['n1', 1]], [])] })).toThrow(expect.objectContaining({ code: 'INVARIANT' }));
  });

  it('skips collected keys and reads that failed', () => {
    const ops = [get('c0', 'gone', [0, 1], ['ghost'], []), { ...get('c0', 'k', [0, 1], [], []), outcome: 'fail' as const, context: null }];
    const result = checkDkvCausal({ ops, collected: new Set(['gone']) });
    expect(result.ok).toBe(true);
    expect(result.skippedOps).toBe(2);
    expect(result.readsChecked).toBe(0);
  });
});

describe('cross-key measure', () => {
  // c0 writes x, then y (it knew x:n1:1 when it wrote y); c1 reads y, then reads x
  const writes = [put('c0', 'x', 'x1', [0, 10], ['n1', 1]), put('c0', 'y', 'y1', [20, 30], ['n2', 1])];

  it('counts a read that misses a version its client depended on through another key', () => {
    const ops = [...writes, get('c1', 'y', [40, 50], ['y1'], [['n2', 1]]), get('c1', 'x', [60, 70], [], [])];
    const result = checkDkvCausal({ ops });
    expect(result.ok).toBe(true);
    expect(result.crossKey).toMatchObject({ complete: true, anomalies: 1 });
    expect(result.crossKey.examples[0]).toMatchObject({ client: 'c1', read: 3, key: 'x', missing: { actor: 'n1', counter: 1 }, via: 2, viaWrite: 1 });
  });

  it('counts nothing when the later read sees it, or when the dependency came through the same key', () => {
    expect(checkDkvCausal({ ops: [...writes, get('c1', 'y', [40, 50], ['y1'], [['n2', 1]]), get('c1', 'x', [60, 70], ['x1'], [['n1', 1]])] }).crossKey.anomalies).toBe(0);
    // c1 read x1 itself and then forgot it: monotonic reads' business, not a cross-key anomaly
    const same = [...writes, get('c1', 'x', [35, 38], ['x1'], [['n1', 1]]), get('c1', 'y', [40, 50], ['y1'], [['n2', 1]]), get('c1', 'x', [60, 70], [], [])];
    expect(checkDkvCausal({ ops: same }).crossKey.anomalies).toBe(0);
  });

  it('follows dependencies transitively across clients', () => {
    // c1 read y1 (so depends on x1), then wrote z; c2 read z, then read x and missed x1
    const ops = [...writes, get('c1', 'y', [40, 50], ['y1'], [['n2', 1]]), put('c1', 'z', 'z1', [60, 70], ['n3', 1]), get('c2', 'z', [80, 90], ['z1'], [['n3', 1]]), get('c2', 'x', [100, 110], [], [])];
    expect(checkDkvCausal({ ops }).crossKey.anomalies).toBe(1);
  });

  it('stops, and says so, when its budget runs out', () => {
    const ops = [...writes, get('c1', 'y', [40, 50], ['y1'], [['n2', 1]]), get('c1', 'x', [60, 70], [], [])];
    expect(checkDkvCausal({ ops, crossKeyBudget: 1 }).crossKey.complete).toBe(false);
  });
});

describe('CoverIndex', () => {
  it('agrees with checking every covered entry one by one', () => {
    const entries = [
      { dot: { actor: 'a', counter: 1 }, need: [] as DkvVersionVector, op: 0 },
      { dot: { actor: 'a', counter: 3 }, need: [['b', 2]] as DkvVersionVector, op: 1 },
      { dot: { actor: 'b', counter: 2 }, need: [['a', 1]] as DkvVersionVector, op: 2 },
      { dot: { actor: 'a', counter: 5 }, need: [['c', 1]] as DkvVersionVector, op: 3 },
    ];
    const index = new CoverIndex(entries);
    expect(index.firstUnmet(vvMap([['a', 2]]))).toBeNull();
    expect(index.firstUnmet(vvMap([['a', 3]]))).toEqual({ op: 1, missing: ['b', 2] });
    expect(index.firstUnmet(vvMap([['a', 3], ['b', 2]]))).toBeNull();
    expect(index.firstUnmet(vvMap([['a', 5], ['b', 2]]))).toEqual({ op: 3, missing: ['c', 1] });
    expect(index.firstCovering(vvMap([['a', 5], ['b', 2]]), { actor: 'a', counter: 1 })).toBe(2);
    expect(index.firstCovering(vvMap([['a', 5]]), { actor: 'a', counter: 1 })).toBeNull();
  });
});
