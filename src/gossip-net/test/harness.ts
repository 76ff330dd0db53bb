// Test helpers for the gossip transport: nodes on 127.0.0.1 with ephemeral ports, raw sockets
// that abuse the wire format, and polling waits. Everything started here is closed after each
// test (useCleanup), so a failing test leaves no socket behind.
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { afterEach, expect } from 'vitest';
import type { UdpGossipTransportOptions } from '../options.js';
import type { DropEvent, GossipNetStats } from '../stats.js';
import { UdpGossipTransport } from '../transport.js';

export const HOST = '127.0.0.1';

export interface TestMessage {
  readonly type: string;
  readonly seq?: number;
  readonly body?: unknown;
}

/** The pluggable check of the tests: any object with a string type. */
export function testCheck(msg: unknown): string | undefined {
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return 'a message is an object';
  return typeof (msg as { type?: unknown }).type === 'string' ? undefined : 'a message has a string type';
}

export interface Node {
  readonly t: UdpGossipTransport<TestMessage>;
  readonly received: { from: string; msg: TestMessage }[];
  readonly drops: DropEvent[];
}

const cleanups: (() => Promise<void> | void)[] = [];

export function useCleanup(): void {
  afterEach(async () => {
    const pending = cleanups.splice(0);
    await Promise.all(pending.map(async (cleanup) => cleanup()));
  });
}

export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

export async function startNode(options: Partial<UdpGossipTransportOptions> = {}): Promise<Node> {
  const drops: DropEvent[] = [];
  const t = await UdpGossipTransport.start<TestMessage>({
    host: HOST,
    port: 0,
    check: testCheck,
    faultInjection: true,
    onDrop: (event) => {
      if (drops.length < 100_000) drops.push(event);
    },
    ...options,
  });
  const received: { from: string; msg: TestMessage }[] = [];
  t.onMessage((from, msg) => received.push({ from, msg }));
  cleanups.push(() => t.close());
  return { t, received, drops };
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let nextSeq = 1_000_000;

/**
 * `from` reaches `to` with a fresh message (resent every 100 ms while it does not arrive: UDP may
 * lose a datagram, and the point is that the path works). `body` makes it large (TCP).
 */
export async function expectDelivery(from: Node, to: Node, body?: unknown, timeoutMs = 5_000): Promise<void> {
  const seq = nextSeq++;
  const arrived = (): boolean => to.received.some((r) => r.msg.seq === seq && r.from === from.t.id);
  const deadline = Date.now() + timeoutMs;
  while (!arrived()) {
    if (Date.now() > deadline) throw new Error(`${from.t.id} did not reach ${to.t.id} (seq ${seq})`);
    expect(from.t.send(to.t.id, body === undefined ? { type: 'probe', seq } : { type: 'probe', seq, body }).ok).toBe(true);
    const resendAt = Date.now() + 100;
    while (!arrived() && Date.now() < resendAt) await sleep(5);
  }
}

/** Sends raw datagrams to `port` from a throwaway socket, paced so loopback does not drop most of them. */
export async function sendDatagrams(port: number, packets: readonly Uint8Array[]): Promise<void> {
  const socket = createSocket('udp4');
  try {
    for (let i = 0; i < packets.length; i++) {
      await new Promise<void>((resolve) => socket.send(packets[i] as Uint8Array, port, HOST, () => resolve()));
      if (i % 50 === 49) await sleep(1);
    }
  } finally {
    socket.close();
  }
}

/** A raw TCP connection to a transport. */
export class RawTcp {
  private closedFlag = false;
  private readonly closedPromise: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('error', () => undefined);
    this.closedPromise = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedFlag = true;
        resolve();
      }),
    );
    cleanups.push(() => {
      socket.destroy();
    });
  }

  static connect(port: number): Promise<RawTcp> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: HOST, port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawTcp(socket));
      });
    });
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  write(bytes: Uint8Array): void {
    if (!this.closedFlag) this.socket.write(bytes);
  }

  /** Resolves when the other end closes the connection; rejects after `timeoutMs`. */
  waitClosed(timeoutMs = 5_000): Promise<void> {
    return Promise.race([this.closedPromise, sleep(timeoutMs).then(() => Promise.reject(new Error('the transport did not close the connection')))]);
  }
}

export function frameHeader(length: number): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(length, 0);
  return header;
}

/** Inbound drops in total. */
export function totalDrops(stats: GossipNetStats): number {
  return Object.values(stats.drops).reduce((a, b) => a + b, 0);
}
