// SWIM's round-robin probe target selection (§4.3 of the paper): members are probed in a random
// order, reshuffled after each full pass, and a new member is inserted at a random position, so
// every member is probed within two passes while the choice of target stays random.
import type { NodeId } from '../core/index.js';

export class ProbeOrder {
  private order: NodeId[] = [];
  private readonly present = new Set<NodeId>();
  private index = 0;

  constructor(private readonly random: () => number) {}

  get length(): number {
    return this.order.length;
  }

  /** Adds `id` at a random position of the current pass (once). */
  insert(id: NodeId): void {
    if (this.present.has(id)) return;
    const at = Math.floor(this.random() * (this.order.length + 1));
    this.order.splice(at, 0, id);
    this.present.add(id);
    if (at < this.index) this.index++;
  }

  /**
   * The next member to probe: the next one of this pass that `probeable` accepts; at the end of
   * a pass the order is rebuilt from the probeable members among `candidates`, shuffled.
   */
  next(candidates: Iterable<NodeId>, probeable: (id: NodeId) => boolean): NodeId | undefined {
    // two rounds at most: the rest of this pass, then one full new pass
    for (let round = 0; round < 2; round++) {
      while (this.index < this.order.length) {
        const id = this.order[this.index++] as NodeId;
        if (probeable(id)) return id;
      }
      this.rebuild([...candidates].filter(probeable));
    }
    return undefined;
  }

  /** The order of the current pass (for tests). */
  snapshot(): readonly NodeId[] {
    return this.order;
  }

  private rebuild(ids: NodeId[]): void {
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [ids[i], ids[j]] = [ids[j] as NodeId, ids[i] as NodeId];
    }
    this.order = ids;
    this.present.clear();
    for (const id of ids) this.present.add(id);
    this.index = 0;
  }
}
