// Opens a gossip agent's peer side: the UDP/TCP transport of src/gossip-net bound to --bind, named
// by --advertise, sealed with the key ring file when one is given, and checking every message a
// peer sends (SWIM messages field by field; CRDT messages' shape, their documents in the core).
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { GossipNodeMessage } from '../gossip/crdt-node.js';
import { messageProblem } from '../gossip/messages.js';
import { formatKeyRing, parseKeyRing, UdpGossipTransport, type KeyRing } from '../gossip-net/index.js';
import type { AgentWire } from './agent.js';
import { splitHostPort } from './agent.js';

export interface AgentWireOptions {
  readonly bind: string;
  readonly advertise?: string;
  /** The group's name: bound into every packet. */
  readonly cluster: string;
  readonly keyringFile?: string;
}

export interface OpenedWire {
  readonly address: string;
  readonly wire: AgentWire;
  readonly transport: UdpGossipTransport<GossipNodeMessage>;
  readonly keyRing: KeyRing | undefined;
  /** Writes the key ring back to its file (after a rotation step), atomically. */
  saveKeyRing(): Promise<void>;
}

const MAX_KEYRING_FILE_BYTES = 64 * 1024;

/** What is wrong with a message from a peer before the core sees it. */
export function agentMessageProblem(msg: unknown): string | undefined {
  if (typeof msg === 'object' && msg !== null && !Array.isArray(msg)) {
    const m = msg as Record<string, unknown>;
    if (m['type'] === 'crdt-delta' || m['type'] === 'crdt-sync') {
      if (typeof m['doc'] !== 'object' || m['doc'] === null) return `${m['type']} needs a document`;
      if (m['type'] === 'crdt-sync' && typeof m['reply'] !== 'boolean') return 'crdt-sync needs reply';
      return undefined;
    }
  }
  return messageProblem(msg);
}

export async function openAgentWire(o: AgentWireOptions): Promise<OpenedWire> {
  const bind = splitHostPort(o.bind, '--bind');
  const advertise = o.advertise === undefined ? undefined : splitHostPort(o.advertise, '--advertise');
  let keyRing: KeyRing | undefined;
  if (o.keyringFile !== undefined) {
    const text = await readFile(o.keyringFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw Object.assign(new Error(`cannot read --keyring ${o.keyringFile}: ${err.code ?? err.message}`), { code: 'GOSSIP_KEYRING_UNREADABLE' });
    });
    if (text.length > MAX_KEYRING_FILE_BYTES) throw Object.assign(new Error(`--keyring ${o.keyringFile} is larger than ${MAX_KEYRING_FILE_BYTES} bytes`), { code: 'GOSSIP_NET_KEYRING_INVALID' });
    keyRing = parseKeyRing(text, o.keyringFile);
  }
  const transport = await UdpGossipTransport.start<GossipNodeMessage>({
    host: bind.host,
    port: bind.port,
    ...(advertise === undefined ? {} : { advertiseHost: advertise.host, advertisePort: advertise.port }),
    check: agentMessageProblem,
    label: o.cluster,
    ...(keyRing === undefined ? {} : { keyRing }),
  });
  const wire: AgentWire = {
    address: transport.id,
    send: (to, msg) => void transport.send(to, msg),
    onMessage: (handler) => void transport.onMessage(handler),
    stats: () => flatStats(transport.stats() as unknown as Record<string, unknown>),
    close: () => transport.close(),
  };
  const saveKeyRing = async (): Promise<void> => {
    if (keyRing === undefined || o.keyringFile === undefined) return;
    const temp = `${o.keyringFile}.tmp`;
    await writeFile(temp, formatKeyRing(keyRing), { mode: 0o600 });
    await rename(temp, o.keyringFile);
  };
  return { address: transport.id, wire, transport, keyRing, saveKeyRing };
}

/** Numeric counters, nested objects flattened with dots (for status). */
function flatStats(stats: Record<string, unknown>, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(stats)) {
    if (typeof value === 'number') out[`${prefix}${key}`] = value;
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) Object.assign(out, flatStats(value as Record<string, unknown>, `${prefix}${key}.`));
  }
  return out;
}
