// RGA, the Replicated Growable Array (Roh et al. 2011), as a delta-state sequence CRDT for lists
// and text: a pure CrdtType over a plain sorted array of elements, plus RgaDocument, a mutable
// replica with an index that makes each edit O(log n) amortized on long editing traces.
//
// Model. Every element has an id (replica, counter), the id of the element it was inserted after
// (its parent; null = the head), a value and a tombstone flag. The elements form a tree under the
// head; siblings are ordered by id descending (larger counter first, then larger replica id) and
// the sequence is the tree's pre-order walk. Counters are Lamport times (one more than any counter
// the replica has seen), so an element's counter exceeds its parent's — decode enforces it, which
// also rules out cycles — and a new element is the first child of its parent: it lands right
// after it, and concurrent inserts at one place come out deterministically, latest first.
//
// State. RgaState is the set of elements as an array sorted by (replica, counter); join is union
// with removed = OR. A delete delta carries the whole element (value and parent) with removed=true,
// so it joins correctly even before the insert arrives. A delta's parent is usually not in the
// delta, so a state may name parents it does not hold: such elements are kept (joins stay exact)
// but stay invisible until the missing ancestors arrive.
//
// Complexity (n elements, tombstones included; k items in one call):
// - pure API: join O(n + m); value/rgaText O(n log n) (sort, then walk the tree); each pure
//   mutator O(n log n) (it reads the visible order) and returns an O(k) delta; decode O(n log n).
// - RgaDocument: insert/insertText O((k + 1) log n) amortized, delete O((k + 1) log n + skipped
//   tombstones), apply of a delta of k elements O(k (log n + s)) where s is the number of elements
//   of larger concurrent siblings' subtrees skipped (0 for causally ordered typing), length O(1),
//   text()/values() O(n), state() O(n log n). Positions come from a splay tree keyed by position
//   whose nodes count visible elements in their subtrees (sequential typing touches only the top
//   of the tree, O(1) amortized per character); a doubly linked list gives neighbours and a map
//   by id (replica, then counter) finds parents. Elements whose parent has not arrived wait in a
//   map by that parent's id and are placed when it is.

import { failCrdt } from './errors.js';
import { MAX_ELEMENTS, MAX_TEXT_LENGTH, type CrdtType, type ReplicaId } from './types.js';

/** One element: [replica, counter, parentReplica | null (head), parentCounter (0 for head), value, removed]. */
export type RgaElement = readonly [
  replica: ReplicaId,
  counter: number,
  parentReplica: ReplicaId | null,
  parentCounter: number,
  value: string,
  removed: boolean,
];

/** The elements, sorted by (replica, counter), each id once. */
export type RgaState = readonly RgaElement[];

// ---------------------------------------------------------------------------------------------
// ids and element records

/** Orders ids by counter, then replica id: siblings are visited in the descending order. */
function compareIds(aReplica: string, aCounter: number, bReplica: string, bCounter: number): number {
  if (aCounter !== bCounter) return aCounter - bCounter;
  return aReplica < bReplica ? -1 : aReplica > bReplica ? 1 : 0;
}

/** The storage order of a state: by replica, then counter. */
function compareStorage(a: RgaElement, b: RgaElement): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  return a[1] - b[1];
}

function idKey(replica: string, counter: number): string {
  return `${counter}:${replica}`;
}

function sameContent(a: RgaElement, b: RgaElement): boolean {
  return a[2] === b[2] && a[3] === b[3] && a[4] === b[4];
}

function conflict(e: RgaElement): never {
  return failCrdt('CRDT_BAD_STATE', `rga: two different elements share the id ${e[1]}@${e[0]} (a replica id reused?)`);
}

/** Merges two storage-sorted runs: union, removed = OR; the same id with other content is refused. */
function mergeSorted(a: RgaState, b: RgaState): RgaElement[] {
  const out: RgaElement[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as RgaElement;
    const y = b[j] as RgaElement;
    const order = compareStorage(x, y);
    if (order < 0) {
      out.push(x);
      i++;
    } else if (order > 0) {
      out.push(y);
      j++;
    } else {
      if (!sameContent(x, y)) conflict(x);
      out.push(x[5] || !y[5] ? x : y);
      i++;
      j++;
    }
  }
  for (; i < a.length; i++) out.push(a[i] as RgaElement);
  for (; j < b.length; j++) out.push(b[j] as RgaElement);
  return out;
}

