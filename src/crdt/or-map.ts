// Observed-remove map (OR-Map) whose values are causal CRDTs, nested (the paper's DotMap): each key
// holds an embedded dot store and every key shares the map's one causal context, so an embedded
// mutator draws its dots from that context and the generic causal join merges the whole tree.
// A remove forgets the key's dots it has seen: a concurrent update of the key survives (add wins).
import { causalType, checkReplica, checkText, dotMap, dotMapGet, forgetDots, type Causal, type CausalType, type DotMap } from './causal.js';
import { EW_FLAG } from './flags.js';
import { MV_REGISTER } from './mv-register.js';
import { OR_SET } from './or-set.js';
import type { ReplicaId } from './types.js';

/** `entries`: sorted [key, embedded store] pairs; a key whose store is back to empty is absent. */
export type OrMapState<T> = Causal<DotMap<T>>;

/** An OR-Map type: a causal type itself, so maps nest. Its value is a plain object of key -> embedded value. */
export interface OrMapType<T, V> extends CausalType<DotMap<T>, Record<string, V>> {
  readonly embedded: CausalType<T, V>;
}

/** The OR-Map of values of type `embedded`, named 'or-map<embedded name>'. */
export function orMapType<T, V>(embedded: CausalType<T, V>): OrMapType<T, V> {
  // Object.fromEntries defines own properties: a key such as '__proto__' stays a plain key
  const valueOf = (entries: DotMap<T>): Record<string, V> => Object.fromEntries(entries.map((e) => [e[0], embedded.valueOf(e[1])]));
  return { ...causalType(`or-map<${embedded.name}>`, dotMap(embedded.store), valueOf), embedded };
}

export const OR_MAP_OF_OR_SETS = orMapType(OR_SET);
export const OR_MAP_OF_MV_REGISTERS = orMapType(MV_REGISTER);
export const OR_MAP_OF_EW_FLAGS = orMapType(EW_FLAG);

/**
 * Updates `key`: `update` receives the key's embedded state (its store, or the empty store, with the
 * map's shared context) and returns the embedded type's delta, e.g. `(s) => orSetAdd(s, replica, 'x')`.
 * The map's mutators take its type: a state (plain JSON) does not say what its values are.
 */
export function orMapUpdate<T, V>(type: OrMapType<T, V>, state: OrMapState<T>, replica: ReplicaId, key: string, update: (embedded: Causal<T>, replica: ReplicaId) => Causal<T>): OrMapState<T> {
  checkReplica(replica);
  checkText(key, 'a key');
  const store = type.embedded.store;
  const delta = update({ entries: dotMapGet(state.entries, key) ?? store.empty(), context: state.context }, replica);
  return { entries: store.isEmpty(delta.entries) ? [] : [[key, delta.entries]], context: delta.context };
}

/** Removes `key`: forgets the dots of it this state has seen; what a concurrent update adds survives. */
export function orMapRemove<T, V>(type: OrMapType<T, V>, state: OrMapState<T>, key: string): OrMapState<T> {
  checkText(key, 'a key');
  const store = dotMapGet(state.entries, key);
  return forgetDots(store === undefined ? [] : type.embedded.store.dots(store));
}

/** Removes every key this state has seen. */
export function orMapClear<T, V>(type: OrMapType<T, V>, state: OrMapState<T>): OrMapState<T> {
  return forgetDots(type.store.dots(state.entries));
}

export function orMapKeys<T>(state: OrMapState<T>): string[] {
  return state.entries.map((e) => e[0]);
}
