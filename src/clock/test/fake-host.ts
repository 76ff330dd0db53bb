// Test-only stand-ins for the simulator: an Effects sink that records what a core emits, and a
// CoreEnv whose clock and random stream the test controls directly.

import type { CoreEnv, Effects, Message, NodeId } from '../../core/index.js';

export interface SentMessage<M> {
  readonly to: NodeId;
  readonly msg: M;
}

export class RecordingEffects<M extends Message, Res> implements Effects<M, never, Res> {
  readonly sent: SentMessage<M>[] = [];
  readonly replies: { requestId: string; response: Res }[] = [];
  readonly annotations = new Map<string, string | number | boolean | null>();

  send(to: NodeId, msg: M): void {
    this.sent.push({ to, msg });
  }

  persist(op: never): void {
    throw new Error(`clock cores persist nothing, got ${String(op)}`);
  }

  reply(requestId: string, response: Res): void {
    this.replies.push({ requestId, response });
  }

  annotate(key: string, value: string | number | boolean | null): void {
    this.annotations.set(key, value);
  }

  /** Returns and forgets the messages sent so far, so each step of a test sees only its own. */
  drain(): SentMessage<M>[] {
    return this.sent.splice(0);
  }

  annotation(key: string): string | number | boolean | null | undefined {
    return this.annotations.get(key);
  }
}

export interface FakeEnv extends CoreEnv {
  /** What `now()` returns; tests move it. */
  localMs: number;
  /** Values `random()` returns in turn, cycling. */
  randomValues: number[];
}

export function createFakeEnv(id: NodeId, members: readonly NodeId[], localMs = 0): FakeEnv {
  let draws = 0;
  const env: FakeEnv = {
    id,
    members,
    localMs,
    randomValues: [0],
    now: () => env.localMs,
    random: () => env.randomValues[draws++ % env.randomValues.length] ?? 0,
  };
  return env;
}
