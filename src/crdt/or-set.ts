// Add-wins observed-remove set (OR-Set) as a causal CRDT: each present element maps to the dots of
// the adds that made it present, and the state's one causal context remembers removed dots, so a
// remove costs no tombstone per element and an add concurrent with a remove survives (add wins).
import { causalType, checkReplica, checkText, contextOf, dotMap, dotMapGet, DOT_SET, forgetDots, nextDot, type Causal, type CausalType, type DotMap, type DotSet } from './causal.js';
import type { ReplicaId } from './types.js';

export type OrSetEntries = DotMap<DotSet>;
/** `entries`: sorted [element, dots] pairs, one per present element. */
export type OrSetState = Causal<OrSetEntries>;

/** Value: the present elements, sorted. */
export const OR_SET: CausalType<OrSetEntries, string[]> = causalType('or-set', dotMap(DOT_SET), (entries) => entries.map((e) => e[0]));

/** Adds `element` under a fresh dot; the delta's context covers the element's current dots, which the add replaces. */
export function orSetAdd(state: OrSetState, replica: ReplicaId, element: string): OrSetState {
  checkReplica(replica);
  checkText(element, 'an element');
  const dot = nextDot(state.context, replica);
  return { entries: [[element, [dot]]], context: contextOf([...(dotMapGet(state.entries, element) ?? []), dot]) };
}

/** Removes the adds of `element` this state has seen; an add it has not seen survives. */
export function orSetRemove(state: OrSetState, element: string): OrSetState {
  checkText(element, 'an element');
  return forgetDots(dotMapGet(state.entries, element) ?? []);
}

/** Removes every element this state has seen. */
export function orSetClear(state: OrSetState): OrSetState {
  return forgetDots(OR_SET.store.dots(state.entries));
}

export function orSetHas(state: OrSetState, element: string): boolean {
  return dotMapGet(state.entries, element) !== undefined;
}
