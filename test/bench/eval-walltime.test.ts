import { describe, expect, it } from 'vitest';
import { wallTime } from '../../bench/eval-walltime.js';
import { VirtualClock } from '../../bench/virtual-clock.js';
import { measure } from '../../bench/walltime-measure.js';
import type { RunTrace } from '../../bench/walltime-run.js';

describe('wall-time evaluation', () => {
  it('a quick run of one scenario opens an incident naming node-2 and resolves it, at both timings, in finite seconds', async () => {
    const report = await wallTime({ quick: true, seed: 1, runs: 4, only: ['fixed after 2 min'], workers: 0 });
    expect(report.rows.map((r) => [r.intervalMs, r.timeoutMs])).toEqual([[2000, 2000], [500, 400]]);
    for (const r of report.rows) {
      expect(r.runs).toBe(4);
      expect(r.alert.alerted).toBe(1);
      expect(r.alert.namedNode2).toBe(1);
      expect(r.resolve.openAtFix).toBe(1);
      expect(r.resolve.resolved).toBe(1);
      for (const s of [r.alert.medianS, r.alert.p99S, r.resolve.medianS, r.resolve.p99S, r.diagnosis.verdictMedianS, r.diagnosis.healthyMedianS]) {
        expect(Number.isFinite(s)).toBe(true);
        expect(s).toBeGreaterThanOrEqual(0);
      }
      // Generous bounds: the fault lasts 2 min, the run ends 5.5 min after the fix.
      expect(r.alert.p99S!).toBeLessThan(120);
      expect(r.resolve.p99S!).toBeLessThan(330);
      expect(r.alert.p99S!).toBeGreaterThanOrEqual(r.alert.medianS!);
      expect(Number.isFinite(r.wrongKind.afterFix.seconds)).toBe(true);
      expect(r.opensBeforeOnset).toBe(0);
      expect(r.perRun.incidents.max).toBe(1);
      // The burst that gathers the evidence, and the one that verifies the fix.
      expect(r.perRun.bursts).toBeGreaterThanOrEqual(1);
    }
  }, 60_000);

  it('measures alert and resolve from the onset and the fix, splits wrong verdicts at the onset and the fix, and tells the ones reading pre-fix attempts', () => {
    const trace: RunTrace = {
      events: [
        { type: 'open', at: 120_000, id: 'a', kind: 'asymmetric_routing', suspectedNodes: ['node-2'] },
        { type: 'resolved', at: 230_000, id: 'a', kind: 'asymmetric_routing', suspectedNodes: ['node-2'] },
      ],
      verdicts: [
        { at: 50_000, verdict: 'packet_loss', suspectedNodes: [], judgedFrom: 0 },
        { at: 110_000, verdict: 'insufficient_data', suspectedNodes: [], judgedFrom: 0 },
        { at: 115_000, verdict: 'asymmetric_routing', suspectedNodes: ['node-2'], judgedFrom: 0 },
        { at: 190_000, verdict: 'packet_loss', suspectedNodes: [], judgedFrom: 0 },
        { at: 205_000, verdict: 'packet_loss', suspectedNodes: [], judgedFrom: 0 },
        { at: 210_000, verdict: 'packet_loss', suspectedNodes: [], judgedFrom: 202_000 },
        { at: 215_000, verdict: 'healthy', suspectedNodes: [], judgedFrom: 202_000 },
      ],
      attempts: 0, burstAttempts: 0, bursts: 0, skipped: 0,
    };
    const f = measure(trace, 100_000, [200_000], 400_000);
    expect(f.alertS).toBe(20);
    expect(f.namedNode2).toBe(true);
    expect(f.verdictS).toBe(15);
    expect(f.openAtLastFix).toBe(true);
    expect(f.resolveS).toBe(30);
    expect(f.healthyS).toBe(15);
    expect(f.wrongBeforeOnset).toEqual({ seconds: 50, diagnoses: 1, byKind: { packet_loss: 1 }, readingPreFix: 0 });
    // 100-110 s (the verdict from before the onset still holding) and 190-200 s.
    expect(f.wrongWhileFaulty).toEqual({ seconds: 20, diagnoses: 1, byKind: { packet_loss: 1 }, readingPreFix: 0 });
    // 200-215 s; the verdict at 205 s judged attempts from before the fix, the one at 210 s only those since 202 s.
    expect(f.wrongAfterFix).toEqual({ seconds: 15, diagnoses: 2, byKind: { packet_loss: 2 }, readingPreFix: 1 });
    expect([f.incidents, f.notifications, f.opens, f.opensBeforeOnset]).toEqual([1, 2, 1, 0]);
  });

  it('the virtual clock fires timers in time order, ties in the order set, and awaits each callback', async () => {
    const clock = new VirtualClock(1_000);
    const seen: string[] = [];
    clock.setTimeout(async () => {
      await new Promise((r) => setImmediate(r));
      seen.push(`slow@${clock.monotonic()}`);
    }, 10);
    clock.setTimeout(() => seen.push(`tie@${clock.monotonic()}`), 10);
    const gone = clock.setTimeout(() => seen.push('cancelled'), 5);
    clock.setTimeout(() => seen.push(`first@${clock.monotonic()}`), 3);
    clock.clearTimeout(gone);
    clock.setTimeout(() => seen.push('too late'), 50);
    await clock.run(20);
    expect(seen).toEqual(['first@3', 'slow@10', 'tie@10']);
    expect(clock.now()).toBe(1_020);
  });
});
