// The client library's one error: a stable code (the API's own, e.g. COMPACTED, BAD_REQUEST,
// PERMISSION_DENIED, TIMEOUT, or the client's: UNREACHABLE (no node could be reached), NO_ANSWER
// (a node took the request and never answered), BAD_ANSWER, NOT_A_NUMBER, BAD_ENDPOINT, BAD_KEY),
// whether the request certainly had no effect, and the API's extra fields (compactRevision...).

export class SynodError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The HTTP status of the answer that refused it; 0 when no node answered. */
    readonly status = 0,
    /** The request certainly did not take effect (or could not apply twice), so sending it again is safe. */
    readonly safeToRetry = false,
    /** The API's extra fields: `compactRevision` for COMPACTED, `revision`, `leaderHint`, `id`... */
    readonly details: Readonly<Record<string, unknown>> = {},
    /** The node that answered, when one did. */
    readonly endpoint?: string,
  ) {
    super(message);
    this.name = 'SynodError';
  }

  /** For COMPACTED: the oldest revision the cluster still keeps (read afresh, then watch from there). */
  get compactRevision(): number | undefined {
    const value = this.details['compactRevision'];
    return typeof value === 'number' ? value : undefined;
  }
}

/** The error an API answer carries ({error: {code, message, safeToRetry, ...}}), as a SynodError. */
export function errorOfAnswer(status: number, body: unknown, endpoint: string): SynodError {
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  if (typeof error !== 'object' || error === null) return new SynodError(`HTTP_${status}`, `HTTP ${status} from ${endpoint}`, status, false, {}, endpoint);
  const { code, message, safeToRetry, ...details } = error as Record<string, unknown>;
  return new SynodError(typeof code === 'string' ? code : `HTTP_${status}`, `${typeof message === 'string' ? message : `HTTP ${status}`} (from ${endpoint})`, status, safeToRetry === true, details, endpoint);
}
