// Sans-I/O parts of locking that every host shares: the fenced-resource rule (and, as they are
// built, the simulated lock clients, the Redis-like node and the scenarios of docs/locks.md).
export { checkFence, type FenceVerdict } from './fence.js';
