// Fuzzing the readers of a data directory. Real directories written by RaftStorage (random
// entries, hard states and snapshots, small segments that roll over) are damaged: bits flipped,
// files cut at every kind of boundary, zero-filled or garbage tails, files copied, removed or
// renamed, records forged with valid checksums, huge length fields. Open must then recover what
// was acknowledged or refuse with a documented StorageError: never another exception, a hang, or
// an allocation the size of a length field. The JSON codec's decode gets random and deeply
// nested input. `npm run fuzz` runs many more cases (SYNOD_FUZZ_RUNS; SYNOD_FUZZ_SEED replays).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { fuzzParameters, fuzzTimeoutMs } from '../../test/fuzz-runs.js';
import { EMPTY_RAFT_STATE, foldRaftOps, lastIndexOf, type RaftDurableState } from '../raft/durable-state.js';
import { MAX_JSON_DEPTH, jsonCodec } from './codec.js';
import { isStorageError, type StorageErrorCode, type StorageWarning } from './errors.js';
import { RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES, SNAPSHOT_HEADER_BYTES, classifyFile, encodeRecord, payloadOf, scanRecords } from './format.js';
import { RaftStorage, type RaftStorageOptions } from './raft-storage.js';
import type { JsonValue, LogEntry, RaftPersistOp } from './raft-types.js';
import { useTempDirs } from './test/helpers.js';

const newDir = useTempDirs();

/** No fsync while fuzzing: the readers only see the bytes, and syncs would make each case slow. */
const FAST: RaftStorageOptions = { writeThrough: false, sync: { syncFile: async () => {}, syncDir: async () => {} } };
/** What open may refuse a damaged directory with (docs/storage.md, "Recovery rules"). */
const RECOVERY_CODES: readonly StorageErrorCode[] = ['WAL_CORRUPT', 'WAL_UNSUPPORTED', 'SNAPSHOT_CORRUPT'];
/** Reading a directory of a few kilobytes may not grow the buffers in use by more than this. */
const MAX_OPEN_GROWTH_BYTES = 64 * 1024 * 1024;

// ---- writing real directories -----------------------------------------------------------------

/** Abstract persist calls, made concrete against the state so far so they never leave a gap. */
type Step =
  | { t: 'hs'; term: number; vote: string | null; commit: number }
  | { t: 'entries'; back: number; count: number; term: number; data: JsonValue }
  | { t: 'snapshot'; back: number; after: number; data: JsonValue };

// plain keys: the model compares prototypes, and JSON.parse makes every object a plain one
const data: fc.Arbitrary<JsonValue> = fc.oneof(fc.string({ maxLength: 60 }), fc.integer(), fc.constant(null), fc.dictionary(fc.constantFrom('a', 'key', 'v'), fc.nat(), { maxKeys: 3, noNullPrototype: true }));
const hsStep = fc.record({ t: fc.constant('hs' as const), term: fc.nat(9), vote: fc.option(fc.constantFrom('1', '2', '3')), commit: fc.nat(40) });
const entriesStep = fc.record({ t: fc.constant('entries' as const), back: fc.nat(3), count: fc.integer({ min: 1, max: 5 }), term: fc.nat(9), data });
const snapshotStep = fc.record({ t: fc.constant('snapshot' as const), back: fc.nat(3), after: fc.nat(3), data });
/** A history that ends with a record that is not a checkpoint (see the torn-tail property). */
const history = fc
  .tuple(fc.array(fc.oneof({ weight: 2, arbitrary: hsStep }, { weight: 6, arbitrary: entriesStep }, { weight: 1, arbitrary: snapshotStep }), { maxLength: 14 }), fc.oneof(hsStep, entriesStep))
  .map(([steps, last]): Step[] => [...steps, last]);
const segmentBytes = fc.constantFrom(96, 200, 512, 4096);

function concrete(step: Step, state: RaftDurableState): RaftPersistOp {
  const last = lastIndexOf(state) ?? 0;
  if (step.t === 'hs') return { kind: 'hardState', state: { term: step.term, vote: step.vote, commit: step.commit } };
  if (step.t === 'entries') {
    const first = Math.max(1, last + 1 - step.back);
    return { kind: 'entries', entries: Array.from({ length: step.count }, (_, i): LogEntry => ({ index: first + i, term: step.term, kind: 'command', data: step.data })) };
  }
  const index = Math.max(0, last - step.back);
  const entriesAfter = Array.from({ length: step.after }, (_, i): LogEntry => ({ index: index + 1 + i, term: 1, kind: 'noop', data: null }));
  return { kind: 'snapshot', meta: { index, term: 1, config: { at: index } }, data: step.data, hardState: { term: 1, vote: null, commit: index }, entriesAfter };
}

