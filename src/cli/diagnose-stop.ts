/**
 * When `vipwatch diagnose` may stop before its --count: once more attempts could not change the answer.
 * - healthy: the diagnosis says healthy and the failure ratio's upper bound is below the noise floor: if failures ran at
 *   minFailureRatio, this few in this many attempts would happen with chance <= pValue;
 * - a problem: the diagnosis names a kind at minConfidence and its chance under "nothing is wrong" (its p-value, or
 *   1 - confidence) is at or below pValue^2 (what opens an incident at once in `vipwatch run`); and when the responses
 *   name their backends under a known placement while some attempts succeed, the kinds that blame nodes must have named
 *   them (otherwise the next attempts are what isolates the node).
 */
import type { DiagnosisConfig } from '../config/sections/diagnosis.js';
import type { Diagnosis } from '../diagnosis/types.js';
import { INCIDENT_KINDS, type IncidentKind } from '../lib/incident-kinds.js';

export type Certainty = 'healthy' | 'problem';

/** The kinds whose diagnosis can blame nodes when backends name themselves. */
const NODE_KINDS: ReadonlySet<string> = new Set<IncidentKind>(['asymmetric_routing', 'backend_refused', 'http_errors']);

type StopConfig = Pick<DiagnosisConfig, 'pValue' | 'minConfidence' | 'minFailureRatio' | 'minAttempts'>;

export function certainty(d: Diagnosis, cfg: StopConfig): Certainty | undefined {
  if (d.attempts < cfg.minAttempts) return undefined;
  if (d.verdict === 'healthy') return healthyBound(d.failures, d.attempts, cfg.minFailureRatio) <= cfg.pValue ? 'healthy' : undefined;
  if (!isKind(d.verdict) || d.confidence < cfg.minConfidence) return undefined;
  if (nullChance(d) > cfg.pValue * cfg.pValue) return undefined;
  const nodesPending = NODE_KINDS.has(d.verdict) && d.identity === 'backend' && d.placementKnown && d.successes > 0 && d.suspectedNodes.length === 0;
  return nodesPending ? undefined : 'problem';
}

/** The verdict's chance under "nothing is wrong": its p-value when it has one, else 1 - confidence. */
export function nullChance(d: Pick<Diagnosis, 'pValue' | 'confidence'>): number {
  return d.pValue ?? 1 - d.confidence;
}

/**
 * P(X <= failures) for X ~ Binomial(attempts, floor): the chance of seeing this few failures if the true failure ratio
 * were the noise floor. At or below pValue, the ratio's upper confidence bound is below the floor.
 */
export function healthyBound(failures: number, attempts: number, floor: number): number {
  if (floor <= 0) return 1;
  if (floor >= 1) return failures >= attempts ? 1 : 0;
  if (failures >= attempts) return 1;
  let sum = 0;
  for (let k = 0; k <= failures; k++) sum += Math.exp(logChoose(attempts, k) + k * Math.log(floor) + (attempts - k) * Math.log1p(-floor));
  return Math.min(1, sum);
}

/** Attempts without a failure a healthy verdict needs before it is certain (shown in the help and the report). */
export function healthyAttemptsNeeded(cfg: Pick<DiagnosisConfig, 'pValue' | 'minFailureRatio' | 'minAttempts'>): number {
  if (cfg.minFailureRatio <= 0) return Infinity;
  return Math.max(cfg.minAttempts, Math.ceil(Math.log(cfg.pValue) / Math.log1p(-cfg.minFailureRatio)));
}

function isKind(v: string): v is IncidentKind {
  return (INCIDENT_KINDS as readonly string[]).includes(v);
}

function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}
