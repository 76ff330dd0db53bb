// Partitions of a history whose calls may touch several keys (multi-key transactions, range
// reads, prefix deletes): keys touched by one call belong together, so a partition is a
// connected component of keys (union-find), and every call goes to its keys' component.
import type { Operation } from '../core/index.js';
import type { PreparedCall } from './model.js';

/** One operation and what the model made of it. */
export interface PreparedOp<C> {
  readonly op: Operation;
  readonly prepared: PreparedCall<C>;
}

/** A group of calls over a set of keys that no call outside it touches. */
export interface Component<C> {
  /** The key of the component that appeared first in the history: the partition's name. */
  readonly key: string;
  /** Every key of the component, in order of first appearance. */
  readonly keys: readonly string[];
  readonly items: PreparedOp<C>[];
}

/** The keys a call names: `keys`, else its `key` (a call over a range may name none). */
function namedKeys<C>(prepared: PreparedCall<C>): readonly string[] {
  return prepared.keys ?? [prepared.key];
}

/** Whether a call may join partitions: it touches a key other than its own, or a range of keys. */
export function joinsKeys<C>(prepared: PreparedCall<C>): boolean {
  if (prepared.covers !== undefined) return true;
  const keys = prepared.keys;
  return keys !== undefined && (keys.length !== 1 || keys[0] !== prepared.key);
}

class UnionFind {
  private readonly parent: number[] = [];

  add(): number {
    this.parent.push(this.parent.length);
    return this.parent.length - 1;
  }

  find(x: number): number {
    let root = x;
    while (this.parent[root] !== root) root = this.parent[root]!;
    // path compression: every node on the way points at the root (bounded by the path's length)
    while (this.parent[x] !== root) {
      const next = this.parent[x]!;
      this.parent[x] = root;
      x = next;
    }
    return root;
  }

  /** Joins the sets of a and b; the smaller id becomes the root, so a root is its set's first key. */
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra < rb) this.parent[rb] = ra;
    else if (rb < ra) this.parent[ra] = rb;
  }
}

/**
 * Groups calls by connected components of the keys they touch. A call touches the keys it names
 * and, through `covers`, every key named by any call of the history that its range covers (the
 * store starts empty, so a key no call names never holds a value a range could see). A call that
 * touches no key at all (a range over nothing) is grouped by its `key`, which is not taken as a
 * key of the store. Components come in order of their first call; costs O(calls + range calls × keys).
 */
export function componentsOf<C>(items: readonly PreparedOp<C>[]): Component<C>[] {
  const ids = new Map<string, number>();
  const names: string[] = [];
  const sets = new UnionFind();
  const idOf = (key: string): number => {
    let id = ids.get(key);
    if (id === undefined) {
      id = sets.add();
      ids.set(key, id);
      names.push(key);
    }
    return id;
  };
  for (const { prepared } of items) for (const key of namedKeys(prepared)) idOf(key);
  // the keys of the store: a range covers these, never the name of another range's group
  const keyCount = names.length;
  const anchors = items.map(({ prepared }) => {
    const touched = namedKeys(prepared).map(idOf);
    const covers = prepared.covers;
    if (covers !== undefined) for (let id = 0; id < keyCount; id++) if (covers(names[id]!)) touched.push(id);
    const anchor = touched[0] ?? idOf(prepared.key);
    for (const id of touched) sets.union(anchor, id);
    return anchor;
  });
  const members = new Map<number, string[]>();
  for (let id = 0; id < keyCount; id++) {
    const root = sets.find(id);
    const list = members.get(root);
    if (list === undefined) members.set(root, [names[id]!]);
    else list.push(names[id]!);
  }
  const byRoot = new Map<number, Component<C>>();
  const components: Component<C>[] = [];
  items.forEach((item, k) => {
    const root = sets.find(anchors[k]!);
    let component = byRoot.get(root);
    if (component === undefined) {
      component = { key: names[root]!, keys: members.get(root) ?? [], items: [] };
      byRoot.set(root, component);
      components.push(component);
    }
    component.items.push(item);
  });
  return components;
}
