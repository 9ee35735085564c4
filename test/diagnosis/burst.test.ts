import { describe, expect, it } from 'vitest';
import { DIAGNOSIS_DEFAULTS } from '../../src/config/sections/diagnosis.js';
import { BurstPlanner, MAX_BURSTS_PER_EPISODE } from '../../src/diagnosis/burst.js';
import type { Attempt } from '../../src/history/attempt.js';
import { run, Stream, T0 } from './helpers.js';

const cfg = { ...DIAGNOSIS_DEFAULTS, burst: { count: 5, spacingMs: 200, concurrency: 1, cooldownMs: 60_000, maxConcurrent: 2 } };
const one = (p: string): Attempt => new Stream().add(p).attempts[0]!;
const burstAttempt = (): Attempt => ({ ...one('1'), burst: true });

describe('BurstPlanner', () => {
  it('asks for a burst when a target starts failing, then respects the cooldown', () => {
    const b = new BurstPlanner(cfg);
    expect(b.plan({ target: 'web', attempt: one('1'), now: T0 })).toBeUndefined();
    expect(b.plan({ target: 'web', attempt: one('X'), now: T0 })).toEqual({ count: 5, spacingMs: 200, concurrency: 1 });
    expect(b.isBursting('web', T0)).toBe(true);
    // The burst's own attempts never trigger another one; five of them end it.
    for (let i = 0; i < 5; i++) expect(b.plan({ target: 'web', attempt: { ...one('X'), burst: true }, now: T0 + i * 200 })).toBeUndefined();
    expect(b.isBursting('web', T0 + 1000)).toBe(false);
    expect(b.plan({ target: 'web', attempt: one('X'), now: T0 + 59_999 })).toBeUndefined();
    expect(b.plan({ target: 'web', attempt: one('X'), now: T0 + 60_000 })).toEqual({ count: 5, spacingMs: 200, concurrency: 1 });
  });

  it('also triggers on a slow connect, never on a stalled attempt', () => {
    const b = new BurstPlanner(cfg);
    expect(b.plan({ target: 'a', attempt: { ...one('X'), stalled: true }, now: T0 })).toBeUndefined();
    expect(b.plan({ target: 'a', attempt: one('S'), now: T0 })).toBeDefined();
  });

  it('caps concurrent bursts across targets', () => {
    const b = new BurstPlanner(cfg);
    expect(b.plan({ target: 'a', attempt: one('X'), now: T0 })).toBeDefined();
    expect(b.plan({ target: 'b', attempt: one('X'), now: T0 })).toBeDefined();
    expect(b.plan({ target: 'c', attempt: one('X'), now: T0 })).toBeUndefined();
    expect(b.activeCount(T0)).toBe(2);
    for (let i = 0; i < 5; i++) b.plan({ target: 'a', attempt: burstAttempt(), now: T0 + 100 });
    expect(b.plan({ target: 'c', attempt: one('X'), now: T0 + 200 })).toBeDefined();
  });

  it('ends a burst by its deadline even when its attempts never arrive', () => {
    const b = new BurstPlanner(cfg);
    b.plan({ target: 'a', attempt: one('X'), now: T0, timeoutMs: 2000 });
    expect(b.isBursting('a', T0 + 5 * 2000)).toBe(true);
    expect(b.isBursting('a', T0 + 5 * 2000 + 200)).toBe(false);
  });

  it('releases a burst the scheduler refused, without starting the cooldown', () => {
    const b = new BurstPlanner(cfg);
    b.plan({ target: 'a', attempt: one('X'), now: T0 });
    b.accepted('a', 0);
    expect(b.activeCount(T0)).toBe(0);
    expect(b.plan({ target: 'a', attempt: one('X'), now: T0 + 1 })).toBeDefined();
  });

  it('verifies a change point once with a burst, on a success and within the cooldown; a refused one is asked again', () => {
    const b = new BurstPlanner(cfg);
    expect(b.plan({ target: 'web', attempt: one('X'), now: T0 })).toBeDefined();
    for (let i = 0; i < 5; i++) b.plan({ target: 'web', attempt: burstAttempt(), now: T0 + i * 200 });
    // 10 s later, well inside the 60 s cooldown, node-2 serves again: one burst for that change point.
    const at = T0 + 10_000;
    expect(b.plan({ target: 'web', attempt: one('2'), now: at, verifyChangeAt: at })).toEqual({ count: 5, spacingMs: 200, concurrency: 1 });
    b.accepted('web', 0);
    expect(b.plan({ target: 'web', attempt: one('1'), now: at + 2000, verifyChangeAt: at })).toBeDefined();
    for (let i = 0; i < 5; i++) b.plan({ target: 'web', attempt: burstAttempt(), now: at + 2000 + i * 200 });
    expect(b.plan({ target: 'web', attempt: one('1'), now: at + 4000, verifyChangeAt: at })).toBeUndefined();
    // A later change point is verified again.
    expect(b.plan({ target: 'web', attempt: one('2'), now: at + 30_000, verifyChangeAt: at + 30_000 })).toBeDefined();
  });

  it('goes on while the verdict is undecided, at most MAX_BURSTS_PER_EPISODE bursts within the cooldown', () => {
    const b = new BurstPlanner(cfg);
    const undecided = run(new Stream().add('1X3', 4));
    expect(undecided.verdict).toBe('insufficient_data');
    expect(b.plan({ target: 'web', attempt: one('X'), now: T0 })).toBeDefined();
    let t = T0;
    const started: number[] = [];
    // The attempt that ends a burst (a burst one included) may continue the episode.
    for (let k = 0; k < 60; k++) if (b.plan({ target: 'web', attempt: burstAttempt(), now: (t += 200), diagnosis: undecided })) started.push(k);
    expect(started).toEqual([4, 9]);
    expect(started).toHaveLength(MAX_BURSTS_PER_EPISODE - 1);
    // A confident, overwhelming verdict needs no more; healthy neither.
    const b2 = new BurstPlanner(cfg);
    b2.plan({ target: 'web', attempt: one('X'), now: T0 });
    for (let i = 0; i < 5; i++) b2.plan({ target: 'web', attempt: burstAttempt(), now: T0 + i * 200 });
    const strong = run(new Stream().add('1X3', 40));
    expect(strong.pValue!).toBeLessThan(1e-8);
    expect(b2.plan({ target: 'web', attempt: one('1'), now: T0 + 2000, diagnosis: strong })).toBeUndefined();
    expect(b2.plan({ target: 'web', attempt: one('1'), now: T0 + 2000, diagnosis: run(new Stream().add('123', 20)) })).toBeUndefined();
    // A marginal verdict (p between pValue^2 and pValue) does continue.
    const marginal = run(new Stream().add('1X3', 13));
    expect(marginal.verdict).toBe('asymmetric_routing');
    expect(marginal.pValue!).toBeGreaterThan(1e-8);
    expect(b2.plan({ target: 'web', attempt: one('1'), now: T0 + 2000, diagnosis: marginal })).toBeDefined();
  });

  it('does not burst when the verdict is already confident', () => {
    const b = new BurstPlanner(cfg);
    const d = run(new Stream().add('1X3', 12));
    expect(d.verdict).toBe('asymmetric_routing');
    expect(b.plan({ target: 'web', attempt: one('X'), now: T0, diagnosis: d })).toBeUndefined();
    const early = run(new Stream().add('1X3', 8));
    expect(b.plan({ target: 'web', attempt: one('X'), now: T0, diagnosis: early })).toBeDefined();
  });

  it('is off with maxConcurrent 0', () => {
    const b = new BurstPlanner({ ...cfg, burst: { ...cfg.burst, maxConcurrent: 0 } });
    expect(b.plan({ target: 'a', attempt: one('X'), now: T0 })).toBeUndefined();
  });
});
