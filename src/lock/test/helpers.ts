// Small helpers the conformance suites share: names unique to a run, sleeps, and a deadline for
// waits that must end.
let names = 0;

/** A lock name unique to this run, so tests never see each other's locks. */
export function freshName(what: string): string {
  return `conf-${process.pid}-${Date.now().toString(36)}-${names++}-${what}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether `promise` is still pending after `ms` (for "it keeps waiting", never for how long something took). */
export async function stillPending(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const pending = Symbol('pending');
  const outcome = await Promise.race([promise.then(() => 'settled', () => 'settled'), sleep(ms).then(() => pending)]);
  return outcome === pending;
}
