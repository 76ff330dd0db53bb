// One side of an anti-entropy exchange between two replicas of a partition, sans I/O: the host
// carries the messages. The sides take turns descending one level at a time, only into subtrees
// whose hashes differ, then trade the entries of the differing leaves; both end with one key list.
import { assertInvariant } from '../../core/assert.js';
import { failMerkle } from './errors.js';
import { EMPTY_HASH, entryHash, HASH_BYTES, hashToText, innerHash, textToHash, xorInto } from './hash.js';
import { decodeMessage, limitsOf, type ExchangeLimits, type MerkleDiffMessage, type MerkleDoneMessage, type MerkleEntriesMessage, type MerkleHashesMessage, type MerkleMessage, type MerkleRootMessage } from './messages.js';
import { sameShape } from './shape.js';
import type { MerkleTree } from './tree.js';

export type ExchangeRole = 'initiator' | 'responder';

/** A key the replicas disagree on, with this side's digest and the peer's (null: that side lacks the key). */
export interface KeyDifference {
  readonly key: string;
  readonly local: string | null;
  readonly remote: string | null;
}

export interface ExchangeResult {
  /** Ordered by leaf, then key: the same list on both sides, local and remote swapped. */
  readonly differences: readonly KeyDifference[];
  /** False when a side left differing subtrees out to stay within its limits: repair these, then run again. */
  readonly complete: boolean;
}

/** What this side sent and received: node hashes (root included) and entries (key-digest pairs of entries and diff messages). */
export interface ExchangeStats {
  readonly messagesSent: number;
  readonly messagesReceived: number;
  readonly hashesSent: number;
  readonly hashesReceived: number;
  readonly entriesSent: number;
  readonly entriesReceived: number;
}

type Phase =
  | { readonly step: 'idle' }
  /** This side sent the hashes of `sent` (node -> hash) at `level` and awaits what differs below them. */
  | { readonly step: 'sent-hashes'; readonly level: number; readonly sent: ReadonlyMap<number, string> }
  /** This side sent its entries (key -> digest) of `leaves` and awaits the differing keys. */
  | { readonly step: 'sent-entries'; readonly leaves: ReadonlySet<number>; readonly sent: ReadonlyMap<string, string> }
  | { readonly step: 'ended'; readonly result: ExchangeResult }
  | { readonly step: 'failed'; readonly error: unknown };

export class AntiEntropySession {
  private phase: Phase = { step: 'idle' };
  private readonly limits: ExchangeLimits;
  /** This side left differing nodes, leaves or keys out (limits); or the peer said it did. */
  private truncated = false;
  private readonly counts = { messagesSent: 0, messagesReceived: 0, hashesSent: 0, hashesReceived: 0, entriesSent: 0, entriesReceived: 0 };

  /**
   * A session over `tree`. The tree may change during the exchange (writes keep coming): each
   * step reads it as it is then, and a change the exchange misses shows in the next one. Both
   * sides must use the same limits (the defaults unless both hosts change them).
   */
  constructor(
    private readonly tree: MerkleTree,
    readonly role: ExchangeRole,
    limits: Partial<ExchangeLimits> = {},
  ) {
    this.limits = limitsOf(limits);
  }

  /** The initiator's first message: its shape and root hash. */
  start(): MerkleRootMessage {
    if (this.role !== 'initiator' || this.phase.step !== 'idle') failMerkle('MERKLE_SESSION_STATE', 'only an initiator starts, and only once');
    const hash = this.tree.rootHash();
    this.phase = { step: 'sent-hashes', level: 0, sent: new Map([[0, hash]]) };
    return this.send({ kind: 'merkle/root', shape: this.tree.shape, hash });
  }

