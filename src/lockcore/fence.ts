// The fenced-resource rule, as a protected store applies it: a write carries its holder's fencing
// token, and the store refuses one whose token is below the highest it has accepted. Pure, so the
// simulator's resource, the Node guard (src/lock/guard.ts) and the checkers share one definition.

/** What the store answers a fenced write. */
export type FenceVerdict = { readonly ok: true; readonly highest: number } | { readonly ok: false; readonly highest: number; readonly reason: string };

/**
 * Whether a write with `token` is accepted by a store that has accepted up to `highest` (null:
 * none yet). Equal is accepted: the same holder may write many times under one grant.
 */
export function checkFence(highest: number | null, token: number): FenceVerdict {
  if (!Number.isSafeInteger(token) || token < 0) return { ok: false, highest: highest ?? -1, reason: `a fencing token is a whole number >= 0, got ${String(token)}` };
  if (highest !== null && token < highest) return { ok: false, highest, reason: `token ${token} is below ${highest}, the highest this resource accepted: its holder was superseded` };
  return { ok: true, highest: highest === null ? token : Math.max(highest, token) };
}
