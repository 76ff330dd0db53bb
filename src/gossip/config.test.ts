import { describe, expect, it } from 'vitest';
import { GOSSIP_PRESETS, LAN_GOSSIP_CONFIG, LOCAL_GOSSIP_CONFIG, resolveGossipConfig, WAN_GOSSIP_CONFIG } from './config.js';
import { GossipError } from './errors.js';

describe('gossip configuration', () => {
  it('has memberlist\'s LAN, WAN and LOCAL presets', () => {
    expect(LAN_GOSSIP_CONFIG).toMatchObject({ probeIntervalMs: 1_000, probeTimeoutMs: 500, indirectChecks: 3, suspicionMult: 4, suspicionMaxTimeoutMult: 6, retransmitMult: 4, gossipIntervalMs: 200, gossipNodes: 3, pushPullIntervalMs: 30_000, awarenessMaxMultiplier: 8, gossipToTheDeadMs: 30_000, tcpTimeoutMs: 10_000 });
    expect(WAN_GOSSIP_CONFIG).toMatchObject({ probeIntervalMs: 5_000, probeTimeoutMs: 3_000, suspicionMult: 6, gossipIntervalMs: 500, gossipNodes: 4, pushPullIntervalMs: 60_000, gossipToTheDeadMs: 60_000, tcpTimeoutMs: 30_000, indirectChecks: 3 });
    expect(LOCAL_GOSSIP_CONFIG).toMatchObject({ probeIntervalMs: 1_000, probeTimeoutMs: 200, indirectChecks: 1, retransmitMult: 2, suspicionMult: 3, gossipIntervalMs: 100, pushPullIntervalMs: 15_000, gossipToTheDeadMs: 15_000, tcpTimeoutMs: 1_000 });
    for (const preset of Object.values(GOSSIP_PRESETS)) expect(resolveGossipConfig({}, preset)).toEqual(preset);
  });

  it('refuses bad values naming the field', () => {
    const refused = (partial: Record<string, unknown>): string => {
      try {
        resolveGossipConfig(partial as never);
      } catch (err) {
        expect(err).toBeInstanceOf(GossipError);
        expect((err as GossipError).code).toBe('GOSSIP_INVALID_OPTION');
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused({ probeIntervalMs: 0 })).toMatch(/^probeIntervalMs/);
    expect(refused({ indirectChecks: 1.5 })).toMatch(/^indirectChecks/);
    expect(refused({ gossipNodes: '3' })).toMatch(/^gossipNodes/);
    expect(refused({ awarenessMaxMultiplier: 0 })).toMatch(/^awarenessMaxMultiplier/);
    expect(refused({ lifeguard: 'yes' })).toMatch(/^lifeguard/);
    expect(refused({ probeTimeoutMs: 1_000 })).toMatch(/^probeTimeoutMs .* below probeIntervalMs/);
    expect(refused({ tickIntervalMs: 300 })).toMatch(/^tickIntervalMs/);
    expect(refused({ maxMetaBytes: 2_000 })).toMatch(/^udpBufferSize .* maxMetaBytes/);
  });
});