function maxCounterOf(state: RgaState): number {
  let max = 0;
  for (const e of state) if (e[1] > max) max = e[1];
  return max;
}

// ---------------------------------------------------------------------------------------------
// the sequence of a plain state

/** The visible elements in sequence order: a pre-order walk of the tree, siblings by id descending. */
function visibleElements(state: RgaState): RgaElement[] {
  const byIdDescending = [...state].sort((a, b) => compareIds(b[0], b[1], a[0], a[1]));
  const children = new Map<string, RgaElement[]>();
  const HEAD = '';
  for (const e of byIdDescending) {
    const parent = e[2] === null ? HEAD : idKey(e[2], e[3]);
    const list = children.get(parent);
    if (list) list.push(e);
    else children.set(parent, [e]);
  }
  const out: RgaElement[] = [];
  // an explicit stack (children pushed in reverse) so a long chain of typed characters cannot overflow the call stack
  const stack: RgaElement[] = [...(children.get(HEAD) ?? [])].reverse();
  while (stack.length > 0) {
    const e = stack.pop() as RgaElement;
    if (!e[5]) out.push(e);
    const kids = children.get(idKey(e[0], e[1]));
    if (kids) for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i] as RgaElement);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// argument checks (a mutator's bad argument is CRDT_INVALID_ARGUMENT)

function checkReplica(replica: unknown): asserts replica is ReplicaId {
  if (typeof replica !== 'string' || replica.length === 0 || replica.length > MAX_TEXT_LENGTH) {
    failCrdt('CRDT_INVALID_ARGUMENT', `rga: the replica id must be a non-empty string of at most ${MAX_TEXT_LENGTH} characters`);
  }
}

function checkIndex(index: unknown, max: number, what: string): asserts index is number {
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > max) {
    failCrdt('CRDT_INVALID_ARGUMENT', `rga: ${what} must be an integer in 0..${max}, got ${String(index)}`);
  }
}

function checkValue(value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length > MAX_TEXT_LENGTH) {
    failCrdt('CRDT_INVALID_ARGUMENT', `rga: a value must be a string of at most ${MAX_TEXT_LENGTH} characters`);
  }
}

/** Splits text into items by code point, so a surrogate pair stays one element. */
function textItems(text: unknown): string[] {
  checkValue(text);
  return Array.from(text);
}

function checkRoom(elements: number, adding: number): void {
  if (elements + adding > MAX_ELEMENTS) {
    failCrdt('CRDT_INVALID_ARGUMENT', `rga: a state holds at most ${MAX_ELEMENTS} elements (tombstones included)`);
  }
}

