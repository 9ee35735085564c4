/**
 * A target's failure ratio over time, downsampled in memory for charts and digests: one-minute buckets for the last hour
 * and ten-minute buckets for the last 24 hours, counts only (attempts, failures, connect timeouts). Fixed size: 204
 * buckets x 3 Uint32 = 2,448 bytes per target, whatever the interval. Survives nothing (a restart starts empty).
 */

export interface SeriesPoint {
  /** Epoch ms at which the bucket starts. */
  start: number;
  attempts: number;
  failures: number;
  timeouts: number;
}

export type SeriesRange = '1h' | '24h';

interface Resolution {
  bucketMs: number;
  buckets: number;
}

export const SERIES_RESOLUTIONS: Readonly<Record<SeriesRange, Resolution>> = Object.freeze({
  '1h': { bucketMs: 60_000, buckets: 60 },
  '24h': { bucketMs: 600_000, buckets: 144 },
});

/** Bytes a target's series holds (both resolutions). */
export const SERIES_BYTES_PER_TARGET = Object.values(SERIES_RESOLUTIONS).reduce((s, r) => s + r.buckets * 3 * 4, 0);

class Buckets {
  private readonly attempts: Uint32Array;
  private readonly failures: Uint32Array;
  private readonly timeouts: Uint32Array;
  /** Absolute index (start / bucketMs) of the newest bucket written; -1 before the first. */
  private newest = -1;

  constructor(private readonly r: Resolution) {
    this.attempts = new Uint32Array(r.buckets);
    this.failures = new Uint32Array(r.buckets);
    this.timeouts = new Uint32Array(r.buckets);
  }

  add(at: number, ok: boolean, timeout: boolean): void {
    const idx = Math.floor(at / this.r.bucketMs);
    if (this.newest >= 0 && idx <= this.newest - this.r.buckets) return; // older than what is kept
    if (idx > this.newest) this.advance(idx);
    const slot = idx % this.r.buckets;
    this.attempts[slot]!++;
    if (!ok) this.failures[slot]!++;
    if (timeout) this.timeouts[slot]!++;
  }

  /** Every bucket of the range ending at `now`, oldest first (empty ones with zeros). */
  points(now: number): SeriesPoint[] {
    const last = Math.floor(now / this.r.bucketMs);
    const out: SeriesPoint[] = [];
    for (let idx = last - this.r.buckets + 1; idx <= last; idx++) {
      const held = this.newest >= 0 && idx <= this.newest && idx > this.newest - this.r.buckets;
      const slot = ((idx % this.r.buckets) + this.r.buckets) % this.r.buckets;
      out.push({
        start: idx * this.r.bucketMs,
        attempts: held ? this.attempts[slot]! : 0,
        failures: held ? this.failures[slot]! : 0,
        timeouts: held ? this.timeouts[slot]! : 0,
      });
    }
    return out;
  }

  /** Clears the buckets between the newest written and `idx` (they saw no attempt), then makes `idx` the newest. */
  private advance(idx: number): void {
    const from = this.newest < 0 ? idx - this.r.buckets + 1 : Math.max(this.newest + 1, idx - this.r.buckets + 1);
    for (let i = from; i <= idx; i++) {
      const slot = i % this.r.buckets;
      this.attempts[slot] = 0;
      this.failures[slot] = 0;
      this.timeouts[slot] = 0;
    }
    this.newest = idx;
  }
}

export class TargetSeries {
  private readonly res: Record<SeriesRange, Buckets> = { '1h': new Buckets(SERIES_RESOLUTIONS['1h']), '24h': new Buckets(SERIES_RESOLUTIONS['24h']) };

  /** Counts one attempt (by its start time). vipwatch's own faults (probe_error) are not the target's: leave them out. */
  record(at: number, ok: boolean, timeout = false): void {
    this.res['1h'].add(at, ok, timeout);
    this.res['24h'].add(at, ok, timeout);
  }

  points(range: SeriesRange, now: number): SeriesPoint[] {
    return this.res[range].points(now);
  }

  /** Attempts and failures over the last 24 hours (ten-minute resolution). */
  totals24h(now: number): { attempts: number; failures: number; timeouts: number } {
    let attempts = 0;
    let failures = 0;
    let timeouts = 0;
    for (const p of this.res['24h'].points(now)) {
      attempts += p.attempts;
      failures += p.failures;
      timeouts += p.timeouts;
    }
    return { attempts, failures, timeouts };
  }
}
