/** Small exact statistics used by the diagnosis rules (binomial tails in log space, a runs test). */

const logFactCache: number[] = [0];

function logFact(n: number): number {
  for (let i = logFactCache.length; i <= n; i++) logFactCache.push(logFactCache[i - 1]! + Math.log(i));
  return logFactCache[n]!;
}

function logPmf(k: number, n: number, p: number): number {
  if (p <= 0) return k === 0 ? 0 : -Infinity;
  if (p >= 1) return k === n ? 0 : -Infinity;
  return logFact(n) - logFact(k) - logFact(n - k) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/** P(X >= k) for X ~ Binomial(n, p). Sums the small side directly (terms shrink away from the mean), so tiny tails stay exact. */
export function binomUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n || p <= 0) return 0;
  if (p >= 1) return 1;
  if (k <= n * p) return 1 - binomLowerTail(k - 1, n, p);
  const r = p / (1 - p);
  let term = 1;
  let sum = 1;
  for (let i = k; i < n; i++) {
    term *= ((n - i) / (i + 1)) * r;
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.min(1, Math.exp(logPmf(k, n, p)) * sum);
}

/** P(X <= k) for X ~ Binomial(n, p). */
export function binomLowerTail(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n || p <= 0) return 1;
  if (p >= 1) return 0;
  if (k >= n * p) return 1 - binomUpperTail(k + 1, n, p);
  const r = (1 - p) / p;
  let term = 1;
  let sum = 1;
  for (let i = k; i > 0; i--) {
    term *= (i / (n - i + 1)) * r;
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.min(1, Math.exp(logPmf(k, n, p)) * sum);
}

/**
 * Lower confidence bound for a binomial proportion: the smallest p with P(X >= k | n, p) >= alpha.
 * Using it as the true rate is conservative for tests whose power grows with the rate.
 */
export function binomLowerBound(k: number, n: number, alpha: number): number {
  if (k <= 0 || n <= 0) return 0;
  let lo = 0;
  let hi = k / n;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (binomUpperTail(k, n, mid) < alpha) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 for erfc; absolute error < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-x * x);
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/**
 * Wald-Wolfowitz runs test, one-sided for clustering: the probability of this few runs (or fewer) if successes and
 * failures were interleaved at random. Small values mean failures come in blocks (an outage), not interleaved.
 */
export function runsClusteringP(seq: readonly boolean[]): number {
  let a = 0;
  let b = 0;
  let runs = 0;
  for (let i = 0; i < seq.length; i++) {
    if (seq[i]) a++;
    else b++;
    if (i === 0 || seq[i] !== seq[i - 1]) runs++;
  }
  const n = a + b;
  if (a === 0 || b === 0 || n < 3) return 1;
  const mean = (2 * a * b) / n + 1;
  const variance = (2 * a * b * (2 * a * b - n)) / (n * n * (n - 1));
  if (variance <= 0) return 1;
  // Continuity correction: runs are integers.
  return normalCdf((runs + 0.5 - mean) / Math.sqrt(variance));
}

/**
 * Fisher's exact test on the 2x2 table [[a, b], [c, d]], one-sided: the probability, with the margins fixed, of a table
 * whose top-left cell is `a` or more (the first row's share of the first column at least this high). With rows = group
 * (the MACs under suspicion, the rest) and columns = outcome (failed, succeeded), small values mean the first group fails
 * more than chance would make it. Exact: hypergeometric terms summed in log space.
 */
export function fisherExact(a: number, b: number, c: number, d: number): number {
  if ([a, b, c, d].some((x) => x < 0 || !Number.isInteger(x))) throw new RangeError(`fisherExact: cells must be non-negative integers, got ${a}, ${b}, ${c}, ${d}`);
  const row1 = a + b;
  const col1 = a + c;
  const n = a + b + c + d;
  const hi = Math.min(row1, col1);
  if (a <= Math.max(0, row1 + col1 - n)) return 1;
  const logDenom = logChoose(n, row1);
  let sum = 0;
  for (let x = a; x <= hi; x++) sum += Math.exp(logChoose(col1, x) + logChoose(n - col1, row1 - x) - logDenom);
  return Math.min(1, sum);
}

function logChoose(n: number, k: number): number {
  return logFact(n) - logFact(k) - logFact(n - k);
}
