import { describe, expect, it } from 'vitest';
import type { TargetConfig } from '../../src/config/targets.js';
import type { ClusterSource } from '../../src/cluster/types.js';
import type { Attempt } from '../../src/history/attempt.js';
import { sleep } from '../../src/lib/clock.js';
import { FakeClock } from '../support/fake-clock.js';
import { createLogger, silentLogger } from '../../src/lib/logger.js';
import type { Prober, ProbeResult, ProbeSpec } from '../../src/probe/types.js';
import { Scheduler } from '../../src/schedule/scheduler.js';
import { SelfMonitor } from '../../src/schedule/self-monitor.js';

/** A prober whose attempts take `durationMs` on the fake clock and honour the deadline signal. */
class ClockProber implements Prober {
  calls: { spec: ProbeSpec; at: number; signal: AbortSignal }[] = [];
  constructor(private clock: FakeClock, public durationMs: number) {}
  async probe(spec: ProbeSpec, signal: AbortSignal): Promise<ProbeResult> {
    this.calls.push({ spec, at: this.clock.now(), signal });
    try {
      await sleep(this.clock, this.durationMs, signal);
      return { ok: true, timings: { totalMs: this.durationMs }, synRetransmit: false };
    } catch {
      return { ok: false, reason: 'connect_timeout', timings: { totalMs: spec.timeoutMs }, synRetransmit: false };
    }
  }
}

function target(name: string, over: Partial<TargetConfig> = {}): TargetConfig {
  return { name, address: '127.0.0.1', port: 1, protocol: 'tcp', intervalMs: 1000, timeoutMs: 500, origin: 'static', ...over };
}

function setup(durationMs = 10, targets = [target('a')]) {
  const clock = new FakeClock();
  const prober = new ClockProber(clock, durationMs);
  const attempts: Attempt[] = [];
  const skipped: string[] = [];
  const monitor = new SelfMonitor({ clock, logger: silentLogger, stallThresholdMs: 200 });
  const s = new Scheduler({
    clock, logger: silentLogger, probers: { tcp: prober, http: prober, https: prober }, historySize: 100, selfMonitor: monitor,
    onAttempt: (a) => attempts.push(a), onSkip: (t) => skipped.push(t.name),
  });
  s.setTargets(targets);
  return { clock, prober, attempts, skipped, s, monitor };
}

