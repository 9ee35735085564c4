import { describe, expect, it } from 'vitest';
import type { Attempt } from '../../src/history/attempt.js';
import { TargetHistory } from '../../src/history/history.js';
import { Ring } from './ring.js';
import { FailureWindows } from '../../src/history/windows.js';
import { CronSchedule } from '../../src/lib/cron.js';

const T0 = Date.UTC(2026, 0, 1);

function attempt(seq: number, startedAt: number, ok: boolean): Attempt {
  return { seq, target: 't', startedAt, ok, stalled: false, burst: false, synRetransmit: false, timings: { totalMs: 1 }, reason: ok ? undefined : 'connect_timeout' };
}

describe('Ring', () => {
  it('keeps the newest entries, oldest first', () => {
    const r = new Ring<number>(3);
    for (let i = 1; i <= 5; i++) r.push(i);
    expect(r.toArray()).toEqual([3, 4, 5]);
    expect(r.toArray(2)).toEqual([4, 5]);
    expect(r.last()).toBe(5);
    expect(r.size).toBe(3);
  });
  it('rejects a bad capacity', () => {
    expect(() => new Ring(0)).toThrow(RangeError);
  });
});

describe('FailureWindows', () => {
  it('computes ratios over 1m, 5m and 15m and forgets old buckets', () => {
    const w = new FailureWindows();
    // 15 minutes of one attempt per second; the last 2 minutes fail every other attempt.
    for (let s = 0; s < 900; s++) w.record(T0 + s * 1000, !(s >= 780 && s % 2 === 0));
    const now = T0 + 899_999;
    expect(w.stats('1m', now).ratio).toBeCloseTo(0.5, 1);
    const five = w.stats('5m', now);
    expect(five.failures).toBe(60);
    expect(five.ratio).toBeCloseTo(60 / five.attempts, 5);
    expect(w.stats('15m', now).failures).toBe(60);
    // An hour later nothing is left, with the same fixed memory.
    expect(w.stats('15m', now + 3_600_000)).toEqual({ attempts: 0, failures: 0, ratio: null });
  });
});

describe('TargetHistory', () => {
  it('bounds memory and selects attempts by time', () => {
    const h = new TargetHistory('t', 50);
    for (let i = 0; i < 200; i++) h.record(attempt(h.nextSeq(), T0 + i * 1000, i % 3 !== 0));
    expect(h.recent().length).toBe(50);
    expect(h.recent(5).map((a) => a.seq)).toEqual([196, 197, 198, 199, 200]);
    const last10s = h.since(10_000, T0 + 199_000);
    expect(last10s.map((a) => a.seq)).toEqual([190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200]);
    expect(h.stats('1m', T0 + 199_000).attempts).toBeGreaterThanOrEqual(60);
  });
});

describe('CronSchedule', () => {
  it('computes next fire times with seconds', () => {
    const c = new CronSchedule('*/15 * * * * *');
    const t = new Date(2026, 10, 26, 10, 0, 7).getTime();
    expect(new Date(c.next(t)).getSeconds()).toBe(15);
    expect(c.next(c.next(t)) - c.next(t)).toBe(15_000);
  });
  it('honours day-of-week rules', () => {
    const c = new CronSchedule('0 30 9 * * 1');
    const n = new Date(c.next(new Date(2026, 10, 26, 12, 0, 0).getTime())); // a Thursday
    expect([n.getDay(), n.getHours(), n.getMinutes(), n.getSeconds(), n.getDate()]).toEqual([1, 9, 30, 0, 30]);
  });
});
