import { describe, expect, it } from 'vitest';
import { fisherExact } from '../../src/diagnosis/stats.js';

/** P(X >= a) by enumerating every table with the same margins, from binomial coefficients in plain arithmetic. */
function enumerate(a: number, b: number, c: number, d: number): number {
  const choose = (n: number, k: number): number => {
    let r = 1;
    for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
    return r;
  };
  const row1 = a + b;
  const col1 = a + c;
  const n = a + b + c + d;
  let num = 0;
  for (let x = a; x <= Math.min(row1, col1); x++) num += choose(col1, x) * choose(n - col1, row1 - x);
  return num / choose(n, row1);
}

describe('fisherExact (one-sided, first row fails more)', () => {
  it('matches published values', () => {
    // Fisher's lady tasting tea: 3 of 4 cups right; P = 17/70.
    expect(fisherExact(3, 1, 1, 3)).toBeCloseTo(17 / 70, 12);
    // R's fisher.test(Convictions, alternative = "less") (dizygotic vs monozygotic twins): p = 0.0004652; the rows
    // swapped make it the upper tail.
    expect(fisherExact(10, 3, 2, 15)).toBeCloseTo(0.0004652, 7);
    // A perfect 10/10 split: one table of C(20, 10).
    expect(fisherExact(10, 0, 0, 10)).toBeCloseTo(1 / 184756, 15);
  });

  it('matches enumeration of every table with the same margins', () => {
    for (const [a, b, c, d] of [[0, 5, 5, 0], [5, 0, 0, 5], [2, 3, 4, 1], [7, 1, 3, 9], [1, 20, 0, 30], [12, 4, 3, 40], [0, 0, 3, 4], [4, 3, 0, 0]] as const) {
      expect(fisherExact(a, b, c, d), `${a} ${b} ${c} ${d}`).toBeCloseTo(enumerate(a, b, c, d), 12);
    }
  });

  it('is 1 at the smallest top-left cell the margins allow, and stays exact in the far tail', () => {
    expect(fisherExact(0, 10, 10, 10)).toBe(1);
    expect(fisherExact(2, 8, 10, 0)).toBe(1);
    // 60 failures through one MAC, 0 of 60 through the other: 1 / C(120, 60), about 1e-35, not rounded to 0.
    const p = fisherExact(60, 0, 0, 60);
    expect(p).toBeGreaterThan(0);
    expect(Math.log10(p)).toBeCloseTo(-Math.log10(enumerateBig(120, 60)), 6);
  });

  it('rejects cells that are not counts', () => {
    expect(() => fisherExact(-1, 2, 3, 4)).toThrow(RangeError);
    expect(() => fisherExact(1.5, 2, 3, 4)).toThrow(RangeError);
  });
});

/** C(n, k) as a float (large but finite for n = 120). */
function enumerateBig(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}
