// What SWIM members say to each other, what clients ask of a member, and what a member persists;
// and the field-by-field checks every peer message and client request passes before any of it
// is used (a peer may be buggy, old or hostile: a malformed message is dropped, never thrown on).
import type { NodeId } from '../core/index.js';

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

/**
 * One membership update, piggybacked on probes and gossip or carried in a full state exchange.
 * `meta` travels with alive updates only; `from` names who suspects (Lifeguard counts distinct
 * suspecters as confirmations) or who declared the member dead.
 */
export interface MemberUpdate {
  readonly node: NodeId;
  readonly state: MemberState;
  readonly incarnation: number;
  readonly meta?: string;
  readonly from?: NodeId;
}

export type GossipMessage =
  /** A probe of `target` (a ping meant for another name is ignored). */
  | { readonly type: 'ping'; readonly seq: number; readonly target: NodeId; readonly updates: readonly MemberUpdate[] }
  /** Answers the ping (or, from a relay, the ping-req) numbered `seq`. */
  | { readonly type: 'ack'; readonly seq: number; readonly updates: readonly MemberUpdate[] }
  /** Please ping `target` for me and pass on its ack; `nack`: say so if it does not answer in time (Lifeguard). */
  | { readonly type: 'ping-req'; readonly seq: number; readonly target: NodeId; readonly nack: boolean; readonly updates: readonly MemberUpdate[] }
  /** The relay asked by ping-req `seq` got no ack from the target in time: the asker itself is reachable. */
  | { readonly type: 'nack'; readonly seq: number; readonly updates: readonly MemberUpdate[] }
  | { readonly type: 'gossip'; readonly updates: readonly MemberUpdate[] }
  /** Push-pull: the sender's whole member list; answered with a sync-reply holding the receiver's. `join`: the sender is joining (answered the same way). */
  | { readonly type: 'sync'; readonly join: boolean; readonly members: readonly MemberUpdate[] }
  | { readonly type: 'sync-reply'; readonly members: readonly MemberUpdate[] };

export type GossipRequest =
  | { readonly op: 'members' }
  | { readonly op: 'join'; readonly seeds: readonly NodeId[] }
  | { readonly op: 'leave' }
  | { readonly op: 'set-meta'; readonly meta: string };

/** One member as a node sees it. */
export interface MemberView {
  readonly id: NodeId;
  readonly state: MemberState;
  readonly incarnation: number;
  readonly meta: string;
}

export type GossipResponse =
  | { readonly ok: true; readonly op: 'members'; readonly members: readonly MemberView[] }
  | { readonly ok: true; readonly op: 'join'; readonly via: NodeId }
  | { readonly ok: true; readonly op: 'leave' }
  | { readonly ok: true; readonly op: 'set-meta'; readonly incarnation: number }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** The node's own incarnation and metadata: a restart continues above it. Each op supersedes the earlier ones. */
export type GossipPersistOp = { readonly op: 'self'; readonly incarnation: number; readonly meta: string };

export const MAX_ID_LENGTH = 200;
/** Piggybacked updates one message may carry, whatever its byte budget. */
export const MAX_UPDATES_PER_MESSAGE = 64;
/** Seeds one join may name. */
export const MAX_SEEDS = 64;
/** Hard cap on a metadata string in a message; the node's own maxMetaBytes is checked where it is applied. */
const MAX_META_CHARS = 16_384;
/** The highest incarnation: a node there (only a hostile peer could push it so far) can no longer refute or change. */
export const MAX_INCARNATION = Number.MAX_SAFE_INTEGER;
const MAX_SYNC_MEMBERS = 1_000_000;
const STATES: ReadonlySet<string> = new Set<MemberState>(['alive', 'suspect', 'dead', 'left']);

export function isNodeId(value: unknown): value is NodeId {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH;
}

function isSeq(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** What is wrong with one update; undefined when every field has its type and range. */
export function updateProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'an update is an object';
  const u = value as Record<string, unknown>;
  if (!isNodeId(u['node'])) return `an update's node is a string of 1 to ${MAX_ID_LENGTH} characters`;
  if (typeof u['state'] !== 'string' || !STATES.has(u['state'])) return 'an update\'s state is alive, suspect, dead or left';
  if (!Number.isSafeInteger(u['incarnation']) || (u['incarnation'] as number) < 0 || (u['incarnation'] as number) > MAX_INCARNATION) return 'an update\'s incarnation is a non-negative safe integer';
  if (u['meta'] !== undefined && (typeof u['meta'] !== 'string' || u['meta'].length > MAX_META_CHARS)) return 'an update\'s meta is a short string';
  if (u['from'] !== undefined && !isNodeId(u['from'])) return 'an update\'s from is a node id';
  return undefined;
}

function listProblem(value: unknown, max: number, what: string): string | undefined {
  if (!Array.isArray(value)) return `${what} is an array`;
  if (value.length > max) return `${what} holds at most ${max} updates`;
  for (const u of value as unknown[]) {
    const problem = updateProblem(u);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** What is wrong with a peer's message before any field is used; undefined when it is well formed. */
export function messageProblem(msg: unknown): string | undefined {
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return 'a message is an object';
  const m = msg as Record<string, unknown>;
  switch (m['type']) {
    case 'ping':
      if (!isSeq(m['seq']) || !isNodeId(m['target'])) return 'ping needs seq and target';
      return listProblem(m['updates'], MAX_UPDATES_PER_MESSAGE, 'updates');
    case 'ping-req':
      if (!isSeq(m['seq']) || !isNodeId(m['target']) || typeof m['nack'] !== 'boolean') return 'ping-req needs seq, target and nack';
      return listProblem(m['updates'], MAX_UPDATES_PER_MESSAGE, 'updates');
    case 'ack':
    case 'nack':
      if (!isSeq(m['seq'])) return `${m['type']} needs seq`;
      return listProblem(m['updates'], MAX_UPDATES_PER_MESSAGE, 'updates');
    case 'gossip':
      return listProblem(m['updates'], MAX_UPDATES_PER_MESSAGE, 'updates');
    case 'sync':
      if (typeof m['join'] !== 'boolean') return 'sync needs join';
      return listProblem(m['members'], MAX_SYNC_MEMBERS, 'members');
    case 'sync-reply':
      return listProblem(m['members'], MAX_SYNC_MEMBERS, 'members');
    default:
      return 'unknown message type';
  }
}

/** What is wrong with a client request; undefined when it is well formed. */
export function requestProblem(request: unknown): string | undefined {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return 'a request is an object';
  const r = request as Record<string, unknown>;
  switch (r['op']) {
    case 'members':
    case 'leave':
      return undefined;
    case 'join': {
      const seeds = r['seeds'];
      if (!Array.isArray(seeds) || seeds.length === 0 || seeds.length > MAX_SEEDS) return `join needs 1 to ${MAX_SEEDS} seeds`;
      return (seeds as unknown[]).every(isNodeId) ? undefined : `a seed is a node id of 1 to ${MAX_ID_LENGTH} characters`;
    }
    case 'set-meta':
      return typeof r['meta'] === 'string' ? undefined : 'set-meta needs a meta string';
    default:
      return 'op is members, join, leave or set-meta';
  }
}

/** UTF-8 length of a string, without building the bytes. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
