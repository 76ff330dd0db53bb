// Public surface of synod/core: the contract every protocol core and every host share (the
// sans-I/O protocol interface, JSON and history types, the replicated state machine) and the
// one assertion helper. It imports nothing from the rest of the project.
export type { CoreEnv, Effects, Message, NodeId, OutputOptions, ProtocolCore, ProtocolSpec } from './protocol.js';
export { isJsonObject, type JsonValue } from './json.js';
export { HistoryRecorder, type History, type Operation, type Outcome } from './history.js';
export { undecodable, type Decoded, type LeaderDuties, type StateMachine } from './state-machine.js';
export { assertInvariant, InvariantError, isInvariantError } from './assert.js';
