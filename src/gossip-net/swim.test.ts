// The transport under the real SWIM core: three NodeHosts running gossipSpec over sealed UDP and
// TCP on loopback join through one seed, converge on the same alive membership, and declare a
// member whose process stopped dead — the path the gossip agent will take.
import { describe, expect, it } from 'vitest';
import { gossipSpec, LOCAL_GOSSIP_CONFIG, messageProblem, type GossipMessage, type GossipPersistOp, type GossipRequest, type GossipResponse, type SwimNode } from '../gossip/index.js';
import { NodeHost } from '../runtime/index.js';
import { generateKey, KeyRing } from './keyring.js';
import { UdpGossipTransport } from './transport.js';
import { HOST, onCleanup, useCleanup, waitFor } from './test/harness.js';

useCleanup();

type Host = NodeHost<GossipMessage, GossipRequest, GossipResponse, GossipPersistOp, SwimNode>;

describe('SWIM over the gossip transport', () => {
  it('joins, converges and detects a stopped member, sealed', async () => {
    const ring = new KeyRing([generateKey()]);
    const transports = await Promise.all(
      [0, 1, 2].map(() => UdpGossipTransport.start<GossipMessage>({ host: HOST, port: 0, check: messageProblem, keyRing: ring, label: 'swim-test' })),
    );
    for (const t of transports) onCleanup(() => t.close());
    const ids = transports.map((t) => t.id);
    const spec = gossipSpec({ probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, pushPullIntervalMs: 1_000 }, LOCAL_GOSSIP_CONFIG);
    const hosts: Host[] = transports.map((transport, i) => {
      // every node knows only the first as its seed
      const members = i === 0 ? [ids[0] as string] : [ids[0] as string, ids[i] as string];
      const host: Host = new NodeHost(spec, { id: ids[i] as string, members, store: { recovered: [], persist: async () => undefined }, transport });
      host.start();
      onCleanup(() => host.stop());
      return host;
    });
    const aliveSeen = (host: Host): string[] =>
      (host.running?.members() ?? [])
        .filter((m) => m.state === 'alive')
        .map((m) => m.id)
        .sort();
    await waitFor(() => hosts.every((h) => aliveSeen(h).join() === [...ids].sort().join()), 'every node to see all three alive', 15_000);
    // the third stops: no more acks, the others suspect it and declare it dead
    hosts[2]?.stop();
    await transports[2]?.close();
    const stateOf = (host: Host, id: string): string | undefined => host.running?.members().find((m) => m.id === id)?.state;
    await waitFor(() => [0, 1].every((i) => stateOf(hosts[i] as Host, ids[2] as string) === 'dead'), 'the stopped node to be declared dead', 20_000);
    for (const t of transports.slice(0, 2)) {
      const stats = t.stats();
      expect(stats.messagesIn).toBeGreaterThan(0);
      // nothing a member of the cluster sent was refused
      expect(stats.drops.unauthenticated + stats.drops.check_failed + stats.drops.undecodable + stats.drops.bad_envelope).toBe(0);
    }
  });
});
