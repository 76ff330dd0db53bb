// The key ring: key sizes and encodings, install/use/remove with their refusals, the sealed
// layout, open() refusing every wrong key, label and changed byte without throwing, the
// open(seal(x)) = x property, and key ring files good and bad.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isGossipNetError, type GossipNetErrorCode } from './errors.js';
import { decodeKey, formatKeyRing, generateKey, KeyRing, loadKeyRingFile, MAX_KEYS, NONCE_BYTES, parseKeyRing, saveKeyRingFile, SEAL_OVERHEAD_BYTES, SEAL_VERSION, TAG_BYTES } from './keyring.js';

function expectCode(fn: () => unknown, code: GossipNetErrorCode): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(isGossipNetError(thrown, code), `expected ${code}, got ${String(thrown)}`).toBe(true);
}

async function expectRejects(promise: Promise<unknown>, code: GossipNetErrorCode): Promise<void> {
  const thrown = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isGossipNetError(thrown, code), `expected ${code}, got ${String(thrown)}`).toBe(true);
}

const k1 = generateKey();
const k2 = generateKey();
const keyArb = fc.constantFrom(16, 24, 32).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));

describe('keys', () => {
  it('are base64 of 16, 24 or 32 bytes', () => {
    for (const n of [16, 24, 32] as const) expect(decodeKey(generateKey(n))).toHaveLength(n);
    expect(decodeKey(`  ${k1}\n`)).toEqual(decodeKey(k1));
    expectCode(() => decodeKey(Buffer.alloc(20).toString('base64')), 'GOSSIP_NET_BAD_KEY');
    expectCode(() => decodeKey('not base64!'), 'GOSSIP_NET_BAD_KEY');
    // lenient decoders would read this as some other key
    expectCode(() => decodeKey(`${k1.slice(0, 10)}*${k1.slice(11)}`), 'GOSSIP_NET_BAD_KEY');
    expectCode(() => decodeKey(''), 'GOSSIP_NET_BAD_KEY');
    expectCode(() => new KeyRing([new Uint8Array(31)]), 'GOSSIP_NET_BAD_KEY');
  });

  it('the ring keeps its own copy of raw keys', () => {
    const raw = new Uint8Array(32).fill(7);
    const ring = new KeyRing([raw]);
    const sealed = ring.seal(Buffer.from('x'));
    raw.fill(0);
    expect(ring.open(sealed)?.toString()).toBe('x');
  });
});

describe('KeyRing operations', () => {
  it('installs, uses and removes keys, the primary first', () => {
    const ring = new KeyRing([k1]);
    ring.installKey(k2);
    ring.installKey(k2); // twice: nothing more
    expect(ring.keys()).toEqual([k1, k2]);
    expect(ring.primaryKey).toBe(k1);
    ring.useKey(k2);
    expect(ring.keys()).toEqual([k2, k1]);
    ring.removeKey(k1);
    ring.removeKey(k1); // not installed: nothing
    expect(ring.keys()).toEqual([k2]);
    expect(ring.has(k1)).toBe(false);
  });

  it('refuses to remove the primary, use an unknown key, or hold too many keys', () => {
    const ring = new KeyRing([k1, k2], 1);
    expect(ring.primaryKey).toBe(k2);
    expectCode(() => ring.removeKey(k2), 'GOSSIP_NET_PRIMARY_KEY');
    expectCode(() => ring.useKey(generateKey()), 'GOSSIP_NET_UNKNOWN_KEY');
    for (let i = ring.size; i < MAX_KEYS; i++) ring.installKey(generateKey());
    expectCode(() => ring.installKey(generateKey()), 'GOSSIP_NET_TOO_MANY_KEYS');
    expectCode(() => new KeyRing([]), 'GOSSIP_NET_INVALID_OPTION');
    expectCode(() => new KeyRing([k1], 1), 'GOSSIP_NET_INVALID_OPTION');
  });
});

