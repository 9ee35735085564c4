import type { Attempt } from './attempt.js';
import { Ring } from './ring.js';
import { FailureWindows, WINDOWS, type WindowName, type WindowStats } from './windows.js';

/** Per-target memory of recent attempts: a bounded ring plus bucketed failure windows. */
export class TargetHistory {
  private readonly ring: Ring<Attempt>;
  private readonly windows = new FailureWindows();
  private seq = 0;

  constructor(readonly target: string, capacity: number) {
    this.ring = new Ring(capacity);
  }

  get capacity(): number {
    return this.ring.capacity;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  record(a: Attempt): void {
    this.ring.push(a);
    // An attempt vipwatch could not make itself (probe_error) is not the target's failure: kept out of the ratios.
    if (a.ok || a.reason !== 'probe_error') this.windows.record(a.startedAt, a.ok);
  }

  last(): Attempt | undefined {
    return this.ring.last();
  }

  /** Newest `n` attempts, oldest first. */
  recent(n?: number): Attempt[] {
    return this.ring.toArray(n);
  }

  /** Attempts that started within `ms` before `now`, oldest first. */
  since(ms: number, now: number): Attempt[] {
    const from = now - ms;
    return this.ring.takeWhileNewest((a) => a.startedAt >= from);
  }

  stats(window: WindowName, now: number): WindowStats {
    return this.windows.stats(window, now);
  }

  allStats(now: number): Record<WindowName, WindowStats> {
    const out = {} as Record<WindowName, WindowStats>;
    for (const w of Object.keys(WINDOWS) as WindowName[]) out[w] = this.windows.stats(w, now);
    return out;
  }
}