describe('Scheduler', () => {
  it('fires once per interval at a fixed phase and records every attempt', async () => {
    const { clock, prober, attempts, s } = setup();
    s.start();
    await clock.advance(10_000);
    expect(prober.calls.length).toBe(10);
    const phases = new Set(prober.calls.map((c) => c.at % 1000));
    expect(phases.size).toBe(1);
    expect(attempts.map((a) => a.seq)).toEqual(attempts.map((_, i) => i + 1));
    expect(s.history('a')!.recent().length).toBe(10);
    await s.stop();
  });

  it('spreads start times of many targets over the interval', async () => {
    const names = Array.from({ length: 50 }, (_, i) => `t${i}`);
    const { clock, prober, s } = setup(10, names.map((n) => target(n)));
    s.start();
    await clock.advance(1000);
    expect(prober.calls.length).toBe(50);
    const distinct = new Set(prober.calls.map((c) => c.at % 1000));
    expect(distinct.size).toBeGreaterThan(40);
    await s.stop();
  });

  it('never overlaps attempts of one target: a tick during a running attempt is skipped and counted', async () => {
    const { clock, prober, s, skipped } = setup(1500, [target('slow', { timeoutMs: 5000, intervalMs: 1000 })]);
    s.start();
    await clock.advance(10_000);
    // Each attempt lasts 1.5 s, so every other tick finds the previous one running.
    expect(prober.calls.length).toBe(5);
    expect(s.skipped('slow')).toBe(5);
    expect(skipped.length).toBe(5);
    await s.stop();
  });

  it('gives every attempt an AbortSignal deadline of the target timeout', async () => {
    const { clock, attempts, s } = setup(2000, [target('t', { timeoutMs: 300, intervalMs: 1000 })]);
    s.start();
    await clock.advance(3000);
    expect(attempts.length).toBe(3);
    for (const a of attempts) expect(a.reason).toBe('connect_timeout');
    await s.stop();
  });

  it('runs cron schedules on the injected clock', async () => {
    const { clock, prober, s } = setup(10, [target('c', { intervalMs: undefined, schedule: '*/5 * * * * *' })]);
    s.start();
    await clock.advance(60_000);
    expect(prober.calls.length).toBe(12);
    for (const c of prober.calls) expect(new Date(c.at).getSeconds() % 5).toBe(0);
    await s.stop();
  });

  it('adds and removes targets live, keeping history of unchanged ones', async () => {
    const { clock, prober, s } = setup(10, [target('a'), target('b')]);
    s.start();
    await clock.advance(3000);
    s.setTargets([target('a'), target('c')]);
    await clock.advance(3000);
    const byName = (n: string) => prober.calls.filter((c) => c.spec.target === n).length;
    expect(byName('a')).toBe(6);
    expect(byName('b')).toBe(3);
    expect(byName('c')).toBe(3);
    expect(s.history('a')!.recent().length).toBe(6);
    expect(s.history('b')).toBeUndefined();
    await s.stop();
  });

  it('runs a requested burst, marks its attempts, and refuses a second one while it runs', async () => {
    const { clock, attempts, s } = setup(10, [target('a', { intervalMs: 10_000, timeoutMs: 1000 })]);
    s.start();
    expect(s.requestBurst('a', { count: 5, spacingMs: 100, concurrency: 1 })).toBe(5);
    expect(s.requestBurst('a', { count: 5, spacingMs: 100, concurrency: 1 })).toBe(0);
    await clock.advance(1000);
    expect(attempts.filter((a) => a.burst).length).toBe(5);
    expect(s.burstRemaining('a')).toBe(0);
    await s.stop();
  });

  it('flags attempts that spanned a stall of the probe itself', async () => {
    const { clock, prober, attempts, s, monitor } = setup(50, [target('a')]);
    monitor.start();
    s.start();
    await clock.advance(2000);
    // Block the "event loop" for 400 ms while an attempt is in flight.
    await clock.advance(prober.calls.at(-1)!.at + 1000 - clock.now() + 10);
    clock.jump(400);
    await clock.advance(200);
    await clock.advance(1000);
    monitor.stop();
    const stalled = attempts.filter((a) => a.stalled);
    expect(stalled.length).toBe(1);
    expect(attempts.filter((a) => !a.stalled).length).toBeGreaterThanOrEqual(3);
    expect(monitor.stallCount).toBe(1);
    await s.stop();
  });

  it('a burst with concurrency runs attempts side by side, never more than the slots, spaced at the VIP', async () => {
    // Every attempt takes 2 s (a silent drop at its timeout): one at a time, 8 of them would take 16 s.
    const { clock, prober, attempts, s } = setup(2000, [target('a', { intervalMs: 60_000, timeoutMs: 2000 })]);
    s.start();
    const before = prober.calls.length;
    expect(s.requestBurst('a', { count: 8, spacingMs: 250, concurrency: 4 })).toBe(8);
    let maxInFlight = 0;
    for (let t = 0; t < 6000; t += 50) {
      await clock.advance(50);
      const started = prober.calls.slice(before);
      const inFlight = started.filter((c) => !c.signal.aborted && clock.now() - c.at < 2000).length;
      maxInFlight = Math.max(maxInFlight, inFlight);
    }
    const starts = prober.calls.slice(before).map((c) => c.at);
    expect(starts).toHaveLength(8);
    expect(maxInFlight).toBe(4);
    // Never two starts closer than the spacing: the VIP sees at most 4 new connections a second from the burst.
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(250);
    // 4 slots: the first four start 250 ms apart, the next four as slots free up; done in about 4.75 s, not 16 s.
    expect(starts[7]! - starts[0]!).toBeLessThan(3000);
    expect(attempts.filter((a) => a.burst)).toHaveLength(8);
    await s.stop();
  });

  it('stop() aborts burst attempts in flight too, and records none of them afterwards', async () => {
    const { clock, attempts, s } = setup(2000, [target('a', { intervalMs: 60_000, timeoutMs: 2000 })]);
    s.start();
    s.requestBurst('a', { count: 4, spacingMs: 100, concurrency: 4 });
    await clock.advance(450);
    const summary = await Promise.all([s.stop(), clock.advance(0)]).then(([r]) => r);
    expect(summary.aborted).toBeGreaterThanOrEqual(4);
    await clock.advance(5000);
    expect(attempts.filter((a) => a.burst)).toHaveLength(0);
  });

  it('stop() aborts in-flight attempts and records nothing afterwards', async () => {
    const { clock, attempts, s } = setup(400);
    s.start();
    await clock.advance(1100);
    const before = attempts.length;
    await Promise.all([s.stop(), clock.advance(0)]);
    await clock.advance(5000);
    expect(attempts.length).toBe(before);
  });
});

