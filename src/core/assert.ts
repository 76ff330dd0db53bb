// The one assertion helper of the project, always on (in tests, the simulator, the browser and
// production alike): an invariant that fails means the code is wrong or its input was forged,
// and going on would spread the damage. Fail loud, with a message that says what broke.

/** Thrown when an invariant fails. `code` is stable for callers that count or report them. */
export class InvariantError extends Error {
  readonly code = 'INVARIANT' as const;

  constructor(message: string) {
    super(message);
    this.name = 'InvariantError';
  }
}

/**
 * Throws an InvariantError when `condition` is false. `describe` runs only on failure, so a
 * message that costs something to build costs nothing while the invariant holds.
 */
export function assertInvariant(condition: boolean, describe: () => string): asserts condition {
  if (!condition) throw new InvariantError(describe());
}

export function isInvariantError(err: unknown): err is InvariantError {
  return err instanceof InvariantError;
}