describe('seal and open', () => {
  it('lays a packet out as version, nonce, ciphertext, tag', () => {
    const ring = new KeyRing([k1]);
    const plaintext = Buffer.from('hello gossip');
    const a = ring.seal(plaintext, 'c1');
    const b = ring.seal(plaintext, 'c1');
    expect(a).toHaveLength(plaintext.length + SEAL_OVERHEAD_BYTES);
    expect(a[0]).toBe(SEAL_VERSION);
    // fresh random nonce each time: the same plaintext never seals to the same bytes
    expect(a.subarray(1, 1 + NONCE_BYTES).equals(b.subarray(1, 1 + NONCE_BYTES))).toBe(false);
    expect(a.includes(plaintext)).toBe(false);
    expect(ring.open(a, 'c1')).toEqual(plaintext);
  });

  it('refuses a wrong key, another label, a changed or cut byte, another version', () => {
    const ring = new KeyRing([k1]);
    const sealed = ring.seal(Buffer.from('payload'), 'c1');
    expect(new KeyRing([k2]).open(sealed, 'c1')).toBeUndefined();
    expect(ring.open(sealed, 'c2')).toBeUndefined();
    expect(ring.open(sealed)).toBeUndefined();
    for (let i = 0; i < sealed.length; i++) {
      const changed = Buffer.from(sealed);
      changed[i] = (changed[i] as number) ^ 0x01;
      expect(ring.open(changed, 'c1'), `byte ${i}`).toBeUndefined();
    }
    expect(ring.open(sealed.subarray(0, sealed.length - 1), 'c1')).toBeUndefined();
    expect(ring.open(sealed.subarray(0, SEAL_OVERHEAD_BYTES - 1), 'c1')).toBeUndefined();
    expect(ring.open(new Uint8Array(0), 'c1')).toBeUndefined();
  });

  it('opens with a secondary key, primary tried first', () => {
    const old = new KeyRing([k1]);
    const rotated = new KeyRing([k2, k1]);
    expect(rotated.open(old.seal(Buffer.from('a'), 'L'), 'L')?.toString()).toBe('a');
    expect(old.open(rotated.seal(Buffer.from('b'), 'L'), 'L')).toBeUndefined();
  });

  it('property: open(seal(x)) = x for any bytes, key size and label; another label never opens', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), keyArb, fc.string({ maxLength: 64 }), fc.string({ maxLength: 64 }), (data, key, label, other) => {
        const ring = new KeyRing([key]);
        const sealed = ring.seal(data, label);
        expect(sealed).toHaveLength(data.length + SEAL_OVERHEAD_BYTES);
        expect(ring.open(sealed, label)).toEqual(Buffer.from(data));
        if (other !== label) expect(ring.open(sealed, other)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('property: a single flipped bit never opens; arbitrary bytes never throw', () => {
    const ring = new KeyRing([k1, k2]);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 512 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (data, at, bit) => {
        const sealed = ring.seal(data, 'c');
        const i = at % sealed.length;
        sealed[i] = (sealed[i] as number) ^ (1 << bit);
        expect(ring.open(sealed, 'c')).toBeUndefined();
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.boolean(), (bytes, versioned) => {
        if (versioned && bytes.length > 0) bytes[0] = SEAL_VERSION;
        expect(ring.open(bytes, 'c')).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  it('costs 29 bytes of overhead: version, 12-byte nonce, 16-byte tag', () => {
    expect(SEAL_OVERHEAD_BYTES).toBe(1 + NONCE_BYTES + TAG_BYTES);
    expect(SEAL_OVERHEAD_BYTES).toBe(29);
  });
});

describe('key ring files', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  async function dir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'synod-keyring-'));
    dirs.push(d);
    return d;
  }

  it('loads {"keys": [...], "primary": i}', async () => {
    const path = join(await dir(), 'keyring.json');
    await writeFile(path, JSON.stringify({ keys: [k1, k2], primary: 1 }));
    const ring = await loadKeyRingFile(path);
    expect(ring.keys()).toEqual([k2, k1]);
    await writeFile(path, JSON.stringify({ keys: [k1] }));
    expect((await loadKeyRingFile(path)).primaryKey).toBe(k1);
  });

  it('saves atomically with owner-only permissions, and reads back the same ring', async () => {
    const path = join(await dir(), 'keyring.json');
    const ring = new KeyRing([k1, k2], 1);
    await saveKeyRingFile(path, ring);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).toBe(formatKeyRing(ring));
    expect((await loadKeyRingFile(path)).keys()).toEqual([k2, k1]);
    ring.removeKey(k1);
    await saveKeyRingFile(path, ring);
    expect((await loadKeyRingFile(path)).keys()).toEqual([k2]);
  });

  it('refuses bad files with stable codes', async () => {
    const d = await dir();
    await expectRejects(loadKeyRingFile(join(d, 'missing.json')), 'GOSSIP_NET_KEYRING_FILE');
    await expectRejects(saveKeyRingFile(join(d, 'no', 'such', 'dir.json'), new KeyRing([k1])), 'GOSSIP_NET_KEYRING_FILE');
    const path = join(d, 'bad.json');
    await writeFile(path, '{"keys": [');
    await expectRejects(loadKeyRingFile(path), 'GOSSIP_NET_KEYRING_SYNTAX');
    await writeFile(path, 'x'.repeat(100_000));
    await expectRejects(loadKeyRingFile(path), 'GOSSIP_NET_KEYRING_INVALID');
    const invalid: unknown[] = [
      [k1],
      null,
      {},
      { keys: [] },
      { keys: k1 },
      { keys: [k1, 5] },
      { keys: ['short'] },
      { keys: [k1, k1] },
      { keys: [k1], primary: 1 },
      { keys: [k1], primary: -1 },
      { keys: [k1], primary: '0' },
      { keys: [k1], primay: 0 },
      { keys: Array.from({ length: MAX_KEYS + 1 }, () => generateKey()) },
    ];
    for (const value of invalid) {
      expectCode(() => parseKeyRing(JSON.stringify(value)), 'GOSSIP_NET_KEYRING_INVALID');
    }
    // the message names what is wrong and where
    expect(() => parseKeyRing(JSON.stringify({ keys: [k1, 'short'] }), 'ring.json')).toThrow(/ring\.json: keys\[1\]/);
  });
});