interface Written {
  /** states[k]: the state once the first k calls were acknowledged. */
  readonly states: readonly RaftDurableState[];
  /** The sequence number of the one record each call wrote. */
  readonly seqs: readonly number[];
}

/** One op per persist call, so every call is exactly one record (a checkpoint marker for a snapshot). */
async function writeDir(dir: string, steps: readonly Step[], bytes: number): Promise<Written> {
  const storage = await RaftStorage.open(dir, { ...FAST, segmentBytes: bytes });
  const states: RaftDurableState[] = [EMPTY_RAFT_STATE];
  const seqs: number[] = [];
  for (const step of steps) {
    const op = concrete(step, states[states.length - 1] as RaftDurableState);
    await storage.persist([op]);
    states.push(foldRaftOps([op], states[states.length - 1]));
    seqs.push(storage.stats.records);
  }
  await storage.close();
  return { states, seqs };
}

// ---- opening, with the checks every outcome must pass ----------------------------------------

type Outcome = { readonly ok: true; readonly state: RaftDurableState; readonly warnings: readonly StorageWarning[] } | { readonly ok: false; readonly code: StorageErrorCode };

/**
 * Opens `dir` once: a refusal must be a StorageError of `codes`, reading may not allocate in
 * proportion to a length field, and an open that succeeds must hand back a consistent state
 * that a second open finds again without repairing anything.
 */
async function openChecked(dir: string, codes: readonly StorageErrorCode[]): Promise<Outcome> {
  const buffersBefore = process.memoryUsage().arrayBuffers;
  const opened = await RaftStorage.open(dir, FAST).then(
    (storage) => ({ storage }),
    (error: unknown) => ({ error }),
  );
  expect(process.memoryUsage().arrayBuffers - buffersBefore).toBeLessThan(MAX_OPEN_GROWTH_BYTES);
  if ('error' in opened) {
    const { error } = opened;
    if (!isStorageError(error)) throw new Error(`open threw something other than a StorageError: ${String(error)}`, { cause: error });
    expect(codes).toContain(error.code);
    return { ok: false, code: error.code };
  }
  const { storage } = opened;
  await storage.close();
  const { state } = storage;
  expect(isDeepStrictEqual(foldRaftOps(storage.durableOps), state)).toBe(true);
  for (let k = 1; k < state.log.length; k++) expect((state.log[k] as LogEntry).index).toBe((state.log[k - 1] as LogEntry).index + 1);
  const again = await RaftStorage.open(dir, FAST);
  await again.close();
  expect(again.warnings).toEqual([]);
  expect(isDeepStrictEqual(again.state, state)).toBe(true);
  return { ok: true, state, warnings: storage.warnings };
}

// ---- the files of a directory -----------------------------------------------------------------

interface DataFiles {
  readonly segments: readonly string[];
  readonly snapshots: readonly string[];
}

async function dataFiles(dir: string): Promise<DataFiles> {
  const names = (await readdir(dir)).sort();
  return {
    segments: names.filter((n) => classifyFile(n)?.kind === 'segment'),
    snapshots: names.filter((n) => classifyFile(n)?.kind === 'snapshot'),
  };
}

/** Record start offsets of an intact segment, and its end. */
function recordStarts(segment: Buffer): { starts: number[]; endBytes: number } {
  const scan = scanRecords(segment, SEGMENT_HEADER_BYTES);
  return { starts: scan.records.map((r) => r.offsetBytes), endBytes: scan.endBytes };
}

const pick = <T>(items: readonly T[], n: number): T | undefined => (items.length === 0 ? undefined : items[n % items.length]);

// ---- damage -----------------------------------------------------------------------------------

/** Where a cut lands: anywhere, on a record boundary, inside a record header, in a file header. */
type Cut = { at: 'any'; n: number } | { at: 'record'; n: number } | { at: 'in-header'; n: number; k: number } | { at: 'file-header'; k: number };
const cutAt: fc.Arbitrary<Cut> = fc.oneof(
  fc.record({ at: fc.constant('any' as const), n: fc.nat() }),
  fc.record({ at: fc.constant('record' as const), n: fc.nat() }),
  fc.record({ at: fc.constant('in-header' as const), n: fc.nat(), k: fc.integer({ min: 1, max: RECORD_HEADER_BYTES - 1 }) }),
  fc.record({ at: fc.constant('file-header' as const), k: fc.nat(SEGMENT_HEADER_BYTES) }),
);

