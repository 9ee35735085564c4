import type { Clock } from '../lib/clock.js';

/**
 * At most one log line per key per window (on the injected clock); lines held back are counted and reported with
 * the next one that goes out, so a flapping fault costs one line per window, not one per retry.
 */
export class LogLimiter {
  private readonly keys = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly clock: Clock, private readonly windowMs: number) {}

  /** `log`: whether to write the line now; `suppressed`: lines held back for this key since the last one written. */
  take(key: string): { log: boolean; suppressed: number } {
    const now = this.clock.monotonic();
    const k = this.keys.get(key);
    if (k && now - k.at < this.windowMs) {
      k.suppressed++;
      return { log: false, suppressed: k.suppressed };
    }
    const suppressed = k?.suppressed ?? 0;
    this.keys.set(key, { at: now, suppressed: 0 });
    return { log: true, suppressed };
  }
}