  /**
   * Takes the peer's message (untrusted, e.g. parsed JSON) and returns the reply to send, or null
   * when the exchange has ended. A bad message throws a MerkleError and fails the session; the
   * host may tell the peer with abortMessageFor(error).
   */
  receive(value: unknown): MerkleMessage | null {
    if (this.phase.step === 'failed') failMerkle('MERKLE_SESSION_STATE', 'the session has failed');
    if (this.phase.step === 'ended') failMerkle('MERKLE_UNEXPECTED_MESSAGE', 'the exchange has ended');
    try {
      const message = decodeMessage(value, this.limits);
      this.counts.messagesReceived++;
      const reply = this.handle(message);
      return reply === null ? null : this.send(reply);
    } catch (err) {
      this.phase = { step: 'failed', error: err };
      throw err;
    }
  }

  get done(): boolean {
    return this.phase.step === 'ended';
  }

  get failed(): boolean {
    return this.phase.step === 'failed';
  }

  /** The keys that differ; throws MERKLE_SESSION_STATE before the exchange has ended. */
  result(): ExchangeResult {
    if (this.phase.step !== 'ended') failMerkle('MERKLE_SESSION_STATE', `the exchange has not ended (${this.phase.step})`);
    return this.phase.result;
  }

  stats(): ExchangeStats {
    return { ...this.counts };
  }

  private handle(message: MerkleMessage): MerkleMessage | null {
    switch (message.kind) {
      case 'merkle/abort':
        return failMerkle('MERKLE_PEER_ABORTED', `the peer aborted: ${message.code}: ${message.reason}`);
      case 'merkle/root':
        return this.onRoot(message);
      case 'merkle/hashes':
        return this.onHashes(message);
      case 'merkle/entries':
        return this.onEntries(message);
      case 'merkle/diff':
        return this.onDiff(message);
      case 'merkle/done':
        if (this.phase.step !== 'sent-hashes') failMerkle('MERKLE_UNEXPECTED_MESSAGE', `done arrived while ${this.phase.step}`);
        this.truncated ||= message.truncated;
        this.end([]);
        return null;
    }
  }

  private onRoot(message: MerkleRootMessage): MerkleMessage {
    if (this.role !== 'responder' || this.phase.step !== 'idle') failMerkle('MERKLE_UNEXPECTED_MESSAGE', `a root arrived at the ${this.role} while ${this.phase.step}`);
    const { shape } = this.tree;
    if (!sameShape(message.shape, shape)) failMerkle('MERKLE_SHAPE_MISMATCH', `the peer's tree is ${JSON.stringify(message.shape)}, this side's ${JSON.stringify(shape)}`);
    this.counts.hashesReceived++;
    if (message.hash === this.tree.rootHash()) return this.endWithDone();
    return this.sendChildren(0, [0]);
  }

  private onHashes(message: MerkleHashesMessage): MerkleMessage {
    const { fanout, depth } = this.tree.shape;
    const phase = this.phase;
    if (phase.step !== 'sent-hashes' || phase.level !== message.level - 1 || message.level > depth) {
      failMerkle('MERKLE_UNEXPECTED_MESSAGE', `hashes of level ${message.level} arrived while ${phase.step}${phase.step === 'sent-hashes' ? ` at level ${phase.level}` : ''}`);
    }
    if (message.hashes.length !== message.parents.length * fanout) failMerkle('MERKLE_BAD_MESSAGE', `${message.parents.length} parents need ${message.parents.length * fanout} hashes, got ${message.hashes.length}`);
    message.parents.forEach((parent, i) => checkParent(phase.sent, parent, message.hashes.slice(i * fanout, (i + 1) * fanout)));
    this.counts.hashesReceived += message.hashes.length;
    this.truncated ||= message.truncated;
    const differing: number[] = [];
    message.parents.forEach((parent, i) => {
      for (let c = 0; c < fanout; c++) {
        const child = parent * fanout + c;
        if (message.hashes[i * fanout + c] !== this.tree.nodeHash(message.level, child)) differing.push(child);
      }
    });
    if (differing.length === 0) return this.endWithDone();
    return message.level < depth ? this.sendChildren(message.level, differing) : this.sendEntries(differing);
  }

