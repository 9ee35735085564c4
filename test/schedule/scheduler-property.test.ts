import { describe, expect, it } from 'vitest';
import type { TargetConfig } from '../../src/config/targets.js';
import { sleep } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import type { Prober, ProbeResult, ProbeSpec } from '../../src/probe/types.js';
import { Scheduler } from '../../src/schedule/scheduler.js';
import { JitterClock, seededRandom } from '../support/jitter-clock.js';

/**
 * Property tests: the scheduler driven by a clock whose timers fire early and late by random amounts, with the event
 * loop blocked now and then, and (second test) the wall clock stepped back and forth by up to two hours.
 */

const EARLY_MS = 5;
const LATE_MS = 300;
const MAX_BLOCK_MS = 3000;
const QUANTUM_MS = 10;
const SIM_MS = 20 * 60_000;

interface Start {
  mono: number;
  wall: number;
}

/** Attempts take a random time on the clock, honour the deadline, and record any overlap with their predecessor. */
class RandomProber implements Prober {
  readonly starts = new Map<string, Start[]>();
  readonly active = new Set<string>();
  overlaps = 0;
  constructor(private readonly clock: JitterClock, private readonly random: () => number, private readonly decision: () => void) {}
  async probe(spec: ProbeSpec, signal: AbortSignal): Promise<ProbeResult> {
    this.decision();
    if (this.active.has(spec.target)) this.overlaps++;
    this.active.add(spec.target);
    const list = this.starts.get(spec.target) ?? [];
    list.push({ mono: this.clock.monotonic(), wall: this.clock.now() });
    this.starts.set(spec.target, list);
    const ms = this.random() * spec.timeoutMs * 1.3;
    try {
      await sleep(this.clock, ms, signal);
      return { ok: true, timings: { totalMs: ms }, synRetransmit: false };
    } catch {
      return { ok: false, reason: 'connect_timeout', timings: { totalMs: spec.timeoutMs }, synRetransmit: false };
    } finally {
      this.active.delete(spec.target);
    }
  }
}

function target(name: string, over: Partial<TargetConfig>): TargetConfig {
  return { name, address: '127.0.0.1', port: 1, protocol: 'tcp', timeoutMs: 800, origin: 'static', ...over };
}

/** Nominal gap of each target's schedule. */
const TARGETS: { t: TargetConfig; gapMs: number }[] = [
  { t: target('every-1s', { intervalMs: 1000, timeoutMs: 800 }), gapMs: 1000 },
  { t: target('every-2s', { intervalMs: 2000, timeoutMs: 2000 }), gapMs: 2000 },
  { t: target('every-370ms', { intervalMs: 370, timeoutMs: 300 }), gapMs: 370 },
  { t: target('cron-5s', { schedule: '*/5 * * * * *', timeoutMs: 1000 }), gapMs: 5000 },
  { t: target('cron-1s', { schedule: '* * * * * *', timeoutMs: 900 }), gapMs: 1000 },
];

async function simulate(seed: number, wallSteps: boolean) {
  const random = seededRandom(seed);
  const clock = new JitterClock(random, EARLY_MS, LATE_MS);
  // The event loop is never held: within one timer callback the scheduler decides (attempt or skip) at most once per
  // target. A schedule that keeps handing back the same instant would loop here; this throws out of it instead.
  let decisionsAt = -1;
  let decisions = 0;
  const decision = () => {
    if (clock.fired !== decisionsAt) [decisionsAt, decisions] = [clock.fired, 0];
    if (++decisions > TARGETS.length) throw new Error(`scheduler held the event loop: ${decisions} decisions in one timer callback`);
  };
  const prober = new RandomProber(clock, random, decision);
  let skips = 0;
  let attempts = 0;
  const s = new Scheduler({
    clock, logger: silentLogger, probers: { tcp: prober, http: prober, https: prober }, historySize: 64, quantumMs: QUANTUM_MS,
    onAttempt: () => attempts++,
    onSkip: () => {
      decision();
      skips++;
    },
  });
  s.setTargets(TARGETS.map((x) => x.t));
  s.start();
  const forwardSteps: number[] = [];
  let longestAdvance = 0;
  for (let t = 0; t < SIM_MS;) {
    const r = random();
    if (r < 0.02) clock.jump(random() * MAX_BLOCK_MS); // the event loop was blocked: every timer fires late
    if (wallSteps && r > 0.995) {
      const step = (random() * 2 - 1) * 2 * 3600_000;
      if (step > 0) forwardSteps.push(clock.monotonic());
      clock.stepWall(step);
    }
    const step = 200 + random() * 1800;
    const before = clock.fired;
    await clock.advance(step);
    longestAdvance = Math.max(longestAdvance, clock.fired - before);
    t += step;
  }
  await Promise.all([s.stop(), clock.advance(0)]);
  return { clock, prober, skips, attempts, forwardSteps, longestAdvance, end: clock.monotonic() };
}

