// Public surface of synod/saga-host: durable orchestrated sagas for Node services, the saga core
// (src/saga) run with real timers and its log on the project's write-ahead log.
export { SagaOrchestrator, StepRejected, type SagaDefinition, type SagaOrchestratorOptions, type SagaStepDefinition, type StepContext, type StepFunction } from './runner.js';
