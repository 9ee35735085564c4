import cron, { type ParsedFields, type ScheduledTask } from 'node-cron';
import { nextDay, zonedTime, zonedToEpoch } from './digest-zone.js';

/** Days searched for a fire time: 8 years covers "29 February on a Monday" and anything else that ever fires. */
const MAX_DAYS = 8 * 366;

/**
 * Fire times of a cron expression read in an IANA time zone, from node-cron's own parser and its time-zone matcher, so
 * the digest's schedule runs on the injected clock (node-cron's own timers would tie tests to real time).
 * `0 9 * * *` in Europe/Berlin fires at 08:00 UTC in winter and 07:00 UTC in summer; a time the clocks skip over is
 * skipped, one they repeat fires once.
 */
export class ZonedCron {
  private readonly seconds: number[];
  private readonly minutes: number[];
  private readonly hours: number[];
  private readonly months: number[];
  private readonly matcher: ScheduledTask;

  constructor(readonly expression: string, readonly timeZone: string) {
    const f: ParsedFields = cron.parse(expression);
    const asc = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
    this.seconds = asc(f.second);
    this.minutes = asc(f.minute);
    this.hours = asc(f.hour);
    this.months = asc(f.month);
    // Used only for match() (day of month and day of week, in the zone): taken out of node-cron's registry at once.
    this.matcher = cron.createTask(expression, () => {}, { timezone: timeZone });
    void this.matcher.destroy();
  }

  /** Epoch ms of the first fire time strictly after `after`. */
  next(after: number): number {
    const from = Math.floor(after / 1000) * 1000 + 1000;
    let date: Pick<ReturnType<typeof zonedTime>, 'year' | 'month' | 'day'> = zonedTime(from, this.timeZone);
    for (let i = 0; i < MAX_DAYS; i++, date = nextDay(date)) {
      if (!this.months.includes(date.month)) continue;
      const found = this.firstOnDay(date, from);
      if (found !== undefined) return found;
    }
    throw new Error(`cron expression ${JSON.stringify(this.expression)} never fires in ${MAX_DAYS} days`);
  }

  private firstOnDay(date: Pick<ReturnType<typeof zonedTime>, 'year' | 'month' | 'day'>, from: number): number | undefined {
    for (const hour of this.hours) {
      for (const minute of this.minutes) {
        for (const second of this.seconds) {
          const at = zonedToEpoch({ ...date, hour, minute, second }, this.timeZone);
          if (at === undefined || at < from) continue;
          // Hour, minute, second and month match by construction: a miss is the day (day of month or week).
          if (!this.matcher.match(new Date(at))) return undefined;
          return at;
        }
      }
    }
    return undefined;
  }
}
