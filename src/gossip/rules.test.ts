import { describe, expect, it } from 'vitest';
import type { MemberState } from './messages.js';
import { eventKindFor, mustRefute, precedence, type Precedence } from './rules.js';

type Row = readonly [current: `${MemberState}@${number}` | 'unknown', incoming: `${MemberState}@${number}`, expected: Precedence];

function at(text: string): { state: MemberState; incarnation: number } {
  const [state, incarnation] = text.split('@');
  return { state: state as MemberState, incarnation: Number(incarnation) };
}

// (current state, incoming update) → what the node does, SWIM §4.2 plus the changes in rules.ts
const TABLE: readonly Row[] = [
  ['unknown', 'alive@0', 'apply'],
  ['unknown', 'suspect@3', 'apply'],
  ['unknown', 'dead@1', 'apply'],
  ['unknown', 'left@1', 'apply'],
  // alive overrides alive and suspect only with a higher incarnation
  ['alive@2', 'alive@3', 'apply'],
  ['alive@2', 'alive@2', 'ignore'],
  ['alive@2', 'alive@1', 'ignore'],
  ['suspect@2', 'alive@3', 'apply'],
  ['suspect@2', 'alive@2', 'ignore'],
  // suspect overrides alive of the same or a higher incarnation, suspect of a higher one
  ['alive@2', 'suspect@2', 'apply'],
  ['alive@2', 'suspect@3', 'apply'],
  ['alive@2', 'suspect@1', 'ignore'],
  ['suspect@2', 'suspect@3', 'apply'],
  ['suspect@2', 'suspect@2', 'confirm'],
  ['suspect@2', 'suspect@1', 'ignore'],
  // dead (and left) override alive and suspect of the same or a lower incarnation
  ['alive@2', 'dead@2', 'apply'],
  ['alive@2', 'dead@5', 'apply'],
  ['suspect@2', 'dead@2', 'apply'],
  ['alive@2', 'dead@1', 'ignore'],
  ['suspect@2', 'dead@1', 'ignore'],
  ['alive@2', 'left@2', 'apply'],
  ['suspect@2', 'left@2', 'apply'],
  // terminal states: the first stays at the same incarnation, a higher one replaces it
  ['dead@2', 'dead@2', 'ignore'],
  ['dead@2', 'left@2', 'ignore'],
  ['left@2', 'dead@2', 'ignore'],
  ['dead@2', 'dead@3', 'apply'],
  ['left@2', 'dead@3', 'apply'],
  // a dead or left member reclaims its name with a higher incarnation only
  ['dead@2', 'alive@2', 'ignore'],
  ['dead@2', 'alive@3', 'apply'],
  ['left@2', 'alive@3', 'apply'],
  ['dead@2', 'suspect@2', 'ignore'],
  ['dead@2', 'suspect@3', 'apply'],
];

describe('membership update precedence', () => {
  it.each(TABLE)('%s, then %s: %s', (current, incoming, expected) => {
    expect(precedence(current === 'unknown' ? undefined : at(current), at(incoming))).toBe(expected);
  });

  it('refutes suspicions and deaths at or above its incarnation, and alive claims above it', () => {
    expect(mustRefute(3, at('suspect@3'))).toBe(true);
    expect(mustRefute(3, at('suspect@2'))).toBe(false);
    expect(mustRefute(3, at('dead@4'))).toBe(true);
    expect(mustRefute(3, at('left@3'))).toBe(true);
    expect(mustRefute(3, at('alive@3'))).toBe(false);
    expect(mustRefute(3, at('alive@4'))).toBe(true);
  });

  it('names the event each change means for the application', () => {
    const r = (text: string, meta = ''): { state: MemberState; incarnation: number; meta: string } => ({ ...at(text), meta });
    expect(eventKindFor(undefined, r('alive@0'))).toBe('join');
    expect(eventKindFor(r('dead@1'), r('alive@2'))).toBe('join');
    expect(eventKindFor(r('alive@1'), r('suspect@1'))).toBe('update');
    expect(eventKindFor(r('suspect@1'), r('alive@2'))).toBe('update');
    expect(eventKindFor(r('alive@1', 'a'), r('alive@2', 'b'))).toBe('update');
    expect(eventKindFor(r('alive@1', 'a'), r('alive@2', 'a'))).toBeUndefined();
    expect(eventKindFor(r('suspect@1'), r('dead@1'))).toBe('fail');
    expect(eventKindFor(r('alive@1'), r('left@1'))).toBe('leave');
    expect(eventKindFor(r('left@1'), r('left@2'))).toBeUndefined();
    expect(eventKindFor(r('dead@1'), r('dead@2'))).toBeUndefined();
    expect(eventKindFor(r('left@1'), r('dead@2'))).toBeUndefined();
    expect(eventKindFor(undefined, r('dead@3'))).toBeUndefined();
    expect(eventKindFor(undefined, r('left@3'))).toBeUndefined();
    expect(eventKindFor(undefined, r('suspect@3'))).toBe('join');
  });
});
