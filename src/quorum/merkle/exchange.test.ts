import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { isInvariantError } from '../../core/assert.js';
import { abortMessageFor, AntiEntropySession, depthForKeys, diffTrees, MerkleError, MerkleTree, type ExchangeLimits, type KeyDifference, type MerkleTreeOptions } from './index.js';
import { code, digestOf, treeOf } from './test/helpers.js';

const byKey = (a: KeyDifference, b: KeyDifference): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);


/** The differences by brute force: every key whose digest differs (local: a's, remote: b's). */
function expectedDifferences(a: MerkleTree, b: MerkleTree): KeyDifference[] {
  const left = new Map(a.entries());
  const right = new Map(b.entries());
  const out: KeyDifference[] = [];
  for (const key of new Set([...left.keys(), ...right.keys()])) {
    const local = left.get(key) ?? null;
    const remote = right.get(key) ?? null;
    if (local !== remote) out.push({ key, local, remote });
  }
  return out.sort(byKey);
}

/** The messages of a full exchange, as JSON values, in order (even: to the responder; odd: to the initiator). */
function transcript(a: MerkleTree, b: MerkleTree, limits: Partial<ExchangeLimits> = {}): unknown[] {
  const [initiator, responder] = [new AntiEntropySession(a, 'initiator', limits), new AntiEntropySession(b, 'responder', limits)];
  const messages: unknown[] = [];
  let message: unknown = initiator.start();
  let receiver = responder;
  while (message !== null) {
    messages.push(JSON.parse(JSON.stringify(message)));
    message = receiver.receive(messages[messages.length - 1]);
    receiver = receiver === responder ? initiator : responder;
  }
  return messages;
}

/** Fresh sessions fed the first `k` messages of the transcript; returns the one message k goes to. */
function receiverOf(a: MerkleTree, b: MerkleTree, messages: readonly unknown[], k: number): AntiEntropySession {
  const [initiator, responder] = [new AntiEntropySession(a, 'initiator'), new AntiEntropySession(b, 'responder')];
  initiator.start();
  for (let i = 0; i < k; i++) (i % 2 === 0 ? responder : initiator).receive(messages[i]);
  return k % 2 === 0 ? responder : initiator;
}

type Mod = readonly ['a' | 'b', 'add' | 'delete' | 'change', number];
const modArb: fc.Arbitrary<Mod> = fc.tuple(fc.constantFrom('a' as const, 'b' as const), fc.constantFrom('add' as const, 'delete' as const, 'change' as const), fc.nat());

/** Two replicas: the same base, then each side's own adds, deletes and digest changes. */
function replicas(baseSize: number, mods: readonly Mod[], options: MerkleTreeOptions): [MerkleTree, MerkleTree] {
  const a = treeOf(Array.from({ length: baseSize }, (_, i) => [`key/${i}`, digestOf(i)] as const), options);
  const b = a.clone();
  mods.forEach(([side, op, n], i) => {
    const tree = side === 'a' ? a : b;
    if (op === 'add') tree.set(`new/${n % 50}`, digestOf(n));
    else if (baseSize > 0 && op === 'delete') tree.delete(`key/${n % baseSize}`);
    else if (baseSize > 0) tree.set(`key/${n % baseSize}`, digestOf(1e9 + i));
  });
  return [a, b];
}

const shapeArb = fc.constantFrom<MerkleTreeOptions>({ fanout: 2, depth: 4 }, { fanout: 4, depth: 3 }, { fanout: 16, depth: 2 }, { fanout: 16, depth: 1 }, { fanout: 256, depth: 1 }, {});

