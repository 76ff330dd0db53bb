// Enable-wins and disable-wins flags as causal CRDTs. Both read false before any operation and
// read the last operation when none is concurrent; an enable concurrent with a disable reads true
// (EW) or false (DW). EW is the paper's: enable adds a fresh dot replacing those seen, disable only
// forgets the dots seen, enabled iff a dot is left. DW is not the paper's (EW with roles swapped,
// which reads *true* when fresh and holds no dot when enabled, so an OR-Map would not show it):
// every operation leaves a fresh dot carrying true (enable) or false (disable) that replaces those
// seen (an MV-register of booleans); enabled iff a dot is left and every one carries true.
import { causalType, contextOf, DOT_SET, dotFun, dotFunWrite, failBadState, forgetDots, nextDot, type Causal, type CausalType, type DotFun, type DotSet } from './causal.js';
import type { ReplicaId } from './types.js';

/** `entries`: the dots of the enables no disable has seen. */
export type EwFlagState = Causal<DotSet>;

export const EW_FLAG: CausalType<DotSet, boolean> = causalType('ew-flag', DOT_SET, (dots) => dots.length > 0);

export function ewFlagEnable(state: EwFlagState, replica: ReplicaId): EwFlagState {
  const dot = nextDot(state.context, replica);
  return { entries: [dot], context: contextOf([...state.entries, dot]) };
}

export function ewFlagDisable(state: EwFlagState): EwFlagState {
  return forgetDots(state.entries);
}

export type DwFlagEntries = DotFun<boolean>;
/** `entries`: sorted [dot, enabled] pairs, one per operation no later operation has seen. */
export type DwFlagState = Causal<DwFlagEntries>;

export const DW_FLAG: CausalType<DwFlagEntries, boolean> = causalType(
  'dw-flag',
  dotFun<boolean>({
    decode: (v) => (typeof v === 'boolean' ? v : failBadState('a DW flag entry carries true (enable) or false (disable)')),
    compare: (a, b) => Number(a) - Number(b),
  }),
  (entries) => entries.length > 0 && entries.every((e) => e[1]),
);

export function dwFlagEnable(state: DwFlagState, replica: ReplicaId): DwFlagState {
  return dotFunWrite(state, replica, true);
}

export function dwFlagDisable(state: DwFlagState, replica: ReplicaId): DwFlagState {
  return dotFunWrite(state, replica, false);
}
