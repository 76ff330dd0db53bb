// A recording Effects sink for the Paxos cores' unit tests: every output of one call, in order.
import type { Effects, Message, NodeId } from '../../core/index.js';

export interface Recorded<M, P, Res> {
  readonly sends: { to: NodeId; msg: M }[];
  readonly persists: P[];
  readonly replies: { requestId: string; response: Res }[];
  readonly notes: Map<string, string | number | boolean | null>;
  /** Every output in order, as "persist", "send", "reply" (to check that writes come first). */
  readonly order: string[];
}

export function recorder<M extends Message, P, Res>(): Recorded<M, P, Res> & { fx: Effects<M, P, Res> } {
  const r: Recorded<M, P, Res> = { sends: [], persists: [], replies: [], notes: new Map(), order: [] };
  return {
    ...r,
    fx: {
      send: (to, msg) => {
        r.sends.push({ to, msg });
        r.order.push('send');
      },
      persist: (op) => {
        r.persists.push(op);
        r.order.push('persist');
      },
      reply: (requestId, response) => {
        r.replies.push({ requestId, response });
        r.order.push('reply');
      },
      annotate: (key, value) => void r.notes.set(key, value),
    },
  };
}

/** A deterministic random stream for a core's env. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}
