import type { ClusterSource } from '../cluster/types.js';
import type { TargetConfig } from '../config/targets.js';
import type { Attempt } from '../history/attempt.js';
import { TargetHistory } from '../history/history.js';
import { DeadlineError, type Clock, type TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { toProbeSpec } from '../probe/spec.js';
import type { Prober, ProbeSpec, Protocol } from '../probe/types.js';
import { CronSchedule } from './cron.js';
import { MinHeap } from './heap.js';
import type { SelfMonitor } from './self-monitor.js';

export interface SchedulerOptions {
  clock: Clock;
  logger: Logger;
  probers: Record<Protocol, Prober>;
  selfMonitor?: SelfMonitor;
  cluster?: ClusterSource;
  /** Capacity of a target's attempt ring (a number, or per target). */
  historySize: number | ((t: TargetConfig) => number);
  /** Called once per finished attempt, after it is recorded in the target's history. */
  onAttempt(attempt: Attempt, target: TargetConfig): void;
  /** Called when a scheduled attempt is skipped because the previous one still runs. */
  onSkip?(target: TargetConfig): void;
  /**
   * Ticks are rounded up to this grid so that one wake-up of the event loop serves every target due in it: on a VM a
   * wake-up alone costs tens of microseconds of CPU, more than the rest of the engine per attempt. Default 10 ms.
   */
  quantumMs?: number;
}

export interface BurstRequest {
  count: number;
  spacingMs: number;
}

interface Loop {
  target: TargetConfig;
  spec: ProbeSpec;
  history: TargetHistory;
  cron?: CronSchedule;
  /** Queued in the scheduler's heap (false once removed or stopped). */
  queued: boolean;
  nextAt: number;
  running?: Promise<void>;
  abort?: AbortController;
  skipped: number;
  burstLeft: number;
  burstSpacingMs: number;
  burstTimer?: TimerHandle;
}

/**
 * One loop per target: fixed-rate ticks spread by a hash of the name (or a cron schedule), never overlapping the
 * previous attempt of the same target, each attempt under an AbortSignal deadline. Adaptive bursts add attempts on request.
 */
export class Scheduler {
  private readonly loops = new Map<string, Loop>();
  private readonly queue = new MinHeap<Loop>((l) => l.nextAt);
  private readonly quantumMs: number;
  private driver?: TimerHandle;
  private driverAt = Infinity;
  private started = false;

  constructor(private readonly opts: SchedulerOptions) {
    this.quantumMs = Math.max(1, opts.quantumMs ?? 10);
  }

  /** Adds, replaces and removes loops so that exactly `targets` run; history survives when a target is unchanged. */
  setTargets(targets: readonly TargetConfig[]): void {
    const wanted = new Map(targets.map((t) => [t.name, t]));
    for (const [name, loop] of this.loops) {
      const next = wanted.get(name);
      if (!next || !sameTarget(loop.target, next)) this.removeLoop(name);
      else {
        loop.target = next;
        loop.spec = toProbeSpec(next);
      }
    }
    for (const t of targets) if (!this.loops.has(t.name)) this.addLoop(t);
  }

  start(): void {
    this.started = true;
    for (const loop of this.loops.values()) this.arm(loop);
    this.rearm();
  }

  /** Stops all loops and aborts in-flight attempts; resolves when they have finished. */
  async stop(): Promise<void> {
    this.started = false;
    this.opts.clock.clearTimeout(this.driver);
    this.driver = undefined;
    this.driverAt = Infinity;
    const running: Promise<void>[] = [];
    for (const loop of this.loops.values()) {
      this.disarm(loop);
      loop.abort?.abort(new Error('vipwatch stopping'));
      if (loop.running) running.push(loop.running);
    }
    await Promise.allSettled(running);
  }

  targets(): TargetConfig[] {
    return [...this.loops.values()].map((l) => l.target);
  }

  history(name: string): TargetHistory | undefined {
    return this.loops.get(name)?.history;
  }

  skipped(name: string): number {
    return this.loops.get(name)?.skipped ?? 0;
  }

  /** Asks for `count` extra attempts `spacingMs` apart; returns how many were accepted (0 when one is already going). */
  requestBurst(name: string, req: BurstRequest): number {
    const loop = this.loops.get(name);
    if (!loop || !this.started || loop.burstLeft > 0 || req.count < 1) return 0;
    loop.burstLeft = Math.floor(req.count);
    loop.burstSpacingMs = Math.max(10, req.spacingMs);
    loop.burstTimer = this.opts.clock.setTimeout(() => this.burstTick(loop), loop.burstSpacingMs);
    return loop.burstLeft;
  }

  burstRemaining(name: string): number {
    return this.loops.get(name)?.burstLeft ?? 0;
  }

  private addLoop(t: TargetConfig): void {
    const loop: Loop = {
      target: t,
      spec: toProbeSpec(t),
      history: new TargetHistory(t.name, typeof this.opts.historySize === 'number' ? this.opts.historySize : this.opts.historySize(t)),
      cron: t.schedule ? new CronSchedule(t.schedule) : undefined,
      queued: false,
      nextAt: 0,
      skipped: 0,
      burstLeft: 0,
      burstSpacingMs: 0,
    };
    this.loops.set(t.name, loop);
    if (this.started) {
      this.arm(loop);
      this.rearm();
    }
  }

  private removeLoop(name: string): void {
    const loop = this.loops.get(name);
    if (!loop) return;
    this.disarm(loop);
    loop.abort?.abort(new Error('target removed'));
    this.loops.delete(name);
  }

  private disarm(loop: Loop): void {
    if (loop.queued) {
      loop.queued = false;
      this.queue.removeWhere((l) => l === loop);
    }
    this.opts.clock.clearTimeout(loop.burstTimer);
    loop.burstTimer = undefined;
    loop.burstLeft = 0;
  }

  private arm(loop: Loop): void {
    const now = this.opts.clock.now();
    if (loop.cron) loop.nextAt = loop.cron.next(now);
    else {
      const interval = loop.target.intervalMs!;
      // Spread: each target keeps a fixed phase within its interval, derived from its name.
      const phase = fnv1a(loop.target.name) % interval;
      loop.nextAt = now + ((phase - (now % interval) + interval) % interval || interval);
    }
    loop.queued = true;
    this.queue.push(loop);
  }

  /** One timer for all loops: it fires at the first grid point at or after the earliest due loop. */
  private rearm(): void {
    const top = this.queue.peek();
    if (!this.started || !top) return;
    const at = Math.ceil(top.nextAt / this.quantumMs) * this.quantumMs;
    if (this.driver && at >= this.driverAt) return;
    this.opts.clock.clearTimeout(this.driver);
    this.driverAt = at;
    this.driver = this.opts.clock.setTimeout(() => this.drive(), at - this.opts.clock.now());
  }

  private drive(): void {
    this.driver = undefined;
    const horizon = this.driverAt;
    this.driverAt = Infinity;
    const now = this.opts.clock.now();
    for (let top = this.queue.peek(); top && top.nextAt <= Math.max(now, horizon); top = this.queue.peek()) {
      this.queue.pop();
      this.tick(top, now);
      if (top.queued) this.queue.push(top);
    }
    this.rearm();
  }

  private tick(loop: Loop, now: number): void {
    if (this.loops.get(loop.target.name) !== loop) {
      loop.queued = false;
      return;
    }
    if (loop.running) {
      loop.skipped++;
      this.opts.onSkip?.(loop.target);
    } else {
      this.run(loop, false);
    }
    if (loop.cron) loop.nextAt = loop.cron.next(now);
    else {
      const interval = loop.target.intervalMs!;
      loop.nextAt += interval;
      // After a stall, resume on the same phase instead of firing the missed ticks back to back.
      if (loop.nextAt <= now) loop.nextAt += Math.ceil((now - loop.nextAt + 1) / interval) * interval;
    }
  }

  private burstTick(loop: Loop): void {
    loop.burstTimer = undefined;
    if (this.loops.get(loop.target.name) !== loop || loop.burstLeft <= 0) return;
    if (!loop.running) {
      loop.burstLeft--;
      this.run(loop, true);
    }
    if (loop.burstLeft > 0) loop.burstTimer = this.opts.clock.setTimeout(() => this.burstTick(loop), loop.burstSpacingMs);
  }

  private run(loop: Loop, burst: boolean): void {
    const { clock, cluster, selfMonitor } = this.opts;
    const target = loop.target;
    const prober = this.opts.probers[target.protocol];
    const startedAt = clock.now();
    const startMono = clock.monotonic();
    const context = cluster?.contextFor(target);
    // One controller per attempt: the deadline timer and stop()/removal both abort it.
    const ac = new AbortController();
    const deadline = clock.setTimeout(() => ac.abort(new DeadlineError(target.timeoutMs)), target.timeoutMs);
    loop.abort = ac;
    loop.running = prober
      .probe(loop.spec, ac.signal)
      .then((result) => {
        if (this.loops.get(target.name) !== loop || !this.started) return;
        // The prober hands over a fresh object: it becomes the attempt without a copy.
        const attempt = result as Attempt;
        attempt.seq = loop.history.nextSeq();
        attempt.target = target.name;
        attempt.startedAt = startedAt;
        attempt.stalled = selfMonitor?.stalledBetween(startMono, clock.monotonic()) ?? false;
        attempt.burst = burst;
        if (context) attempt.cluster = context;
        if (result.ok && result.backend && cluster) attempt.backendNode = cluster.backendNode(target, result.backend);
        loop.history.record(attempt);
        this.opts.onAttempt(attempt, target);
      })
      .catch((err) => {
        // A prober bug is not a network failure: log it loudly, record nothing.
        this.opts.logger.error('prober error (not recorded as an attempt)', { target: target.name, error: errorMessage(err) });
      })
      .finally(() => {
        clock.clearTimeout(deadline);
        loop.running = undefined;
        loop.abort = undefined;
      });
  }
}

/** Same endpoint and schedule: the loop and its history carry over; anything else starts afresh. */
function sameTarget(a: TargetConfig, b: TargetConfig): boolean {
  return a.address === b.address && a.port === b.port && a.protocol === b.protocol && a.intervalMs === b.intervalMs && a.schedule === b.schedule;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
