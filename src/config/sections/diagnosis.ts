/**
 * The `diagnosis` section: every threshold of the diagnosis engine, the incident lifecycle and adaptive bursts.
 * An empty mapping decodes to the defaults below (documented per key).
 */
import { duration, field, int, num, object, type Validator } from '../schema-dsl.js';

export interface BurstConfig {
  /** Extra attempts per burst. Default 30: with the regular ones, enough to reach the ~34-attempt floor for a 1/3 share. */
  count: number;
  /** Burst attempts start this far apart: at most 1000/spacing new connections a second to the VIP. Default 250ms. */
  spacingMs: number;
  /**
   * Burst attempts in flight at once (the scheduled attempts stay one at a time). Default 8: at a 250 ms spacing a
   * 2 s timeout then never holds the burst up (8 x 250 ms = 2 s), so 30 attempts take ~7.5 s plus one timeout.
   */
  concurrency: number;
  /** Minimum time between the starts of two bursts of one target. Default 5m. */
  cooldownMs: number;
  /** Global cap: targets bursting at the same time. Default 4. */
  maxConcurrent: number;
}

export interface DiagnosisConfig {
  /** Sliding window of attempts diagnosed. Default 5m. */
  windowMs: number;
  /** Fewer usable attempts than this (after exclusions) give `insufficient_data`. Default 20. */
  minAttempts: number;
  /** False-alarm bound: `asymmetric_routing` (and node attribution) only when chance alone is below this. Default 1e-4. */
  pValue: number;
  /**
   * Significance of the consistency checks: without backend identity, the failure ratio matches a node set's share and
   * failures interleave (not one block); also the confidence bounds on failure rates behind the outage and recovery
   * streaks. Default 1e-3.
   */
  consistencyAlpha: number;
  /** Failure ratio treated as background noise: other kinds need failures significantly above it. Default 0.02. */
  minFailureRatio: number;
  /** Share of attempts impaired (timeouts + slow connects) above which `packet_loss` is claimed. Default 0.03. */
  lossRatio: number;
  /** Failure ratio from which a target counts as (nearly) always failing. Default 0.95. */
  unreachableRatio: number;
  /** Share of failures that must be connect timeouts for `asymmetric_routing`. Default 0.8. */
  timeoutShare: number;
  /**
   * A kind is named only at this confidence or more (for the kinds judged against noise: 1 - the chance that failures
   * at minFailureRatio, or impairments at lossRatio, give as many); incidents open or change only at or above it. Default 0.9.
   */
  minConfidence: number;
  /** Failure ratio from which an incident is `critical` (vip_unreachable always is). Default 0.25. */
  criticalRatio: number;
  /**
   * A lower bound: a verdict (same kind, confidence >= minConfidence) holds at least this long before an incident opens
   * or changes. Default 0: the evidence sets the wait (marginalHoldMs).
   */
  openAfterMs: number;
  /**
   * How long a marginal verdict (its chance under "nothing is wrong" just below the bound: pValue, or 1 - minConfidence)
   * must hold before an incident opens or changes; an overwhelming one (that chance at or below the bound squared) opens
   * at once; in between the wait shrinks with the log of the evidence. Default 30s.
   */
  marginalHoldMs: number;
  /**
   * The slow way to resolve, for incidents whose failure ratio is too low for the test below to pass soon: the failure
   * ratio (impaired ratio for packet_loss) stays below this for max(resolveAfter, 2m). Default 0.02.
   */
  resolveBelow: number;
  /**
   * A lower bound: an incident resolves when the attempts since the change point (a blamed node serving again, or a run
   * of successes) fail significantly less often than the incident's failure ratio (binomial test at pValue), every node
   * with endpoints has served since (with backend identity) and that has lasted at least this long. Default 10s.
   */
  resolveAfterMs: number;
  /**
   * A fault that comes back within this long after its incident resolved re-opens that incident (same id, `reopens`
   * counted) instead of raising a new one; a re-opened incident must stay clean longer before it resolves again (30 s,
   * doubling with each re-open, at most reopenWithin), so a flapping fault cannot spam. Default 10m; 0 turns it off.
   */
  reopenWithinMs: number;
  /** Remind about an open incident this often. Default 4h. */
  repeatIntervalMs: number;
  /** Keep resolved incidents (API, disk) this long. Default 24h. */
  keepResolvedMs: number;
  burst: BurstConfig;
}

