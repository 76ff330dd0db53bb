// A sans-I/O clock-sync protocol (see src/sim/core.ts): one reference server answers NTP-style
// requests; every other node samples offset and delay periodically, trusts the sample with the
// smallest delay among recent ones (least room for asymmetry), and keeps a corrected clock.

import type { CoreEnv, Effects, NodeId, ProtocolCore, ProtocolSpec } from '../core/index.js';
import { requireOption, requireWholeOption } from './errors.js';
import { computeNtpSample, type NtpSample } from './sync-math.js';

export interface SyncRequestMessage {
  readonly type: 'sync_request';
  readonly seq: number;
  readonly t1Ms: number;
}

export interface SyncResponseMessage {
  readonly type: 'sync_response';
  readonly seq: number;
  /** Echo of the request's t1, so the client can tell the response belongs to its request. */
  readonly t1Ms: number;
  readonly t2Ms: number;
  readonly t3Ms: number;
}

export type ClockSyncMessage = SyncRequestMessage | SyncResponseMessage;

/** A client asks a node for its best idea of reference time. */
export interface ClockSyncQuery {
  readonly type: 'read_clock';
}

export interface ClockSyncReading {
  /** Local clock plus the offset estimate; the plain local clock until a first sample arrives. */
  readonly correctedNowMs: number;
  readonly offsetEstimateMs: number | null;
  /** Half the delay of the trusted sample; grows with drift since, which this does not include. */
  readonly errorBoundMs: number | null;
}

export interface ClockSyncOptions {
  readonly serverId?: NodeId;
  readonly tickIntervalMs?: number;
  /** A client sends a request on its first tick and then every this many ticks. */
  readonly syncEveryTicks?: number;
  /** How many recent samples compete for the smallest delay; also caps unanswered requests. */
  readonly sampleWindow?: number;
}

type SyncEffects = Effects<ClockSyncMessage, never, ClockSyncReading>;
type SyncCore = ProtocolCore<ClockSyncMessage, ClockSyncQuery, ClockSyncReading, never>;
interface SyncSettings {
  readonly syncEveryTicks: number;
  readonly sampleWindow: number;
}

export function createClockSyncSpec(options: ClockSyncOptions = {}): ProtocolSpec<ClockSyncMessage, ClockSyncQuery, ClockSyncReading, never> {
  const serverId = options.serverId ?? '1';
  const tickIntervalMs = requireOption('tickIntervalMs', options.tickIntervalMs ?? 100, Number.MIN_VALUE);
  const settings: SyncSettings = {
    syncEveryTicks: requireWholeOption('syncEveryTicks', options.syncEveryTicks ?? 10),
    sampleWindow: requireWholeOption('sampleWindow', options.sampleWindow ?? 8),
  };
  return {
    name: 'clock-sync',
    tickIntervalMs,
    // Nothing is persisted: after a restart a client simply samples again.
    create: (env) => (env.id === serverId ? new SyncServer(env) : new SyncClient(env, serverId, settings)),
  };
}

export const clockSyncSpec = createClockSyncSpec();

class SyncServer implements SyncCore {
  constructor(private readonly env: CoreEnv) {}

  start(fx: SyncEffects): void {
    fx.annotate('role', 'server');
  }

  handleMessage(from: NodeId, msg: ClockSyncMessage, fx: SyncEffects): void {
    if (msg.type !== 'sync_request') return;
    const t2Ms = this.env.now();
    fx.send(from, { type: 'sync_response', seq: msg.seq, t1Ms: msg.t1Ms, t2Ms, t3Ms: this.env.now() });
  }

  /** The server is the reference, so its own clock is by definition correct. */
  handleTick(fx: SyncEffects): void {
    fx.annotate('correctedNowMs', this.env.now());
  }

  handleRequest(requestId: string, _request: ClockSyncQuery, fx: SyncEffects): void {
    fx.reply(requestId, { correctedNowMs: this.env.now(), offsetEstimateMs: 0, errorBoundMs: 0 });
  }
}

class SyncClient implements SyncCore {
  private ticks = 0;
  private nextSeq = 1;
  /** seq → t1 of requests still unanswered, oldest first. */
  private readonly pending = new Map<number, number>();
  private samples: NtpSample[] = [];
  private trusted: NtpSample | null = null;

  constructor(
    private readonly env: CoreEnv,
    private readonly serverId: NodeId,
    private readonly settings: SyncSettings,
  ) {}

  start(fx: SyncEffects): void {
    fx.annotate('role', 'client');
  }

  handleTick(fx: SyncEffects): void {
    if (this.ticks % this.settings.syncEveryTicks === 0) this.sendRequest(fx);
    this.ticks++;
    if (this.trusted !== null) fx.annotate('correctedNowMs', this.readCorrectedMs());
  }

  handleMessage(_from: NodeId, msg: ClockSyncMessage, fx: SyncEffects): void {
    if (msg.type !== 'sync_response') return;
    const t4Ms = this.env.now();
    const t1Ms = this.pending.get(msg.seq);
    // Unknown, duplicated or mismatched responses would pair the wrong t1 with this t4.
    if (t1Ms === undefined || t1Ms !== msg.t1Ms) return;
    this.pending.delete(msg.seq);
    if (!isConsistent(t1Ms, msg.t2Ms, msg.t3Ms, t4Ms)) return;
    this.addSample(computeNtpSample({ t1Ms, t2Ms: msg.t2Ms, t3Ms: msg.t3Ms, t4Ms }));
    this.annotateEstimate(fx);
  }

  handleRequest(requestId: string, _request: ClockSyncQuery, fx: SyncEffects): void {
    fx.reply(requestId, {
      correctedNowMs: this.readCorrectedMs(),
      offsetEstimateMs: this.trusted?.offsetMs ?? null,
      errorBoundMs: this.trusted?.errorBoundMs ?? null,
    });
  }

  private sendRequest(fx: SyncEffects): void {
    const seq = this.nextSeq++;
    const t1Ms = this.env.now();
    this.pending.set(seq, t1Ms);
    // Lost requests must not pile up forever; the oldest are least likely to be answered.
    for (const oldSeq of this.pending.keys()) {
      if (this.pending.size <= this.settings.sampleWindow) break;
      this.pending.delete(oldSeq);
    }
    fx.send(this.serverId, { type: 'sync_request', seq, t1Ms });
  }

  private addSample(sample: NtpSample): void {
    this.samples = [...this.samples, sample].slice(-this.settings.sampleWindow);
    // Ties go to the newest sample, which has seen the least drift since.
    this.trusted = this.samples.reduce((best, candidate) => (candidate.delayMs <= best.delayMs ? candidate : best));
  }

  private annotateEstimate(fx: SyncEffects): void {
    if (this.trusted === null) return;
    fx.annotate('offsetEstimateMs', this.trusted.offsetMs);
    fx.annotate('delayMs', this.trusted.delayMs);
    fx.annotate('correctedNowMs', this.readCorrectedMs());
  }

  private readCorrectedMs(): number {
    return this.env.now() + (this.trusted?.offsetMs ?? 0);
  }
}

function isConsistent(t1Ms: number, t2Ms: number, t3Ms: number, t4Ms: number): boolean {
  return [t2Ms, t3Ms].every(Number.isFinite) && t3Ms >= t2Ms && t4Ms - t1Ms >= t3Ms - t2Ms;
}