/** Forged payloads: valid checksums around what the writer would never write. */
const forgedPayload: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc.array(fc.record({ index: fc.oneof(fc.integer({ min: -3, max: 60 }), fc.double()), term: fc.nat(9), kind: fc.constantFrom('command', 'noop'), data: fc.constant(null) }), { maxLength: 4 }).map((es) => jsonCodec.encode(es)),
  fc.record({ term: fc.oneof(fc.nat(9), fc.double()), vote: fc.constantFrom(null, '1'), commit: fc.oneof(fc.nat(60), fc.constant(-1), fc.constant(2 ** 60)) }).map((h) => jsonCodec.encode(h)),
  fc.constantFrom(MAX_JSON_DEPTH - 2, MAX_JSON_DEPTH + 1, 100_000).map((depth) => Buffer.from('['.repeat(depth) + ']'.repeat(depth))),
  fc.constant(Buffer.from('['.repeat(100_000))),
  // a checkpoint marker's shape: u64 snapshot length | u32 crc, with wild values
  fc.tuple(fc.constantFrom(0n, 12n, 2n ** 32n, 2n ** 64n - 1n), fc.nat()).map(([length, crc]) => {
    const marker = Buffer.alloc(12);
    marker.writeBigUInt64LE(length, 0);
    marker.writeUInt32LE(crc >>> 0, 8);
    return marker;
  }),
);

/** Length fields no writer wrote: past the end, huge, or 4 GiB - 1. */
const hugeLength = fc.constantFrom(0xffff_ffff, 0x8000_0000, 0x7fff_ffff, 0x4000_0000, 65_536);

type Damage =
  | { d: 'flip'; file: number; n: number; bit: number }
  | { d: 'cut'; file: number; cut: Cut }
  | { d: 'zero-tail'; file: number; bytes: number; extend: boolean }
  | { d: 'garbage'; file: number; bytes: Uint8Array }
  | { d: 'copy'; file: number; seqShift: number }
  | { d: 'remove'; file: number }
  | { d: 'rename'; file: number; seqShift: number; suffix: string }
  | { d: 'length'; file: number; n: number; length: number }
  | { d: 'forge'; file: number; n: number; type: number | null; payload: Uint8Array }
  | { d: 'snapshot-field'; n: number; field: 'version' | 'crc' | 'length'; value: number }
  | { d: 'directory'; file: number };

const file = fc.nat();
const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ d: fc.constant('flip' as const), file, n: fc.nat(), bit: fc.nat(7) }),
  fc.record({ d: fc.constant('cut' as const), file, cut: cutAt }),
  fc.record({ d: fc.constant('zero-tail' as const), file, bytes: fc.integer({ min: 1, max: 300 }), extend: fc.boolean() }),
  fc.record({ d: fc.constant('garbage' as const), file, bytes: fc.uint8Array({ minLength: 1, maxLength: 200 }) }),
  fc.record({ d: fc.constant('copy' as const), file, seqShift: fc.integer({ min: -2, max: 3 }) }),
  fc.record({ d: fc.constant('remove' as const), file }),
  fc.record({ d: fc.constant('rename' as const), file, seqShift: fc.integer({ min: -2, max: 3 }), suffix: fc.constantFrom('', '.tmp', '.bak') }),
  fc.record({ d: fc.constant('length' as const), file, n: fc.nat(), length: hugeLength }),
  fc.record({ d: fc.constant('forge' as const), file, n: fc.nat(), type: fc.option(fc.nat(255)), payload: forgedPayload }),
  fc.record({ d: fc.constant('snapshot-field' as const), n: fc.nat(), field: fc.constantFrom('version' as const, 'crc' as const, 'length' as const), value: fc.nat() }),
  fc.record({ d: fc.constant('directory' as const), file }),
);

/** Damage that forges valid checksums can make a record say anything; the rest only destroys. */
const forges = (d: Damage): boolean => d.d === 'forge';

