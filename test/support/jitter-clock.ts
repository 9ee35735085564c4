import { FakeClock } from './fake-clock.js';
import type { TimerHandle } from '../../src/lib/clock.js';

/** The evaluation's seeded PRNG (mulberry32): property tests replay exactly from their seed. */
export { rng as seededRandom } from '../../bench/eval-sim.js';

/**
 * A fake clock whose timers fire early by up to `earlyMs` or late by up to `lateMs`, drawn at random per timer, like a
 * real event loop under load (Node's timers can fire a millisecond early and arbitrarily late). Counts fired timers.
 */
export class JitterClock extends FakeClock {
  fired = 0;
  constructor(private readonly random: () => number, private readonly earlyMs: number, private readonly lateMs: number) {
    super();
  }

  override setTimeout(fn: () => void, ms: number): TimerHandle {
    const r = this.random();
    // A third of the timers fire early, the rest on time or late.
    const jitter = r < 1 / 3 ? -this.earlyMs * (r * 3) : this.lateMs * ((r - 1 / 3) * 1.5);
    return super.setTimeout(() => {
      this.fired++;
      fn();
    }, Math.max(0, ms + jitter));
  }
}
