/**
 * Capped exponential backoff with jitter, one formula for every retry loop: retry number `failures` (1 = after the
 * first failure) waits min(max, initial * multiplier^(failures-1)), reduced by up to `jitter` of itself so that
 * clients that failed together do not retry in lockstep. Never above the cap.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  /** Fraction of each delay that is randomized (0 = none, 1 = full jitter). */
  jitter: number;
}

export function backoffDelay(b: BackoffPolicy, failures: number, random: () => number): number {
  const exp = b.initialMs * Math.pow(b.multiplier, Math.max(0, failures - 1));
  const capped = Math.min(b.maxMs, exp);
  return Math.round(capped * (1 - b.jitter * random()));
}

/**
 * The same delays for a loop that counts its own failures: doubling, each delay drawn from [d/2, d] where `random`
 * returning 1 gives d (the full step) and 0 gives d/2. Reset after a success.
 */
export class Backoff {
  private failures = 0;
  private readonly policy: BackoffPolicy;

  constructor(initialMs: number, maxMs: number, private readonly random: () => number = Math.random) {
    this.policy = { initialMs, maxMs, multiplier: 2, jitter: 0.5 };
  }

  next(): number {
    // Past 2^30 the step is the cap for any sane initial delay; stopping there keeps initial * 2^n finite.
    this.failures = Math.min(this.failures + 1, 31);
    return backoffDelay(this.policy, this.failures, () => 1 - this.random());
  }

  reset(): void {
    this.failures = 0;
  }
}
