// A compact encoding of RGA states (documents and deltas): typing makes runs of elements by one
// replica with consecutive counters, each inserted after the one before, one character each — such a
// run is stored as its first id, its parent, its length and its text, and the tombstone flags of all
// elements as run lengths (a delta of a few elements is sent as its plain elements). MessagePack (msgpackr) around that; decoding rebuilds the elements and
// checks them with RGA.decode, so untrusted bytes give CrdtError('CRDT_BAD_STATE').
import { decodeState, encodeState } from './codec.js';
import { failCrdt } from './errors.js';
import { RGA, type RgaElement, type RgaState } from './rga.js';
import { MAX_ELEMENTS, type CrdtType } from './types.js';

/** The encoded shape: replica names once; per run [replica index, first counter, length, parent replica index (-1: head), parent counter]. */
interface RgaRuns {
  readonly v: 1;
  readonly replicas: readonly string[];
  readonly runs: readonly number[];
  /** Per run: its characters joined (a run of length 1 may hold any value). */
  readonly texts: readonly string[];
  /** Alternating counts of live and removed elements, in storage order, starting with live. */
  readonly removed: readonly number[];
}

const RUN_FIELDS = 5;

/** True when `value` is one code point: only such elements join a run longer than one. */
function isOneCodePoint(value: string): boolean {
  if (value.length === 1) return true;
  return value.length === 2 && (value.codePointAt(0) as number) > 0xffff;
}

function toRuns(state: RgaState): RgaRuns {
  const replicas: string[] = [];
  const index = new Map<string, number>();
  const idOf = (replica: string): number => {
    let i = index.get(replica);
    if (i === undefined) {
      i = replicas.length;
      replicas.push(replica);
      index.set(replica, i);
    }
    return i;
  };
  const runs: number[] = [];
  const texts: string[] = [];
  const removed: number[] = [];
  let flag = false;
  let count = 0;
  let prev: RgaElement | undefined;
  for (const e of state) {
    const extends_ = prev !== undefined && e[0] === prev[0] && e[1] === prev[1] + 1 && e[2] === prev[0] && e[3] === prev[1] && isOneCodePoint(e[4]) && isOneCodePoint(prev[4]);
    if (extends_) {
      runs[runs.length - 3] = (runs[runs.length - 3] as number) + 1;
      texts[texts.length - 1] += e[4];
    } else {
      runs.push(idOf(e[0]), e[1], 1, e[2] === null ? -1 : idOf(e[2]), e[3]);
      texts.push(e[4]);
    }
    if (e[5] !== flag) {
      removed.push(count);
      flag = e[5];
      count = 0;
    }
    count++;
    prev = e;
  }
  removed.push(count);
  return { v: 1, replicas, runs, texts, removed };
}

function fromRuns(value: unknown): RgaElement[] {
  const r = value as Partial<RgaRuns> | null;
  if (typeof r !== 'object' || r === null || r.v !== 1 || !Array.isArray(r.replicas) || !Array.isArray(r.runs) || !Array.isArray(r.texts) || !Array.isArray(r.removed)) failCrdt('CRDT_BAD_STATE', 'an encoded RGA has v: 1, replicas, runs, texts and removed');
  const { replicas, runs, texts, removed } = r as RgaRuns;
  if (runs.length !== texts.length * RUN_FIELDS || removed.length > MAX_ELEMENTS + 1) failCrdt('CRDT_BAD_STATE', 'an encoded RGA has five numbers and one text per run');
  const replicaAt = (i: unknown): string => {
    if (!Number.isInteger(i) || typeof replicas[i as number] !== 'string') failCrdt('CRDT_BAD_STATE', `replica index ${String(i)} is not in the table`);
    return replicas[i as number] as string;
  };
  const flags = removedFlags(removed);
  const elements: RgaElement[] = [];
  for (let run = 0; run < texts.length; run++) {
    const [rep, first, length, parentRep, parentCounter] = runs.slice(run * RUN_FIELDS, run * RUN_FIELDS + RUN_FIELDS);
    const text = texts[run];
    if (typeof text !== 'string' || !Number.isSafeInteger(first) || !Number.isSafeInteger(length) || (length as number) < 1 || elements.length + (length as number) > MAX_ELEMENTS) failCrdt('CRDT_BAD_STATE', `run ${run} is malformed`);
    const values = (length as number) === 1 ? [text] : Array.from(text);
    if (values.length !== length) failCrdt('CRDT_BAD_STATE', `run ${run} holds ${values.length} characters, not ${String(length)}`);
    const replica = replicaAt(rep);
    let parent: [string | null, number] = parentRep === -1 ? [null, 0] : [replicaAt(parentRep), parentCounter as number];
    for (let k = 0; k < values.length; k++) {
      const counter = (first as number) + k;
      elements.push([replica, counter, parent[0], parent[1], values[k] as string, flags(elements.length)]);
      parent = [replica, counter];
    }
  }
  if (removed.reduce((a, n) => a + n, 0) !== elements.length) failCrdt('CRDT_BAD_STATE', `removed covers ${removed.reduce((a, n) => a + n, 0)} elements, the runs hold ${elements.length}`);
  return elements;
}

/** The tombstone flag of element i, from alternating run lengths (checked to cover every element exactly at the end). */
function removedFlags(removed: readonly number[]): (i: number) => boolean {
  if (!removed.every((n) => Number.isSafeInteger(n) && n >= 0)) failCrdt('CRDT_BAD_STATE', 'removed holds counts');
  const ends: number[] = [];
  let total = 0;
  for (const n of removed) ends.push((total += n));
  let run = 0;
  return (i) => {
    while (run < ends.length && i >= (ends[run] as number)) run++;
    if (run >= ends.length) failCrdt('CRDT_BAD_STATE', 'removed covers fewer elements than the runs hold');
    return run % 2 === 1;
  };
}

/** RGA with the run encoding as its wire and storage form: join, value and checks are RGA's. */
const RGA_RUNS: CrdtType<RgaState, string[]> = {
  ...RGA,
  // a small delta travels as its plain elements (an array), smaller than a table of runs
  decode: (value) => RGA.decode(Array.isArray(value) ? value : fromRuns(value)),
};

/** Deltas of at most this many elements are encoded element by element. */
const PLAIN_MAX_ELEMENTS = 4;

export function encodeRga(state: RgaState): Uint8Array {
  if (state.length <= PLAIN_MAX_ELEMENTS) return encodeState(RGA, state);
  return encodeState(RGA_RUNS as unknown as CrdtType<RgaRuns, unknown>, toRuns(state));
}

export function decodeRga(bytes: Uint8Array): RgaState {
  return decodeState(RGA_RUNS, bytes);
}
