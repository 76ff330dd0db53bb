// The convergence checker of CRDT documents (src/crdt/doc.ts) replicated by gossip: after faults
// heal, every live replica must hold the same document, and that document must account for the
// recorded changes — counters within the bounds the acknowledged and unanswered changes allow,
// every acknowledged add present unless removed, every effective remove holding, and nothing
// that was never written. Used by the simulator's chaos and by the real-process tests alike.
import type { DocChange, DocEntryView } from '../crdt/doc.js';

export interface DocChangeRecord {
  readonly node: string;
  readonly change: DocChange;
  /** ok: acknowledged (durable on that node); fail: refused (not applied); unknown: no answer came. */
  readonly outcome: 'ok' | 'fail' | 'unknown';
  /** For a set change acknowledged: whether the element was present on that node before it. */
  readonly wasPresent?: boolean;
}

export interface DocReplica {
  readonly node: string;
  readonly entries: readonly DocEntryView[];
  /** The canonical text of the whole document (CRDT_DOC.canonical): equal texts, equal states. */
  readonly canonical: string;
}

export type DocProblemKind = 'divergent' | 'counter-out-of-bounds' | 'lost-add' | 'phantom-element' | 'resurrected' | 'phantom-value';

export interface DocProblem {
  readonly kind: DocProblemKind;
  readonly message: string;
}

export interface DocCheckOptions {
  /** Nodes gone for good (crashed, left): what they acknowledged may never have left them. */
  readonly goneNodes?: ReadonlySet<string>;
  /** Problems reported at most. */
  readonly limit?: number;
}

/**
 * Judges the final replicas against the changes. Set rules assume each element is added at most
 * once in the history (the workloads make elements unique); an element added twice is judged
 * only for phantoms. A remove is effective when the element was present on its node before it.
 */
export function checkDocConvergence(replicas: readonly DocReplica[], changes: readonly DocChangeRecord[], options: DocCheckOptions = {}): DocProblem[] {
  const limit = options.limit ?? 20;
  const gone = options.goneNodes ?? new Set<string>();
  const problems: DocProblem[] = [];
  const first = replicas[0];
  if (first === undefined) return problems;
  for (const r of replicas) {
    if (r.canonical !== first.canonical) problems.push({ kind: 'divergent', message: `${r.node} holds a different document than ${first.node}` });
  }
  const value = (kind: DocEntryView['kind'], name: string): DocEntryView['value'] | undefined => first.entries.find((e) => e.kind === kind && e.name === name)?.value;
  const definite = (c: DocChangeRecord): boolean => c.outcome === 'ok' && !gone.has(c.node);
  const maybe = (c: DocChangeRecord): boolean => c.outcome === 'unknown' || (c.outcome === 'ok' && gone.has(c.node));
  checkCounters(changes, value, definite, maybe, problems);
  checkSets(changes, value, definite, maybe, problems);
  checkRegisters(changes, value, problems);
  return problems.slice(0, limit);
}

type ValueOf = (kind: DocEntryView['kind'], name: string) => DocEntryView['value'] | undefined;
type Judge = (c: DocChangeRecord) => boolean;

function checkCounters(changes: readonly DocChangeRecord[], value: ValueOf, definite: Judge, maybe: Judge, problems: DocProblem[]): void {
  const bounds = new Map<string, { low: number; high: number; acked: number }>();
  for (const c of changes) {
    if (c.change.kind !== 'counter') continue;
    const b = bounds.get(c.change.name) ?? { low: 0, high: 0, acked: 0 };
    const signed = c.change.action === 'incr' ? c.change.amount : -c.change.amount;
    if (definite(c)) {
      b.low += signed;
      b.high += signed;
      b.acked += signed;
    } else if (maybe(c)) {
      if (signed > 0) b.high += signed;
      else b.low += signed;
    }
    bounds.set(c.change.name, b);
  }
  for (const [name, b] of bounds) {
    const v = (value('counter', name) as number | undefined) ?? 0;
    if (v < b.low || v > b.high) problems.push({ kind: 'counter-out-of-bounds', message: `counter ${name} is ${v}, outside [${b.low}, ${b.high}] (acknowledged sum ${b.acked})` });
  }
}

function checkSets(changes: readonly DocChangeRecord[], value: ValueOf, definite: Judge, maybe: Judge, problems: DocProblem[]): void {
  const adds = new Map<string, DocChangeRecord[]>();
  const removes = new Map<string, DocChangeRecord[]>();
  const names = new Set<string>();
  for (const c of changes) {
    if (c.change.kind !== 'set') continue;
    names.add(c.change.name);
    const key = `${c.change.name}\u0000${c.change.element}`;
    const into = c.change.action === 'add' ? adds : removes;
    into.set(key, [...(into.get(key) ?? []), c]);
  }
  for (const name of names) {
    const present = new Set((value('set', name) as string[] | undefined) ?? []);
    for (const element of present) {
      const added = adds.get(`${name}\u0000${element}`) ?? [];
      if (!added.some((c) => definite(c) || maybe(c))) problems.push({ kind: 'phantom-element', message: `set ${name} holds ${JSON.stringify(element)}, which no change that may have applied added` });
    }
  }
  for (const [key, added] of adds) {
    if (added.length !== 1) continue;
    const [name, element] = key.split('\u0000') as [string, string];
    const removed = removes.get(key) ?? [];
    const present = ((value('set', name) as string[] | undefined) ?? []).includes(element);
    const effective = removed.some((c) => definite(c) && c.wasPresent === true);
    if (effective && present) problems.push({ kind: 'resurrected', message: `set ${name} holds ${JSON.stringify(element)} after a remove that saw its only add was acknowledged` });
    if (!present && definite(added[0] as DocChangeRecord) && removed.length === 0) problems.push({ kind: 'lost-add', message: `set ${name} lacks ${JSON.stringify(element)}, added and acknowledged by ${(added[0] as DocChangeRecord).node} and never removed` });
  }
}

function checkRegisters(changes: readonly DocChangeRecord[], value: ValueOf, problems: DocProblem[]): void {
  const written = new Map<string, Set<string>>();
  for (const c of changes) {
    if (c.change.kind !== 'register' || c.outcome === 'fail') continue;
    const set = written.get(c.change.name) ?? new Set<string>();
    set.add(c.change.value);
    written.set(c.change.name, set);
  }
  for (const [name, values] of written) {
    for (const v of (value('register', name) as string[] | undefined) ?? []) {
      if (!values.has(v)) problems.push({ kind: 'phantom-value', message: `register ${name} holds ${JSON.stringify(v)}, which no change wrote` });
    }
  }
}