/** New elements chained one after another, the first after `parent`, with counters from `counter`. */
function chain(replica: string, counter: number, parent: RgaElement | null, items: readonly string[]): RgaElement[] {
  const out: RgaElement[] = [];
  let parentReplica = parent ? parent[0] : null;
  let parentCounter = parent ? parent[1] : 0;
  for (const [i, value] of items.entries()) {
    out.push([replica, counter + i, parentReplica, parentCounter, value, false]);
    parentReplica = replica;
    parentCounter = counter + i;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// pure mutators

/** Delta inserting the items of `items` at `index` of the visible sequence, in order. */
function insertItems(state: RgaState, replica: ReplicaId, index: number, items: readonly string[]): RgaState {
  checkReplica(replica);
  const visible = visibleElements(state);
  checkIndex(index, visible.length, 'the index');
  checkRoom(state.length, items.length);
  const parent = index === 0 ? null : (visible[index - 1] as RgaElement);
  return chain(replica, maxCounterOf(state) + 1, parent, items);
}

/** Delta inserting one item (a character, or any string) at `index` (0..length) of the visible sequence. */
export function rgaInsertAt(state: RgaState, replica: ReplicaId, index: number, value: string): RgaState {
  checkValue(value);
  return insertItems(state, replica, index, [value]);
}

/** Delta inserting `text` at `index`, one element per code point, each after the previous one. */
export function rgaInsertTextAt(state: RgaState, replica: ReplicaId, index: number, text: string): RgaState {
  return insertItems(state, replica, index, textItems(text));
}

/** Delta removing `count` visible items from `index`: the elements themselves with removed=true. */
export function rgaDeleteAt(state: RgaState, index: number, count = 1): RgaState {
  const visible = visibleElements(state);
  checkIndex(index, visible.length, 'the index');
  checkIndex(count, visible.length - index, 'the count');
  return visible
    .slice(index, index + count)
    .map((e): RgaElement => [e[0], e[1], e[2], e[3], e[4], true])
    .sort(compareStorage);
}

/** The visible items joined into one string. */
export function rgaText(state: RgaState): string {
  return visibleElements(state)
    .map((e) => e[4])
    .join('');
}

// ---------------------------------------------------------------------------------------------
// decode: an untrusted state or delta, field by field

function bad(message: string): never {
  return failCrdt('CRDT_BAD_STATE', `rga: ${message}`);
}

function isCounter(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isReplicaId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_TEXT_LENGTH;
}

function decodeElement(raw: unknown, at: number): RgaElement {
  if (!Array.isArray(raw) || raw.length !== 6) bad(`element ${at} is not an array of 6 fields`);
  const [replica, counter, parentReplica, parentCounter, value, removed] = raw as unknown[];
  if (!isReplicaId(replica)) bad(`element ${at}: the replica id must be a non-empty string of at most ${MAX_TEXT_LENGTH} characters`);
  if (!isCounter(counter)) bad(`element ${at}: the counter must be a positive safe integer`);
  if (parentReplica === null) {
    if (parentCounter !== 0) bad(`element ${at}: an element after the head has parent counter 0`);
  } else {
    if (!isReplicaId(parentReplica)) bad(`element ${at}: the parent replica id must be null or a non-empty string`);
    if (!isCounter(parentCounter)) bad(`element ${at}: the parent counter must be a positive safe integer`);
    // Lamport counters: a parent is always older; this also makes an element its own ancestor impossible
    if (parentCounter >= counter) bad(`element ${at}: its counter must exceed its parent's`);
  }
  if (typeof value !== 'string' || value.length > MAX_TEXT_LENGTH) bad(`element ${at}: the value must be a string of at most ${MAX_TEXT_LENGTH} characters`);
  if (typeof removed !== 'boolean') bad(`element ${at}: removed must be a boolean`);
  return [replica, counter, parentReplica, parentCounter, value, removed];
}

function decodeState(raw: unknown): RgaState {
  if (!Array.isArray(raw)) bad('a state is an array of elements');
  if (raw.length > MAX_ELEMENTS) bad(`a state holds at most ${MAX_ELEMENTS} elements`);
  // an index loop, not map: a sparse array's holes are checked (as undefined) rather than skipped
  const elements: RgaElement[] = [];
  for (let i = 0; i < raw.length; i++) elements.push(decodeElement(raw[i], i));
  elements.sort(compareStorage);
  // normalise: the same element listed twice is one (removed = OR); the same id with other content is refused
  const out: RgaElement[] = [];
  for (const e of elements) {
    const last = out[out.length - 1];
    if (last === undefined || compareStorage(last, e) !== 0) out.push(e);
    else if (!sameContent(last, e)) bad(`two different elements share the id ${e[1]}@${e[0]}`);
    else if (e[5]) out[out.length - 1] = e;
  }
  return out;
}

export const RGA: CrdtType<RgaState, string[]> = {
  name: 'rga',
  empty: () => [],
  join: (a, b) => mergeSorted(a, b),
  value: (state) => visibleElements(state).map((e) => e[4]),
  decode: decodeState,
  canonical: (state) => JSON.stringify(state),
};

// ---------------------------------------------------------------------------------------------
// RgaDocument: a mutable replica with a position index

/** An element of a document: the record, its place in the sequence (list and splay tree). */
interface DocNode {
  element: RgaElement;
  removed: boolean;
  /** In the sequence (its ancestors all arrived); otherwise waiting in `pending`. */
  placed: boolean;
  prev: DocNode | null;
  next: DocNode | null;
  up: DocNode | null;
  left: DocNode | null;
  right: DocNode | null;
  /** Visible elements in this node's subtree of the splay tree. */
  size: number;
}

/** Nodes by id: per replica, then by counter (no key strings built on the hot path). */
class NodesById {
  private readonly byReplica = new Map<string, Map<number, DocNode>>();
  size = 0;

  get(replica: string, counter: number): DocNode | undefined {
    return this.byReplica.get(replica)?.get(counter);
  }

  add(node: DocNode): void {
    const [replica, counter] = node.element;
    let ofReplica = this.byReplica.get(replica);
    if (ofReplica === undefined) {
      ofReplica = new Map();
      this.byReplica.set(replica, ofReplica);
    }
    ofReplica.set(counter, node);
    this.size++;
  }

  *values(): IterableIterator<DocNode> {
    for (const ofReplica of this.byReplica.values()) yield* ofReplica.values();
  }
}

function subtreeSize(n: DocNode | null): number {
  return n === null ? 0 : n.size;
}

function recount(n: DocNode): void {
  n.size = subtreeSize(n.left) + subtreeSize(n.right) + (n.removed ? 0 : 1);
}

/** Is `a` visited before `b` when both are children of one parent? (larger id first) */
function comesBefore(a: RgaElement, b: RgaElement): boolean {
  return compareIds(a[0], a[1], b[0], b[1]) > 0;
}

/**
 * One replica's sequence, changed in place. Local edits return the delta to send (an RgaState);
 * `apply` joins a delta or a whole state from a peer (checked with RGA.decode first if untrusted).
 */
export class RgaDocument {
  private readonly nodes = new NodesById();
  /** Elements whose parent has not arrived, by the parent's key. */
  private readonly pending = new Map<string, DocNode[]>();
  private root: DocNode | null = null;
  private first: DocNode | null = null;
  private maxCounter = 0;

  constructor(
    readonly replica: ReplicaId,
    initial: RgaState = [],
  ) {
    checkReplica(replica);
    this.apply(initial);
  }

  /** The number of visible items. */
  get length(): number {
    return subtreeSize(this.root);
  }

  /** Inserts one item at `index` (0..length); returns the delta. */
  insert(index: number, value: string): RgaState {
    checkValue(value);
    return this.insertItems(index, [value]);
  }

  /** Inserts `text` at `index`, one element per code point; returns the delta. */
  insertText(index: number, text: string): RgaState {
    return this.insertItems(index, textItems(text));
  }

  /** Removes `count` visible items from `index`; returns the delta (the elements, removed). */
  delete(index: number, count = 1): RgaState {
    checkIndex(index, this.length, 'the index');
    checkIndex(count, this.length - index, 'the count');
    const delta: RgaElement[] = [];
    let node = count > 0 ? this.nodeAt(index) : null;
    while (node !== null && delta.length < count) {
      const next = node.next;
      if (!node.removed) {
        this.markRemoved(node);
        const e = node.element;
        delta.push([e[0], e[1], e[2], e[3], e[4], true]);
      }
      node = next;
    }
    return delta.sort(compareStorage);
  }

  /** Joins a delta or a state in. A conflicting element (same id, other content) throws CRDT_BAD_STATE and changes nothing. */
  apply(delta: RgaState): void {
    for (const e of delta) {
      const known = this.nodes.get(e[0], e[1]);
      if (known !== undefined && !sameContent(known.element, e)) conflict(e);
    }
    for (const e of delta) this.applyElement(e);
  }

  /** The visible items in order. */
  values(): string[] {
    const out: string[] = [];
    for (let n = this.first; n !== null; n = n.next) if (!n.removed) out.push(n.element[4]);
    return out;
  }

  text(): string {
    return this.values().join('');
  }

  /** The plain state (every element, tombstones and not-yet-placed ones included). */
  state(): RgaState {
    const out: RgaElement[] = [];
    for (const n of this.nodes.values()) {
      const e = n.element;
      out.push(e[5] === n.removed ? e : [e[0], e[1], e[2], e[3], e[4], n.removed]);
    }
    return out.sort(compareStorage);
  }

  private insertItems(index: number, items: readonly string[]): RgaState {
    checkIndex(index, this.length, 'the index');
    checkRoom(this.nodes.size, items.length);
    const parent = index === 0 ? null : this.nodeAt(index - 1).element;
    const delta = chain(this.replica, this.maxCounter + 1, parent, items);
    // each new element's counter is the largest yet, so it lands right after its parent
    for (const e of delta) this.applyElement(e);
    return delta;
  }

  private applyElement(e: RgaElement): void {
    const known = this.nodes.get(e[0], e[1]);
    if (known !== undefined) {
      if (e[5] && !known.removed) this.markRemoved(known);
      return;
    }
    const node: DocNode = { element: e, removed: e[5], placed: false, prev: null, next: null, up: null, left: null, right: null, size: 0 };
    this.nodes.add(node);
    if (e[1] > this.maxCounter) this.maxCounter = e[1];
    const parent = e[2] === null ? null : this.nodes.get(e[2], e[3]);
    if (parent === undefined || (parent !== null && !parent.placed)) {
      const waitingFor = idKey(e[2] as string, e[3]);
      const waiting = this.pending.get(waitingFor);
      if (waiting) waiting.push(node);
      else this.pending.set(waitingFor, [node]);
      return;
    }
    this.placeWithWaiting(node, parent);
  }

  /** Places `node` after `parent`, then every element that was waiting for it (or for them). */
  private placeWithWaiting(node: DocNode, parent: DocNode | null): void {
    const todo: [DocNode, DocNode | null][] = [[node, parent]];
    while (todo.length > 0) {
      const [n, p] = todo.pop() as [DocNode, DocNode | null];
      this.place(n, p);
      if (this.pending.size === 0) continue;
      const key = idKey(n.element[0], n.element[1]);
      const waiting = this.pending.get(key);
      if (waiting === undefined) continue;
      this.pending.delete(key);
      for (const w of waiting) todo.push([w, n]);
    }
  }

  /**
   * RGA's integration: after the parent, skip the elements that come before the new one (larger
   * siblings and, since descendants have larger counters, their whole subtrees); stop at the first
   * smaller id, which is a smaller sibling or the end of the parent's subtree.
   */
  private place(node: DocNode, parent: DocNode | null): void {
    let after = parent;
    let next = parent === null ? this.first : parent.next;
    while (next !== null && comesBefore(next.element, node.element)) {
      after = next;
      next = next.next;
    }
    this.linkAfter(after, node);
  }

  /** Puts `node` right after `after` (null: at the front) in the list and the splay tree. */
  private linkAfter(after: DocNode | null, node: DocNode): void {
    const next = after === null ? this.first : after.next;
    node.prev = after;
    node.next = next;
    if (after === null) this.first = node;
    else after.next = node;
    if (next !== null) next.prev = node;
    node.placed = true;
    node.size = node.removed ? 0 : 1;
    // in-order position: the right child of `after` if free, else the left child of its successor
    // (which, being the leftmost node of `after`'s right subtree, has no left child)
    if (this.root === null) this.root = node;
    else if (after !== null && after.right === null) this.attach(after, node, 'right');
    else this.attach(next as DocNode, node, 'left');
    this.splay(node);
  }

  private attach(parent: DocNode, node: DocNode, side: 'left' | 'right'): void {
    parent[side] = node;
    node.up = parent;
  }

  private markRemoved(node: DocNode): void {
    node.removed = true;
    if (!node.placed) return;
    this.splay(node);
    recount(node);
  }

  /** The visible node at `index` (0 <= index < length), splayed to the root. */
  private nodeAt(index: number): DocNode {
    let n = this.root;
    let k = index;
    while (n !== null) {
      const leftSize = subtreeSize(n.left);
      if (k < leftSize) n = n.left;
      else if (k === leftSize && !n.removed) break;
      else {
        k -= leftSize + (n.removed ? 0 : 1);
        n = n.right;
      }
    }
    if (n === null) return failCrdt('CRDT_INVALID_ARGUMENT', `rga: no visible item at ${index}`);
    this.splay(n);
    return n;
  }

  private rotate(x: DocNode): void {
    const p = x.up as DocNode;
    const g = p.up;
    if (p.left === x) {
      p.left = x.right;
      if (x.right !== null) x.right.up = p;
      x.right = p;
    } else {
      p.right = x.left;
      if (x.left !== null) x.left.up = p;
      x.left = p;
    }
    p.up = x;
    x.up = g;
    if (g === null) this.root = x;
    else if (g.left === p) g.left = x;
    else g.right = x;
    recount(p);
    recount(x);
  }

  /** Moves `x` to the root; every former ancestor is recounted on the way, so counts stay exact. */
  private splay(x: DocNode): void {
    while (x.up !== null) {
      const p = x.up;
      const g = p.up;
      if (g !== null) this.rotate((g.left === p) === (p.left === x) ? p : x);
      this.rotate(x);
    }
  }
}
