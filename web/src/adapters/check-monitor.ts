// A safety monitor that asks one check after every step: the first message it returns is the
// violation shown (null: holds so far). The lock and quorum views build theirs from it.
import type { SafetyMonitor } from './types.js';

export class CheckMonitor implements SafetyMonitor {
  constructor(
    readonly id: string,
    readonly title: string,
    readonly description: string,
    private readonly check: () => string | null,
  ) {}

  afterStep(): string | null {
    return this.check();
  }
}
