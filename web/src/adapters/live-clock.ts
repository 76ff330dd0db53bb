// The live adapter of the "clock-sync" service (src/clock/sync-protocol.ts run as real processes):
// one reference server, and clients that estimate their offset to it NTP-style. Each node's
// clock may be shifted on purpose (the injected offset). A node's GET /v1/status says its role,
// injected offset, offset estimate, the delay of the sample it trusts and the error bound (half
// that delay). The ring shows each node's neutral view (role; injected offset, estimate and
// bound as details); the "Clock offsets" panel compares, per client, the estimate with the
// actual offset to the server's clock (the difference of the injected offsets) and whether the
// error stays within the bound.
import type { NodeDisplay } from '../source/types.js';
import { isRecord, processView, type LiveAdapter, type LiveNodeRow } from './live.js';
import type { NodeView, PanelDef, TableCell, TableContent, TableRow } from './types.js';

/** A clock-sync node's GET /v1/status. */
export interface ClockStatus {
  readonly id: string;
  readonly service: 'clock-sync';
  readonly role: 'server' | 'client';
  /** The client's estimate of (server clock − own clock); null before a first sample, and on the server. */
  readonly offsetEstimateMs: number | null;
  /** Round-trip delay of the sample it trusts. */
  readonly delayMs: number | null;
  /** The actual offset lies within estimate ± this (half the delay, drift aside). */
  readonly errorBoundMs: number | null;
  /** How far this node's clock was set ahead (+) or behind (−) of the machine's on purpose. */
  readonly injectedOffsetMs: number;
  readonly localNowMs: number;
  readonly correctedNowMs: number;
}

const numberOrNull = (v: unknown): boolean => v === null || (typeof v === 'number' && Number.isFinite(v));

function isClockStatus(v: unknown): v is ClockStatus {
  return (
    isRecord(v) &&
    (v['role'] === 'server' || v['role'] === 'client') &&
    typeof v['injectedOffsetMs'] === 'number' &&
    numberOrNull(v['offsetEstimateMs']) &&
    numberOrNull(v['delayMs']) &&
    numberOrNull(v['errorBoundMs'])
  );
}

/** "+500 ms", "−12.5 ms", "0 ms". */
export function signedMs(ms: number): string {
  const abs = Math.abs(ms);
  const text = Number.isInteger(abs) ? String(abs) : abs.toFixed(1);
  return `${ms > 0 ? '+' : ms < 0 ? '−' : ''}${text} ms`;
}

function plainMs(ms: number): string {
  return `${Number.isInteger(ms) ? ms : ms.toFixed(1)} ms`;
}

/** The server's status, for the actual offsets (the last it gave, when it does not answer now). */
function serverOf(rows: readonly LiveNodeRow<ClockStatus>[]): ClockStatus | null {
  return rows.find((r) => r.status?.role === 'server')?.status ?? null;
}

/** The details under a node: what was injected, what it estimates, and how sure it is. */
function details(s: ClockStatus): string[] {
  const injected = `injected ${signedMs(s.injectedOffsetMs)}`;
  if (s.role === 'server') return [injected, 'reference clock'];
  if (s.offsetEstimateMs === null) return [injected, 'no sample yet'];
  return [injected, `estimate ${signedMs(s.offsetEstimateMs)}${s.errorBoundMs === null ? '' : ` ± ${plainMs(s.errorBoundMs)}`}`];
}

function describeNode(r: LiveNodeRow<ClockStatus>): NodeDisplay<NodeView> {
  const s = r.status;
  return processView(r, s === null ? null : { role: s.role, details: details(s) });
}

const OFFSETS_PANEL: PanelDef = {
  id: 'clock-offsets',
  title: 'Clock offsets',
  place: 'main',
  hint: "Per client: the offset it estimates to the server's clock, the actual one (the server's injected offset minus its own), the error of the estimate and the bound it claims (half the delay of the sample it trusts). Green: the error is within the bound; red: outside it.",
};

