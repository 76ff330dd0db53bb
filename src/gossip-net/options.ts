// The gossip transport's options, their defaults and the one function that checks them, so the
// agent can refuse to start with a GOSSIP_NET_INVALID_OPTION naming the field before any socket
// is bound. Every queue and buffer the transport keeps is bounded by one of these.
import { MAX_ADDRESS_CHARS, parseAddress } from './address.js';
import { DEFAULT_MAX_NESTING_DEPTH } from './codec.js';
import { failGossipNet } from './errors.js';
import { KeyRing } from './keyring.js';
import type { DropEvent } from './stats.js';

/** What is wrong with a decoded message (undefined: nothing); e.g. messageProblem of src/gossip. */
export type MessageCheck = (msg: unknown) => string | undefined;

/** memberlist's UDPBufferSize: a datagram this size crosses any ordinary path without fragmenting. */
export const DEFAULT_MAX_UDP_PAYLOAD_BYTES = 1_400;
/** The largest UDP payload IPv4 allows. */
export const MAX_UDP_PAYLOAD_BYTES = 65_507;
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** A u32 length could say 4 GiB; nothing a gossip agent sends needs more than this. */
export const MAX_FRAME_LIMIT_BYTES = 256 * 1024 * 1024;

export interface UdpGossipTransportOptions {
  /** Address to bind UDP and TCP on, e.g. '0.0.0.0' or '10.0.0.5' (IPv4). */
  readonly host: string;
  /** Port for both; 0 picks a free one (read `transport.port`). */
  readonly port: number;
  /** Host in this node's id; defaults to `host`, and is required when `host` is a wildcard. */
  readonly advertiseHost?: string;
  /** Port in this node's id (e.g. behind port forwarding); defaults to the bound port. */
  readonly advertisePort?: number;
  /** Other host:port names peers may send to this node by (e.g. a seed's DNS name). */
  readonly aliases?: readonly string[];
  /** Applied to every decoded message before any handler sees it; a problem drops it. */
  readonly check: MessageCheck;
  /** Seal every packet and accept only sealed ones; without it the transport runs in clear text. */
  readonly keyRing?: KeyRing;
  /** Binds packets to one cluster (e.g. its name): associated data when sealed, a header in clear text. */
  readonly label?: string;
  /** Packets up to this size go by UDP, larger ones by TCP (default 1400). */
  readonly maxUdpPayloadBytes?: number;
  /** Largest TCP frame sent or accepted (default 16 MiB). */
  readonly maxFrameBytes?: number;
  /** Deepest nesting of arrays and objects a message may have (default 64). */
  readonly maxNestingDepth?: number;
  /** TCP connections accepted at once; more are refused at accept (default 64). */
  readonly maxInboundConnections?: number;
  /** TCP connections opened at once, one per peer; past it an idle one is closed or the send refused (default 64). */
  readonly maxOutboundConnections?: number;
  /** Bytes queued for one peer's TCP stream, not yet written (default 2 frames). */
  readonly maxPendingBytesPerPeer?: number;
  /** Bytes queued for all TCP streams together (default 4 frames). */
  readonly maxPendingBytes?: number;
  /** Bytes of incomplete frames all inbound connections together may hold (default 4 frames). */
  readonly maxInboundBufferedBytes?: number;
  /** An outbound connection not established by then is abandoned (default 5000 ms). */
  readonly connectTimeoutMs?: number;
  /** A frame must arrive whole within this of its first byte, the first frame within this of accept (default 10000 ms). */
  readonly frameTimeoutMs?: number;
  /** Outbound streams close after this long without a write; inbound connections after twice as long without a byte (default 5000 ms). */
  readonly idleTimeoutMs?: number;
  /** Enables isolate/heal (tests); without it they throw GOSSIP_NET_FAULTS_DISABLED. */
  readonly faultInjection?: boolean;
  /** Told of every drop, synchronously; rate-limit before logging (a stranger decides how many there are). */
  readonly onDrop?: (event: DropEvent) => void;
}

export interface ResolvedOptions {
  readonly host: string;
  readonly port: number;
  readonly advertiseHost: string;
  readonly advertisePort: number | undefined;
  readonly aliases: readonly string[];
  readonly check: MessageCheck;
  readonly keyRing: KeyRing | undefined;
  readonly label: string;
  readonly maxUdpPayloadBytes: number;
  readonly maxFrameBytes: number;
  readonly maxNestingDepth: number;
  readonly maxInboundConnections: number;
  readonly maxOutboundConnections: number;
  readonly maxPendingBytesPerPeer: number;
  readonly maxPendingBytes: number;
  readonly maxInboundBufferedBytes: number;
  readonly connectTimeoutMs: number;
  readonly frameTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly faultInjection: boolean;
  readonly onDrop: ((event: DropEvent) => void) | undefined;
}

