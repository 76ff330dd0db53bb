// The transactional checker: infers the dependency graph for a model, adds real-time order when
// strict serializability is asked for, finds cycles (Tarjan components, then shortest cycles by
// BFS, weakest kind first) and judges the anomalies found against an isolation level.
import type { JsonValue } from '../../core/index.js';
import { CheckError } from '../errors.js';
import { inferListAppend } from './append.js';
import { Graph, PathFinder, StepBudget, stronglyConnected, type Components } from './graph.js';
import { DEFAULT_MAX_EXAMPLES, Inference, show } from './infer.js';
import { forbiddenBy, levelsRuledOut } from './isolation.js';
import { inferRegister } from './register.js';
import {
  CYCLE_ANOMALIES,
  ISOLATION_LEVELS,
  OTHER_ANOMALIES,
  RT,
  RW,
  TXN_MODEL_NAMES,
  WR,
  WW,
  type AnomalyType,
  type CycleAnomaly,
  type CycleExplanation,
  type CycleStep,
  type Explanation,
  type IsolationLevel,
  type Txn,
  type TxnCheckResult,
  type TxnHistory,
  type TxnModelName,
} from './types.js';

export interface TxnCheckOptions {
  readonly model: TxnModelName;
  /** Default `serializable`. Real-time order is only built for `strict-serializable`. */
  readonly isolation?: IsolationLevel;
  /** Explanations kept per anomaly type (default 8); the rest are counted. */
  readonly maxExamples?: number;
  /** Edge visits the optional cycle searches may spend (default 20,000,000). */
  readonly maxSearchSteps?: number;
}

export const DEFAULT_MAX_SEARCH_STEPS = 20_000_000;

/** Real-time order without n² edges: T → its completion's node, a chain of completion nodes, and
 *  the last completion before an invocation → that transaction. T precedes U iff T completed first. */
function addRealtime(inf: Inference, txns: readonly Txn[]): number {
  const n = txns.length;
  const done = txns.filter((t) => t.outcome === 'ok' && t.completedAt >= 0).sort((a, b) => a.completedAt - b.completedAt);
  const times = done.map((t) => t.completedAt);
  done.forEach((t, j) => {
    inf.edges.add(t.id, n + j, RT);
    if (j + 1 < done.length) inf.edges.add(n + j, n + j + 1, RT);
  });
  for (const t of txns) {
    if (t.outcome === 'fail' || t.invokedAt < 0) continue;
    // the last completion strictly before this invocation (binary search)
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! < t.invokedAt) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) inf.edges.add(n + lo - 1, t.id, RT);
  }
  return n + done.length;
}

interface Found {
  readonly lists: Map<CycleAnomaly, CycleExplanation[]>;
  readonly counts: Map<CycleAnomaly, number>;
}

function classify(path: readonly number[], kinds: Uint8Array): CycleAnomaly {
  let rw = 0;
  let wr = false;
  let rt = false;
  let adjacent = false;
  const m = path.length;
  for (let i = 0; i < m; i++) {
    const k = kinds[path[i]!]!;
    if (k & RW) {
      rw++;
      if (kinds[path[(i + m - 1) % m]!]! & RW) adjacent = true;
    }
    if (k & WR) wr = true;
    if (k & RT) rt = true;
  }
  const base = rw === 0 ? (wr ? 'G1c' : 'G0') : rw === 1 ? 'G-single' : adjacent ? 'G2' : 'G-nonadjacent';
  return (rt ? `${base}-realtime` : base) as CycleAnomaly;
}

class CycleSearch {
  readonly found: Found = { lists: new Map(), counts: new Map() };
  readonly budget: StepBudget;
  private readonly finder: PathFinder;
  /** For the one search per component that must always finish (it proves the component's cycle). */
  private readonly unbudgeted: PathFinder;
  incomplete: string | null = null;

  constructor(
    private readonly g: Graph,
    private readonly inf: Inference,
    private readonly txns: readonly Txn[],
    private readonly verb: 'append' | 'write',
    maxSteps: number,
  ) {
    this.budget = new StepBudget(maxSteps);
    this.finder = new PathFinder(g, this.budget);
    this.unbudgeted = new PathFinder(g, new StepBudget(Number.POSITIVE_INFINITY));
  }

  /** Edges whose ends are both in component c of comps, with kind in mask, grouped by component. */
  edgesInside(comps: Components, mask: number): Map<number, number[]> {
    const { from, to, kind } = this.g.edges;
    const out = new Map<number, number[]>();
    for (let e = 0; e < this.g.edges.length; e++) {
      if ((kind[e]! & mask) === 0) continue;
      const c = comps.comp[from[e]!]!;
      if (c !== comps.comp[to[e]!]! || comps.sizes[c]! < 2) continue;
      let list = out.get(c);
      if (list === undefined) out.set(c, (list = []));
      list.push(e);
    }
    return out;
  }

