import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay } from '../../src/lib/backoff.js';

describe('Backoff (doubling, delay drawn from [d/2, d])', () => {
  it('gives the full step when random is 1, half of it when 0, never above the cap, and starts over on reset', () => {
    const full = new Backoff(500, 5000, () => 1);
    expect(Array.from({ length: 6 }, () => full.next())).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    const half = new Backoff(500, 5000, () => 0);
    expect(Array.from({ length: 6 }, () => half.next())).toEqual([250, 500, 1000, 2000, 2500, 2500]);
    full.reset();
    expect(full.next()).toBe(500);
  });

  it('stays at the cap (finite) after any number of failures', () => {
    const b = new Backoff(1, 60_000, () => 0.5);
    let last = 0;
    for (let i = 0; i < 5000; i++) last = b.next();
    expect(last).toBe(45_000);
  });

  it('matches backoffDelay with multiplier 2 and jitter 0.5', () => {
    const b = new Backoff(100, 10_000, () => 0.25);
    const policy = { initialMs: 100, maxMs: 10_000, multiplier: 2, jitter: 0.5 };
    expect(Array.from({ length: 10 }, () => b.next())).toEqual(Array.from({ length: 10 }, (_, i) => backoffDelay(policy, i + 1, () => 0.75)));
  });
});
