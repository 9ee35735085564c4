/**
 * The node split (needs backend identity): a set K of nodes holding ready endpoints that served no success while the
 * other nodes did. If K were healthy, each success would have come from K with probability share(K), so the chance
 * that K served none of S successes is (1 - share(K))^S. The count starts after K's last success, so a fault that
 * began mid-window is judged on the attempts since it began. The failure count must fit too (fitRatio): random loss at
 * a lower rate than share(K) also leaves K silent for a while, but cannot explain share(K) of the attempts failing.
 * Among the splits that hold, the one with the strongest evidence wins: when two of three nodes fail, {n2, n3} beats
 * {n2} (more failures than share(n2) would give, and (1/3)^S falls much faster than (2/3)^S).
 */
import type { Attempt } from '../history/attempt.js';
import { runsClusteringP } from './stats.js';
import { shareOf, type Placement } from './sample.js';

export interface NodeSplit {
  nodes: string[];
  share: number;
  /** (1 - share)^successes: the chance that healthy K nodes served none of the successes. */
  p: number;
  /** p divided by how well "K is broken" explains the failure count (see fitRatio); compared with pValue. */
  pEff: number;
  /** Attempts since K's last success, and what they did. */
  attempts: number;
  successes: number;
  failures: number;
  /** Failures of the class under test (timeouts, refusals, ...). */
  classFailures: number;
  /** Successes and failures interleave (runs test at the interleave level). */
  interleaved: boolean;
  /** Every condition holds at the configured bound. */
  holds: boolean;
}

export interface SplitOptions {
  pValue: number;
  /**
   * Level of the runs test. The split itself already rules out an outage (every node stops serving), so this only
   * rejects blatant blocks; a loose level would, over hundreds of evaluations, reject true splits by chance.
   */
  interleaveAlpha: number;
  /** Share of the failures that must be of the class under test. */
  classShare: number;
  isClassFailure(a: Attempt): boolean;
}

/**
 * Tries K = the nodes silent the longest (1, 2, ... nodes, never all) and returns the holding split with the smallest
 * pEff, or else the candidate with the smallest pEff (for evidence), or undefined when no split exists.
 */
export function findNodeSplit(attempts: readonly Attempt[], placement: Placement, opts: SplitOptions): NodeSplit | undefined {
  const nodes = Object.keys(placement.endpointsPerNode);
  if (nodes.length < 2) return undefined;
  const last = new Map<string, number>(nodes.map((n) => [n, -1]));
  attempts.forEach((a, i) => {
    if (a.ok && a.backendNode !== undefined && last.has(a.backendNode)) last.set(a.backendNode, i);
  });
  const order = [...nodes].sort((a, b) => last.get(a)! - last.get(b)! || a.localeCompare(b));
  let best: NodeSplit | undefined;
  for (let j = 1; j < order.length; j++) {
    // Nodes silent equally long cannot be told apart: K must take them all.
    if (last.get(order[j - 1]!) === last.get(order[j]!)) continue;
    const k = order.slice(0, j).sort();
    const start = last.get(order[j - 1]!)! + 1;
    const split = evaluate(attempts, start, k, shareOf(placement, k), opts);
    if (!best || (split.holds && !best.holds) || (split.holds === best.holds && split.pEff < best.pEff)) best = split;
  }
  return best;
}

function evaluate(attempts: readonly Attempt[], start: number, k: string[], share: number, opts: SplitOptions): NodeSplit {
  const inK = new Set(k);
  let successes = 0;
  let failures = 0;
  let classFailures = 0;
  const seq: boolean[] = [];
  for (let i = start; i < attempts.length; i++) {
    const a = attempts[i]!;
    seq.push(a.ok);
    if (a.ok) {
      // Only successes that named a node outside K count: an unnamed one might have come from K.
      if (a.backendNode !== undefined && !inK.has(a.backendNode)) successes++;
    } else {
      failures++;
      if (opts.isClassFailure(a)) classFailures++;
    }
  }
  const n = seq.length;
  const p = Math.pow(1 - share, successes);
  const pEff = Math.min(1, p / fitRatio(failures, successes, share));
  const interleaved = runsClusteringP(seq) >= opts.interleaveAlpha;
  const classOk = failures > 0 && classFailures / failures >= opts.classShare;
  return {
    nodes: k, share, p, pEff, attempts: n, successes, failures, classFailures, interleaved,
    holds: pEff < opts.pValue && interleaved && classOk,
  };
}

/**
 * How well "K is broken" explains the failure count, relative to the best random failure rate: the generalized
 * likelihood ratio sup_{g >= share} g^F (1-g)^S / sup_q q^F (1-q)^S, in (0, 1]. It is 1 when the failure ratio reaches
 * share(K), and shrinks fast when there are too few failures for K to be broken (random loss of a lower rate).
 */
export function fitRatio(failures: number, successes: number, share: number): number {
  const n = failures + successes;
  if (n === 0) return 1;
  const q = failures / n;
  const g = Math.max(share, q);
  return Math.exp(logLik(failures, successes, g) - logLik(failures, successes, q));
}

function logLik(f: number, s: number, x: number): number {
  return (f ? f * Math.log(x) : 0) + (s ? s * Math.log1p(-x) : 0);
}

/**
 * Is any single node suspiciously silent? The smallest (1 - share(n))^S over nodes, S counted since n's last success.
 * Used to keep `packet_loss` from being claimed while a node split is still building up.
 */
export function mostSilentNodeP(attempts: readonly Attempt[], placement: Placement): number {
  let min = 1;
  for (const n of Object.keys(placement.endpointsPerNode)) {
    const share = shareOf(placement, [n]);
    if (share >= 1) continue;
    let s = 0;
    for (let i = attempts.length - 1; i >= 0; i--) {
      const a = attempts[i]!;
      if (!a.ok || a.backendNode === undefined) continue;
      if (a.backendNode === n) break;
      s++;
    }
    min = Math.min(min, Math.pow(1 - share, s));
  }
  return min;
}
