// The dependency graph of the transactional checker in flat typed arrays: an edge list that
// grows, its compressed adjacency, Tarjan's strongly connected components (iterative) and
// breadth-first shortest paths restricted to one component and a mask of edge kinds.

/** Edges with their kind bit and what explains them (key id and two value ids, -1 when none). */
export class EdgeList {
  from = new Int32Array(1024);
  to = new Int32Array(1024);
  kind = new Uint8Array(1024);
  key = new Int32Array(1024);
  a = new Int32Array(1024);
  b = new Int32Array(1024);
  length = 0;

  add(from: number, to: number, kind: number, key = -1, a = -1, b = -1): void {
    if (this.length === this.from.length) this.grow();
    const i = this.length++;
    this.from[i] = from;
    this.to[i] = to;
    this.kind[i] = kind;
    this.key[i] = key;
    this.a[i] = a;
    this.b[i] = b;
  }

  private grow(): void {
    const size = this.from.length * 2;
    const widen = <T extends Int32Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(old);
      return next;
    };
    this.from = widen(this.from, (n) => new Int32Array(n));
    this.to = widen(this.to, (n) => new Int32Array(n));
    this.kind = widen(this.kind, (n) => new Uint8Array(n));
    this.key = widen(this.key, (n) => new Int32Array(n));
    this.a = widen(this.a, (n) => new Int32Array(n));
    this.b = widen(this.b, (n) => new Int32Array(n));
  }
}

/** Out-edges of every node, as edge ids grouped by source (compressed sparse rows). */
export class Graph {
  readonly offsets: Int32Array;
  readonly out: Int32Array;

  constructor(
    readonly nodes: number,
    readonly edges: EdgeList,
  ) {
    this.offsets = new Int32Array(nodes + 1);
    for (let e = 0; e < edges.length; e++) this.offsets[edges.from[e]! + 1]!++;
    for (let v = 0; v < nodes; v++) this.offsets[v + 1]! += this.offsets[v]!;
    const fill = this.offsets.slice(0, nodes);
    this.out = new Int32Array(edges.length);
    for (let e = 0; e < edges.length; e++) this.out[fill[edges.from[e]!]!++] = e;
  }
}

/** Components of the subgraph of edges in `mask`: comp[v] is its component, sizes[c] its node count. */
export interface Components {
  readonly comp: Int32Array;
  readonly sizes: number[];
}

/** Tarjan's algorithm without recursion: each node and edge is visited once. */
export function stronglyConnected(g: Graph, mask: number): Components {
  const n = g.nodes;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const comp = new Int32Array(n).fill(-1);
  const stack = new Int32Array(n);
  const callNode = new Int32Array(n);
  const callEdge = new Int32Array(n);
  const sizes: number[] = [];
  let sp = 0;
  let counter = 0;
  const { out, offsets } = g;
  const { kind, to } = g.edges;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    let depth = 0;
    callNode[0] = root;
    callEdge[0] = offsets[root]!;
    index[root] = low[root] = counter++;
    stack[sp++] = root;
    onStack[root] = 1;
    // every pass either follows an edge once or returns from a node once
    while (depth >= 0) {
      const v = callNode[depth]!;
      const end = offsets[v + 1]!;
      let i = callEdge[depth]!;
      let descended = false;
      for (; i < end; i++) {
        const e = out[i]!;
        if ((kind[e]! & mask) === 0) continue;
        const w = to[e]!;
        if (index[w] === -1) {
          callEdge[depth] = i + 1;
          depth++;
          callNode[depth] = w;
          callEdge[depth] = offsets[w]!;
          index[w] = low[w] = counter++;
          stack[sp++] = w;
          onStack[w] = 1;
          descended = true;
          break;
        }
        if (onStack[w] === 1 && index[w]! < low[v]!) low[v] = index[w]!;
      }
      if (descended) continue;
      if (low[v] === index[v]) {
        const c = sizes.length;
        let size = 0;
        // pops this component's nodes, each once
        for (;;) {
          const w = stack[--sp]!;
          onStack[w] = 0;
          comp[w] = c;
          size++;
          if (w === v) break;
        }
        sizes.push(size);
      }
      depth--;
      if (depth >= 0) {
        const parent = callNode[depth]!;
        if (low[v]! < low[parent]!) low[parent] = low[v]!;
      }
    }
  }
  return { comp, sizes };
}

/** Counts steps of every search of one check against a shared budget. */
export class StepBudget {
  used = 0;
  constructor(readonly limit: number) {}
  get spent(): boolean {
    return this.used >= this.limit;
  }
}

/**
 * Reusable breadth-first search over one component. States are (node, phase) pairs: phase 1
 * means "arrived by an rw edge", used by the search for cycles whose rw edges are not adjacent.
 */
export class PathFinder {
  private readonly stamp: Int32Array;
  private readonly parent: Int32Array;
  private readonly parentState: Int32Array;
  private readonly queue: Int32Array;
  private round = 0;

  constructor(
    private readonly g: Graph,
    private readonly budget: StepBudget,
  ) {
    this.stamp = new Int32Array(g.nodes * 2);
    this.parent = new Int32Array(g.nodes * 2);
    this.parentState = new Int32Array(g.nodes * 2);
    this.queue = new Int32Array(g.nodes * 2);
  }

  /**
   * Shortest path of edge ids from `start` to `goal` using edges in `mask`, staying in
   * component `c` of `comp`. With `nonAdjacentRw`, an rw edge may not follow an rw edge, the
   * path may not start with one, and it must not end with one (it is closed by an rw edge).
   * Returns null when there is none or the budget ran out (check budget.spent to tell).
   */
  find(start: number, goal: number, mask: number, comp: Int32Array, c: number, nonAdjacentRw = false, rwBit = 4): number[] | null {
    if (this.budget.spent) return null;
    this.round++;
    const { out, offsets } = this.g;
    const { kind, to } = this.g.edges;
    const { stamp, parent, parentState, queue } = this;
    const startState = nonAdjacentRw ? start * 2 + 1 : start * 2;
    let head = 0;
    let tail = 0;
    queue[tail++] = startState;
    stamp[startState] = this.round;
    parent[startState] = -1;
    // each state enters the queue at most once per search
    while (head < tail) {
      const s = queue[head++]!;
      const v = s >> 1;
      const phase = s & 1;
      const end = offsets[v + 1]!;
      this.budget.used += end - offsets[v]! + 1;
      if (this.budget.spent) return null;
      for (let i = offsets[v]!; i < end; i++) {
        const e = out[i]!;
        const k = kind[e]!;
        if ((k & mask) === 0) continue;
        const w = to[e]!;
        if (comp[w] !== c) continue;
        const isRw = (k & rwBit) !== 0;
        if (nonAdjacentRw && isRw && phase === 1) continue;
        const ns = nonAdjacentRw ? w * 2 + (isRw ? 1 : 0) : w * 2;
        if (stamp[ns] === this.round) continue;
        stamp[ns] = this.round;
        parent[ns] = e;
        parentState[ns] = s;
        if (w === goal && (!nonAdjacentRw || !isRw)) return this.trace(ns, startState);
        queue[tail++] = ns;
      }
    }
    return null;
  }

  private trace(state: number, startState: number): number[] {
    const path: number[] = [];
    let s = state;
    // walks back along parents, one edge per pass; a BFS tree has no cycles
    while (s !== startState && path.length <= this.queue.length) {
      path.push(this.parent[s]!);
      s = this.parentState[s]!;
    }
    return path.reverse();
  }
}
