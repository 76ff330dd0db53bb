// The checks every Multi-Paxos message passes before the core reads it, and the checks of the
// durable ops a host reads back. A peer may be broken or hostile: a malformed message is dropped
// with a note (annotation `lastBadMessage`), never thrown on. Checks are total and bounded.
import type { NodeId } from '../../core/index.js';
import { isBallot, isNodeName, type Ballot } from '../ballot.js';
import { isCount, isJson, isListOf, isRecord, isSlot } from '../values.js';
import type { AcceptedEntry, DecidedRange, PaxosMessage, PaxosPersistOp, PaxosRequest, PaxosValue, SlotValue } from './types.js';

/** Lists in a message or op are at most this long (a promise carries every acceptance above a snapshot). */
export const MAX_LIST = 100_000;
/** `need` and decided ranges per message, at most. */
export const MAX_SHORT_LIST = 1024;

function isRealBallot(v: unknown): v is Ballot {
  return isBallot(v) && v.round >= 1;
}

export function isPaxosValue(v: unknown): v is PaxosValue {
  if (!isRecord(v)) return false;
  if (v['kind'] === 'noop') return true;
  if (v['kind'] !== 'command') return false;
  const clientId = v['clientId'];
  if (clientId !== null && !isNodeName(clientId)) return false;
  return isCount(v['seq']) && isJson(v['op']);
}

function isSlotValue(v: unknown): v is SlotValue {
  return isRecord(v) && isSlot(v['slot']) && isPaxosValue(v['value']);
}

function isAcceptedEntry(v: unknown): v is AcceptedEntry {
  return isRecord(v) && isSlot(v['slot']) && isRealBallot(v['ballot']) && isPaxosValue(v['value']);
}

function isDecidedRange(v: unknown): v is DecidedRange {
  return isRecord(v) && isSlot(v['from']) && isSlot(v['to']) && (v['to'] as number) >= (v['from'] as number) && isRealBallot(v['ballot']);
}

/**
 * The message when `raw` from `from` is well formed, or why it is not. A prepare, accept or
 * heartbeat must carry a ballot of its sender: nobody speaks for another proposer.
 */
export function parsePaxosMessage(from: NodeId, raw: unknown): { readonly msg: PaxosMessage } | { readonly problem: string } {
  if (!isRecord(raw)) return { problem: 'a message must be an object' };
  const type = raw['type'];
  const bad = (what: string) => ({ problem: `${String(type).slice(0, 40)}: ${what}` });
  const ok = { msg: raw as PaxosMessage };
  const ballot = raw['ballot'];
  switch (type) {
    case 'prepare':
    case 'accept':
    case 'heartbeat':
      if (!isRealBallot(ballot)) return bad('bad ballot');
      if (ballot.node !== from) return bad(`ballot ${ballot.round}.${ballot.node.slice(0, 40)} is not the sender's`);
      if (type === 'prepare') return isCount(raw['fromSlot']) ? ok : bad('bad fromSlot');
      if (!isListOf(raw['decided'], MAX_SHORT_LIST, isDecidedRange)) return bad('bad decided ranges');
      if (type === 'heartbeat') return isCount(raw['round']) ? ok : bad('bad round');
      return isListOf(raw['entries'], MAX_LIST, isSlotValue) ? ok : bad('bad entries');
    case 'promise':
      if (!isRealBallot(ballot)) return bad('bad ballot');
      if (!isCount(raw['snapshotSlot']) || !isCount(raw['known'])) return bad('bad slot numbers');
      return isListOf(raw['accepted'], MAX_LIST, isAcceptedEntry) ? ok : bad('bad accepted entries');
    case 'accepted':
    case 'heartbeatResp':
      if (!isRealBallot(ballot)) return bad('bad ballot');
      if (!isCount(raw['known']) || !isCount(raw['snapshotSlot'])) return bad('bad slot numbers');
      if (!isListOf(raw['need'], MAX_SHORT_LIST, isSlot)) return bad('bad need list');
      if (type === 'heartbeatResp') return isCount(raw['round']) ? ok : bad('bad round');
      return isListOf(raw['slots'], MAX_LIST, isSlot) ? ok : bad('bad slots');
    case 'reject':
      return isRealBallot(ballot) && isBallot(raw['promised']) ? ok : bad('bad ballot');
    case 'values':
      return isListOf(raw['entries'], MAX_LIST, isAcceptedEntry) ? ok : bad('bad entries');
    case 'snapshotReq':
      return ok;
    case 'snapshot':
      return isSlot(raw['slot']) && isJson(raw['data']) ? ok : bad('bad slot or data');
    default:
      return { problem: `unknown message type ${JSON.stringify(type)?.slice(0, 40) ?? 'undefined'}` };
  }
}

/** Checks a durable op read back by a host (OpLogStore's decodeOp). */
export function decodePaxosPersistOp(raw: unknown): { readonly op: PaxosPersistOp } | { readonly problem: string } {
  if (!isRecord(raw)) return { problem: 'an op must be an object' };
  switch (raw['kind']) {
    case 'promise':
      return isRealBallot(raw['ballot']) ? { op: raw as PaxosPersistOp } : { problem: 'promise: bad ballot' };
    case 'accept':
      return isRealBallot(raw['ballot']) && isListOf(raw['entries'], MAX_LIST, isSlotValue) ? { op: raw as PaxosPersistOp } : { problem: 'accept: bad ballot or entries' };
    case 'snapshot':
      if (!isCount(raw['slot']) || !isJson(raw['data']) || !isBallot(raw['promised'])) return { problem: 'snapshot: bad slot, data or promise' };
      return isListOf(raw['accepted'], MAX_LIST, isAcceptedEntry) ? { op: raw as PaxosPersistOp } : { problem: 'snapshot: bad acceptances' };
    default:
      return { problem: `unknown op kind ${JSON.stringify(raw['kind'])?.slice(0, 40) ?? 'undefined'}` };
  }
}

/** Why a client request is malformed (it comes from outside), or null. */
export function paxosRequestProblem(req: PaxosRequest): string | null {
  const r: unknown = req;
  if (!isRecord(r)) return 'a request must be an object with a "type"';
  switch (r['type']) {
    case 'status':
    case 'snapshot':
    case 'campaign':
      return null;
    case 'command':
      if (r['clientId'] !== null && !isNodeName(r['clientId'])) return `command.clientId must be null or a string of 1 to 128 characters`;
      if (!isCount(r['seq'])) return 'command.seq must be an integer >= 0';
      return isJson(r['op']) ? null : 'command.op must be plain JSON';
    case 'read':
      return isJson(r['op']) ? null : 'read.op must be plain JSON';
    default:
      return `unknown request type ${JSON.stringify(r['type'])?.slice(0, 40) ?? 'undefined'}`;
  }
}