function offsetsTable(rows: readonly LiveNodeRow<ClockStatus>[]): TableContent {
  const server = serverOf(rows);
  const table = rows.map((r): TableRow => {
    const s = r.status;
    const dim = r.process === 'stopped' || !r.fresh;
    const tone = dim ? ({ tone: 'dim' } as const) : {};
    if (s === null) return { key: r.id, ...tone, cells: [`node ${r.id}`, '—', '—', '—', '—', '—', '—', '—'] };
    const injected = signedMs(s.injectedOffsetMs);
    if (s.role === 'server') return { key: r.id, ...tone, cells: [`node ${r.id}`, 'server', injected, 'reference', '—', '—', '—', '—'] };
    const actual = server === null ? null : server.injectedOffsetMs - s.injectedOffsetMs;
    const est = s.offsetEstimateMs;
    const error = est === null || actual === null ? null : est - actual;
    const bound = s.errorBoundMs;
    let errorCell: TableCell | string = '—';
    if (error !== null) {
      const within = bound !== null && Math.abs(error) <= bound;
      errorCell = { text: signedMs(error), tone: bound === null ? undefined : within ? 'good' : 'bad', title: bound === null ? 'no error bound reported' : within ? `within ± ${plainMs(bound)}` : `outside ± ${plainMs(bound)}` };
    }
    return {
      key: r.id,
      ...tone,
      cells: [
        `node ${r.id}`,
        'client',
        injected,
        est === null ? { text: 'no sample yet', tone: 'dim' } : signedMs(est),
        actual === null ? { text: '?', title: 'the server has not reported its injected offset' } : signedMs(actual),
        errorCell,
        bound === null ? '—' : `± ${plainMs(bound)}`,
        s.delayMs === null ? '—' : plainMs(s.delayMs),
      ],
    };
  });
  return { kind: 'table', columns: ['node', 'role', 'injected', 'estimate', 'actual', 'error', 'bound', 'delay'], rows: table, empty: 'no nodes yet' };
}

const dash = (s: ClockStatus | null, f: (s: ClockStatus) => string): string => (s === null ? '—' : f(s));

export const clockLiveAdapter: LiveAdapter<ClockStatus> = {
  service: 'clock-sync',
  title: 'Clock sync',
  blurb: "Colour = role (the server's clock is the reference); under each node its injected offset and its estimate of the offset to the server, ± the error bound. Cross = stopped, orange badge = paused.",
  style: {
    roles: [
      { id: 'server', label: 'server (reference clock)', color: '#fcd34d' },
      { id: 'client', label: 'client', color: '#bfdbfe' },
    ],
    messageTypes: [],
  },
  hasLeader: false,
  keyValue: false,
  columns: [
    { title: 'Role', text: (r) => (r.process === 'stopped' ? '—' : dash(r.status, (s) => s.role)) },
    { title: 'Injected', text: (r) => dash(r.status, (s) => signedMs(s.injectedOffsetMs)) },
    { title: 'Estimate', text: (r) => dash(r.status, (s) => (s.role === 'server' ? 'reference' : s.offsetEstimateMs === null ? 'no sample yet' : signedMs(s.offsetEstimateMs))) },
    { title: 'Bound', text: (r) => dash(r.status, (s) => (s.errorBoundMs === null ? '—' : `± ${plainMs(s.errorBoundMs)}`)) },
  ],
  panels: [OFFSETS_PANEL],
  parseStatus: (raw) => (isClockStatus(raw) ? raw : null),
  describeNode,
  describePanels: (rows) => ({ [OFFSETS_PANEL.id]: offsetsTable(rows) }),
  leader: () => null,
  changes(id, before, after) {
    const lines: string[] = [];
    if (before !== null && before.injectedOffsetMs !== after.injectedOffsetMs) lines.push(`node ${id}: injected offset ${signedMs(before.injectedOffsetMs)} → ${signedMs(after.injectedOffsetMs)}`);
    if (after.role === 'client' && after.offsetEstimateMs !== null && (before === null || before.offsetEstimateMs === null)) {
      lines.push(`node ${id}: first sample: offset ${signedMs(after.offsetEstimateMs)}${after.errorBoundMs === null ? '' : ` ± ${plainMs(after.errorBoundMs)}`}`);
    }
    return lines;
  },
};
