// Public surface of synod/saga: orchestrated sagas as a sans-I/O core (plans, the orchestrator,
// its log records and their checks), the participant core that dedupes by idempotency key, the
// saga checker, and the order saga in the simulator with its chaos.
export * from './types.js';
export { backoffMs, resolvePlan, SagaOrchestratorCore, sagaOrchestratorSpec, type OrchestratorOptions, type ResolvedPlan } from './orchestrator.js';
export { compactSagaLog, decodeSagaRecord, foldSagaLog, type SagaLogEntry } from './log.js';
export { decodeServiceRecord, SagaServiceCore, sagaServiceSpec, type SagaServiceOptions, type ServiceLogic, type ServiceRecord, type StepDecision } from './service.js';
export { checkSagaHistory, type CheckedSaga, type SagaCheckResult, type SagaEffect, type SagaHistory, type SagaViolation, type SagaViolationCode } from './check.js';
export { armOrderSagaKill, KILL_MOMENTS, KILL_TARGETS, killPlans, ORDER_SAGA, ORDER_SAGA_NO_PIVOT, OrderSagaCluster, orderSagaSpec, runOrderSagaKill, type FailureRates, type KillMoment, type KillPlan, type KillRunResult, type KillTarget } from './sim/order-saga.js';
export { KILL_MAX_BOUNDARY, killPlanForSeed, killRunViolations, runSagaChaos, runSagaKillChaos, sagaKillSimProtocol, sagaSimProtocol, SAGA_CHAOS } from './sim/chaos.js';
export { checkChoreographyPlan, choreographyHistory, ChoreographyLog, choreographyOutcome, reactionTo, resultEvent, startEvent, type ChoreoEvent, type ChoreographyPlan, type Reaction, type ReactionResult } from './choreography.js';
