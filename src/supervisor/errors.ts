// Typed errors of the supervisor library: a stable code for scripts and one readable line for
// people. The CLI prints them as it prints its own errors (one line, exit code).

export class SupervisorError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The exit code a command that fails with this error should use (2: bad input). */
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'SupervisorError';
  }
}