describe('the exchange', () => {
  it('finds exactly the keys that differ, the same list on both sides', () => {
    fc.assert(
      fc.property(fc.nat(300), fc.array(modArb, { maxLength: 40 }), shapeArb, (baseSize, mods, options) => {
        const [a, b] = replicas(baseSize, mods, options);
        const result = diffTrees(a, b);
        expect(result.complete).toBe(true);
        expect([...result.differences].sort(byKey)).toEqual(expectedDifferences(a, b));
        // the mirror run finds the same keys with local and remote swapped
        const back = diffTrees(b, a);
        expect([...back.differences].sort(byKey)).toEqual(expectedDifferences(b, a));
      }),
      { numRuns: 150 },
    );
  });

  it('sends only the root, and gets one done back, when the replicas agree', () => {
    const [c, d] = replicas(50, [], { depth: 2 });
    // the same write on both sides
    c.set('key/3', 'abcd');
    d.set('key/3', 'abcd');
    for (const [a, b] of [replicas(0, [], {}), replicas(1000, [], {}), [c, d]] as const) {
      const result = diffTrees(a, b);
      expect([result.differences, result.messages, result.hashes, result.entries, result.complete]).toEqual([[], 2, 1, 0, true]);
    }
  });

  it('works over a partition segment, whose keys are all the tree holds', () => {
    const options = { fanout: 8, depth: 3, start: 1_000_000_000, end: 1_300_000_000 };
    const inSegment = Array.from({ length: 30_000 }, (_, i) => `seg/${i}`).filter((k) => new MerkleTree(options).leafOf(k) !== undefined);
    const a = treeOf(inSegment.map((k, i) => [k, digestOf(i)] as const), options);
    const b = a.clone();
    inSegment.slice(0, 40).forEach((k, i) => (i % 2 === 0 ? b.delete(k) : b.set(k, 'ff')));
    expect([...diffTrees(a, b).differences].sort(byKey)).toEqual(expectedDifferences(a, b));
  });

  it('reports the same keys when the trees change while the exchange runs', () => {
    fc.assert(
      fc.property(fc.array(modArb, { maxLength: 30 }), fc.array(fc.array(modArb, { maxLength: 5 }), { minLength: 8, maxLength: 8 }), (mods, during) => {
        const [a, b] = replicas(200, mods, { fanout: 4, depth: 3 });
        const [initiator, responder] = [new AntiEntropySession(a, 'initiator'), new AntiEntropySession(b, 'responder')];
        let message: unknown = initiator.start();
        let receiver = responder;
        for (let step = 0; message !== null; step++) {
          for (const [side, op, n] of during[step] ?? []) (side === 'a' ? a : b)[op === 'delete' ? 'delete' : 'set'](`key/${n % 200}`, digestOf(n));
          message = receiver.receive(JSON.parse(JSON.stringify(message)));
          receiver = receiver === responder ? initiator : responder;
        }
        const [mine, theirs] = [initiator.result(), responder.result()];
        expect(theirs.differences.map((d) => ({ key: d.key, local: d.remote, remote: d.local }))).toEqual(mine.differences);
        // whatever the exchange missed, the next one (on still trees) finds
        expect([...diffTrees(a, b).differences].sort(byKey)).toEqual(expectedDifferences(a, b));
      }),
      { numRuns: 60 },
    );
  });
});

describe('cost: hashes grow like d x depth x fanout, not like n', () => {
  const n = 100_000;
  const depth = depthForKeys(n);
  let base: MerkleTree;
  beforeAll(() => {
    base = treeOf(Array.from({ length: n }, (_, i) => [`user/${i}/profile`, digestOf(i * 2_654_435_761)] as const), { depth });
    base.rootHash();
  });

  it.each([1, 10, 100])('n = 100,000 keys, d = %i differences', (d) => {
    const other = base.clone();
    for (let i = 0; i < d; i++) {
      const key = `user/${(i * 7919) % n}/profile`;
      if (i % 3 === 0) other.delete(key);
      else if (i % 3 === 1) other.set(key, 'ff');
      else other.set(`fresh/${i}`, 'ee');
    }
    const result = diffTrees(base, other);
    expect(result.differences.length).toBe(d);
    expect(result.complete).toBe(true);
    // one root hash, then at most d differing nodes per level, each sending its 16 children
    expect(result.hashes).toBeLessThanOrEqual(d * depth * 16 + 1);
    expect(result.messages).toBeLessThanOrEqual(depth + 3);
    // the entries of at most d leaves from one side, then the d differing keys back
    expect(result.entries).toBeLessThanOrEqual(d * 16 + d);
    if (d === 10) expect(result.hashes + result.entries).toBeLessThan(n / 100);
  });
});