  private onEntries(message: MerkleEntriesMessage): MerkleMessage {
    const phase = this.phase;
    if (phase.step !== 'sent-hashes' || phase.level !== this.tree.shape.depth) failMerkle('MERKLE_UNEXPECTED_MESSAGE', `entries arrived while ${phase.step}`);
    for (const leaf of message.leaves) if (!phase.sent.has(leaf)) failMerkle('MERKLE_BAD_MESSAGE', `leaf ${leaf} is not one whose hash this side sent`);
    const theirs = this.groupByLeaf(message.entries, new Set(message.leaves));
    for (const leaf of message.leaves) checkLeaf(phase.sent, leaf, theirs.get(leaf) as Map<string, string>);
    this.counts.entriesReceived += message.entries.length;
    this.truncated ||= message.truncated;
    let differences = message.leaves.flatMap((leaf) => this.leafDifferences(leaf, theirs.get(leaf) as Map<string, string>));
    if (differences.length > this.limits.maxEntriesPerMessage) {
      differences = differences.slice(0, this.limits.maxEntriesPerMessage);
      this.truncated = true;
    }
    const reply: MerkleDiffMessage = { kind: 'merkle/diff', keys: differences.map((d) => [d.key, d.local] as const), truncated: this.truncated };
    this.end(differences);
    return reply;
  }

  private onDiff(message: MerkleDiffMessage): null {
    const phase = this.phase;
    if (phase.step !== 'sent-entries') failMerkle('MERKLE_UNEXPECTED_MESSAGE', `a diff arrived while ${phase.step}`);
    const differences: KeyDifference[] = [];
    let previous: { leaf: number; key: string } | undefined;
    for (const [key, remote] of message.keys) {
      const leaf = this.tree.leafOf(key);
      if (leaf === undefined || !phase.leaves.has(leaf)) failMerkle('MERKLE_BAD_MESSAGE', `key ${JSON.stringify(key.slice(0, 60))} is in none of the leaves this side listed`);
      if (previous !== undefined && (leaf < previous.leaf || (leaf === previous.leaf && key <= previous.key))) failMerkle('MERKLE_BAD_MESSAGE', 'diff keys are ordered by leaf then key, without duplicates');
      const local = phase.sent.get(key) ?? null;
      if (local === remote) failMerkle('MERKLE_BAD_MESSAGE', `key ${JSON.stringify(key.slice(0, 60))} is listed as differing but has the same digest on both sides`);
      differences.push({ key, local, remote });
      previous = { leaf, key };
    }
    this.counts.entriesReceived += message.keys.length;
    this.truncated ||= message.truncated;
    this.end(differences);
    return null;
  }

  /** Sends the hashes of the children of `parents` (differing nodes at `level`), as many parents as the limit allows. */
  private sendChildren(level: number, parents: readonly number[]): MerkleHashesMessage {
    const { fanout } = this.tree.shape;
    const budget = Math.floor(this.limits.maxHashesPerMessage / fanout);
    if (parents.length > budget) this.truncated = true;
    const kept = parents.slice(0, budget);
    const sent = new Map<number, string>();
    const hashes: string[] = [];
    for (const parent of kept) {
      this.tree.childHashes(level, parent).forEach((hash, c) => {
        sent.set(parent * fanout + c, hash);
        hashes.push(hash);
      });
    }
    this.phase = { step: 'sent-hashes', level: level + 1, sent };
    return { kind: 'merkle/hashes', level: level + 1, parents: kept, hashes, truncated: this.truncated };
  }

  /** Sends this side's entries of the differing `leaves`, in order, as many whole leaves as the limit allows. */
  private sendEntries(leaves: readonly number[]): MerkleMessage {
    const kept: number[] = [];
    const entries: [string, string][] = [];
    for (const leaf of leaves) {
      if (entries.length + this.tree.leafSize(leaf) > this.limits.maxEntriesPerMessage) {
        this.truncated = true;
        break;
      }
      kept.push(leaf);
      entries.push(...this.tree.leafEntries(leaf));
    }
    // not even the first leaf fits: nothing can be compared in this shape
    if (kept.length === 0) return this.endWithDone();
    this.phase = { step: 'sent-entries', leaves: new Set(kept), sent: new Map(entries) };
    return { kind: 'merkle/entries', leaves: kept, entries, truncated: this.truncated };
  }