/** The segment with its record `n` replaced (payload, and type if given) and every frame checksummed anew. */
function reframe(segment: Buffer, n: number, replace: (type: number, payload: Buffer) => { type: number; payload: Uint8Array }): Buffer {
  const scan = scanRecords(segment, SEGMENT_HEADER_BYTES);
  const frames = scan.records.map((r, k) => {
    if (k !== n % scan.records.length) return segment.subarray(r.offsetBytes, r.offsetBytes + RECORD_HEADER_BYTES + r.payloadBytes);
    const next = replace(r.type, payloadOf(segment, r));
    return encodeRecord(next.type, next.payload);
  });
  return Buffer.concat([segment.subarray(0, SEGMENT_HEADER_BYTES), ...frames, segment.subarray(scan.endBytes)]);
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Applies one damage to the directory; returns false when it found nothing to damage. */
async function applyDamage(dir: string, damage: Damage): Promise<boolean> {
  const { segments, snapshots } = await dataFiles(dir);
  const all = [...segments, ...snapshots];
  const name = pick(damage.d === 'length' || damage.d === 'forge' ? segments : all, 'file' in damage ? damage.file : 0);
  if (damage.d === 'snapshot-field') {
    const snap = pick(snapshots, damage.n);
    if (snap === undefined || (await isDirectory(join(dir, snap)))) return false;
    const buf = await readFile(join(dir, snap));
    if (buf.length < SNAPSHOT_HEADER_BYTES) return false;
    if (damage.field === 'version') buf.writeUInt32LE(damage.value % 4, 8);
    else if (damage.field === 'crc') buf.writeUInt32LE(damage.value >>> 0, 12);
    else buf.writeBigUInt64LE(BigInt(damage.value) * 0x1_0000_0001n, 16);
    await writeFile(join(dir, snap), buf);
    return true;
  }
  if (name === undefined) return false;
  const path = join(dir, name);
  // an earlier damage may have put a directory in the file's place
  if (await isDirectory(path)) return false;
  const seqOf = (n: string): number => Number(n.slice(0, 20));
  const renamed = (shift: number, suffix: string): string => `${String(Math.max(0, seqOf(name) + shift)).padStart(20, '0')}${name.slice(20)}${suffix}`;
  switch (damage.d) {
    case 'remove':
      await rm(path);
      return true;
    case 'rename': {
      const target = join(dir, renamed(damage.seqShift, damage.suffix));
      if (await isDirectory(target)) return false;
      await rename(path, target);
      return true;
    }
    case 'copy': {
      const target = join(dir, renamed(damage.seqShift, ''));
      if (await isDirectory(target)) return false;
      await writeFile(target, await readFile(path));
      return true;
    }
    case 'directory':
      await rm(path);
      await mkdir(path);
      return true;
    default:
      break;
  }
  const buf = await readFile(path);
  let out: Buffer;
  switch (damage.d) {
    case 'flip': {
      if (buf.length === 0) return false;
      out = Buffer.from(buf);
      const at = damage.n % buf.length;
      out[at] = (out[at] as number) ^ (1 << damage.bit);
      break;
    }
    case 'cut': {
      const { starts } = name.endsWith('.wal') && buf.length >= SEGMENT_HEADER_BYTES ? recordStarts(buf) : { starts: [] };
      const c = damage.cut;
      const at =
        c.at === 'file-header' ? c.k
        : c.at === 'record' ? (pick(starts, c.n) ?? buf.length)
        : c.at === 'in-header' ? (pick(starts, c.n) ?? 0) + c.k
        : c.n % (buf.length + 1);
      out = buf.subarray(0, Math.min(at, buf.length));
      break;
    }
    case 'zero-tail':
      out = damage.extend ? Buffer.concat([buf, Buffer.alloc(damage.bytes)]) : Buffer.concat([buf.subarray(0, Math.max(0, buf.length - damage.bytes)), Buffer.alloc(Math.min(buf.length, damage.bytes))]);
      break;
    case 'garbage':
      out = Buffer.concat([buf, damage.bytes]);
      break;
    case 'length': {
      // a length field no writer wrote (its checksum no longer matches): reading must stay
      // within the file, whatever the field says
      const start = buf.length < SEGMENT_HEADER_BYTES ? undefined : pick(recordStarts(buf).starts, damage.n);
      if (start === undefined) return false;
      out = Buffer.from(buf);
      out.writeUInt32LE(damage.length, start);
      break;
    }
    case 'forge': {
      if (buf.length < SEGMENT_HEADER_BYTES || recordStarts(buf).starts.length === 0) return false;
      const payload = damage.payload;
      const type = damage.type;
      out = reframe(buf, damage.n, (oldType) => ({ type: type ?? oldType, payload }));
      break;
    }
  }
  await writeFile(path, out);
  return true;
}

// ---- the properties ---------------------------------------------------------------------------

/** How the last, unacknowledged append is torn: what a crash in the middle of its write leaves. */
type Tear =
  | { t: 'cut'; n: number }
  | { t: 'partial'; n: number; fill: 'zeros' | 'garbage'; garbage: Uint8Array; extendBytes: number }
  | { t: 'flip'; n: number; bit: number }
  | { t: 'after'; bytes: Uint8Array };

const tear: fc.Arbitrary<Tear> = fc.oneof(
  fc.record({ t: fc.constant('cut' as const), n: fc.nat() }),
  fc.record({ t: fc.constant('partial' as const), n: fc.nat(), fill: fc.constantFrom('zeros' as const, 'garbage' as const), garbage: fc.uint8Array({ minLength: 1, maxLength: 64 }), extendBytes: fc.nat(100) }),
  fc.record({ t: fc.constant('flip' as const), n: fc.nat(), bit: fc.nat(7) }),
  fc.record({ t: fc.constant('after' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 100 }) }),
);