describe('limits', () => {
  it('cut an exchange short with complete: false, and repeated rounds of repair converge', () => {
    const a = treeOf(Array.from({ length: 3000 }, (_, i) => [`k${i}`, digestOf(i)] as const), { depth: 3 });
    const b = new MerkleTree({ depth: 3 });
    const limits = { maxHashesPerMessage: 256, maxEntriesPerMessage: 100 };
    let rounds = 0;
    for (;;) {
      const result = diffTrees(a, b, limits);
      rounds++;
      const all = new Map(expectedDifferences(a, b).map((d) => [d.key, d]));
      for (const d of result.differences) expect(all.get(d.key)).toEqual(d);
      if (result.complete) {
        expect(result.differences.length).toBe(all.size);
        if (all.size === 0) break;
      }
      expect(result.differences.length).toBeLessThanOrEqual(100);
      // repair: copy a's versions to b
      for (const d of result.differences) {
        if (d.local === null) b.delete(d.key);
        else b.set(d.key, d.local);
      }
      expect(rounds).toBeLessThan(100);
    }
    expect(b.rootHash()).toBe(a.rootHash());
    expect(rounds).toBeGreaterThanOrEqual(30);
  });

  it('end the exchange with nothing found, incomplete, when not even one differing leaf fits', () => {
    const a = treeOf(Array.from({ length: 500 }, (_, i) => [`k${i}`, 'aa'] as const), { fanout: 2, depth: 1 });
    const result = diffTrees(a, new MerkleTree({ fanout: 2, depth: 1 }), { maxEntriesPerMessage: 10 });
    expect([result.differences, result.complete, result.entries]).toEqual([[], false, 0]);
  });

  it('are checked', () => {
    const tree = new MerkleTree();
    for (const limits of [{ maxHashesPerMessage: 255 }, { maxHashesPerMessage: 2 ** 21 }, { maxEntriesPerMessage: 0 }, { maxEntriesPerMessage: 1.5 }]) {
      expect(code(() => new AntiEntropySession(tree, 'initiator', limits))).toBe('MERKLE_INVALID_OPTION');
    }
  });
});

describe('trees of different shapes', () => {
  it('are detected at the root, not compared', () => {
    const keys = Array.from({ length: 100 }, (_, i) => [`k${i}`, 'aa'] as const);
    for (const [x, y] of [
      [{ depth: 2 }, { depth: 3 }],
      [{ fanout: 16, depth: 2 }, { fanout: 256, depth: 1 }],
      [{ fanout: 4, depth: 2 }, { fanout: 16, depth: 1 }],
      [{ depth: 2 }, { depth: 2, start: 1 }],
      [{ depth: 2, end: 2 ** 32 - 1 }, { depth: 2 }],
    ]) {
      const a = treeOf(keys.filter(([k]) => new MerkleTree(x).leafOf(k) !== undefined && new MerkleTree(y).leafOf(k) !== undefined), x);
      const b = treeOf(a.entries(), y);
      expect(code(() => diffTrees(a, b))).toBe('MERKLE_SHAPE_MISMATCH');
    }
    const a = new MerkleTree();
    const root = { kind: 'merkle/root', shape: { ...a.shape, format: 2 }, hash: '' };
    expect(code(() => new AntiEntropySession(a, 'responder').receive(root))).toBe('MERKLE_SHAPE_MISMATCH');
  });
});