  /** The peer's entries by leaf (every listed leaf present, maybe empty); rejects keys outside the listed leaves and repeats. */
  private groupByLeaf(entries: MerkleEntriesMessage['entries'], listed: ReadonlySet<number>): Map<number, Map<string, string>> {
    const groups = new Map<number, Map<string, string>>([...listed].map((leaf) => [leaf, new Map<string, string>()]));
    for (const [key, digest] of entries) {
      const leaf = this.tree.leafOf(key);
      const group = leaf === undefined ? undefined : groups.get(leaf);
      if (group === undefined) failMerkle('MERKLE_BAD_MESSAGE', `key ${JSON.stringify(key.slice(0, 60))} is in none of the leaves listed`);
      if (group.has(key)) failMerkle('MERKLE_BAD_MESSAGE', `key ${JSON.stringify(key.slice(0, 60))} is listed twice`);
      group.set(key, digest);
    }
    return groups;
  }

  /** The keys of `leaf` whose digests differ between this side and `theirs`, sorted by key. */
  private leafDifferences(leaf: number, theirs: ReadonlyMap<string, string>): KeyDifference[] {
    const ours = new Map(this.tree.leafEntries(leaf));
    const keys = [...new Set([...ours.keys(), ...theirs.keys()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const out: KeyDifference[] = [];
    for (const key of keys) {
      const local = ours.get(key) ?? null;
      const remote = theirs.get(key) ?? null;
      if (local !== remote) out.push({ key, local, remote });
    }
    return out;
  }

  private end(differences: readonly KeyDifference[]): void {
    this.phase = { step: 'ended', result: { differences, complete: !this.truncated } };
  }

  /** Ends with no keys found (nothing differed among the nodes compared, or no leaf fit the limits) and tells the peer so. */
  private endWithDone(): MerkleDoneMessage {
    this.end([]);
    return { kind: 'merkle/done', truncated: this.truncated };
  }

  private send<M extends MerkleMessage>(message: M): M {
    this.counts.messagesSent++;
    if (message.kind === 'merkle/root') this.counts.hashesSent++;
    if (message.kind === 'merkle/hashes') this.counts.hashesSent += message.hashes.length;
    if (message.kind === 'merkle/entries') this.counts.entriesSent += message.entries.length;
    if (message.kind === 'merkle/diff') this.counts.entriesSent += message.keys.length;
    return message;
  }
}

/** A named parent must be a node this side sent, and its children as sent must not hash to what this side sent for it (else nothing differs there). */
function checkParent(sent: ReadonlyMap<number, string>, parent: number, children: readonly string[]): void {
  const ours = sent.get(parent);
  if (ours === undefined) failMerkle('MERKLE_BAD_MESSAGE', `node ${parent} is not one whose hash this side sent`);
  if (hashToText(innerHash(children.map(textToHash))) === ours) failMerkle('MERKLE_BAD_MESSAGE', `node ${parent} is named as differing, but its children hash to this side's hash`);
}

/** A listed leaf's entries as sent must not hash to this side's leaf hash. */
function checkLeaf(sent: ReadonlyMap<number, string>, leaf: number, entries: ReadonlyMap<string, string>): void {
  const hash = new Uint8Array(HASH_BYTES);
  for (const [key, digest] of entries) xorInto(hash, entryHash(key, digest));
  const theirs = entries.size === 0 ? EMPTY_HASH : hashToText(hash);
  assertInvariant(sent.has(leaf), () => `leaf ${leaf} was checked against the sent hashes`);
  if (theirs === sent.get(leaf)) failMerkle('MERKLE_BAD_MESSAGE', `leaf ${leaf} is listed as differing, but its entries hash to this side's hash`);
}
