import type { ClusterSnapshot, ClusterSource } from '../cluster/types.js';
import { contextToRecord } from '../cluster/view.js';
import type { TargetConfig } from '../config/targets.js';
import type { BurstRequest } from '../diagnosis/burst.js';
import { makeAttempt, type Attempt } from '../history/attempt.js';
import { TargetHistory } from '../history/history.js';
import { DeadlineError, type Clock, type TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { toProbeSpec } from '../config/probe-spec.js';
import type { Prober, ProbeSpec, Protocol } from '../probe/types.js';
import { CronSchedule } from '../lib/cron.js';
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
  /**
   * Called once per finished attempt, after it is recorded in the target's history, with the cluster snapshot taken
   * when the attempt started (the one its context and backend node come from).
   */
  onAttempt(attempt: Attempt, target: TargetConfig, history: TargetHistory, snapshot: ClusterSnapshot | undefined): void;
  /** Called when a scheduled attempt is skipped because the previous one still runs. */
  onSkip?(target: TargetConfig): void;
  /**
   * Ticks are rounded up to this grid so that one wake-up of the event loop serves every target due in it: on a VM a
   * wake-up alone costs tens of microseconds of CPU, more than the rest of the engine per attempt. Default 10 ms.
   */
  quantumMs?: number;
}

export interface StopOptions {
  /**
   * Let attempts in flight run on to their own deadline (their target's timeout), for at most this long, and record
   * them as usual; attempts still running after it are aborted and not recorded. 0 (the default): abort at once.
   */
  drainMs?: number;
}

/** What became of the attempts in flight when stop() was called. */
export interface StopSummary {
  /** Finished during the drain and recorded (each went through onAttempt). */
  finished: number;
  /** Aborted by the stop and not recorded (drain over, or no drain). */
  aborted: number;
}


interface Loop {
  target: TargetConfig;
  spec: ProbeSpec;
  history: TargetHistory;
  cron?: CronSchedule;
  /** Queued in the scheduler's heap (false once removed or stopped). */
  queued: boolean;
  /** Monotonic ms at which the next scheduled attempt is due: the wall clock may jump, this does not. */
  dueAt: number;
  /** Cron loops: the wall-clock instant (epoch ms) the pending tick stands for. */
  cronAt: number;
  /** The scheduled attempt in flight: at most one, it never overlaps the previous one of its target. */
  running?: Promise<void>;
  abort?: AbortController;
  /** Burst attempts in flight, beside the scheduled one (each its own connection and source port). */
  bursts: Map<AbortController, Promise<void>>;
  skipped: number;
  burstLeft: number;
  burstSpacingMs: number;
  burstConcurrency: number;
  burstTimer?: TimerHandle;
}

/**
 * One loop per target: fixed-rate ticks spread by a hash of the name (or a cron schedule), never overlapping the
 * previous attempt of the same target, each attempt under an AbortSignal deadline. Adaptive bursts add attempts on request.
 */
export class Scheduler {
  private readonly loops = new Map<string, Loop>();
  private readonly queue = new MinHeap<Loop>((l) => l.dueAt);
  private readonly quantumMs: number;
  private driver?: TimerHandle;
  private driverAt = Infinity;
  private started = false;
  /** Stopping with a drain: no new attempt starts, attempts in flight are still recorded. */
  private draining = false;

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

