import { FakeClock } from '../../src/lib/fake-clock.js';
import type { TimerHandle } from '../../src/lib/clock.js';

/** A small seeded PRNG (mulberry32): property tests replay exactly from their seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
