// Public surface of synod/clock: logical, vector, hybrid and interval clocks, clock-sync math,
// and two sans-I/O protocol specs (clock sync, HLC gossip) for the deterministic simulator.

export { ClockError, isClockError, type ClockErrorCode } from './errors.js';
export { LamportClock } from './lamport.js';
export {
  EMPTY_VECTOR_CLOCK,
  compareVectorClocks,
  counterOf,
  createVectorClock,
  decodeVectorClock,
  encodeVectorClock,
  formatVectorClock,
  incrementVectorClock,
  mergeVectorClocks,
  receiveVectorClock,
  type CausalOrder,
  type VectorClock,
} from './vector.js';
export {
  HLC_MAX_LOGICAL,
  HLC_MAX_PHYSICAL_MS,
  HybridLogicalClock,
  compareHlcTimestamps,
  formatPackedHlc,
  packHlc,
  parsePackedHlc,
  unpackHlc,
  type HlcOptions,
  type HlcTimestamp,
} from './hlc.js';
export { computeNtpSample, estimateCristianTime, type CristianEstimate, type NtpSample, type NtpTimestamps } from './sync-math.js';
export { TrueTimeClock, type TrueTimeInterval, type TrueTimeOptions } from './truetime.js';
export {
  clockSyncSpec,
  createClockSyncSpec,
  type ClockSyncMessage,
  type ClockSyncOptions,
  type ClockSyncQuery,
  type ClockSyncReading,
  type SyncRequestMessage,
  type SyncResponseMessage,
} from './sync-protocol.js';
export {
  createHlcGossipSpec,
  hlcGossipSpec,
  type HlcGossipMessage,
  type HlcGossipOptions,
  type HlcStampQuery,
  type HlcStampResult,
} from './hlc-gossip.js';
