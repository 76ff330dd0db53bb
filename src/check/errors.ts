// Typed errors of the checker. Every failure a caller can act on carries a stable code, so
// hosts (the CLI, tests, scripts) can tell a malformed history from a bad option without parsing text.

/** Every code a CheckError can carry; hosts and tests may rely on these staying as they are. */
export const CHECK_ERROR_CODES = [
  'BAD_OP', // an operation does not have the shape its model expects
  'HISTORY_FORMAT', // a Synod history document is malformed
  'JEPSEN_PARSE', // a Jepsen log line is malformed or out of place
  'EDN_SYNTAX', // an EDN value (in a Jepsen log line) is malformed or unsupported
  'EDN_HISTORY', // a map of an EDN history (Jepsen history.edn, Porcupine kv log) is malformed or out of place
  'EMPTY_HISTORY', // the input is empty or blank, or holds no operation to check
  'TRUNCATED_HISTORY', // a line-based log ends part-way through a line (no final newline)
  'HISTORY_TOO_LARGE', // a whole-document input is larger than the reader accepts
  'LINE_TOO_LONG', // a line of a line-based log is longer than the reader accepts
  'UNKNOWN_MODEL', // no model of that name
  'UNSUPPORTED', // the model does not support the requested check
  'BAD_OPTION', // an option is out of range
] as const;

export type CheckErrorCode = (typeof CHECK_ERROR_CODES)[number];

export class CheckError extends Error {
  constructor(
    readonly code: CheckErrorCode,
    message: string,
    /** 1-based line of the input the error is about, where there is one. */
    readonly line?: number,
  ) {
    super(message);
    this.name = 'CheckError';
  }
}