/** Most attempts any window of `windowMs` may hold: slots of the schedule it can see, early and late firing included. */
function maxInWindow(windowMs: number, gapMs: number): number {
  return Math.floor((windowMs + LATE_MS + MAX_BLOCK_MS + EARLY_MS + QUANTUM_MS) / gapMs) + 1;
}

function countInWindow(starts: Start[], i: number, windowMs: number): number {
  let n = 0;
  for (let j = i; j < starts.length && starts[j]!.mono < starts[i]!.mono + windowMs; j++) n++;
  return n;
}

describe('Scheduler under a jittery clock (property tests)', () => {
  for (const seed of [1, 2, 3]) {
    it(`never exceeds the schedule, never overlaps, never holds the loop, never stops (timers early/late, seed ${seed})`, async () => {
      const r = await simulate(seed, false);
      expect(r.prober.overlaps).toBe(0);
      for (const { t, gapMs } of TARGETS) {
        const starts = r.prober.starts.get(t.name) ?? [];
        const windowMs = 10 * gapMs;
        for (let i = 0; i < starts.length; i++) expect(countInWindow(starts, i, windowMs), `${t.name} window at ${i}`).toBeLessThanOrEqual(maxInWindow(windowMs, gapMs));
        expect(starts.length, t.name).toBeLessThanOrEqual(Math.floor(r.end / gapMs) + 1);
        // Liveness: attempts plus skipped ticks cover the schedule (blocked loops and late timers cost some slots).
        expect(starts.length, t.name).toBeGreaterThan(0.5 * (SIM_MS / gapMs));
        for (let i = 1; i < starts.length; i++) {
          expect(starts[i]!.mono - starts[i - 1]!.mono, `${t.name} gap before ${i}`).toBeLessThanOrEqual(3 * gapMs + LATE_MS + MAX_BLOCK_MS + 2 * 800 + QUANTUM_MS);
        }
      }
      // No spinning: each fired timer is a driver wake-up, a prober sleep or a deadline, a bounded number per attempt.
      expect(r.clock.fired).toBeLessThanOrEqual(3 * (r.attempts + r.skips) + 100);
      expect(r.longestAdvance).toBeLessThan(500);
    }, 60_000);
  }

  for (const seed of [4, 5]) {
    it(`keeps every schedule going when the wall clock steps back and forth by up to 2 h (seed ${seed})`, async () => {
      const r = await simulate(seed, true);
      expect(r.prober.overlaps).toBe(0);
      for (const { t, gapMs } of TARGETS) {
        const starts = r.prober.starts.get(t.name) ?? [];
        const windowMs = 10 * gapMs;
        // Interval loops run on monotonic time: wall steps change nothing. A forward wall step may shorten one cron gap.
        const extra = (i: number) => (t.schedule ? r.forwardSteps.filter((m) => m >= starts[i]!.mono - gapMs && m < starts[i]!.mono + windowMs).length : 0);
        for (let i = 0; i < starts.length; i++) expect(countInWindow(starts, i, windowMs), `${t.name} window at ${i}`).toBeLessThanOrEqual(maxInWindow(windowMs, gapMs) + extra(i));
        // A step back must not pause a cron schedule for the hours it went back.
        for (let i = 1; i < starts.length; i++) {
          expect(starts[i]!.mono - starts[i - 1]!.mono, `${t.name} gap before ${i}`).toBeLessThanOrEqual(3 * gapMs + LATE_MS + MAX_BLOCK_MS + 2 * 800 + QUANTUM_MS);
        }
      }
      expect(r.clock.fired).toBeLessThanOrEqual(3 * (r.attempts + r.skips) + 100);
    }, 60_000);
  }
});