export const DIAGNOSIS_DEFAULTS: DiagnosisConfig = Object.freeze({
  windowMs: 300_000,
  minAttempts: 20,
  pValue: 1e-4,
  consistencyAlpha: 1e-3,
  minFailureRatio: 0.02,
  lossRatio: 0.03,
  unreachableRatio: 0.95,
  timeoutShare: 0.8,
  minConfidence: 0.9,
  criticalRatio: 0.25,
  openAfterMs: 0,
  marginalHoldMs: 30_000,
  resolveBelow: 0.02,
  resolveAfterMs: 10_000,
  reopenWithinMs: 600_000,
  repeatIntervalMs: 4 * 3_600_000,
  keepResolvedMs: 24 * 3_600_000,
  burst: Object.freeze({ count: 30, spacingMs: 250, concurrency: 8, cooldownMs: 300_000, maxConcurrent: 4 }),
}) as DiagnosisConfig;

const D = DIAGNOSIS_DEFAULTS;
const ratio = (opts: { min?: number; exclusiveMin?: boolean } = {}) => num({ min: 0, max: 1, ...opts });

const burst = object({
  count: field(int({ min: 1, max: 1000 }), { default: D.burst.count }),
  spacing: field(duration({ min: 10, max: 60_000 }), { default: D.burst.spacingMs }),
  concurrency: field(int({ min: 1, max: 64 }), { default: D.burst.concurrency }),
  cooldown: field(duration({ min: 0 }), { default: D.burst.cooldownMs }),
  maxConcurrent: field(int({ min: 0, max: 10_000 }), { default: D.burst.maxConcurrent }),
}, (v): BurstConfig => ({ count: v.count, spacingMs: v.spacing, concurrency: v.concurrency, cooldownMs: v.cooldown, maxConcurrent: v.maxConcurrent }));

export const diagnosisSection: Validator<DiagnosisConfig> = object({
  window: field(duration({ min: 1000, max: 24 * 3_600_000 }), { default: D.windowMs }),
  minAttempts: field(int({ min: 3, max: 100_000 }), { default: D.minAttempts }),
  pValue: field(num({ min: 0, max: 0.5, exclusiveMin: true }), { default: D.pValue }),
  consistencyAlpha: field(num({ min: 0, max: 0.5, exclusiveMin: true }), { default: D.consistencyAlpha }),
  minFailureRatio: field(ratio(), { default: D.minFailureRatio }),
  lossRatio: field(ratio({ min: 0, exclusiveMin: true }), { default: D.lossRatio }),
  unreachableRatio: field(ratio({ min: 0.5 }), { default: D.unreachableRatio }),
  timeoutShare: field(ratio({ min: 0.5 }), { default: D.timeoutShare }),
  minConfidence: field(ratio(), { default: D.minConfidence }),
  criticalRatio: field(ratio(), { default: D.criticalRatio }),
  openAfter: field(duration({ min: 0 }), { default: D.openAfterMs }),
  marginalHold: field(duration({ min: 0, max: 3_600_000 }), { default: D.marginalHoldMs }),
  resolveBelow: field(ratio({ min: 0, exclusiveMin: true }), { default: D.resolveBelow }),
  resolveAfter: field(duration({ min: 0 }), { default: D.resolveAfterMs }),
  reopenWithin: field(duration({ min: 0, max: 24 * 3_600_000 }), { default: D.reopenWithinMs }),
  repeatInterval: field(duration({ min: 60_000 }), { default: D.repeatIntervalMs }),
  keepResolved: field(duration({ min: 0 }), { default: D.keepResolvedMs }),
  burst: field(burst, { default: () => ({ ...D.burst }) }),
}, (v, path, ctx): DiagnosisConfig | ReturnType<typeof ctx.report> => {
  // Hysteresis needs the resolve threshold under the level at which failures stop being noise.
  if (v.resolveBelow > Math.max(v.minFailureRatio, v.lossRatio)) {
    return ctx.report([...path, 'resolveBelow'], `must be at most max(minFailureRatio, lossRatio) = ${Math.max(v.minFailureRatio, v.lossRatio)}, got ${v.resolveBelow}`);
  }
  return {
    windowMs: v.window,
    minAttempts: v.minAttempts,
    pValue: v.pValue,
    consistencyAlpha: v.consistencyAlpha,
    minFailureRatio: v.minFailureRatio,
    lossRatio: v.lossRatio,
    unreachableRatio: v.unreachableRatio,
    timeoutShare: v.timeoutShare,
    minConfidence: v.minConfidence,
    criticalRatio: v.criticalRatio,
    openAfterMs: v.openAfter,
    marginalHoldMs: v.marginalHold,
    resolveBelow: v.resolveBelow,
    resolveAfterMs: v.resolveAfter,
    reopenWithinMs: v.reopenWithin,
    repeatIntervalMs: v.repeatInterval,
    keepResolvedMs: v.keepResolved,
    burst: v.burst,
  };
});
