import { describe, expect, it } from 'vitest';
import { ZonedCron } from '../../src/alerting/digest-cron.js';
import { zonedStamp, zonedToEpoch } from '../../src/alerting/digest-zone.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('ZonedCron: a cron expression read in an IANA time zone', () => {
  it('09:00 Europe/Berlin is 08:00 UTC in winter and 07:00 UTC in summer', () => {
    const c = new ZonedCron('0 9 * * *', 'Europe/Berlin');
    expect(iso(c.next(Date.parse('2026-01-15T00:00:00Z')))).toBe('2026-01-15T08:00:00.000Z');
    // Strictly after: at the fire time itself the next one is the next day.
    expect(iso(c.next(Date.parse('2026-01-15T08:00:00Z')))).toBe('2026-01-16T08:00:00.000Z');
    expect(iso(c.next(Date.parse('2026-07-01T07:30:00Z')))).toBe('2026-07-02T07:00:00.000Z');
    // Across the spring change (29 March 2026): the day before in CET, the day itself in CEST.
    expect(iso(c.next(Date.parse('2026-03-28T12:00:00Z')))).toBe('2026-03-29T07:00:00.000Z');
  });

  it('is independent of the process time zone: UTC and New York read the same expression differently', () => {
    const from = Date.parse('2026-01-15T00:00:00Z');
    expect(iso(new ZonedCron('0 9 * * *', 'UTC').next(from))).toBe('2026-01-15T09:00:00.000Z');
    expect(iso(new ZonedCron('0 9 * * *', 'America/New_York').next(from))).toBe('2026-01-15T14:00:00.000Z');
  });

  it('days of the week and month are those of the zone; 6 fields take seconds', () => {
    // 2026-01-16 is a Friday; 23:30 on Thursday in UTC is already Friday 00:30 in Berlin.
    const fri = new ZonedCron('30 0 * * 5', 'Europe/Berlin');
    expect(iso(fri.next(Date.parse('2026-01-15T12:00:00Z')))).toBe('2026-01-15T23:30:00.000Z');
    const first = new ZonedCron('15 30 6 1 * *', 'Asia/Tokyo');
    expect(iso(first.next(Date.parse('2026-01-15T00:00:00Z')))).toBe('2026-01-31T21:30:15.000Z');
  });

  it('a time the clocks skip is skipped; one they repeat fires once', () => {
    // 02:30 does not exist in Berlin on 29 March 2026, and happens twice on 25 October 2026.
    const c = new ZonedCron('30 2 * * *', 'Europe/Berlin');
    expect(iso(c.next(Date.parse('2026-03-28T12:00:00Z')))).toBe('2026-03-30T00:30:00.000Z');
    const first = c.next(Date.parse('2026-10-24T12:00:00Z'));
    expect(iso(first)).toBe('2026-10-25T00:30:00.000Z');
    expect(iso(c.next(first))).toBe('2026-10-26T01:30:00.000Z');
    expect(zonedToEpoch({ year: 2026, month: 3, day: 29, hour: 2, minute: 30, second: 0 }, 'Europe/Berlin')).toBeUndefined();
  });

  it('shows times in the zone with its short name', () => {
    expect(zonedStamp(Date.parse('2026-01-15T08:00:00Z'), 'Europe/Berlin')).toBe('2026-01-15 09:00 GMT+1');
    expect(zonedStamp(Date.parse('2026-01-15T08:00:00Z'), 'UTC')).toBe('2026-01-15 08:00 UTC');
  });
});
