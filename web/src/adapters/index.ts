// The protocols the visualizer knows; the first is the default.
import { echoAdapter } from './echo.js';
import { raftAdapter } from './raft.js';
import type { ProtocolAdapter } from './types.js';

export const ADAPTERS: readonly ProtocolAdapter[] = [raftAdapter, echoAdapter];

export const DEFAULT_ADAPTER = ADAPTERS[0] as ProtocolAdapter;

export function adapterById(id: string): ProtocolAdapter | undefined {
  return ADAPTERS.find((a) => a.id === id);
}