  /** The cycle closed by edge e: a shortest path from its head back to its tail. */
  closeCycle(e: number, mask: number, comps: Components, nonAdjacent: boolean, budgeted: boolean): number[] | null {
    const { from, to } = this.g.edges;
    const finder = budgeted ? this.finder : this.unbudgeted;
    const path = finder.find(to[e]!, from[e]!, mask, comps.comp, comps.comp[to[e]!]!, nonAdjacent, RW);
    return path === null ? null : [e, ...path];
  }

  record(path: readonly number[]): CycleAnomaly {
    const type = classify(path, this.g.edges.kind);
    this.found.counts.set(type, (this.found.counts.get(type) ?? 0) + 1);
    let list = this.found.lists.get(type);
    if (list === undefined) this.found.lists.set(type, (list = []));
    if (list.length < this.inf.maxExamples) list.push(this.explain(type, path));
    return type;
  }

  /** One cycle of kinds in mask through an edge of `through` in each component of the masked graph. */
  simpleStage(mask: number, through: number): void {
    const comps = stronglyConnected(this.g, mask);
    for (const edges of this.edgesInside(comps, through).values()) {
      const path = this.closeCycle(edges[0]!, mask, comps, false, false);
      if (path !== null) this.record(path);
    }
  }

  /** Per component with rw edges: a G-single if there is one, else a G-nonadjacent, else any G2. */
  rwStage(mask: number, label: string): void {
    const comps = stronglyConnected(this.g, mask);
    const nonRw = mask & ~RW;
    for (const rws of this.edgesInside(comps, RW).values()) {
      const any = this.closeCycle(rws[0]!, mask, comps, false, false);
      let done = false;
      let exhausted = true;
      for (const nonAdjacent of [false, true]) {
        for (const e of rws) {
          if (this.budget.spent) {
            exhausted = false;
            break;
          }
          const path = this.closeCycle(e, nonAdjacent ? mask : nonRw, comps, nonAdjacent, true);
          if (path !== null) {
            this.record(path);
            done = true;
            break;
          }
        }
        if (done || !exhausted) break;
      }
      if (!done && any !== null) this.record(any);
      if (!done && !exhausted) this.incomplete ??= `the search for G-single and G-nonadjacent cycles${label} ran out of its ${this.budget.limit} steps`;
    }
  }

  private explain(type: CycleAnomaly, cyclic: readonly number[]): CycleExplanation {
    const { from, to, kind, key, a, b } = this.g.edges;
    const n = this.txns.length;
    // start at a transaction, not inside a chain of real-time nodes
    const start = Math.max(0, cyclic.findIndex((e) => from[e]! < n));
    const path = [...cyclic.slice(start), ...cyclic.slice(0, start)];
    const steps: CycleStep[] = [];
    const members: Txn[] = [];
    let rtFrom = -1;
    for (const e of path) {
      const f = from[e]!;
      const t = to[e]!;
      if (kind[e]! & RT) {
        if (f < n) rtFrom = f;
        if (t >= n) continue;
        const x = this.txns[rtFrom]!;
        const y = this.txns[t]!;
        members.push(x);
        steps.push({ type: 'realtime', from: x.index, to: y.index, why: `T${x.index} completed before T${y.index} was invoked (realtime)` });
        continue;
      }
      const x = this.txns[f]!;
      const y = this.txns[t]!;
      members.push(x);
      steps.push(this.step(kind[e]!, x, y, key[e]!, a[e]!, b[e]!));
    }
    return {
      type,
      cycle: [...members.map((t) => t.index), members[0]!.index],
      steps,
      txns: members.map((t) => ({ index: t.index, process: t.process, outcome: t.outcome, value: t.mops.map((m) => [m.f, m.key, m.value]) as JsonValue })),
    };
  }

  private step(k: number, x: Txn, y: Txn, keyId: number, va: number, vb: number): CycleStep {
    const inf = this.inf;
    const keyValue = inf.keys[keyId] ?? null;
    const valA = va < 0 ? null : (inf.values[va] ?? null);
    const valB = vb < 0 ? null : (inf.values[vb] ?? null);
    const K = show(keyValue);
    const X = `T${x.index}`;
    const Y = `T${y.index}`;
    const noun = this.verb === 'append' ? 'append' : 'write';
    const past = this.verb === 'append' ? 'appended' : 'wrote';
    const before = this.verb === 'append' ? (va < 0 ? 'it read the empty list' : `it read up to ${show(valA)}`) : va < 0 ? 'it read nil, the initial value' : `it read ${show(valA)}`;
    const base = { from: x.index, to: y.index, key: keyValue };
    if (k & WW) return { ...base, type: 'ww', value: valA, valueAfter: valB, why: `${Y} ${past} ${show(valB)} to key ${K} after ${X}'s ${show(valA)} (ww)` };
    if (k & WR) return { ...base, type: 'wr', value: valA, why: `${Y} observed ${X}'s ${noun} of ${show(valA)} to key ${K} (wr)` };
    return {
      ...base,
      type: 'rw',
      value: valA,
      valueAfter: valB,
      why: `${X} did not observe ${Y}'s ${noun} of ${show(valB)} to key ${K}: ${before} (rw)`,
    };
  }
}

