import cron from 'node-cron';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, systemClock } from '../../src/lib/clock.js';
import { CronSchedule } from '../../src/lib/cron.js';

describe('CronSchedule', () => {
  it('leaves nothing in node-cron\'s process-wide task registry, however many schedules are built', () => {
    const before = cron.getTasks().size;
    for (let i = 0; i < 1000; i++) new CronSchedule('*/5 * * * * *').next(Date.UTC(2026, 0, 1));
    expect(cron.getTasks().size).toBe(before);
  });

  it('returns the first fire time strictly after the given time, also from inside a matching second', () => {
    const c = new CronSchedule('*/5 * * * * *');
    const t = new Date(2026, 0, 1, 0, 0, 5).getTime();
    expect(c.next(t - 1)).toBe(t);
    expect(c.next(t)).toBe(t + 5000);
    expect(c.next(t + 999)).toBe(t + 5000);
  });

  it('still honours day-of-week and day-of-month rules', () => {
    // 2026-01-05 is a Monday.
    const mondays = new CronSchedule('0 0 12 * * 1');
    expect(new Date(mondays.next(new Date(2026, 0, 1).getTime())).getDate()).toBe(5);
    const monthly = new CronSchedule('0 0 0 1 * *');
    expect(monthly.next(new Date(2026, 0, 15).getTime())).toBe(new Date(2026, 1, 1).getTime());
  });
});

describe('systemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('chains delays longer than Node\'s 2^31-1 ms timer limit instead of firing after 1 ms', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    systemClock.setTimeout(fn, 30 * 86_400_000);
    vi.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(30 * 86_400_000 - MAX_TIMER_MS - 1000);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('clears a chained timer in any leg', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const h = systemClock.setTimeout(fn, 60 * 86_400_000);
    vi.advanceTimersByTime(MAX_TIMER_MS + 10);
    systemClock.clearTimeout(h);
    vi.advanceTimersByTime(60 * 86_400_000);
    expect(fn).not.toHaveBeenCalled();
  });
});