/** The segment after `tear`, given the last record's start and end. */
function torn(buf: Buffer, start: number, end: number, firstInSegment: boolean, t: Tear): Buffer {
  const recordBytes = end - start;
  switch (t.t) {
    case 'cut': {
      // a torn record whose segment was just created may lose part of the segment header too
      const from = firstInSegment ? 0 : start;
      return buf.subarray(0, from + (t.n % (end - from)));
    }
    case 'partial': {
      const keep = t.n % recordBytes;
      const rest = recordBytes - keep;
      const fill = t.fill === 'zeros' ? Buffer.alloc(rest) : Buffer.from(Array.from({ length: rest }, (_, i) => t.garbage[i % t.garbage.length] as number));
      return Buffer.concat([buf.subarray(0, start + keep), fill, Buffer.alloc(t.extendBytes)]);
    }
    case 'flip': {
      const out = Buffer.from(buf);
      const at = start + (t.n % recordBytes);
      out[at] = (out[at] as number) ^ (1 << t.bit);
      return out;
    }
    case 'after':
      return Buffer.concat([buf, t.bytes]);
  }
}

describe('recovery of damaged data directories (fuzz)', () => {
  it(
    'recovers every acknowledged append when only the last, unacknowledged record is torn',
    async () => {
      await fc.assert(
        fc.asyncProperty(history, segmentBytes, tear, async (steps, bytes, t) => {
          const dir = await newDir();
          const written = await writeDir(dir, steps, bytes);
          const { segments } = await dataFiles(dir);
          const name = segments[segments.length - 1] as string;
          const path = join(dir, name);
          const buf = await readFile(path);
          const { starts, endBytes } = recordStarts(buf);
          const start = starts[starts.length - 1] as number;
          // the last record of the last segment is the last call's
          expect(Number(name.slice(0, 20)) + starts.length - 1).toBe(written.seqs[written.seqs.length - 1]);
          const out = torn(buf, start, endBytes, starts.length === 1, t);
          await writeFile(path, out);
          const outcome = await openChecked(dir, []);
          if (!outcome.ok) return;
          const intact = out.length >= endBytes && out.subarray(start, endBytes).equals(buf.subarray(start, endBytes));
          const calls = steps.length;
          expect(isDeepStrictEqual(outcome.state, written.states[intact ? calls : calls - 1])).toBe(true);
          for (const w of outcome.warnings) {
            expect(w).toMatchObject({ code: 'WAL_TAIL_TRUNCATED', file: path });
            expect([0, start, endBytes]).toContain(w.offsetBytes);
          }
        }),
        fuzzParameters(100),
      );
    },
    fuzzTimeoutMs(60_000),
  );

  it(
    'opens to an acknowledged prefix or refuses with a documented StorageError, whatever the damage',
    async () => {
      await fc.assert(
        fc.asyncProperty(history, segmentBytes, fc.array(damage, { minLength: 1, maxLength: 3 }), async (steps, bytes, damages) => {
          const dir = await newDir();
          const written = await writeDir(dir, steps, bytes);
          for (const d of damages) await applyDamage(dir, d);
          const codes: StorageErrorCode[] = damages.some((d) => d.d === 'directory') ? [...RECOVERY_CODES, 'STORAGE_IO'] : [...RECOVERY_CODES];
          const outcome = await openChecked(dir, codes);
          // forged records can say anything; mere destruction can only lose a suffix
          if (outcome.ok && !damages.some(forges)) expect(written.states.some((s) => isDeepStrictEqual(s, outcome.state))).toBe(true);
        }),
        fuzzParameters(200),
      );
    },
    fuzzTimeoutMs(60_000),
  );

  it(
    'refuses a flipped bit, or loses at most the final record to it (which looks like a torn append)',
    async () => {
      await fc.assert(
        fc.asyncProperty(history, segmentBytes, fc.nat(), fc.nat(), fc.nat(7), async (steps, bytes, fileN, n, bit) => {
          const dir = await newDir();
          const written = await writeDir(dir, steps, bytes);
          const { segments, snapshots } = await dataFiles(dir);
          const name = pick([...segments, ...snapshots], fileN) as string;
          const buf = await readFile(join(dir, name));
          const at = n % buf.length;
          const lastSegment = segments[segments.length - 1];
          const lastStart = name === lastSegment ? (recordStarts(buf).starts.at(-1) as number) : Infinity;
          await applyDamage(dir, { d: 'flip', file: fileN, n, bit });
          const outcome = await openChecked(dir, RECOVERY_CODES);
          if (!outcome.ok) return;
          const calls = steps.length;
          // only the segment header's reserved bytes are not checked; the final record is cut as torn
          const expected = at >= lastStart ? calls - 1 : calls;
          expect(isDeepStrictEqual(outcome.state, written.states[expected])).toBe(true);
        }),
        fuzzParameters(100),
      );
    },
    fuzzTimeoutMs(60_000),
  );

  it(
    'refuses records forged with valid checksums only with documented StorageErrors',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          history,
          segmentBytes,
          fc.record({ d: fc.constant('forge' as const), file, n: fc.nat(), type: fc.option(fc.nat(255)), payload: forgedPayload }),
          fc.option(damage),
          async (steps, bytes, forge, other) => {
            const dir = await newDir();
            await writeDir(dir, steps, bytes);
            await applyDamage(dir, forge);
            if (other !== null) await applyDamage(dir, other);
            await openChecked(dir, other?.d === 'directory' ? [...RECOVERY_CODES, 'STORAGE_IO'] : RECOVERY_CODES);
          },
        ),
        fuzzParameters(100),
      );
    },
    fuzzTimeoutMs(60_000),
  );
});

