import cron, { type ParsedFields, type ScheduledTask } from 'node-cron';

/**
 * Next fire times of a cron expression (with seconds), computed from node-cron's own parser and matcher so the
 * schedule can run on the injected clock instead of node-cron's real timers.
 */
export class CronSchedule {
  private readonly fields: ParsedFields;
  private readonly matcher: ScheduledTask;

  constructor(readonly expression: string) {
    this.fields = cron.parse(expression);
    // A task used only for its match() over day-of-month/day-of-week rules. createTask registers every task in a
    // process-wide registry; destroying it at once takes it out again (match() keeps working), so loops and reloads
    // leak nothing.
    this.matcher = cron.createTask(expression, () => {});
    void this.matcher.destroy();
  }

  /** Epoch ms of the first fire time strictly after `after`. */
  next(after: number): number {
    const f = this.fields;
    const d = new Date(Math.floor(after / 1000) * 1000 + 1000);
    for (let guard = 0; guard < 200_000; guard++) {
      if (!f.month.includes(d.getMonth() + 1)) {
        d.setMonth(d.getMonth() + 1, 1);
        d.setHours(0, 0, 0, 0);
        continue;
      }
      if (!this.dayMatches(d)) {
        d.setDate(d.getDate() + 1);
        d.setHours(0, 0, 0, 0);
        continue;
      }
      if (!f.hour.includes(d.getHours())) {
        d.setHours(d.getHours() + 1, 0, 0, 0);
        continue;
      }
      if (!f.minute.includes(d.getMinutes())) {
        d.setMinutes(d.getMinutes() + 1, 0, 0);
        continue;
      }
      if (!f.second.includes(d.getSeconds())) {
        d.setSeconds(d.getSeconds() + 1, 0);
        continue;
      }
      return d.getTime();
    }
    throw new Error(`cron expression ${JSON.stringify(this.expression)} never fires`);
  }

  private dayMatches(d: Date): boolean {
    const f = this.fields;
    const probe = new Date(d.getFullYear(), d.getMonth(), d.getDate(), f.hour[0] ?? 0, f.minute[0] ?? 0, f.second[0] ?? 0);
    return this.matcher.match(probe);
  }
}
