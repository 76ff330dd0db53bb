// Public surface of synod/check: linearizability checking (Wing & Gong / Lowe search with
// memoisation and per-key partitioning), session guarantees, lock safety (mutex and fenced
// resource), models, history formats and reports.
export { checkHistory, partitionHistory, type CheckOptions, type FailedCas, type Partition } from './checker.js';
export type { CheckResult, LinearizedStep, PartitionReport, Verdict, Violation } from './result.js';
export { DEFAULT_MAX_MEMORY_BYTES, DEFAULT_MAX_STATES, type BudgetOptions, type BudgetReason } from './budget.js';
export { CHECK_ERROR_CODES, CheckError, type CheckErrorCode } from './errors.js';
export type { Model, PreparedCall, SessionEffect } from './model.js';
export {
  MODEL_NAMES,
  kvModel,
  modelByName,
  mutexModel,
  registerModel,
  type CasResult,
  type KvCall,
  type KvState,
  KvMap,
  type KvEntry,
  type ModelName,
  type MutexCall,
  type MutexState,
  type RegisterCall,
} from './models/index.js';
export { checkDocConvergence, type DocChangeRecord, type DocCheckOptions, type DocProblem, type DocProblemKind, type DocReplica } from './crdt-doc.js';
export { checkSessions, type SessionGuarantee, type SessionResult, type SessionViolation } from './session.js';
export { JepsenLogReader, parseJepsenLog, type JepsenReadOptions } from './formats/jepsen.js';
export { DEFAULT_MAX_LINE_CHARS, LineSplitter } from './formats/lines.js';
export { parseEdnValue, type EdnOptions } from './formats/edn.js';
export { DETECT_HEAD_BYTES, HISTORY_FORMATS, detectHistoryFormat, type HistoryFormat } from './formats/detect.js';
export {
  EdnEventReader,
  EdnHistoryReader,
  parseEdnHistory,
  parsePorcupineKv,
  readEdnEvents,
  type EdnEvent,
  type EdnHistoryOptions,
  type EdnReadOptions,
  type EdnShape,
  type EdnEventType,
} from './formats/edn-history.js';
export { parseSynodHistory, validateHistory } from './formats/synod.js';
export { checkResultToJson, describeOperation, formatCheckText, formatSessionText, type TextOptions } from './report.js';
export { canonicalJson } from './json.js';
export {
  checkWatcher,
  checkWatches,
  describeWatchEvent,
  type CommittedChanges,
  type WatchCheckResult,
  type WatchDelivery,
  type WatchDiscrepancy,
  type WatchEvent,
  type WatchKv,
  type WatchProblem,
  type WatchSelector,
  type WatcherRecord,
} from './watch.js';
export { checkKvRevisions, type RevisionCheckResult, type RevisionProblem, type RevisionProblemKind, type RevisionedOp } from './kv-revisions.js';
export { escapeControls } from './escape.js';
export * from './txn/index.js';
export {
  DEFAULT_MAX_DRAWN_OPS,
  historyChart,
  htmlReportEnd,
  htmlReportSection,
  htmlReportStart,
  operationKeys,
  renderHtmlReport,
  selectDrawn,
  toMarkup,
  type ChartHighlight,
  type ChartOptions,
  type DrawnOps,
  type MarkupElement,
  type MarkupNode,
  type ReportOptions,
  type ReportSection,
} from './html/index.js';
export {
  checkFencedResource,
  checkGrants,
  checkLockSafety,
  checkMutex,
  holdIntervals,
  MUTEX_VIEWS,
  type FencedResourceOptions,
  type FencedResourceResult,
  type FencedResourceViolation,
  type FencedResourceViolationKind,
  type GrantProblem,
  type HoldInterval,
  type LockEvent,
  type LockEventKind,
  type LockEventSource,
  type LockSafetyReport,
  type MutexOptions,
  type MutexOverlap,
  type MutexResult,
  type MutexView,
  type ResourceWrite,
} from './lock-safety.js';
export * from './dkv/index.js';