describe('Scheduler error reporting', () => {
  it('an error in the handling of a recorded attempt is not logged as a prober error, and probing goes on', async () => {
    const clock = new FakeClock();
    const prober = new ClockProber(clock, 10);
    const lines: { msg: string; [k: string]: unknown }[] = [];
    const logger = createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l)) });
    let calls = 0;
    const s = new Scheduler({
      clock, logger, probers: { tcp: prober, http: prober, https: prober }, historySize: 100,
      onAttempt: () => {
        calls++;
        throw new Error('diagnosis exploded');
      },
    });
    s.setTargets([target('a')]);
    s.start();
    await clock.advance(3000);
    await s.stop();
    expect(calls).toBe(3);
    expect(s.history('a')!.recent().length).toBe(3);
    expect(lines.filter((l) => l.msg.startsWith('prober error'))).toEqual([]);
    const handling = lines.filter((l) => l.msg === 'attempt handling failed (the attempt is recorded)');
    expect(handling.length).toBe(3);
    expect(handling[0]!.error).toContain('diagnosis exploded');
  });
});

describe('Scheduler and the cluster view', () => {
  it('records the context the snapshot settles when the attempt ends (the neighbour entry re-read then), not the one at its start', async () => {
    const clock = new FakeClock();
    const prober = new ClockProber(clock, 300);
    const attempts: Attempt[] = [];
    const endedAt: number[] = [];
    const atStart = { endpointsPerNode: {}, stale: false, viewVersion: 'v1', neighbour: { macs: ['02:00:00:00:00:01'], nodes: ['node-1'], steady: true } };
    const cluster: ClusterSource = {
      start: async () => {},
      viewFor: () => undefined,
      discoveredTargets: () => [],
      onTargetsChanged: () => {},
      snapshot: () => ({
        context: atStart,
        contextAtEnd: () => {
          endedAt.push(clock.now());
          return { ...atStart, neighbour: { ...atStart.neighbour, steady: false } };
        },
        nodeOf: () => undefined,
      }),
    };
    const s = new Scheduler({ clock, logger: silentLogger, probers: { tcp: prober, http: prober, https: prober }, historySize: 10, cluster, onAttempt: (a) => attempts.push(a) });
    s.setTargets([target('a')]);
    s.start();
    await clock.advance(1500);
    await s.stop();
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts[0]!.cluster!.neighbour).toEqual({ macs: ['02:00:00:00:00:01'], nodes: ['node-1'], steady: false });
    expect(endedAt[0]).toBe(attempts[0]!.startedAt + 300);
  });
});