describe('a buggy or hostile peer', () => {
  // replicas differing in a few keys: the transcript has a root, 3 hashes messages, entries and a diff
  const [a, b] = replicas(400, [['a', 'change', 1], ['b', 'delete', 2], ['b', 'add', 3], ['a', 'change', 250]], { fanout: 4, depth: 3 });
  const messages = transcript(a, b) as Record<string, unknown>[];
  const kinds = messages.map((m) => m['kind']);
  const at = (kind: string, nth = 0): number => kinds.map((k, i) => (k === kind ? i : -1)).filter((i) => i >= 0)[nth] as number;

  it('is answered with stable codes, not crashes', () => {
    expect(kinds).toEqual(['merkle/root', 'merkle/hashes', 'merkle/hashes', 'merkle/hashes', 'merkle/entries', 'merkle/diff']);
    const h = at('merkle/hashes', 1);
    const hashes = messages[h] as { parents: number[]; hashes: string[]; level: number };
    const cases: [string, number, Record<string, unknown>][] = [
      ['MERKLE_BAD_MESSAGE', 0, { kind: 'merkle/nope' }],
      ['MERKLE_BAD_MESSAGE', 0, { extra: 1 }],
      ['MERKLE_BAD_MESSAGE', 0, { hash: 'ABCDEF0123456789ABCDEF0123456789' }],
      ['MERKLE_BAD_MESSAGE', 0, { shape: null }],
      ['MERKLE_BAD_MESSAGE', 0, { shape: { ...a.shape, depth: 40 } }],
      ['MERKLE_SHAPE_MISMATCH', 0, { shape: { ...a.shape, depth: 4 } }],
      // wrong level: skipping one, or repeating the last
      ['MERKLE_UNEXPECTED_MESSAGE', h, { level: hashes.level + 1 }],
      ['MERKLE_UNEXPECTED_MESSAGE', h, { level: hashes.level - 1 }],
      ['MERKLE_BAD_MESSAGE', h, { level: 0 }],
      ['MERKLE_BAD_MESSAGE', h, { level: 1e9 }],
      // paths: one never sent, duplicates, out of order, negative, fractional, none
      ['MERKLE_BAD_MESSAGE', h, { parents: hashes.parents.map((p) => p + 1000) }],
      ['MERKLE_BAD_MESSAGE', h, { parents: [hashes.parents[0], ...hashes.parents], hashes: [...hashes.hashes, ...hashes.hashes.slice(0, 4)] }],
      ['MERKLE_BAD_MESSAGE', h, { parents: [...hashes.parents].reverse() }],
      ['MERKLE_BAD_MESSAGE', h, { parents: [-1] }],
      ['MERKLE_BAD_MESSAGE', h, { parents: [0.5] }],
      ['MERKLE_BAD_MESSAGE', h, { parents: [], hashes: [] }],
      ['MERKLE_BAD_MESSAGE', h, { hashes: hashes.hashes.slice(1) }],
      ['MERKLE_BAD_MESSAGE', h, { hashes: hashes.hashes.map(() => 7) }],
      ['MERKLE_BAD_MESSAGE', h, { truncated: 'no' }],
      // huge arrays are refused before they are walked
      ['MERKLE_LIMIT_EXCEEDED', h, { hashes: new Array(10_000_000) }],
      ['MERKLE_LIMIT_EXCEEDED', h, { parents: new Array(2 ** 30) }],
      ['MERKLE_LIMIT_EXCEEDED', at('merkle/entries'), { entries: new Array(1e8) }],
      ['MERKLE_LIMIT_EXCEEDED', at('merkle/diff'), { keys: new Array(1e8) }],
      // leaves and keys that are not where they should be
      ['MERKLE_BAD_MESSAGE', at('merkle/entries'), { leaves: [63] }],
      ['MERKLE_BAD_MESSAGE', at('merkle/entries'), { entries: [['nowhere', 'aa']] }],
      ['MERKLE_BAD_MESSAGE', at('merkle/entries'), { entries: [['k', 'aa', 'extra']] }],
      ['MERKLE_BAD_MESSAGE', at('merkle/diff'), { keys: [['nowhere', 'aa']] }],
      ['MERKLE_BAD_MESSAGE', at('merkle/diff'), { keys: [['k', 42]] }],
    ];
    for (const [expected, k, change] of cases) expect([code(() => receiverOf(a, b, messages, k).receive({ ...messages[k], ...change })), k, change]).toEqual([expected, k, change]);
    // messages out of turn
    const outOfTurn: [number, unknown][] = [
      [0, messages[at('merkle/diff')]],
      [h, messages[at('merkle/entries')]],
      [at('merkle/entries'), messages[0]],
      [at('merkle/entries'), messages[h]],
      [at('merkle/diff'), { kind: 'merkle/done', truncated: false }],
      [0, { kind: 'merkle/done', truncated: false }],
    ];
    for (const [k, message] of outOfTurn) expect([code(() => receiverOf(a, b, messages, k).receive(message)), k]).toEqual(['MERKLE_UNEXPECTED_MESSAGE', k]);
    expect(code(() => receiverOf(a, b, messages, h).receive({ kind: 'merkle/abort', code: 'X', reason: 'y' }))).toBe('MERKLE_PEER_ABORTED');
    for (const value of [null, 42, 'merkle/root', [], [messages[0]]]) expect(code(() => receiverOf(a, b, messages, 0).receive(value))).toBe('MERKLE_BAD_MESSAGE');
  });

  it('cannot make this side descend where nothing differs, nor claim equal digests differ', () => {
    // padding: name, besides the differing nodes, one that does not differ, with its true children
    const senderOf = (k: number): MerkleTree => (k % 2 === 0 ? a : b);
    let padded = 0;
    for (let k = 2; k < messages.length; k++) {
      const [before, message] = [messages[k - 1] as { kind: string; parents: number[]; level: number }, messages[k] as { parents: number[]; leaves?: number[] }];
      if (before.kind !== 'merkle/hashes') continue;
      const sentByReceiver = before.parents.flatMap((p) => [0, 1, 2, 3].map((c) => p * 4 + c));
      const named = message.parents ?? message.leaves ?? [];
      const equal = sentByReceiver.find((node) => !named.includes(node));
      if (equal === undefined) continue;
      const nodes = [...named, equal].sort((x, y) => x - y);
      const sender = senderOf(k);
      const forged =
        kinds[k] === 'merkle/hashes'
          ? { ...message, parents: nodes, hashes: nodes.flatMap((p) => sender.childHashes(before.level, p)) }
          : { ...message, leaves: nodes, entries: nodes.flatMap((leaf) => sender.leafEntries(leaf)) };
      expect([kinds[k], code(() => receiverOf(a, b, messages, k).receive(forged))]).toEqual([kinds[k], 'MERKLE_BAD_MESSAGE']);
      padded++;
    }
    expect(padded).toBeGreaterThanOrEqual(2);
    const diff = messages[at('merkle/diff')] as { keys: [string, string | null][] };
    const entries = messages[at('merkle/entries')] as { entries: [string, string][] };
    const [key, digest] = entries.entries[0] as [string, string];
    const sameDigest = { ...diff, keys: [[key, digest]] };
    expect(code(() => receiverOf(a, b, messages, at('merkle/diff')).receive(sameDigest))).toBe('MERKLE_BAD_MESSAGE');
    const twice = { ...diff, keys: [diff.keys[0], diff.keys[0]] };
    expect(code(() => receiverOf(a, b, messages, at('merkle/diff')).receive(twice))).toBe('MERKLE_BAD_MESSAGE');
    const dup = { ...entries, entries: [...entries.entries, entries.entries[0]] };
    expect(code(() => receiverOf(a, b, messages, at('merkle/entries')).receive(dup))).toBe('MERKLE_BAD_MESSAGE');
  });

  it('fails the session for good; the abort message tells the peer why', () => {
    const session = receiverOf(a, b, messages, 1);
    let error: unknown;
    try {
      session.receive({ ...messages[1], level: 3 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MerkleError);
    expect(session.failed).toBe(true);
    expect(code(() => session.receive(messages[1]))).toBe('MERKLE_SESSION_STATE');
    expect(code(() => session.result())).toBe('MERKLE_SESSION_STATE');
    const peer = receiverOf(a, b, messages, 2);
    const abort = JSON.parse(JSON.stringify(abortMessageFor(error as MerkleError)));
    expect(abort.code).toBe('MERKLE_UNEXPECTED_MESSAGE');
    expect(code(() => peer.receive(abort))).toBe('MERKLE_PEER_ABORTED');
    // an ended session refuses more messages but keeps its result
    const done = receiverOf(a, b, messages, messages.length - 1);
    expect(done.receive(messages[messages.length - 1])).toBeNull();
    expect(code(() => done.receive(messages[messages.length - 1]))).toBe('MERKLE_UNEXPECTED_MESSAGE');
    expect(done.result().differences.length).toBe(4);
    expect(code(() => new AntiEntropySession(a, 'responder').start())).toBe('MERKLE_SESSION_STATE');
  });

  it('never gets past the checks with anything but a MerkleError, whatever it sends', () => {
    const junk = fc.oneof(
      fc.anything(),
      fc.integer({ min: -3, max: 70_000 }),
      fc.array(fc.integer({ min: -1, max: 70 }), { maxLength: 40 }),
      fc.array(fc.constantFrom('', '0'.repeat(32), 'f'.repeat(32), 'zz'), { maxLength: 80 }),
      fc.array(fc.tuple(fc.string({ maxLength: 8 }), fc.oneof(fc.constant(null), fc.constantFrom('aa', '00ff', 'AA'))), { maxLength: 20 }),
    );
    fc.assert(
      fc.property(fc.nat(messages.length - 1), fc.string({ maxLength: 10 }), junk, fc.boolean(), (k, field, value, existing) => {
        const message = messages[k] as Record<string, unknown>;
        const keys = Object.keys(message);
        const name = existing ? (keys[field.length % keys.length] as string) : field;
        try {
          receiverOf(a, b, messages, k).receive({ ...message, [name]: value });
        } catch (err) {
          expect(isInvariantError(err)).toBe(false);
          expect(err).toBeInstanceOf(MerkleError);
        }
      }),
      { numRuns: 400 },
    );
  });
});
