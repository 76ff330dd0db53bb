// Which membership update wins: SWIM's order of alive, suspect and confirm (dead) messages by
// incarnation (Das, Gupta, Motivala 2002, §4.2), extended with left (a graceful leave) and with
// the way back from dead and left that reclaiming a name needs. Pure functions, tested by table.
import type { MemberState } from './messages.js';

/** What a node does with an update about another member, given what it holds now. */
export type Precedence =
  /** The update is newer: take it (and pass it on). */
  | 'apply'
  /** The same suspicion from another member: Lifeguard counts it as a confirmation. */
  | 'confirm'
  /** Stale or redundant. */
  | 'ignore';

export interface StateAt {
  readonly state: MemberState;
  readonly incarnation: number;
}

function isGone(state: MemberState): boolean {
  return state === 'dead' || state === 'left';
}

/**
 * The paper's rules, with two deliberate changes (docs in the module report):
 * - dead (and left) override alive and suspect of the same or a lower incarnation only, not of a
 *   higher one, as memberlist does: a member that refuted a suspicion at i + 1 is not killed by
 *   the late confirmation of the suspicion at i;
 * - a dead or left member comes back with any alive or suspect of a higher incarnation: the
 *   member restarted and reclaimed its name (the paper keeps it out for good).
 * Between two terminal states the first one stays at the same incarnation (a leave is not turned
 * into a failure), and a higher incarnation replaces it.
 */
export function precedence(current: StateAt | undefined, incoming: StateAt): Precedence {
  if (current === undefined) return 'apply';
  const newer = incoming.incarnation > current.incarnation;
  const same = incoming.incarnation === current.incarnation;
  switch (incoming.state) {
    case 'alive':
      return newer ? 'apply' : 'ignore';
    case 'suspect':
      if (current.state === 'alive') return newer || same ? 'apply' : 'ignore';
      if (current.state === 'suspect') return newer ? 'apply' : same ? 'confirm' : 'ignore';
      return newer ? 'apply' : 'ignore';
    case 'dead':
    case 'left':
      if (isGone(current.state)) return newer ? 'apply' : 'ignore';
      return newer || same ? 'apply' : 'ignore';
  }
}

/** Whether an update about this node itself must be refuted (it is alive and not leaving). */
export function mustRefute(ownIncarnation: number, incoming: StateAt): boolean {
  // someone holding a higher incarnation of ours (a lost disk, an old life) is refuted too
  return incoming.state === 'alive' ? incoming.incarnation > ownIncarnation : incoming.incarnation >= ownIncarnation;
}

export type GossipEventKind = 'join' | 'leave' | 'fail' | 'update';

/** The event a change of a member's record means for the application, if any. */
export function eventKindFor(previous: (StateAt & { readonly meta: string }) | undefined, next: StateAt & { readonly meta: string }): GossipEventKind | undefined {
  const wasIn = previous !== undefined && !isGone(previous.state);
  // a member learned of only once gone (from a joiner's first state exchange) never joined for the application
  if (isGone(next.state)) return !wasIn ? undefined : next.state === 'left' ? 'leave' : 'fail';
  if (!wasIn) return 'join';
  return previous.state !== next.state || previous.meta !== next.meta ? 'update' : undefined;
}
