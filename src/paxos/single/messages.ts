// The checks every single-decree message passes before a core reads it: a peer may be broken or
// hostile, so a malformed message is dropped with a note (annotation `lastBadMessage`), never
// thrown on. The durable ops a host reads back are checked the same way.
import { isBallot, type Ballot } from '../ballot.js';
import { isCount, isJson, isRecord } from '../values.js';
import type { SynodMessage, SynodPersistOp, SynodRequest } from './types.js';

/** The message when `raw` is well formed, or why it is not. */
export function parseSynodMessage(raw: unknown): { readonly msg: SynodMessage } | { readonly problem: string } {
  if (!isRecord(raw)) return { problem: 'a message must be an object' };
  const bad = (what: string) => ({ problem: `${String(raw['type']).slice(0, 40)}: ${what}` });
  const ballot = raw['ballot'];
  switch (raw['type']) {
    case 'prepare':
      return isRealBallot(ballot) ? { msg: raw as SynodMessage } : bad('bad ballot');
    case 'promise': {
      if (!isRealBallot(ballot)) return bad('bad ballot');
      const a = raw['accepted'];
      if (a !== null && !(isRecord(a) && isRealBallot(a['ballot']) && isJson(a['value']))) return bad('bad accepted value');
      return { msg: raw as SynodMessage };
    }
    case 'accept':
    case 'accepted':
      if (!isRealBallot(ballot)) return bad('bad ballot');
      return isJson(raw['value']) ? { msg: raw as SynodMessage } : bad('the value is not plain JSON');
    case 'reject':
      return isRealBallot(ballot) && isBallot(raw['promised']) ? { msg: raw as SynodMessage } : bad('bad ballot');
    case 'decided':
      return isJson(raw['value']) ? { msg: raw as SynodMessage } : bad('the value is not plain JSON');
    case 'ask':
      return { msg: raw as SynodMessage };
    default:
      return { problem: `unknown message type ${JSON.stringify(raw['type'])?.slice(0, 40) ?? 'undefined'}` };
  }
}

function isRealBallot(v: unknown): v is Ballot {
  return isBallot(v) && v.round >= 1;
}

/** Checks a durable op read back by a host. */
export function decodeSynodPersistOp(raw: unknown): { readonly op: SynodPersistOp } | { readonly problem: string } {
  if (!isRecord(raw)) return { problem: 'an op must be an object' };
  switch (raw['kind']) {
    case 'round':
      return isCount(raw['round']) ? { op: raw as SynodPersistOp } : { problem: 'round: bad round' };
    case 'promise':
      return isRealBallot(raw['ballot']) ? { op: raw as SynodPersistOp } : { problem: 'promise: bad ballot' };
    case 'accept':
      return isRealBallot(raw['ballot']) && isJson(raw['value']) ? { op: raw as SynodPersistOp } : { problem: 'accept: bad ballot or value' };
    case 'learned':
      return isJson(raw['value']) ? { op: raw as SynodPersistOp } : { problem: 'learned: bad value' };
    default:
      return { problem: `unknown op kind ${JSON.stringify(raw['kind'])?.slice(0, 40) ?? 'undefined'}` };
  }
}

/** Why a client request is malformed, or null. */
export function synodRequestProblem(req: unknown): string | null {
  if (!isRecord(req)) return 'a request must be an object with a "type"';
  if (req['type'] === 'status') return null;
  if (req['type'] === 'propose') return isJson(req['value']) ? null : 'propose.value must be plain JSON';
  return `unknown request type ${JSON.stringify(req['type'])?.slice(0, 40) ?? 'undefined'}`;
}

export type { SynodRequest };
