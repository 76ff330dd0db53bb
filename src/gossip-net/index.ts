// Public surface of synod/gossip-net: the network of a gossip agent — UDP for small packets, TCP
// for large ones, on one host:port, sealed with an AES-GCM key ring (or in clear text without
// one), and its hostile-input checks and counters. See docs/gossip-net.md.
export { UdpGossipTransport, type GossipMessageHandler, type SendResult } from './transport.js';
export {
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_UDP_PAYLOAD_BYTES,
  MAX_FRAME_LIMIT_BYTES,
  MAX_UDP_PAYLOAD_BYTES,
  resolveOptions,
  type MessageCheck,
  type ResolvedOptions,
  type UdpGossipTransportOptions,
} from './options.js';
export {
  decodeKey,
  formatKeyRing,
  generateKey,
  KEY_SIZES,
  KeyRing,
  loadKeyRingFile,
  MAX_KEYRING_FILE_BYTES,
  MAX_KEYS,
  NONCE_BYTES,
  parseKeyRing,
  saveKeyRingFile,
  SEAL_OVERHEAD_BYTES,
  SEAL_VERSION,
  TAG_BYTES,
  type KeyInput,
  type KeyRingFile,
} from './keyring.js';
export { CLEAR_FORMAT, DEFAULT_MAX_NESTING_DEPTH, MAX_LABEL_BYTES, PacketCodec, plainDataProblem, type DecodedPacket, type Envelope, type PacketCodecOptions } from './codec.js';
export { encodeFrame, FRAME_HEADER_BYTES, FrameReader } from './frames.js';
export { formatAddress, MAX_ADDRESS_CHARS, parseAddress, type PeerAddress } from './address.js';
export { INBOUND_DROP_REASONS, SEND_DROP_REASONS, type DropEvent, type GossipNetStats, type InboundDropReason, type SendDropReason } from './stats.js';
export { failGossipNet, GossipNetError, isGossipNetError, type GossipNetErrorCode } from './errors.js';
