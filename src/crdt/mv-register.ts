// Multi-value register (MV-Register) as a causal CRDT: each write is a value under a fresh dot that
// replaces the values its replica has seen; writes no replica saw together stay side by side, and
// reading shows them all until a later write (one that has seen them) replaces them.
import { causalType, compareText, decodeText, dotFun, dotFunWrite, forgetDots, checkText, type Causal, type CausalType, type DotFun } from './causal.js';
import type { ReplicaId } from './types.js';

export type MvRegisterEntries = DotFun<string>;
/** `entries`: sorted [dot, value] pairs, one per concurrent write. */
export type MvRegisterState = Causal<MvRegisterEntries>;

/** Value: the concurrent values, sorted and distinct ([] before any write or after a clear). */
export const MV_REGISTER: CausalType<MvRegisterEntries, string[]> = causalType(
  'mv-register',
  dotFun<string>({ decode: (v) => decodeText(v, 'a register value'), compare: compareText }),
  (entries) => [...new Set(entries.map((e) => e[1]))].sort(compareText),
);

/** Writes `value`: one fresh dot whose delta context covers every value this state holds. */
export function mvWrite(state: MvRegisterState, replica: ReplicaId, value: string): MvRegisterState {
  checkText(value, 'a register value');
  return dotFunWrite(state, replica, value);
}

/** Clears the values this state has seen (a concurrent write survives). */
export function mvClear(state: MvRegisterState): MvRegisterState {
  return forgetDots(state.entries.map((e) => e[0]));
}
