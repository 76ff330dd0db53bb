// The live adapter for a service the page does not know: the neutral node view only (process
// state, and the node's role when its status names one), so the ring and the process controls
// still work for any service the supervisor runs.
import { isRecord, processView, type LiveAdapter } from './live.js';

type AnyStatus = Readonly<Record<string, unknown>>;

export function genericLiveAdapter(service: string): LiveAdapter<AnyStatus> {
  const role = (s: AnyStatus): string => (typeof s['role'] === 'string' ? s['role'] : 'node');
  return {
    service,
    title: service,
    blurb: `Service "${service}": this page knows no more about it than each process and the role its node reports. Cross = stopped, orange badge = paused.`,
    style: { roles: [{ id: 'node', label: 'node', color: '#bfdbfe' }], messageTypes: [] },
    hasLeader: false,
    keyValue: false,
    columns: [{ title: 'Role', text: (r) => (r.status === null || r.process === 'stopped' ? '—' : role(r.status)) }],
    panels: [],
    parseStatus: (raw) => (isRecord(raw) ? raw : null),
    describeNode: (r) => processView(r, r.status === null ? null : { role: role(r.status), details: [] }),
    describePanels: () => ({}),
    leader: () => null,
  };
}
