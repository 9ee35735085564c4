import type { TargetHistory } from '../history/history.js';

export type TargetStatus = 'unknown' | 'healthy' | 'degraded' | 'down';

/** A coarse status from the 1-minute window, used for state-change logs and the status page. */
export function targetStatus(history: TargetHistory | undefined, now: number): TargetStatus {
  if (!history) return 'unknown';
  const s = history.stats('1m', now);
  if (!s.attempts) return 'unknown';
  if (s.failures === 0) return 'healthy';
  if (s.failures === s.attempts && s.attempts >= 3) return 'down';
  return 'degraded';
}
