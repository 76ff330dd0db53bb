// Locks in the simulator: the Raft KV served to client nodes, the protected resource (a database
// node) and its power switch, lock clients for Synod, single Redis and Redlock, the inventory's
// buyers, the composed system with its recorders, the scenarios, and chaos over locks.
export { BuyerProgram, INVENTORY_APPROACHES, orderKey, type BuyerOptions, type InventoryApproach } from './buyer.js';
export { defaultLockNodes, LOCK_CHAOS, LOCK_CHAOS_NEMESIS, LOCK_SIM_PROTOCOLS, LOCK_VARIANTS, lockChaosLayout, lockSummaryLines, lockViolations, lockWorkload, minLockNodes, runLockChaos, type LockChaosOptions, type LockChaosResult, type LockClaim, type LockVariant } from './chaos.js';
export { KvGatewayCore, kvGatewaySpec, MAX_GATEWAY_PENDING, type KvClientMessage, type KvGatewayMessage, type KvGatewayOptions, type KvGatewaySpec } from './kv-gateway.js';
export { KV_RPC_DEFAULTS, KvRpc, type KvCallKind, type KvCallResult, type KvRpcOptions, type RpcContext } from './kv-rpc.js';
export {
  leaseMarginMs,
  LOCK_CLIENT_DEFAULTS,
  LockClientProgram,
  type BackendEvents,
  type ClientLockNotice,
  type HeldGrant,
  type LockBackend,
  type LockClientMessage,
  type LockClientObserver,
  type LockClientOp,
  type LockClientOptions,
} from './lock-client.js';
export { PowerSwitchCore, powerSwitchSpec, type PowerMessage, type PowerObserver, type PowerSwitchSpec } from './power-switch.js';
export { fenceKey, lockKey, RedisLockBackend, type RedisLockOptions } from './redis-lock-client.js';
export { RedlockBackend, redlockDriftMs, redlockQuorum, redlockValidityMs, type RedlockOptions } from './redlock-client.js';
export { DB_DEFAULTS, DbCore, dbSpec, MAX_DB_KEYS, MAX_ROW_WAITERS, type DbMessage, type DbObserver, type DbOp, type DbOptions, type DbReply, type DbRequest, type DbSpec, type DbWriteRecord } from './resource.js';
export {
  checkInventory,
  describeLockScenarioStep,
  describeLockStep,
  INVENTORY_SCENARIOS,
  KLEPPMANN_SCENARIOS,
  LOCK_SCENARIOS,
  LockScenarioSteps,
  lockScenarioByName,
  lockScenarioProgram,
  runLockScenario,
  SPLIT_BRAIN_SCENARIOS,
  type LockScenario,
  type LockScenarioResult,
  type LockStep,
  type VerdictName,
  type VerdictValue,
} from './scenarios.js';
export { holderKey, lockPrefix, SynodLockBackend, type SynodLockOptions } from './synod-lock-client.js';
export {
  LOCK_SYSTEM_DEFAULTS,
  LockSystem,
  lockLayout,
  lockSystemSpec,
  type LockBackendName,
  type LockLayout,
  type LockSystemMessage,
  type LockSystemOp,
  type LockSystemHost,
  type LockSystemOptions,
  type LockSystemRequest,
  type LockSystemResponse,
  type LockSystemSpec,
  type LockVerdicts,
} from './system.js';
