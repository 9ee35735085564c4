import type { BackoffConfig } from '../config/sections/alerting.js';

/**
 * Delay before retry number `failures` (1 = after the first failure): exponential, capped, and reduced by up
 * to `jitter` of itself so that sinks that failed together do not retry in lockstep. Never above the cap.
 */
export function backoffDelay(b: BackoffConfig, failures: number, random: () => number): number {
  const exp = b.initialMs * Math.pow(b.multiplier, Math.max(0, failures - 1));
  const capped = Math.min(b.maxMs, exp);
  return Math.round(capped * (1 - b.jitter * random()));
}
