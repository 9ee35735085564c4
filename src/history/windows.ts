/** Failure ratios over sliding windows, from fixed-size time buckets: constant memory per target. */
import { Counters } from '../lib/counters.js';

export const WINDOWS = { '1m': 60_000, '5m': 300_000, '15m': 900_000 } as const;
export type WindowName = keyof typeof WINDOWS;

const BUCKET_MS = 10_000;
const BUCKETS = WINDOWS['15m'] / BUCKET_MS + 1;

export interface WindowStats {
  attempts: number;
  failures: number;
  /** failures / attempts; null when the window holds no attempt. */
  ratio: number | null;
}

export class FailureWindows {
  /** Attempts of slot i at 2i, failures at 2i + 1. */
  private readonly counts = new Counters(BUCKETS * 2);
  /** Bucket index (time / BUCKET_MS) held in each slot, to detect stale slots. */
  private readonly epoch = new Float64Array(BUCKETS).fill(-1);

  record(at: number, ok: boolean): void {
    const b = Math.floor(at / BUCKET_MS);
    const slot = b % BUCKETS;
    if (this.epoch[slot] !== b) {
      this.epoch[slot] = b;
      this.counts.set(2 * slot, 0);
      this.counts.set(2 * slot + 1, 0);
    }
    this.counts.increment(2 * slot);
    if (!ok) this.counts.increment(2 * slot + 1);
  }

  stats(window: WindowName, now: number): WindowStats {
    const span = WINDOWS[window] / BUCKET_MS;
    const current = Math.floor(now / BUCKET_MS);
    let attempts = 0;
    let failures = 0;
    // The current (partial) bucket plus `span` full ones: the window is at most one bucket longer than named.
    for (let b = current - span + 1; b <= current; b++) {
      const slot = ((b % BUCKETS) + BUCKETS) % BUCKETS;
      if (this.epoch[slot] !== b) continue;
      attempts += this.counts.get(2 * slot);
      failures += this.counts.get(2 * slot + 1);
    }
    return { attempts, failures, ratio: attempts ? failures / attempts : null };
  }
}
