/** Counting attempts by outcome, and the failure classes the rules reason about. */
import type { Attempt } from '../history/attempt.js';
import type { FailureReason } from '../probe/types.js';

/** silent: SYN unanswered; unreachable: no route/ARP/name; refused: RST; app: connected, then the check failed. */
export type FailureClass = 'silent' | 'unreachable' | 'refused' | 'app';

/** probe_error has no class: vipwatch's own fault says nothing about the path (selectSample leaves it out). */
const CLASS: Record<Exclude<FailureReason, 'probe_error'>, FailureClass> = {
  connect_timeout: 'silent',
  unreachable: 'unreachable',
  dns: 'unreachable',
  refused: 'refused',
  reset: 'refused',
  tls: 'app',
  response_timeout: 'app',
  http_status: 'app',
  body_mismatch: 'app',
  protocol: 'app',
};

export function failureClass(a: Attempt): FailureClass | undefined {
  if (a.ok || a.reason === 'probe_error') return undefined;
  return a.reason ? CLASS[a.reason] : 'silent';
}

export interface Tally {
  attempts: number;
  successes: number;
  failures: number;
  /** Successes whose connect needed a SYN retransmission. */
  slow: number;
  timeouts: number;
  reasons: Record<string, number>;
  byClass: Record<FailureClass, number>;
}

export function tally(attempts: readonly Attempt[]): Tally {
  const t: Tally = { attempts: 0, successes: 0, failures: 0, slow: 0, timeouts: 0, reasons: {}, byClass: { silent: 0, unreachable: 0, refused: 0, app: 0 } };
  for (const a of attempts) {
    // Neutral: neither a success nor a failure of the target.
    if (!a.ok && a.reason === 'probe_error') continue;
    t.attempts++;
    if (a.ok) {
      t.successes++;
      if (a.synRetransmit) t.slow++;
      continue;
    }
    t.failures++;
    const r = a.reason ?? 'unknown';
    t.reasons[r] = (t.reasons[r] ?? 0) + 1;
    if (a.reason === 'connect_timeout') t.timeouts++;
    t.byClass[failureClass(a)!]++;
  }
  return t;
}

/** The class with the most failures; ties go to the network-level classes first. */
export function dominantClass(t: Tally): FailureClass | undefined {
  if (t.failures === 0) return undefined;
  const noAnswer = t.byClass.silent + t.byClass.unreachable;
  if (noAnswer >= t.byClass.refused && noAnswer >= t.byClass.app) return t.byClass.silent >= t.byClass.unreachable ? 'silent' : 'unreachable';
  return t.byClass.refused >= t.byClass.app ? 'refused' : 'app';
}

/**
 * SYN transmissions that fit in the probe timeout: the kernel retransmits an unanswered SYN after about 1 s, then 3 s,
 * 7 s, ... (initial RTO 1 s, doubling). A retransmission counts when its answer can still arrive in time (200 ms margin).
 */
export function synTransmissions(timeoutMs: number): number {
  let tx = 1;
  for (let at = 1000; at + 200 <= timeoutMs && tx < 8; at = at * 2 + 1000) tx++;
  return tx;
}
