/**
 * Virtual time for discrete-event simulations (the wall-time evaluation): time moves only inside run(), jumping from
 * one timer to the next; timers due at the same instant fire in the order they were set. A callback may return a
 * promise (an incident update persisting its record): run() awaits it before firing the next timer, so every consumer
 * sees each event at its own instant and in order, however long the real work takes. Like test/support/fake-clock.ts,
 * which bench code may not import.
 */
import type { Clock, TimerHandle } from '../src/lib/clock.js';

interface Timer {
  id: number;
  at: number;
  seq: number;
  fn: () => unknown;
}

export class VirtualClock implements Clock {
  private mono = 0;
  private readonly heap: Timer[] = [];
  private readonly cancelled = new Set<number>();
  private nextId = 1;
  private seq = 0;

  constructor(private readonly epochMs: number) {}

  now(): number {
    return this.epochMs + this.mono;
  }

  monotonic(): number {
    return this.mono;
  }

  setTimeout(fn: () => unknown, ms: number): TimerHandle {
    const t: Timer = { id: this.nextId++, at: this.mono + Math.max(0, ms), seq: this.seq++, fn };
    this.push(t);
    return { id: t.id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.cancelled.add(handle.id);
  }

  /** Fires every timer due up to monotonic `endMs` in order, awaiting each callback; time then stands at `endMs`. */
  async run(endMs: number): Promise<void> {
    for (let t = this.heap[0]; t && t.at <= endMs; t = this.heap[0]) {
      this.pop();
      if (this.cancelled.delete(t.id)) continue;
      this.mono = Math.max(this.mono, t.at);
      const r = t.fn();
      if (r instanceof Promise) await r;
    }
    this.mono = Math.max(this.mono, endMs);
  }

  private before(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (!h.length) return;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
