/**
 * When an open incident may resolve. Two ways, both needing the incident's kind to have stopped holding:
 * - verified (fast): the attempts since the diagnosis's newest change point (a blamed node serving again, or a run of
 *   successes) fail significantly less often than the incident did: the chance of so few failures at the incident's
 *   failure ratio is at most pValue (the same bound that opened it). Lasting at least resolveHoldMs since the change.
 * - quiet (slow, for incidents whose ratio is too low for the test to pass soon): the failure ratio (impaired ratio for
 *   packet_loss) stays below resolveBelow for max(resolveHoldMs, QUIET_RESOLVE_MS).
 * Either way, with backend identity, every node with endpoints must have served since (bounded wait).
 */
import type { DiagnosisConfig } from '../config/sections/diagnosis.js';
import type { ChangePoint, Diagnosis } from '../diagnosis/types.js';
import { binomLowerTail } from '../diagnosis/stats.js';
import type { Incident } from './types.js';

/** The quiet way waits at least this long (the hysteresis vipwatch always had). */
export const QUIET_RESOLVE_MS = 120_000;
/** A re-opened incident stays clean at least this long before resolving again, doubling with each further re-open. */
export const REOPENED_HOLD_MS = 30_000;

/**
 * How long the attempts must stay clean before the incident resolves: resolveAfter for an incident that never
 * re-opened; for a flapping one 30 s doubling with each re-open, at most reopenWithin (so it cannot spam).
 */
export function resolveHoldMs(inc: Pick<Incident, 'reopens'>, cfg: Pick<DiagnosisConfig, 'resolveAfterMs' | 'reopenWithinMs'>): number {
  const reopens = inc.reopens ?? 0;
  if (reopens <= 0) return cfg.resolveAfterMs;
  const grown = Math.max(cfg.resolveAfterMs, REOPENED_HOLD_MS) * 2 ** Math.min(reopens - 1, 30);
  return Math.max(cfg.resolveAfterMs, Math.min(grown, cfg.reopenWithinMs));
}

/** The attempts a resolve is tested on: since a change point, or (kind 'window') every attempt the diagnosis judged. */
export type ResolveSegment = ChangePoint | { kind: 'window'; at: number; attempts: number; failures: number; node?: undefined };

export interface VerifiedChange {
  changePoint: ResolveSegment;
  /** Chance of at most that many failures since the change at the incident's failure ratio. */
  p: number;
}

/**
 * The change point whose attempts since fail significantly less often than the incident (p <= pValue); without one,
 * `whole` (every attempt judged: conservative, as it still holds the fault's failures unless a restart lost them). Undefined when there is none, the incident's ratio is 0 (nothing to be below), or the attempts
 * since are still too few.
 */
export function verifiedChange(inc: Pick<Incident, 'failureRatio' | 'expectedFailureRatio'>, d: Pick<Diagnosis, 'changePoint'>, cfg: Pick<DiagnosisConfig, 'pValue'>, whole?: ResolveSegment): VerifiedChange | undefined {
  const cp = d.changePoint ?? whole;
  const rate = faultRate(inc);
  if (!cp || cp.attempts <= 0 || rate <= 0) return undefined;
  // Only a drop counts: a segment failing as often as the incident did is not a recovery whatever its size.
  if (cp.failures / cp.attempts >= rate) return undefined;
  const p = binomLowerTail(cp.failures, cp.attempts, rate);
  return p <= cfg.pValue ? { changePoint: cp, p } : undefined;
}

/**
 * The failure rate while the fault holds: what the attempts since the fix are tested against. The incident's failure
 * ratio is over the whole window, diluted by the healthy attempts before the onset (a one-minute fault in a five-minute
 * window reads ~0.11 where a third of the connections failed); the verdict's expected ratio (the share of connections
 * the suspected nodes take) is the rate under the fault, so the larger of the two is used.
 */
export function faultRate(inc: Pick<Incident, 'failureRatio' | 'expectedFailureRatio'>): number {
  return Math.max(inc.failureRatio, inc.expectedFailureRatio ?? 0);
}

/** The ratio the quiet way watches: the impaired ratio for packet loss, the failure ratio otherwise; 0 once recovered. */
export function quietRatio(inc: Pick<Incident, 'kind'>, d: Pick<Diagnosis, 'recovered' | 'impairedRatio' | 'failureRatio'>): number {
  if (d.recovered) return 0;
  return inc.kind === 'packet_loss' ? d.impairedRatio : d.failureRatio;
}
