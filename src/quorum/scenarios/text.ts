// Short texts for a key's state, shared by the scenario story and the visualizer's panels: the
// siblings as value@dot, a version vector as actor:counter pairs, a response in a few words.
import type { QuorumResponse } from '../requests.js';
import type { Dot, KeyState, VersionVector } from '../versions.js';

export function dotLabel(dot: Dot): string {
  return `${dot.actor}:${dot.counter}`;
}

export function vvLabel(vv: VersionVector): string {
  return vv.length === 0 ? '[]' : `[${vv.map(([actor, counter]) => `${actor}:${counter}`).join(', ')}]`;
}

/** The versions a state holds: plain buckets' siblings as value@dot (a tombstone as ✝), the other kinds in their own terms. */
export function versionsLabel(state: KeyState | undefined): string {
  if (state === undefined) return '—';
  switch (state.kind) {
    case 'dvv':
      return state.siblings.length === 0 ? '(empty)' : state.siblings.map((s) => `${s.value === null ? '✝' : s.value}@${dotLabel(s.dot)}`).join(' | ');
    case 'lww':
      return `${state.value ?? '✝'}@${dotLabel(state.dot)}`;
    case 'counter':
      return `+${vvLabel(state.increments)} −${vvLabel(state.decrements)}`;
    case 'orset':
      return state.entries.map(([e]) => e).join(', ') || '(empty)';
  }
}

export function stateVvLabel(state: KeyState | undefined): string {
  if (state === undefined) return '—';
  return state.kind === 'dvv' || state.kind === 'orset' ? vvLabel(state.vv) : state.kind === 'lww' ? dotLabel(state.dot) : '—';
}

/** Live values of a state (plain buckets), sorted: what a read of this copy alone would return. */
export function liveValues(state: KeyState | undefined | null): string[] {
  if (state === undefined || state === null || state.kind !== 'dvv') return [];
  return state.siblings.filter((s) => s.value !== null).map((s) => s.value as string).sort();
}

/** The context a successful read or write returned (undefined for anything else). */
export function contextOf(response: QuorumResponse | undefined): string | undefined {
  return response?.ok === true && (response.op === 'get' || response.op === 'write') ? response.context : undefined;
}

export function responseLabel(response: QuorumResponse | undefined): string {
  if (response === undefined) return 'no answer in time';
  if (!response.ok) return `${response.code}${response.acks === undefined ? '' : ` (${response.acks} acks)`}`;
  if (response.op === 'write') return `ok, ${response.acks} acks${response.dot === null ? '' : `, dot ${dotLabel(response.dot)}`}`;
  if (response.op !== 'get') return `ok (${response.op})`;
  const values = response.values.length === 0 ? 'not found' : response.values.join(' | ');
  return `ok: ${values}${response.siblings > 1 ? ` (${response.siblings} siblings)` : ''}, ${response.replies} answers`;
}
