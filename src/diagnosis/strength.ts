/**
 * How strong a verdict's evidence is against the bound it had to pass: log(chance under "nothing is wrong") over
 * log(bound). The chance is the verdict's p-value (node split, path drop), or 1 - confidence for the kinds judged
 * against noise; the bound is pValue, or 1 - minConfidence. 1 = just past the bound, 2 = at the bound squared
 * ("overwhelming"). Incidents wait less the stronger it is; bursts go on until
 * it is overwhelming.
 */
import type { DiagnosisConfig } from '../config/sections/diagnosis.js';
import type { Diagnosis } from './types.js';

/** A verdict this strong (its chance at or below the bound squared) needs no more evidence. */
export const OVERWHELMING = 2;

export function evidenceStrength(d: Pick<Diagnosis, 'pValue' | 'confidence'>, cfg: Pick<DiagnosisConfig, 'pValue' | 'minConfidence'>): number {
  const [p, bound] = d.pValue !== null ? [d.pValue, cfg.pValue] : [1 - d.confidence, 1 - cfg.minConfidence];
  // A degenerate bound (minConfidence 0 or 1) grades nothing: every verdict that passes it counts as overwhelming.
  if (!(bound > 0 && bound < 1)) return Infinity;
  if (p <= 0) return Infinity;
  return Math.log(p) / Math.log(bound);
}

/** A verdict that names a problem (not healthy, not insufficient_data) at minConfidence with overwhelming evidence. */
export function isDecided(d: Pick<Diagnosis, 'verdict' | 'pValue' | 'confidence'>, cfg: Pick<DiagnosisConfig, 'pValue' | 'minConfidence'>): boolean {
  if (d.verdict === 'healthy' || d.verdict === 'insufficient_data' || d.confidence < cfg.minConfidence) return false;
  return evidenceStrength(d, cfg) >= OVERWHELMING;
}
