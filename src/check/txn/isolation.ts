// Which anomalies each isolation level forbids (after Adya, Cerone and Elle's tables, reduced to
// the four levels Synod checks). Data anomalies (a read no interpretation explains) are forbidden
// at every level; each level forbids everything the one before it does.
import { ISOLATION_LEVELS, type AnomalyType, type IsolationLevel } from './types.js';

const DATA: readonly AnomalyType[] = ['internal', 'future-read', 'incompatible-order', 'duplicate-elements', 'garbage-read'];
const READ_COMMITTED: readonly AnomalyType[] = [...DATA, 'G0', 'G1a', 'G1b', 'G1c', 'dirty-update'];
const SNAPSHOT_ISOLATION: readonly AnomalyType[] = [...READ_COMMITTED, 'G-single', 'G-nonadjacent', 'lost-update'];
const SERIALIZABLE: readonly AnomalyType[] = [...SNAPSHOT_ISOLATION, 'G2'];
const STRICT_SERIALIZABLE: readonly AnomalyType[] = [
  ...SERIALIZABLE,
  'G0-realtime',
  'G1c-realtime',
  'G-single-realtime',
  'G-nonadjacent-realtime',
  'G2-realtime',
];

/** Anomalies forbidden by each level; exported for the docs table and tests. */
export const FORBIDDEN: Readonly<Record<IsolationLevel, ReadonlySet<AnomalyType>>> = {
  'read-committed': new Set(READ_COMMITTED),
  'snapshot-isolation': new Set(SNAPSHOT_ISOLATION),
  serializable: new Set(SERIALIZABLE),
  'strict-serializable': new Set(STRICT_SERIALIZABLE),
};

export function forbiddenBy(level: IsolationLevel): ReadonlySet<AnomalyType> {
  return FORBIDDEN[level];
}

/** The levels that any of these anomalies rules out. */
export function levelsRuledOut(types: readonly AnomalyType[]): IsolationLevel[] {
  return ISOLATION_LEVELS.filter((level) => types.some((t) => FORBIDDEN[level].has(t)));
}
