// The HLC gossip core driven by hand: message stamping, merging, refusal of far-ahead peers,
// and a small skewed, drifting cluster whose annotations must respect the HLC bounds.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHlcGossipSpec, type HlcGossipMessage, type HlcStampResult } from './hlc-gossip.js';
import { formatPackedHlc, parsePackedHlc, compareHlcTimestamps } from './hlc.js';
import { createFakeEnv, RecordingEffects } from './test/fake-host.js';

type GossipFx = RecordingEffects<HlcGossipMessage, HlcStampResult>;

function createNode(id: string, members: string[], localMs: number, maxOffsetMs = 100, gossipEveryTicks = 1) {
  const env = createFakeEnv(id, members, localMs);
  const core = createHlcGossipSpec({ maxOffsetMs, gossipEveryTicks }).create(env, []);
  const fx: GossipFx = new RecordingEffects();
  core.start?.(fx);
  return { env, core, fx };
}

const gossip = (physicalMs: number, logical: number): HlcGossipMessage => ({ type: 'hlc_gossip', hlc: formatPackedHlc({ physicalMs, logical }) });

describe('HLC gossip core', () => {
  it('stamps a tick’s message with its HLC and sends it to a randomly chosen peer', () => {
    const { env, core, fx } = createNode('1', ['1', '2', '3'], 5000);
    expect(fx.annotation('hlc')).toBe('0');
    expect(fx.annotation('hlcRejected')).toBe(0);
    env.randomValues = [0.7];
    core.handleTick(fx);
    expect(fx.drain()).toEqual([{ to: '3', msg: gossip(5000, 0) }]);
    expect(fx.annotation('hlc')).toBe(formatPackedHlc({ physicalMs: 5000, logical: 0 }));
    expect(fx.annotation('hlcAheadMs')).toBe(0);
  });

  it('merges a received stamp so its clock is after it', () => {
    const { core, fx } = createNode('2', ['1', '2'], 5000);
    core.handleMessage('1', gossip(5080, 7), fx);
    expect(parsePackedHlc(fx.annotation('hlc') as string)).toEqual({ physicalMs: 5080, logical: 8 });
    expect(fx.annotation('hlcAheadMs')).toBe(80);
  });

  it('counts and skips a stamp further ahead than maxOffsetMs, keeping its clock', () => {
    const { core, fx } = createNode('2', ['1', '2'], 5000);
    core.handleMessage('1', gossip(5101, 0), fx);
    expect(fx.annotation('hlcRejected')).toBe(1);
    expect(fx.annotation('hlcLastError')).toBe('HLC_OFFSET_EXCEEDED');
    expect(fx.annotation('hlc')).toBe('0');
    core.handleMessage('1', { type: 'hlc_gossip', hlc: 'garbage' }, fx);
    expect(fx.annotation('hlcLastError')).toBe('HLC_INVALID_TIMESTAMP');
  });

  it('gossips every gossipEveryTicks ticks and stays quiet alone', () => {
    const trio = createNode('1', ['1', '2', '3'], 0, 100, 3);
    for (let tick = 0; tick < 7; tick++) trio.core.handleTick(trio.fx);
    expect(trio.fx.drain()).toHaveLength(3);
    const alone = createNode('1', ['1'], 0);
    alone.core.handleTick(alone.fx);
    expect(alone.fx.drain()).toHaveLength(0);
  });

  it('answers stamp requests with a fresh timestamp', () => {
    const { core, fx } = createNode('1', ['1', '2'], 42);
    core.handleRequest('r1', { type: 'stamp' }, fx);
    core.handleRequest('r2', { type: 'stamp' }, fx);
    expect(fx.replies).toEqual([
      { requestId: 'r1', response: { hlc: formatPackedHlc({ physicalMs: 42, logical: 0 }) } },
      { requestId: 'r2', response: { hlc: formatPackedHlc({ physicalMs: 42, logical: 1 }) } },
    ]);
  });
});

describe('HLC gossip cluster under skew and drift', () => {
  const members = ['1', '2', '3', '4'];
  const clockModel = fc.record({ skewMs: fc.integer({ min: -400, max: 400 }), driftPpm: fc.integer({ min: -300, max: 300 }) });

  it('keeps every node’s HLC monotonic and at most maxOffsetMs ahead of its own clock', () => {
    fc.assert(
      fc.property(
        fc.array(clockModel, { minLength: members.length, maxLength: members.length }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 100, max: 1000 }),
        (clocks, randomValues, maxOffsetMs) => {
          const nodes = members.map((id) => createNode(id, members, 0, maxOffsetMs));
          nodes.forEach((node) => (node.env.randomValues = randomValues));
          const setClocks = (trueMs: number) =>
            nodes.forEach((node, i) => (node.env.localMs = trueMs * (1 + (clocks[i]?.driftPpm ?? 0) / 1e6) + (clocks[i]?.skewMs ?? 0)));
          const lastHlc = nodes.map(() => ({ physicalMs: 0, logical: 0 }));
          const checkNode = (i: number) => {
            const fx = nodes[i]!.fx;
            const current = parsePackedHlc(fx.annotation('hlc') as string);
            expect(compareHlcTimestamps(current, lastHlc[i]!)).toBeGreaterThanOrEqual(0);
            lastHlc[i] = current;
            expect(fx.annotation('hlcAheadMs') as number).toBeLessThanOrEqual(maxOffsetMs);
          };
          for (let tick = 1; tick <= 30; tick++) {
            setClocks(1000 + tick * 100);
            nodes.forEach((node, i) => {
              node.core.handleTick(node.fx);
              checkNode(i);
            });
            setClocks(1000 + tick * 100 + 7); // every message takes 7 ms
            nodes.forEach((sender, from) => {
              for (const { to, msg } of sender.fx.drain()) {
                const index = members.indexOf(to);
                nodes[index]!.core.handleMessage(members[from]!, msg, nodes[index]!.fx);
                checkNode(index);
              }
            });
          }
          // Skews span at most 800 ms plus 7 ms of drift and 7 ms in flight: with a larger bound, nothing is refused.
          if (maxOffsetMs > 830) nodes.forEach((node) => expect(node.fx.annotation('hlcRejected')).toBe(0));
        },
      ),
    );
  });
});
