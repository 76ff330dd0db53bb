// Where a gossip agent keeps what it persists: its own incarnation and metadata and its local
// CRDT changes, in an op log (src/storage) under --data-dir, compacted into one snapshot op; or,
// without a data directory, nowhere (a restart then starts a new life with a new replica id).
import { join } from 'node:path';
import { CRDT_DOC } from '../crdt/doc.js';
import { isCrdtError } from '../crdt/errors.js';
import type { GossipNodePersistOp } from '../gossip/crdt-node.js';
import { MAX_INCARNATION } from '../gossip/messages.js';
import { OpLogStore } from '../storage/index.js';
import type { DurableStore } from '../runtime/index.js';

export interface AgentStore extends DurableStore<GossipNodePersistOp> {
  close(): Promise<void>;
}

const COMPACT_EVERY_OPS = 1_000;

function isIncarnation(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_INCARNATION;
}

/** One op read back from disk, checked field by field. */
export function decodeAgentOp(value: unknown): { readonly op: GossipNodePersistOp } | { readonly problem: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'an op is an object' };
  const v = value as Record<string, unknown>;
  try {
    switch (v['op']) {
      case 'self':
        if (!isIncarnation(v['incarnation']) || typeof v['meta'] !== 'string') return { problem: 'a self op has incarnation and meta' };
        return { op: { op: 'self', incarnation: v['incarnation'], meta: v['meta'] } };
      case 'crdt-delta':
        if (typeof v['replica'] !== 'string' || v['replica'].length === 0) return { problem: 'a crdt-delta op has a replica' };
        return { op: { op: 'crdt-delta', replica: v['replica'], delta: CRDT_DOC.decode(v['delta']) } };
      case 'crdt-snapshot':
        if (typeof v['replica'] !== 'string' || v['replica'].length === 0 || !isIncarnation(v['incarnation']) || typeof v['meta'] !== 'string') return { problem: 'a crdt-snapshot op has replica, incarnation and meta' };
        return { op: { op: 'crdt-snapshot', replica: v['replica'], incarnation: v['incarnation'], meta: v['meta'], doc: CRDT_DOC.decode(v['doc']) } };
      default:
        return { problem: `unknown op ${JSON.stringify(String(v['op'])).slice(0, 40)}` };
    }
  } catch (err) {
    if (isCrdtError(err)) return { problem: err.message };
    throw err;
  }
}

/** Folds a log into one op: the latest self record and, once there is a change, the joined document. */
export function compactAgentOps(ops: readonly GossipNodePersistOp[]): GossipNodePersistOp[] {
  let self: { incarnation: number; meta: string } | undefined;
  let replica: string | undefined;
  let doc = CRDT_DOC.empty();
  for (const op of ops) {
    if (op.op === 'self' || op.op === 'crdt-snapshot') {
      if (self === undefined || op.incarnation >= self.incarnation) self = { incarnation: op.incarnation, meta: op.meta };
    }
    if (op.op === 'crdt-delta') doc = CRDT_DOC.join(doc, op.delta);
    if (op.op === 'crdt-snapshot') doc = CRDT_DOC.join(doc, op.doc);
    if (op.op !== 'self') replica = op.replica;
  }
  if (self === undefined) return [...ops];
  if (replica === undefined) return [{ op: 'self', ...self }];
  return [{ op: 'crdt-snapshot', replica, incarnation: self.incarnation, meta: self.meta, doc }];
}

export async function openAgentStore(dataDir: string | undefined): Promise<AgentStore> {
  if (dataDir === undefined) return { recovered: [], persist: () => Promise.resolve(), close: () => Promise.resolve() };
  return OpLogStore.open<GossipNodePersistOp>(join(dataDir, 'gossip'), { decodeOp: decodeAgentOp, compact: compactAgentOps, compactEveryOps: COMPACT_EVERY_OPS });
}
