/**
 * The onset change point: failures that began recently after clean attempts. Judged over the whole window they are
 * diluted by the clean attempts before them and read as noise (healthy), yet the attempts since the first of them
 * already fail beyond noise. Then the honest verdict is "still gathering evidence", never healthy with confidence.
 */
import type { Ctx, Finding } from './context.js';
import { pct, reasonsText } from './format.js';
import { binomUpperTail } from './stats.js';
import { tally } from './tally.js';

/** The last failures looked at as possible onsets (older ones are spread out enough to be judged with the window). */
const MAX_ONSETS = 64;

/**
 * The trailing segment, starting at a failure, whose failures are beyond noise (minFailureRatio at minConfidence),
 * if any: the strongest such segment. Failures only count when they could be a path problem (not probe_error, which
 * is never in `used`).
 */
export function recentOnset(c: Ctx): { from: number; failures: number; attempts: number; confidence: number } | undefined {
  const { used, cfg } = c;
  let fails = 0;
  let seen = 0;
  let best: { from: number; failures: number; attempts: number; confidence: number } | undefined;
  for (let i = used.length - 1; i >= 0 && seen < MAX_ONSETS; i--) {
    if (used[i]!.ok) continue;
    fails++;
    seen++;
    const n = used.length - i;
    const conf = 1 - binomUpperTail(fails, n, cfg.minFailureRatio);
    if (conf >= cfg.minConfidence && (!best || conf > best.confidence)) best = { from: i, failures: fails, attempts: n, confidence: conf };
  }
  return best;
}

/** The finding to give instead of healthy when failures began recently; undefined when healthy stands. */
export function onsetInsteadOfHealthy(c: Ctx): Finding | undefined {
  const o = recentOnset(c);
  if (!o) return undefined;
  const t = tally(c.used.slice(o.from));
  return {
    verdict: 'insufficient_data', confidence: 0,
    summary: `${c.name}: ${o.failures} of the last ${o.attempts} attempts failed (${reasonsText(t.reasons)}) after ${o.from} that mostly worked; gathering evidence`,
    evidence: [`Failures began ${o.attempts} attempts ago: ${pct(o.failures / o.attempts)} of the attempts since fail, beyond the background ratio of ${pct(c.cfg.minFailureRatio)}; judged over the whole window they would read as noise, so no healthy verdict yet.`],
  };
}