describe('jsonCodec.decode (fuzz)', () => {
  const expectValueOrRefusal = (bytes: Uint8Array): void => {
    try {
      jsonCodec.decode(bytes);
    } catch (error) {
      if (!isStorageError(error, 'WAL_UNSUPPORTED')) throw new Error(`decode threw something other than WAL_UNSUPPORTED: ${String(error)}`, { cause: error });
    }
  };

  it('reads random bytes to a value or refuses them with WAL_UNSUPPORTED', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), expectValueOrRefusal), fuzzParameters(1000));
  });

  it('reads JSON-like text, deeply nested or not, to a value or refuses it with WAL_UNSUPPORTED', () => {
    const token = fc.constantFrom('[', ']', '{', '}', '"', '\\', ':', ',', '1', 'a', ' ', 'null', '"k":', '\\"');
    const nested = fc.tuple(fc.constantFrom('[', '{"a":', '[{"b":'), fc.integer({ min: 0, max: 3 * MAX_JSON_DEPTH }), fc.boolean(), fc.array(token, { maxLength: 20 })).map(([open, depth, close, middle]) => {
      const closing = open === '[' ? ']' : open === '{"a":' ? '}' : '}]';
      return open.repeat(depth) + (open === '[' ? '' : '1') + middle.join('') + (close ? closing.repeat(depth) : '');
    });
    fc.assert(
      fc.property(fc.oneof(fc.array(token, { maxLength: 400 }).map((ts) => ts.join('')), nested), (text) => expectValueOrRefusal(Buffer.from(text, 'utf8'))),
      fuzzParameters(500),
    );
  });

  it('reads back whatever it wrote, and refuses to write what it could not read', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        let bytes: Uint8Array;
        try {
          bytes = jsonCodec.encode(value);
        } catch (error) {
          expect(isStorageError(error, 'STORAGE_INVALID_OP')).toBe(true);
          return;
        }
        expect(JSON.stringify(jsonCodec.decode(bytes))).toBe(JSON.stringify(value));
      }),
      fuzzParameters(300),
    );
  });
});
