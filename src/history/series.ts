/**
 * A target's failure ratio over time, downsampled in memory for charts and digests: one-minute buckets for the last hour
 * and ten-minute buckets for the last 24 hours, counts only (attempts, failures, connect timeouts). Fixed size: 204
 * buckets x 3 16-bit counts = 1,224 bytes per target (twice that for a resolution once one of its counts passes 65,535:
 * a 10 ms interval's ten-minute buckets), whatever the interval. Survives nothing (a restart starts empty).
 */
import { Counters } from '../lib/counters.js';

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
export const SERIES_BYTES_PER_TARGET = Object.values(SERIES_RESOLUTIONS).reduce((s, r) => s + r.buckets * 3 * 2, 0);

/** Count k of a bucket's three (attempts, failures, timeouts) sits at slot * 3 + k: one array per resolution. */
const ATTEMPTS = 0;
const FAILURES = 1;
const TIMEOUTS = 2;

class Buckets {
  readonly counts: Counters;
  /** Absolute index (start / bucketMs) of the newest bucket written; -1 before the first. */
  private newest = -1;

  constructor(private readonly r: Resolution) {
    this.counts = new Counters(r.buckets * 3);
  }

  add(at: number, ok: boolean, timeout: boolean): void {
    const idx = Math.floor(at / this.r.bucketMs);
    if (this.newest >= 0 && idx <= this.newest - this.r.buckets) return; // older than what is kept
    if (idx > this.newest) this.advance(idx);
    const at3 = (idx % this.r.buckets) * 3;
    this.counts.increment(at3 + ATTEMPTS);
    if (!ok) this.counts.increment(at3 + FAILURES);
    if (timeout) this.counts.increment(at3 + TIMEOUTS);
  }

  /** Every bucket of the range ending at `now`, oldest first (empty ones with zeros). */
  points(now: number): SeriesPoint[] {
    const last = Math.floor(now / this.r.bucketMs);
    const out: SeriesPoint[] = [];
    for (let idx = last - this.r.buckets + 1; idx <= last; idx++) {
      const held = this.newest >= 0 && idx <= this.newest && idx > this.newest - this.r.buckets;
      const at3 = (((idx % this.r.buckets) + this.r.buckets) % this.r.buckets) * 3;
      out.push({
        start: idx * this.r.bucketMs,
        attempts: held ? this.counts.get(at3 + ATTEMPTS) : 0,
        failures: held ? this.counts.get(at3 + FAILURES) : 0,
        timeouts: held ? this.counts.get(at3 + TIMEOUTS) : 0,
      });
    }
    return out;
  }

  /** Clears the buckets between the newest written and `idx` (they saw no attempt), then makes `idx` the newest. */
  private advance(idx: number): void {
    const from = this.newest < 0 ? idx - this.r.buckets + 1 : Math.max(this.newest + 1, idx - this.r.buckets + 1);
    for (let i = from; i <= idx; i++) {
      const at3 = (i % this.r.buckets) * 3;
      for (let k = 0; k < 3; k++) this.counts.set(at3 + k, 0);
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

  /** Bytes the counts hold now. */
  get byteLength(): number {
    return this.res['1h'].counts.byteLength + this.res['24h'].counts.byteLength;
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
