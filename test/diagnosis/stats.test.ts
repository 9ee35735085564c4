import { describe, expect, it } from 'vitest';
import { fitRatio } from '../../src/diagnosis/node-split.js';
import { pathDropTest } from '../../src/diagnosis/path-drop.js';
import { binomLowerBound, binomLowerTail, binomUpperTail, normalCdf, runsClusteringP } from '../../src/diagnosis/stats.js';
import { downStreak, recoveryStreak } from '../../src/diagnosis/streaks.js';
import { synTransmissions } from '../../src/diagnosis/tally.js';
import { Stream } from './helpers.js';

/** Exact binomial probabilities by direct summation of C(n, i) p^i (1-p)^(n-i). */
function direct(n: number, p: number, pred: (i: number) => boolean): number {
  let s = 0;
  let c = 1;
  for (let i = 0; i <= n; i++) {
    if (pred(i)) s += c * p ** i * (1 - p) ** (n - i);
    c = (c * (n - i)) / (i + 1);
  }
  return s;
}

describe('binomial tails', () => {
  it('match direct summation, including tiny tails', () => {
    for (const n of [1, 7, 34, 150]) {
      for (const p of [0.02, 1 / 3, 0.5, 0.95]) {
        for (const k of [0, 1, Math.floor(n / 3), n - 1, n]) {
          const up = direct(n, p, (i) => i >= k);
          const lo = direct(n, p, (i) => i <= k);
          expect(binomUpperTail(k, n, p)).toBeCloseTo(up, 12);
          expect(binomLowerTail(k, n, p)).toBeCloseTo(lo, 12);
          if (up > 1e-300) expect(Math.abs(binomUpperTail(k, n, p) - up) / up).toBeLessThan(1e-9);
        }
      }
    }
    expect(binomUpperTail(150, 150, 0.05) / 0.05 ** 150).toBeCloseTo(1, 9);
  });

  it('gives a lower confidence bound at the requested level', () => {
    const lo = binomLowerBound(11, 34, 1e-3);
    expect(binomUpperTail(11, 34, lo)).toBeCloseTo(1e-3, 6);
    expect(lo).toBeLessThan(11 / 34);
    expect(binomLowerBound(0, 34, 1e-3)).toBe(0);
  });
});

describe('runs test and normal CDF', () => {
  it('tells interleaved failures from a block', () => {
    const alternating = Array.from({ length: 40 }, (_, i) => i % 3 !== 1);
    const block = [...Array(27).fill(true), ...Array(13).fill(false)];
    expect(runsClusteringP(alternating)).toBeGreaterThan(0.5);
    expect(runsClusteringP(block)).toBeLessThan(1e-6);
    expect(runsClusteringP([true, true])).toBe(1);
  });
  it('has the normal CDF right', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(-3.090232)).toBeCloseTo(1e-3, 6);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
  });
});

describe('fitRatio (how well "K is broken" explains the failure count)', () => {
  it('is 1 when failures reach the share, and small when far too few fail', () => {
    expect(fitRatio(12, 24, 1 / 3)).toBe(1);
    expect(fitRatio(20, 10, 1 / 3)).toBe(1);
    expect(fitRatio(2, 28, 0.29)).toBeLessThan(0.02);
    expect(fitRatio(0, 0, 0.5)).toBe(1);
  });
});

describe('SYN transmissions within the timeout', () => {
  it('counts the retransmissions at 1 s, 3 s, 7 s that can still be answered', () => {
    expect(synTransmissions(1000)).toBe(1);
    expect(synTransmissions(1200)).toBe(2);
    expect(synTransmissions(2000)).toBe(2);
    expect(synTransmissions(3500)).toBe(3);
    expect(synTransmissions(10_000)).toBe(4);
  });
});

describe('path-drop signature', () => {
  it('rejects random loss for timeouts without slow connects, not for slow connects', () => {
    const drop = pathDropTest(new Stream().add('.X.', 30).attempts, 2, 1e-4, 1e-3)!;
    expect(drop.slow).toBe(0);
    expect(drop.p).toBeLessThan(1e-4);
    const loss = pathDropTest(new Stream().add('.S.X..S..S.', 10).attempts, 2, 1e-4, 1e-3)!;
    expect(loss.p).toBeGreaterThan(0.5);
    expect(pathDropTest(new Stream().add('.X.', 30).attempts, 1, 1e-4, 1e-3)).toBeUndefined();
  });
});

describe('streaks', () => {
  it('finds a run of failures improbable at the earlier rate, within the view it started in', () => {
    expect(downStreak(new Stream().add('.', 30).add('X', 20).attempts, 20, 1e-4, 1e-3)).toBeDefined();
    expect(downStreak(new Stream().add('.', 30).add('X', 19).attempts, 20, 1e-4, 1e-3)).toBeUndefined();
    // At a 2/3 failure rate a run of 20 is not improbable enough.
    expect(downStreak(new Stream().add('.XX', 30).add('X', 20).attempts, 20, 1e-4, 1e-3)).toBeUndefined();
  });
  it('finds a run of successes improbable at the earlier failure rate', () => {
    expect(recoveryStreak(new Stream().add('.X', 30).add('.', 40).attempts, 20, 1e-4, 1e-3)).toBeDefined();
    expect(recoveryStreak(new Stream().add('.', 60).attempts, 20, 1e-4, 1e-3)).toBeUndefined();
  });
});
