// Sans-I/O parts of locking that every host shares: the fenced-resource rule, and the simulator's
// lock systems (Synod, Redis and Redlock clients as nodes, the protected resource, the scenarios
// and chaos of docs/locks.md, "In the simulator").
export { checkFence, type FenceVerdict } from './fence.js';
export * from './sim/index.js';
