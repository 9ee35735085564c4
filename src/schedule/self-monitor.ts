import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';

export interface SelfMonitorOptions {
  clock: Clock;
  logger: Logger;
  /** A tick later than this means the probe itself stalled. */
  stallThresholdMs: number;
  sampleMs?: number;
}

interface Stall {
  from: number;
  to: number;
}

/**
 * Measures event-loop lag with a ticking timer on the injected clock. Attempts made across a stall are flagged,
 * so that no diagnosis blames the network for the probe's own pauses.
 */
export class SelfMonitor {
  private readonly sampleMs: number;
  private timer?: TimerHandle;
  private expectedAt = 0;
  private readonly stalls: Stall[] = [];
  lastLagMs = 0;
  maxLagMs = 0;
  stallCount = 0;

  constructor(private readonly opts: SelfMonitorOptions) {
    this.sampleMs = opts.sampleMs ?? 100;
  }

  start(): void {
    this.expectedAt = this.opts.clock.monotonic() + this.sampleMs;
    this.timer = this.opts.clock.setTimeout(() => this.tick(), this.sampleMs);
  }

  stop(): void {
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Max lag since the last call (for the metric), then resets. */
  takeMaxLagMs(): number {
    const m = Math.max(this.maxLagMs, this.pendingLag());
    this.maxLagMs = 0;
    return m;
  }

  /** True when the loop stalled at any time between the two monotonic instants (inclusive of a stall in progress). */
  stalledBetween(from: number, to: number): boolean {
    if (this.timer && this.pendingLag() > this.opts.stallThresholdMs) return true;
    for (let i = this.stalls.length - 1; i >= 0; i--) {
      const s = this.stalls[i]!;
      if (s.to >= from && s.from <= to) return true;
      if (s.to < from) break;
    }
    return false;
  }

  private pendingLag(): number {
    return Math.max(0, this.opts.clock.monotonic() - this.expectedAt);
  }

  private tick(): void {
    const now = this.opts.clock.monotonic();
    const lag = Math.max(0, now - this.expectedAt);
    this.lastLagMs = lag;
    if (lag > this.maxLagMs) this.maxLagMs = lag;
    if (lag > this.opts.stallThresholdMs) {
      this.stallCount++;
      this.stalls.push({ from: this.expectedAt, to: now });
      if (this.stalls.length > 64) this.stalls.shift();
      this.opts.logger.warn('probe stalled: event loop blocked, attempts in this span are flagged stalled', { lagMs: Math.round(lag) });
    }
    this.expectedAt = now + this.sampleMs;
    this.timer = this.opts.clock.setTimeout(() => this.tick(), this.sampleMs);
  }
}
