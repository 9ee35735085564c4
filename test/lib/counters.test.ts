import { describe, expect, it } from 'vitest';
import { Counters } from '../../src/lib/counters.js';

describe('Counters', () => {
  it('counts in 16 bits, then widens every counter to 32 bits when one passes 65,535, keeping every count exact', () => {
    const c = new Counters(3);
    expect(c.byteLength).toBe(6);
    c.set(0, 65_535);
    c.set(2, 7);
    expect(c.byteLength).toBe(6);
    c.increment(0);
    expect(c.byteLength).toBe(12);
    expect([c.get(0), c.get(1), c.get(2)]).toEqual([65_536, 0, 7]);
    c.set(1, 4_000_000_000);
    expect(c.get(1)).toBe(4_000_000_000);
  });
});
