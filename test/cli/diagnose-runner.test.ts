import { describe, expect, it } from 'vitest';
import { runAttempts, type RunOutcome, type RunnerOptions } from '../../src/cli/diagnose-runner.js';
import { certainty, healthyAttemptsNeeded, healthyBound } from '../../src/cli/diagnose-stop.js';
import { diagnoseConfig } from '../../src/cli/diagnose.js';
import { DIAGNOSIS_DEFAULTS } from '../../src/config/sections/diagnosis.js';
import type { TargetConfig } from '../../src/config/targets.js';
import type { Diagnosis } from '../../src/diagnosis/types.js';
import type { Prober, ProbeResult } from '../../src/probe/types.js';
import { FakeClock } from '../support/fake-clock.js';

/**
 * The runner's timing on the fake clock: a prober whose attempts take `ms` of fake time (or never answer, and end
 * by the runner's deadline), recording when each started and how many were in flight.
 */
class TimedProber implements Prober {
  readonly starts: number[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(private readonly clock: FakeClock, private readonly ms: number | 'never', private readonly outcome: (i: number) => Partial<ProbeResult> = () => ({ ok: true })) {}

  probe(_spec: unknown, signal: AbortSignal): Promise<ProbeResult> {
    const i = this.starts.length;
    this.starts.push(this.clock.monotonic());
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    const t0 = this.clock.monotonic();
    return new Promise((resolve) => {
      const end = (r: Partial<ProbeResult>) => {
        this.inFlight--;
        resolve({ ok: false, synRetransmit: false, timings: { totalMs: this.clock.monotonic() - t0 }, ...r } as ProbeResult);
      };
      const h = this.ms === 'never' ? undefined : this.clock.setTimeout(() => end(this.outcome(i)), this.ms);
      signal.addEventListener('abort', () => {
        this.clock.clearTimeout(h);
        end({ ok: false, reason: 'connect_timeout' });
      }, { once: true });
    });
  }
}

const target: TargetConfig = { name: 'vip', address: '192.0.2.1', port: 80, protocol: 'tcp', timeoutMs: 1000, origin: 'static' };

async function drive(clock: FakeClock, o: Omit<RunnerOptions, 'clock' | 'config' | 'target'> & { target?: TargetConfig }, every?: (c: FakeClock) => void): Promise<RunOutcome> {
  let result: RunOutcome | undefined;
  const t = o.target ?? target;
  void runAttempts({ ...o, target: t, clock, config: diagnoseConfig({ count: o.count, spacingMs: o.spacingMs, timeoutMs: t.timeoutMs }) }).then((r) => (result = r));
  for (let i = 0; i < 100_000 && !result; i++) {
    await clock.advance(10);
    every?.(clock);
  }
  if (!result) throw new Error('the run did not end');
  return result;
}

describe('diagnose runner (fake clock)', () => {
  it('starts attempts spacingMs apart with at most `concurrency` in flight, and makes exactly `count` without an early stop', async () => {
    const clock = new FakeClock();
    const prober = new TimedProber(clock, 350);
    const r = await drive(clock, { prober, count: 25, concurrency: 2, spacingMs: 100 });
    expect(prober.starts).toHaveLength(25);
    expect(prober.maxInFlight).toBe(2);
    for (let i = 1; i < prober.starts.length; i++) expect(prober.starts[i]! - prober.starts[i - 1]!).toBeGreaterThanOrEqual(100);
    // Two slots of 350 ms each: after the first two (0, 100) a start waits for a slot, never for the spacing alone.
    expect(prober.starts.slice(0, 4)).toEqual([0, 100, 350, 450]);
    expect(r).toMatchObject({ stop: 'count', started: 25, abandoned: 0 });
    expect(r.attempts).toHaveLength(25);
    expect(r.attempts.map((a) => a.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    // 25 successes are not yet a certain healthy verdict (that takes 456).
    expect(r.diagnosis.verdict).toBe('healthy');
  });

  it('a deadline of timeoutMs on the injected clock ends an attempt that gets no answer', async () => {
    const clock = new FakeClock();
    const prober = new TimedProber(clock, 'never');
    const r = await drive(clock, { prober, count: 20, concurrency: 4, spacingMs: 0, target: { ...target, timeoutMs: 700 } });
    expect(r.attempts.every((a) => !a.ok && a.reason === 'connect_timeout' && a.timings.totalMs === 700)).toBe(true);
  });

  it('stops as soon as the verdict is certain; attempts still in flight are abandoned, not recorded', async () => {
    const clock = new FakeClock();
    const prober = new TimedProber(clock, 50, () => ({ ok: false, reason: 'refused' }));
    const r = await drive(clock, { prober, count: 200, concurrency: 4, spacingMs: 10 });
    expect(r.stop).toBe('problem');
    expect(r.diagnosis.verdict).toBe('backend_refused');
    expect(r.attempts).toHaveLength(20);
    expect(r.started).toBeLessThan(30);
    expect(r.abandoned).toBe(r.started - 20);
  });

  it('the interrupt signal (Ctrl-C) ends the run with what was recorded', async () => {
    const clock = new FakeClock();
    const prober = new TimedProber(clock, 30);
    const ac = new AbortController();
    let recorded = 0;
    const r = await drive(clock, {
      prober, count: 60, concurrency: 4, spacingMs: 100, signal: ac.signal,
      onAttempt: (_a, _d, n) => {
        recorded = n;
        if (n === 7) ac.abort();
      },
    });
    expect(recorded).toBe(7);
    expect(r.stop).toBe('interrupted');
    expect(r.attempts).toHaveLength(7);
    expect(r.started).toBe(7);
    expect(r.diagnosis.verdict).toBe('insufficient_data');
  });
});

describe('diagnose early-stop rule', () => {
  const cfg = DIAGNOSIS_DEFAULTS;

  it('healthy is certain once (1 - minFailureRatio)^n <= pValue: 456 attempts without a failure at the defaults', () => {
    expect(healthyAttemptsNeeded(cfg)).toBe(456);
    expect(healthyBound(0, 456, 0.02)).toBeLessThanOrEqual(1e-4);
    expect(healthyBound(0, 455, 0.02)).toBeGreaterThan(1e-4);
    // One failure needs more attempts for the same bound.
    expect(healthyBound(1, 456, 0.02)).toBeGreaterThan(1e-4);
    expect(healthyBound(1, 600, 0.02)).toBeLessThanOrEqual(1e-4);
  });

  const d = (over: Partial<Diagnosis>): Diagnosis => ({
    verdict: 'asymmetric_routing', confidence: 1, pValue: null, attempts: 60, failures: 20, successes: 40, identity: 'backend', placementKnown: true, suspectedNodes: ['node-2'],
    ...over,
  } as Diagnosis);

  it('a problem is certain at p <= pValue^2 (1e-8), and with backend identity only once the nodes are named', () => {
    expect(certainty(d({ pValue: 1e-9 }), cfg)).toBe('problem');
    expect(certainty(d({ pValue: 1e-6, confidence: 0.999999 }), cfg)).toBeUndefined();
    expect(certainty(d({ pValue: 1e-9, suspectedNodes: [] }), cfg)).toBeUndefined();
    // Nothing succeeded: nothing to split, the kind alone is the answer.
    expect(certainty(d({ verdict: 'backend_refused', pValue: null, confidence: 1, successes: 0, suspectedNodes: [] }), cfg)).toBe('problem');
    expect(certainty(d({ verdict: 'packet_loss', pValue: null, confidence: 1 - 1e-9, suspectedNodes: [] }), cfg)).toBe('problem');
    expect(certainty(d({ verdict: 'insufficient_data', confidence: 0 }), cfg)).toBeUndefined();
    expect(certainty(d({ attempts: 19, pValue: 1e-12 }), cfg)).toBeUndefined();
  });
});
