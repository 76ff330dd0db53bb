// SWIM's round-robin probe target selection (§4.3 of the paper): members are probed in a random
// order, reshuffled after each full pass, and a new member is inserted at a random position, so
// every member is probed within two passes while the choice of target stays random.
import type { NodeId } from '../core/index.js';

export class ProbeOrder {
  /** The list the pass was drawn from: kept as given (a list many nodes may share), never written. */
  private pool: readonly NodeId[] = [];
  /** Members inserted during the pass that the pool lacks. */
  private added: NodeId[] = [];
  /**
   * The pass, as positions in pool ++ added; the next to probe is perm[index]. Numbers rather than
   * ids: with thousands of members on thousands of simulated nodes, a list of ids per node is
   * what the garbage collector would walk over and over.
   */
  private perm = new Int32Array(0);
  private count = 0;
  private index = 0;

  constructor(private readonly random: () => number) {}

  get length(): number {
    return this.count;
  }

  /** Adds `id` at a random position of the current pass (once). */
  insert(id: NodeId): void {
    // searches rather than a set of the ids: with thousands of members a set per node costs more
    // memory than the order itself, and inserts are rare (a member joins, is suspected or refutes)
    let position = this.pool.indexOf(id);
    if (position >= 0 ? this.perm.subarray(0, this.count).includes(position) : this.added.includes(id)) return;
    if (position < 0) position = this.pool.length + this.added.push(id) - 1;
    const at = Math.floor(this.random() * (this.count + 1));
    if (this.count === this.perm.length) {
      const grown = new Int32Array(Math.max(8, this.count * 2));
      grown.set(this.perm);
      this.perm = grown;
    }
    this.perm.copyWithin(at + 1, at, this.count);
    this.perm[at] = position;
    this.count++;
    if (at < this.index) this.index++;
  }

  /**
   * The next member to probe: the next one of this pass that `probeable` accepts; at the end of
   * a pass the order is rebuilt from the probeable members among `candidates`, shuffled. A
   * function is called only then, and the list it returns is kept (not copied) until the next
   * rebuild: it must not change.
   */
  next(candidates: Iterable<NodeId> | (() => readonly NodeId[]), probeable: (id: NodeId) => boolean): NodeId | undefined {
    // two rounds at most: the rest of this pass, then one full new pass
    for (let round = 0; round < 2; round++) {
      while (this.index < this.count) {
        const id = this.idAt(this.perm[this.index++] as number);
        if (probeable(id)) return id;
      }
      this.rebuild(typeof candidates === 'function' ? candidates() : [...candidates], probeable);
    }
    return undefined;
  }

  /** The order of the current pass (for tests). */
  snapshot(): readonly NodeId[] {
    return Array.from(this.perm.subarray(0, this.count), (p) => this.idAt(p));
  }

  private idAt(position: number): NodeId {
    return position < this.pool.length ? (this.pool[position] as NodeId) : (this.added[position - this.pool.length] as NodeId);
  }

  private rebuild(pool: readonly NodeId[], probeable: (id: NodeId) => boolean): void {
    this.pool = pool;
    this.added = [];
    if (this.perm.length < pool.length) this.perm = new Int32Array(pool.length);
    const perm = this.perm;
    let n = 0;
    for (let i = 0; i < pool.length; i++) if (probeable(pool[i] as NodeId)) perm[n++] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const p = perm[i] as number;
      perm[i] = perm[j] as number;
      perm[j] = p;
    }
    this.count = n;
    this.index = 0;
  }
}
