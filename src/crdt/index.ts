// Public surface of src/crdt (`synod/crdt`): state-based CRDTs with delta mutators — counters,
// sets, registers, flags, OR-Maps and the RGA sequence — their causal kernel, delta-interval
// anti-entropy, binary encodings, and the PN-counter replicated in the simulator (docs/crdt.md).
export { CrdtError, failCrdt, isCrdtError, type CrdtErrorCode } from './errors.js';
export { MAX_ELEMENTS, MAX_REPLICAS, MAX_TEXT_LENGTH, type CrdtType, type ReplicaId } from './types.js';
export {
  contextAdd,
  contextHas,
  contextJoin,
  contextOf,
  decodeContext,
  emptyContext,
  nextDot,
  type Causal,
  type CausalContext,
  type CausalType,
  type Dot,
} from './causal.js';
export { countOf, G_COUNTER, gCounterIncrement, PN_COUNTER, pnCounterDecrement, pnCounterIncrement, type GCounterState, type PnCounterState } from './counters.js';
export { G_SET, gSetAdd, isLwwSetEntryPresent, LWW_ELEMENT_SET, lwwSetAdd, lwwSetRemove, TWO_P_SET, twoPSetAdd, twoPSetRemove, type GSetState, type LwwElementSetState, type TwoPSetState } from './sets.js';
export { compareLwwStamps, LWW_REGISTER, lwwAssign, type LwwRegisterState, type LwwStamp } from './registers.js';
export { OR_SET, orSetAdd, orSetClear, orSetHas, orSetRemove, type OrSetState } from './or-set.js';
export { MV_REGISTER, mvClear, mvWrite, type MvRegisterState } from './mv-register.js';
export { DW_FLAG, dwFlagDisable, dwFlagEnable, EW_FLAG, ewFlagDisable, ewFlagEnable, type DwFlagState, type EwFlagState } from './flags.js';
export { OR_MAP_OF_EW_FLAGS, OR_MAP_OF_MV_REGISTERS, OR_MAP_OF_OR_SETS, orMapClear, orMapKeys, orMapRemove, orMapType, orMapUpdate, type OrMapState, type OrMapType } from './or-map.js';
export { RGA, rgaDeleteAt, RgaDocument, rgaInsertAt, rgaInsertTextAt, rgaText, type RgaElement, type RgaState } from './rga.js';
export { decodeRga, encodeRga } from './rga-codec.js';
export { CRDT_DOC, DOC_KINDS, docChangeProblem, docEntry, docGrows, docMutate, docRead, MAX_DOC_ENTRIES, MAX_DOC_NAME_LENGTH, type CrdtDocState, type DocChange, type DocEntry, type DocEntryView, type DocKind, type DocValue } from './doc.js';
export { decodeState, encodeState, MAX_ENCODED_BYTES } from './codec.js';
export { DeltaReplicator, type Outgoing, type ReplicatorMessage, type ReplicatorOptions, type ReplicatorStats } from './replicator.js';
export { COUNTER_CHAOS, CounterCluster, crdtCounterSimProtocol, runCounterChaos } from './sim/chaos.js';
export { CounterNode, counterSpec, type CounterMessage, type CounterPersistOp, type CounterRequest, type CounterResponse } from './sim/counter-node.js';
