// Public surface of synod/saga-host: durable orchestrated sagas for Node services (the saga core
// of src/saga run with real timers, its log on the project's write-ahead log) and choreographed
// sagas over a durable event log: the project's WAL in one process, or Synod's KV across processes.
export { SagaOrchestrator, StepRejected, type SagaDefinition, type SagaOrchestratorOptions, type SagaStepDefinition, type StepContext, type StepFunction } from './runner.js';
export { Choreography, type ChoreographyOptions, type ChoreoService } from './choreography.js';
export { decodeChoreoEvent, eventPrefix, KvChoreographyService, kvSagaOutcome, readKvEvents, startKvSaga, type KvChoreographyServiceOptions } from './kv-choreography.js';
