/**
 * The path-drop signature (no backend identity needed). A retransmitted SYN belongs to the same flow and goes to the same
 * backend, so a drop tied to a backend repeats on every retransmission and ends in a timeout, while random loss mostly
 * costs one retransmission and ends in a slow (~1 s) connect. Null hypothesis: independent loss with per-handshake
 * probability r, so P(timeout) = r^tx and P(slow | success) = (r - r^tx) / (1 - r^tx) for tx SYNs within the timeout.
 */
import type { Attempt } from '../history/attempt.js';
import { binomLowerBound, binomLowerTail, runsClusteringP } from './stats.js';

export interface PathDropTest {
  /** Attempts in the segment (after the first timeout). */
  attempts: number;
  timeouts: number;
  successes: number;
  slow: number;
  /** Chance of so few slow connects under random loss (the loss rate bounded from below at half the budget). */
  p: number;
  interleaved: boolean;
  /** Timeout share of all failures in the segment. */
  timeoutShare: number;
}

/**
 * Runs the test on the attempts after the first connect timeout (the first one is what selected the segment, so it
 * is left out). Returns undefined when the probe timeout leaves no room for a retransmission (tx < 2).
 */
export function pathDropTest(attempts: readonly Attempt[], tx: number, pValue: number, alpha: number): PathDropTest | undefined {
  if (tx < 2) return undefined;
  const first = attempts.findIndex((a) => !a.ok && a.reason === 'connect_timeout');
  if (first < 0) return undefined;
  const seg = attempts.slice(first + 1);
  let timeouts = 0;
  let failures = 0;
  let successes = 0;
  let slow = 0;
  const seq: boolean[] = [];
  for (const a of seg) {
    seq.push(a.ok);
    if (a.ok) {
      successes++;
      if (a.synRetransmit) slow++;
    } else {
      failures++;
      if (a.reason === 'connect_timeout') timeouts++;
    }
  }
  const n = timeouts + successes;
  let p = 1;
  if (n > 0 && timeouts > 0 && successes > 0) {
    // Half of the false-alarm budget bounds the loss rate, the other half tests the slow connects.
    const fLo = binomLowerBound(timeouts, n, pValue / 2);
    const rLo = Math.pow(fLo, 1 / tx);
    const rTx = Math.pow(rLo, tx);
    const qLo = rTx < 1 ? (rLo - rTx) / (1 - rTx) : 1;
    p = Math.min(1, binomLowerTail(slow, successes, qLo) + pValue / 2);
  }
  return {
    attempts: seg.length, timeouts, successes, slow, p,
    interleaved: runsClusteringP(seq) >= alpha,
    timeoutShare: failures ? timeouts / failures : 0,
  };
}
