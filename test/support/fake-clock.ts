import type { Clock, TimerHandle } from '../../src/lib/clock.js';

interface Pending {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
}

/** Deterministic clock for tests: time moves only when advance() is called. */
export class FakeClock implements Clock {
  private wall: number;
  private mono = 0;
  private timers = new Map<number, Pending>();
  private nextId = 1;
  private seq = 0;

  constructor(startEpochMs = Date.UTC(2026, 0, 1)) {
    this.wall = startEpochMs;
  }

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.mono;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.mono + Math.max(0, ms), seq: this.seq++, fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }

  /** Moves time forward without firing timers, like an event loop blocked for `ms`; they fire late on the next advance(). */
  jump(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }

  /** Steps the wall clock alone (an NTP step, a VM restore); monotonic time and timers are unaffected. */
  stepWall(ms: number): void {
    this.wall += ms;
  }

  pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward, firing due timers in order; awaits microtasks between timers. */
  async advance(ms: number): Promise<void> {
    const end = this.mono + ms;
    for (;;) {
      const next = this.nextDue(end);
      if (!next) break;
      this.timers.delete(next.id);
      // Overdue timers (after a jump) fire late, at the current time.
      const at = Math.max(next.at, this.mono);
      this.wall += at - this.mono;
      this.mono = at;
      next.fn();
      await flushMicrotasks();
    }
    this.wall += end - this.mono;
    this.mono = end;
    await flushMicrotasks();
  }

  private nextDue(end: number): Pending | undefined {
    let best: Pending | undefined;
    for (const t of this.timers.values()) {
      if (t.at > end) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise<void>((r) => setImmediate(r));
}
