// The exchange run in memory between two trees, for tests, the simulator and the measurements in
// docs/merkle.md: every message goes through JSON (so it must be plain data) and is counted.
import { assertInvariant } from '../../core/assert.js';
import type { ExchangeLimits, MerkleMessage } from './messages.js';
import { AntiEntropySession, type ExchangeStats, type KeyDifference } from './session.js';
import type { MerkleTree } from './tree.js';

export interface TreeDiff {
  /** The keys that differ, `local` being a's digest and `remote` b's (null: that tree lacks the key). */
  readonly differences: readonly KeyDifference[];
  /** False when the limits cut the exchange short: run again after repairing these. */
  readonly complete: boolean;
  /** Messages both ways. */
  readonly messages: number;
  /** Node hashes both ways, root included (empty-subtree hashes count too). */
  readonly hashes: number;
  /** Key-digest pairs both ways (the entries of differing leaves, then the diff). */
  readonly entries: number;
  /** UTF-8 bytes of the messages as JSON. */
  readonly bytes: number;
  readonly initiator: ExchangeStats;
  readonly responder: ExchangeStats;
}

const encoder = new TextEncoder();

/** Runs the exchange between `a` (initiator) and `b` (responder); throws MerkleError (e.g. MERKLE_SHAPE_MISMATCH) if either side rejects. */
export function diffTrees(a: MerkleTree, b: MerkleTree, limits: Partial<ExchangeLimits> = {}): TreeDiff {
  const initiator = new AntiEntropySession(a, 'initiator', limits);
  const responder = new AntiEntropySession(b, 'responder', limits);
  // root, one hashes message per level, entries, diff: the exchange cannot take more
  const maxMessages = a.shape.depth + 3;
  let message: MerkleMessage | null = initiator.start();
  let receiver = responder;
  let messages = 0;
  let bytes = 0;
  while (message !== null) {
    messages++;
    assertInvariant(messages <= maxMessages, () => `the exchange took more than ${maxMessages} messages`);
    const text = JSON.stringify(message);
    bytes += encoder.encode(text).length;
    message = receiver.receive(JSON.parse(text));
    receiver = receiver === responder ? initiator : responder;
  }
  return summarize(initiator, responder, messages, bytes);
}

function summarize(initiator: AntiEntropySession, responder: AntiEntropySession, messages: number, bytes: number): TreeDiff {
  const ours = initiator.result();
  const theirs = responder.result();
  assertInvariant(ours.complete === theirs.complete && ours.differences.length === theirs.differences.length, () => 'both sides end with the same keys');
  ours.differences.forEach((d, i) => {
    const t = theirs.differences[i];
    assertInvariant(t !== undefined && t.key === d.key && t.local === d.remote && t.remote === d.local, () => `the sides disagree on difference ${i} (${d.key})`);
  });
  const [s, r] = [initiator.stats(), responder.stats()];
  assertInvariant(s.messagesSent + r.messagesSent === messages, () => 'every message was counted once');
  return { differences: ours.differences, complete: ours.complete, messages, hashes: s.hashesSent + r.hashesSent, entries: s.entriesSent + r.entriesSent, bytes, initiator: s, responder: r };
}
