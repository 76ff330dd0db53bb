// Public surface of the transactional (Elle-style) checker: list-append and read-write register
// histories, dependency inference, cycle search, isolation levels, reports and the CLI entry.
export { checkTxnHistory, DEFAULT_MAX_SEARCH_STEPS, type TxnCheckOptions } from './check.js';
export { FORBIDDEN, forbiddenBy, levelsRuledOut } from './isolation.js';
export { historyOfTxns, parseTxnHistory, txnFormatForFile, MAX_TXN_HISTORY_CHARS, type TxnFormat } from './read.js';
export * from './types.js';
export {
  formatTxnText,
  runTxnCheckCommand,
  txnResultToJson,
  TXN_EXIT_INVALID,
  TXN_EXIT_UNKNOWN,
  TXN_EXIT_VALID,
  type TxnCommandIo,
  type TxnCommandOptions,
} from './report.js';
export { generateAppendHistory, historyToEdn, historyToJson, type GenerateOptions } from './generate.js';