export function checkTxnHistory(history: TxnHistory, options: TxnCheckOptions): TxnCheckResult {
  if (!(TXN_MODEL_NAMES as readonly string[]).includes(options.model)) throw new CheckError('UNKNOWN_MODEL', `no transactional model ${String(options.model)}`);
  const isolation = options.isolation ?? 'serializable';
  if (!(ISOLATION_LEVELS as readonly string[]).includes(isolation)) {
    throw new CheckError('BAD_OPTION', `unknown isolation level ${String(isolation)} (expected ${ISOLATION_LEVELS.join(', ')})`);
  }
  const maxExamples = options.maxExamples ?? DEFAULT_MAX_EXAMPLES;
  const maxSteps = options.maxSearchSteps ?? DEFAULT_MAX_SEARCH_STEPS;
  if (!Number.isSafeInteger(maxExamples) || maxExamples < 0 || !Number.isSafeInteger(maxSteps) || maxSteps < 0) {
    throw new CheckError('BAD_OPTION', 'maxExamples and maxSearchSteps must be non-negative integers');
  }
  const inf = new Inference(history, maxExamples);
  if (options.model === 'txn-append') inferListAppend(inf);
  else inferRegister(inf);
  const txns = history.txns;
  const dependencyEdges = inf.edges.length;
  // Elle calls this case unknown; here it stays valid, with a note that nothing constrained it
  if (dependencyEdges === 0) inf.notes.unshift('no dependency was inferred between any two transactions, so no cycle could be found');
  const strict = isolation === 'strict-serializable';
  const nodes = strict ? addRealtime(inf, txns) : txns.length;
  const g = new Graph(nodes, inf.edges);
  const search = new CycleSearch(g, inf, txns, options.model === 'txn-append' ? 'append' : 'write', maxSteps);

  // every cycle of a subgraph is a cycle of the whole graph: without one there, nothing to search
  const full = stronglyConnected(g, WW | WR | RW);
  const cyclicComponents = full.sizes.filter((s) => s > 1).length;
  const withRealtime = strict ? stronglyConnected(g, WW | WR | RW | RT).sizes.some((s) => s > 1) : false;
  // weakest first: ww only, then ww+wr, then the cycles with rw edges
  if (cyclicComponents > 0) {
    search.simpleStage(WW, WW);
    search.simpleStage(WW | WR, WR);
    search.rwStage(WW | WR | RW, '');
  }
  if (withRealtime) {
    search.simpleStage(WW | RT, RT);
    search.simpleStage(WW | WR | RT, RT);
    search.rwStage(WW | WR | RW | RT, ' with real-time edges');
    // a component with a real-time edge inside has a cycle through it, whatever else was found
    search.simpleStage(WW | WR | RW | RT, RT);
  }

  const anomalies: { [type: string]: Explanation[] } = {};
  const counts: { [type: string]: number } = {};
  const types: AnomalyType[] = [];
  for (const type of CYCLE_ANOMALIES) {
    const list = search.found.lists.get(type);
    if (list === undefined) continue;
    types.push(type);
    anomalies[type] = list;
    counts[type] = search.found.counts.get(type) ?? list.length;
  }
  for (const type of OTHER_ANOMALIES) {
    const list = inf.cases.get(type);
    if (list === undefined) continue;
    types.push(type);
    anomalies[type] = list;
    counts[type] = inf.caseCounts.get(type) ?? list.length;
  }
  const forbidden = types.filter((t) => forbiddenBy(isolation).has(t));
  const incomplete = search.incomplete;
  // only snapshot isolation depends on the budgeted searches: a cycle with rw edges that could
  // not be classified is still a cycle, so serializable and stricter are judged exactly
  const verdict = forbidden.length > 0 ? 'invalid' : incomplete !== null && isolation === 'snapshot-isolation' ? 'unknown' : 'valid';
  const outcomes = { ok: 0, fail: 0, info: 0 };
  for (const t of txns) outcomes[t.outcome]++;
  return {
    model: options.model,
    isolation,
    verdict,
    anomalyTypes: types,
    forbidden,
    notLevels: levelsRuledOut(types),
    anomalies,
    counts,
    ...(incomplete === null ? {} : { incomplete }),
    stats: { txns: txns.length, ...outcomes, edges: dependencyEdges, cyclicComponents },
    notes: inf.notes.slice(0, 20),
  };
}