const WILDCARDS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '']);
const HOUR_MS = 3_600_000;

/** Checks and completes the options; throws GOSSIP_NET_INVALID_OPTION naming the first bad field. */
export function resolveOptions(options: UdpGossipTransportOptions): ResolvedOptions {
  const bad: (field: string, why: string) => never = (field, why) => failGossipNet('GOSSIP_NET_INVALID_OPTION', `${field} ${why}`);
  if (typeof options !== 'object' || options === null) bad('options', 'must be an object');
  const int = (field: keyof UdpGossipTransportOptions, fallback: number, min: number, max: number): number => {
    const value = options[field] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) bad(field, `must be an integer in [${min}, ${max}]`);
    return value as number;
  };
  if (typeof options.host !== 'string') bad('host', 'must be a string (an IPv4 address or host name)');
  const port = int('port', -1, 0, 65_535);
  const advertiseHost = options.advertiseHost ?? options.host;
  if (WILDCARDS.has(advertiseHost)) bad('advertiseHost', `is required when host is ${JSON.stringify(options.host)}: peers need an address they can reach`);
  // the id must be a valid address: check it with a stand-in port when the real one is not known yet
  if (parseAddress(`${advertiseHost}:${options.advertisePort ?? 1}`) === undefined) bad('advertiseHost', `must be an IPv4 address or host name (id at most ${MAX_ADDRESS_CHARS} characters)`);
  const advertisePort = options.advertisePort === undefined ? undefined : int('advertisePort', 0, 1, 65_535);
  const aliases = options.aliases ?? [];
  if (!Array.isArray(aliases) || aliases.some((a) => parseAddress(a) === undefined)) bad('aliases', 'must be an array of host:port strings');
  if (typeof options.check !== 'function') bad('check', 'must be a function (msg) => problem | undefined, e.g. messageProblem');
  if (options.keyRing !== undefined && !(options.keyRing instanceof KeyRing)) bad('keyRing', 'must be a KeyRing (see loadKeyRingFile)');
  if (options.label !== undefined && typeof options.label !== 'string') bad('label', 'must be a string');
  if (options.onDrop !== undefined && typeof options.onDrop !== 'function') bad('onDrop', 'must be a function');
  const maxUdpPayloadBytes = int('maxUdpPayloadBytes', DEFAULT_MAX_UDP_PAYLOAD_BYTES, 64, MAX_UDP_PAYLOAD_BYTES);
  const maxFrameBytes = int('maxFrameBytes', DEFAULT_MAX_FRAME_BYTES, maxUdpPayloadBytes, MAX_FRAME_LIMIT_BYTES);
  const frame = maxFrameBytes + 4;
  const maxPendingBytesPerPeer = int('maxPendingBytesPerPeer', 2 * frame, frame, Number.MAX_SAFE_INTEGER);
  return {
    host: options.host,
    port,
    advertiseHost,
    advertisePort,
    aliases: [...aliases],
    check: options.check,
    keyRing: options.keyRing,
    label: options.label ?? '',
    maxUdpPayloadBytes,
    maxFrameBytes,
    maxNestingDepth: int('maxNestingDepth', DEFAULT_MAX_NESTING_DEPTH, 1, 1_000),
    maxInboundConnections: int('maxInboundConnections', 64, 1, 100_000),
    maxOutboundConnections: int('maxOutboundConnections', 64, 1, 100_000),
    maxPendingBytesPerPeer,
    maxPendingBytes: int('maxPendingBytes', 4 * frame, maxPendingBytesPerPeer, Number.MAX_SAFE_INTEGER),
    maxInboundBufferedBytes: int('maxInboundBufferedBytes', 4 * frame, frame, Number.MAX_SAFE_INTEGER),
    connectTimeoutMs: int('connectTimeoutMs', 5_000, 1, HOUR_MS),
    frameTimeoutMs: int('frameTimeoutMs', 10_000, 1, HOUR_MS),
    idleTimeoutMs: int('idleTimeoutMs', 5_000, 1, HOUR_MS),
    faultInjection: options.faultInjection === true,
    onDrop: options.onDrop,
  };
}
