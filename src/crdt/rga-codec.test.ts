import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeState } from './codec.js';
import { RGA, RgaDocument, rgaInsertAt, rgaInsertTextAt, rgaDeleteAt, type RgaState } from './rga.js';
import { decodeRga, encodeRga } from './rga-codec.js';

/** A document built by random edits on up to three replicas, merged. */
const documents = fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 3 }), fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom('a', 'b', '\u00e9', '\u{1F600}', 'xyz') })), { maxLength: 40 }).map((ops) => {
  const states: RgaState[] = [[], [], []];
  ops.forEach(([r, kind, text], i) => {
    const s = states[r] as RgaState;
    const visible = RGA.value(s).length;
    const at = visible === 0 ? 0 : i % (visible + 1);
    let delta: RgaState;
    if (kind === 0 && visible > 0) delta = rgaDeleteAt(s, Math.min(at, visible - 1));
    else if (kind === 1) delta = rgaInsertAt(s, `r${r}`, at, text);
    else delta = rgaInsertTextAt(s, `r${r}`, at, text);
    states[r] = RGA.join(s, delta);
    if (i % 5 === 4) states[r] = RGA.join(states[r] as RgaState, states[(r + 1) % 3] as RgaState);
  });
  return states.reduce((a, b) => RGA.join(a, b), [] as RgaState);
});

describe('the RGA run encoding', () => {
  it('gives back exactly the state it was given', () => {
    fc.assert(
      fc.property(documents, (state) => {
        expect(RGA.canonical(decodeRga(encodeRga(state)))).toBe(RGA.canonical(state));
      }),
      { numRuns: 200 },
    );
  });

  it('stores a typed run as one entry: far smaller than element by element', () => {
    const doc = new RgaDocument('author');
    doc.insertText(0, 'the quick brown fox jumps over the lazy dog '.repeat(100));
    doc.delete(10, 500);
    const state = doc.state();
    const compact = encodeRga(state).length;
    expect(compact).toBeLessThan(encodeState(RGA, state).length / 5);
    expect(decodeRga(encodeRga(state))).toEqual(state);
  });

  it('refuses malformed encodings with CRDT_BAD_STATE', () => {
    const good = encodeRga(new RgaDocument('a', []).state());
    expect(decodeRga(good)).toEqual([]);
    const bad: unknown[] = [
      null,
      { v: 2, replicas: [], runs: [], texts: [], removed: [0] },
      { v: 1, replicas: ['a'], runs: [0, 1, 3, -1, 0], texts: ['ab'], removed: [2] },
      { v: 1, replicas: ['a'], runs: [5, 1, 1, -1, 0], texts: ['a'], removed: [1] },
      { v: 1, replicas: ['a'], runs: [0, 1, 1, -1, 0], texts: ['a'], removed: [0] },
      { v: 1, replicas: ['a'], runs: [0, 1, 1e9, -1, 0], texts: ['a'], removed: [1] },
      { v: 1, replicas: ['a'], runs: [0, 1, 1, 0, 5], texts: ['a'], removed: [1] },
      { v: 1, replicas: ['a'], runs: [0, 1, 1, -1, 0], texts: ['a'], removed: [-1, 2] },
      { v: 1, replicas: ['a'], runs: [0, 1, 1, -1, 0], texts: ['a'], removed: [7] },
    ];
    for (const value of bad) {
      const bytes = encodeState({ ...RGA, decode: (v: unknown) => v as RgaState } as never, value as never);
      expect(() => decodeRga(bytes), JSON.stringify(value)).toThrow(expect.objectContaining({ code: 'CRDT_BAD_STATE' }));
    }
    expect(() => decodeRga(new Uint8Array([0xc1, 0xff, 0x00]))).toThrow(expect.objectContaining({ code: 'CRDT_BAD_STATE' }));
  });
});