  /**
   * Stops all loops: no attempt starts any more (nor any burst). Attempts in flight are aborted and not recorded, or
   * with `drainMs` first given that long to end by their own deadline (see StopOptions). Resolves when all have ended.
   */
  async stop(opts: StopOptions = {}): Promise<StopSummary> {
    this.started = false;
    this.opts.clock.clearTimeout(this.driver);
    this.driver = undefined;
    this.driverAt = Infinity;
    const inFlight: InFlight[] = [];
    for (const loop of this.loops.values()) {
      this.disarm(loop);
      inFlight.push(...inFlightOf(loop));
    }
    const drainMs = opts.drainMs ?? 0;
    if (drainMs > 0 && inFlight.length) {
      this.draining = true;
      let timer: TimerHandle | undefined;
      const budget = new Promise<void>((r) => (timer = this.opts.clock.setTimeout(r, drainMs)));
      await Promise.race([Promise.allSettled(inFlight.map((a) => a.promise)), budget]);
      this.opts.clock.clearTimeout(timer);
      this.draining = false;
    }
    const running: Promise<void>[] = [];
    for (const a of inFlight) {
      if (!a.stillRunning()) continue;
      a.ac.abort(new Error('vipwatch stopping'));
      running.push(a.promise);
    }
    await Promise.allSettled(running);
    return { finished: inFlight.length - running.length, aborted: running.length };
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

  /**
   * Asks for `count` extra attempts started `spacingMs` apart, at most `concurrency` of them in flight at once; returns
   * how many were accepted (0 when one is already going).
   */
  requestBurst(name: string, req: BurstRequest): number {
    const loop = this.loops.get(name);
    if (!loop || !this.started || loop.burstLeft > 0 || req.count < 1) return 0;
    loop.burstLeft = Math.floor(req.count);
    loop.burstSpacingMs = Math.max(10, req.spacingMs);
    loop.burstConcurrency = Math.max(1, Math.floor(req.concurrency));
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
      dueAt: 0,
      cronAt: 0,
      bursts: new Map(),
      skipped: 0,
      burstLeft: 0,
      burstSpacingMs: 0,
      burstConcurrency: 1,
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
    for (const a of inFlightOf(loop)) a.ac.abort(new Error('target removed'));
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
    const mono = this.opts.clock.monotonic();
    if (loop.cron) {
      const wall = this.opts.clock.now();
      loop.cronAt = loop.cron.next(wall);
      loop.dueAt = mono + (loop.cronAt - wall);
    } else {
      const interval = loop.target.intervalMs!;
      // Spread: each target keeps a fixed phase within its interval, derived from its name.
      const phase = fnv1a(loop.target.name) % interval;
      loop.dueAt = mono + ((phase - (mono % interval) + interval) % interval || interval);
    }
    loop.queued = true;
    this.queue.push(loop);
  }

  /** One timer for all loops: it fires at the first grid point at or after the earliest due loop. */
  private rearm(): void {
    const top = this.queue.peek();
    if (!this.started || !top) return;
    const at = Math.ceil(top.dueAt / this.quantumMs) * this.quantumMs;
    if (this.driver && at >= this.driverAt) return;
    this.opts.clock.clearTimeout(this.driver);
    this.driverAt = at;
    this.driver = this.opts.clock.setTimeout(() => this.drive(), at - this.opts.clock.monotonic());
  }

  /**
   * Ticks every loop due by the grid point this wake-up stands for (a timer may fire a little early or late). The due
   * loops are taken off the heap first and each ticks once, so no schedule can hold the event loop, whatever the clock.
   */
  private drive(): void {
    this.driver = undefined;
    const horizon = this.driverAt;
    this.driverAt = Infinity;
    const mono = this.opts.clock.monotonic();
    const limit = Math.max(mono, horizon);
    const due: Loop[] = [];
    for (let top = this.queue.peek(); top && top.dueAt <= limit; top = this.queue.peek()) due.push(this.queue.pop()!);
    if (due.length > 0) {
      const wall = this.opts.clock.now();
      for (const loop of due) {
        this.tick(loop, mono, wall);
        if (loop.queued) this.queue.push(loop);
      }
    }
    this.rearm();
  }

  private tick(loop: Loop, mono: number, wall: number): void {
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
    if (loop.cron) this.advanceCron(loop, loop.cron, mono, wall);
    else {
      const interval = loop.target.intervalMs!;
      loop.dueAt += interval;
      // After a stall, resume on the same phase instead of firing the missed ticks back to back.
      if (loop.dueAt <= mono) loop.dueAt += Math.ceil((mono - loop.dueAt + 1) / interval) * interval;
    }
  }

  /**
   * The next cron instant is strictly after the one just served, even when the timer fired early and the wall clock
   * still reads an earlier time: a loop never runs twice for one instant. When the wall clock went back (NTP step,
   * VM restore), the schedule restarts from the new time, but never sooner than the schedule's own gap after this tick.
   */
  private advanceCron(loop: Loop, cron: CronSchedule, mono: number, wall: number): void {
    const served = loop.cronAt;
    if (wall >= served - WALL_JUMP_TOLERANCE_MS) {
      loop.cronAt = cron.next(Math.max(wall, served));
      loop.dueAt = mono + (loop.cronAt - wall);
      return;
    }
    const gap = cron.next(served) - served;
    loop.cronAt = cron.next(wall);
    loop.dueAt = mono + Math.max(loop.cronAt - wall, gap);
    this.opts.logger.warn('wall clock went back: cron schedule restarted from the new time', { target: loop.target.name, backMs: served - wall });
  }

  private burstTick(loop: Loop): void {
    loop.burstTimer = undefined;
    if (this.loops.get(loop.target.name) !== loop || loop.burstLeft <= 0) return;
    // A tick with every slot taken starts nothing (the spacing, not the slots, bounds the rate at the VIP).
    if (loop.bursts.size < loop.burstConcurrency) {
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
    // One question to the cluster per attempt: context, backend map and view come from the same placement.
    const snapshot = cluster?.snapshot(target);
    // One controller per attempt: the deadline timer and stop()/removal both abort it.
    const ac = new AbortController();
    const deadline = clock.setTimeout(() => ac.abort(new DeadlineError(target.timeoutMs)), target.timeoutMs);
    const attempt = prober
      .probe(loop.spec, ac.signal)
      .then(
        (result) => {
          if (this.loops.get(target.name) !== loop || !(this.started || this.draining)) return;
          let recorded = false;
          try {
            const record = makeAttempt(result, {
              seq: loop.history.nextSeq(),
              target: target.name,
              startedAt,
              stalled: selfMonitor?.stalledBetween(startMono, clock.monotonic()) ?? false,
              burst,
              cluster: contextToRecord(snapshot),
              backendNode: result.ok && result.backend ? snapshot?.nodeOf(result.backend) : undefined,
            });
            loop.history.record(record);
            recorded = true;
            this.opts.onAttempt(record, target, loop.history, snapshot);
          } catch (err) {
            // What failed is vipwatch's own handling of the attempt (cluster lookup, history, diagnosis, metrics, logs),
            // never the prober: say which, and keep the process and the loop running.
            this.opts.logger.error(recorded ? 'attempt handling failed (the attempt is recorded)' : 'attempt recording failed (not recorded)', { target: target.name, error: errorMessage(err) });
          }
        },
        (err) => {
          // A prober bug is not a network failure: log it loudly, record nothing.
          this.opts.logger.error('prober error (not recorded as an attempt)', { target: target.name, error: errorMessage(err) });
        },
      )
      .finally(() => {
        clock.clearTimeout(deadline);
        if (burst) loop.bursts.delete(ac);
        else {
          loop.running = undefined;
          loop.abort = undefined;
        }
      });
    if (burst) loop.bursts.set(ac, attempt);
    else {
      loop.running = attempt;
      loop.abort = ac;
    }
  }
}

interface InFlight {
  ac: AbortController;
  promise: Promise<void>;
  stillRunning(): boolean;
}

/** A loop's attempts in flight: the scheduled one and those of a burst. */
function inFlightOf(loop: Loop): InFlight[] {
  const out: InFlight[] = [];
  const steady = loop.running;
  if (steady && loop.abort) out.push({ ac: loop.abort, promise: steady, stillRunning: () => loop.running === steady });
  for (const [ac, promise] of loop.bursts) out.push({ ac, promise, stillRunning: () => loop.bursts.has(ac) });
  return out;
}

/** Same endpoint and schedule: the loop and its history carry over; anything else starts afresh. */
function sameTarget(a: TargetConfig, b: TargetConfig): boolean {
  return a.address === b.address && a.port === b.port && a.protocol === b.protocol && a.intervalMs === b.intervalMs && a.schedule === b.schedule;
}

/** A wall clock reading this far behind the instant being served is a step back of the clock, not a timer firing early. */
const WALL_JUMP_TOLERANCE_MS = 1000;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
