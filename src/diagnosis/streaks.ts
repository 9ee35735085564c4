/**
 * Change points at the end of the window: a run of failures too long for the failure rate before it (the target went
 * down), or a run of successes too long for it (the target recovered). Both let the verdict follow a change within
 * about minAttempts attempts instead of waiting for the window to roll over.
 */
import type { Attempt } from '../history/attempt.js';
import { binomLowerBound } from './stats.js';

export interface Streak {
  /** Attempts in the trailing run. */
  length: number;
  /** Attempts before it (in the window). */
  before: number;
  /** Chance of a run this long at the (conservatively bounded) rate seen before it. */
  p: number;
}

function trailing(attempts: readonly Attempt[], ok: boolean): number {
  let n = 0;
  for (let i = attempts.length - 1; i >= 0 && attempts[i]!.ok === ok; i--) n++;
  return n;
}

/**
 * The trailing run of failures, if it is at least minLength long and improbable at the failure rate before it. The rate
 * is taken under the cluster view the run started in: a placement change can raise an intermittent failure rate. A run
 * that began with its view (a rolling update moved the pods and broke the VIP in the same minute) has nothing before it
 * under that view: then the rate before is the one under the views before, and the attempts since the change decide.
 */
export function downStreak(attempts: readonly Attempt[], minLength: number, pValue: number, alpha: number): Streak | undefined {
  const length = trailing(attempts, false);
  if (length < minLength) return undefined;
  const version = attempts[attempts.length - length]!.cluster?.viewVersion;
  let before = 0;
  let okBefore = 0;
  let okAny = 0;
  for (let i = 0; i < attempts.length - length; i++) {
    const a = attempts[i]!;
    if (a.ok) okAny++;
    if (a.cluster?.viewVersion !== version) continue;
    before++;
    if (a.ok) okBefore++;
  }
  if (before === 0) {
    before = attempts.length - length;
    okBefore = okAny;
  }
  // Upper bound of the failure rate before the run = 1 - lower bound of the success rate.
  const failUp = 1 - binomLowerBound(okBefore, before, alpha);
  const p = Math.pow(failUp, length);
  return p < pValue ? { length, before, p } : undefined;
}

/** The trailing run of successes, if it is at least minLength long and improbable at the failure rate before it. */
export function recoveryStreak(attempts: readonly Attempt[], minLength: number, pValue: number, alpha: number): Streak | undefined {
  const length = trailing(attempts, true);
  if (length < minLength) return undefined;
  const before = attempts.length - length;
  let failBefore = 0;
  for (let i = 0; i < before; i++) if (!attempts[i]!.ok) failBefore++;
  if (failBefore === 0) return undefined;
  const failLo = binomLowerBound(failBefore, before, alpha);
  const p = Math.pow(1 - failLo, length);
  return p < pValue ? { length, before, p } : undefined;
}
