import { describe, expect, it } from 'vitest';
import { AnnouncerTimeline, MAX_CHANGES } from '../../src/history/announcer-timeline.js';
import { SERIES_BYTES_PER_TARGET, TargetSeries } from '../../src/history/series.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

describe('TargetSeries', () => {
  it('counts attempts, failures and timeouts per minute for the last hour and per ten minutes for 24 h', () => {
    const s = new TargetSeries();
    for (let i = 0; i < 120; i++) s.record(T0 + i * 1000, i % 4 !== 0, i % 8 === 0); // 2 minutes at 1 s, a quarter failing
    const hour = s.points('1h', T0 + 2 * MIN - 1);
    expect(hour).toHaveLength(60);
    expect(hour.at(-1)).toEqual({ start: T0 + MIN, attempts: 60, failures: 15, timeouts: 7 });
    expect(hour.at(-2)).toEqual({ start: T0, attempts: 60, failures: 15, timeouts: 8 });
    expect(hour.slice(0, -2).every((p) => p.attempts === 0)).toBe(true);
    const day = s.points('24h', T0 + 2 * MIN);
    expect(day).toHaveLength(144);
    expect(day.at(-1)).toMatchObject({ start: T0, attempts: 120, failures: 30 });
    expect(s.totals24h(T0 + 2 * MIN)).toEqual({ attempts: 120, failures: 30, timeouts: 15 });
  });

  it('forgets what is older than its range, also across a long gap, and ignores attempts older than it keeps', () => {
    const s = new TargetSeries();
    s.record(T0, false);
    expect(s.points('1h', T0 + 59 * MIN).at(0)).toMatchObject({ start: T0, attempts: 1 });
    expect(s.points('1h', T0 + 60 * MIN).every((p) => p.attempts === 0)).toBe(true);
    s.record(T0 + 3 * 3_600_000, true);
    expect(s.points('1h', T0 + 3 * 3_600_000).reduce((a, p) => a + p.attempts, 0)).toBe(1);
    expect(s.totals24h(T0 + 3 * 3_600_000)).toMatchObject({ attempts: 2, failures: 1 });
    s.record(T0 - 25 * 3_600_000, false);
    expect(s.totals24h(T0 + 3 * 3_600_000)).toMatchObject({ attempts: 2, failures: 1 });
    expect(s.totals24h(T0 + 25 * 3_600_000)).toMatchObject({ attempts: 1, failures: 0 });
  });

  it('costs a fixed, stated amount of memory per target; a ten-minute bucket past 65,535 attempts (10 ms interval) widens and stays exact', () => {
    expect(SERIES_BYTES_PER_TARGET).toBe(1224);
    const s = new TargetSeries();
    expect(s.byteLength).toBe(SERIES_BYTES_PER_TARGET);
    // 70,000 attempts 8 ms apart (a 10 ms interval and its bursts): 560 s, one ten-minute bucket, ten one-minute ones.
    for (let i = 0; i < 70_000; i++) s.record(T0 + i * 8, i % 7 !== 0, i % 14 === 0);
    const now = T0 + 590_000;
    expect(s.totals24h(now)).toEqual({ attempts: 70_000, failures: 10_000, timeouts: 5_000 });
    expect(s.points('24h', now).at(-1)).toMatchObject({ start: T0, attempts: 70_000 });
    // Widening a resolution does not touch the other: the hour's counts stay 16-bit.
    expect(s.byteLength).toBe(SERIES_BYTES_PER_TARGET + 144 * 3 * 2);
    expect(s.points('1h', now).reduce((a, p) => a + p.attempts, 0)).toBe(70_000);
  });
});

describe('AnnouncerTimeline', () => {
  it('keeps each change once, leads with the announcer in force 24 h ago, caps the count', () => {
    const t = new AnnouncerTimeline();
    t.observe(T0, 'node-1');
    t.observe(T0 + 1000, 'node-1');
    t.observe(T0 + 2 * 3_600_000, 'node-3');
    t.observe(T0 + 2 * 3_600_000 - 5, 'node-1'); // started before the change: an older view
    t.observe(T0 + 26 * 3_600_000, 'node-1');
    expect(t.list(T0 + 27 * 3_600_000)).toEqual([{ at: T0 + 2 * 3_600_000, node: 'node-3' }, { at: T0 + 26 * 3_600_000, node: 'node-1' }]);
    expect(t.current()).toBe('node-1');
    for (let i = 0; i < 2 * MAX_CHANGES; i++) t.observe(T0 + 27 * 3_600_000 + i, i % 2 ? 'node-2' : null);
    expect(t.list(T0 + 28 * 3_600_000)).toHaveLength(MAX_CHANGES);
  });
});
