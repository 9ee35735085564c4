import cron from 'node-cron';
import { cronPeriodMs } from '../ring-size.js';
import { arrayOf, bool, field, object, str, typeName, type Validator } from '../schema-dsl.js';

/** `alerting.digest`: a daily summary of the last 24 h, mailed and posted on a cron schedule in a time zone. */
export interface DigestConfig {
  /** Cron expression (5 fields, or 6 with seconds), read in `timezone`. */
  schedule: string;
  /** IANA time zone name, as Intl canonicalises it ("UTC" by default). */
  timezone: string;
  /** No digest when no target had a failure or an incident in the 24 h. */
  skipWhenQuiet: boolean;
  /** Names of the email and webhook sinks that get it, in config order (default: every one of them). */
  sinks: string[];
}

/** The decoded section before the sink names are checked against the sinks (alerting.ts does that). */
export interface DigestSection {
  schedule: string;
  timezone: string;
  skipWhenQuiet: boolean;
  sinks?: string[];
}

/** A digest sums up 24 h: one more often than this is a mistake (a cron field left at "*"), refused at load. */
export const MIN_DIGEST_GAP_MS = 3_600_000;

const digestSchedule: Validator<string> = (v, path, ctx) => {
  if (typeof v !== 'string' || v.trim() === '') return ctx.report(path, `must be a cron expression string like "0 9 * * *", got ${typeName(v)}`);
  const fields = v.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) return ctx.report(path, `must be a cron expression of 5 fields (minute hour day month weekday, like "0 9 * * *") or 6 with seconds, got ${fields} fields`);
  if (!cron.validate(v)) return ctx.report(path, `invalid cron expression ${JSON.stringify(v)}`);
  let gap: number;
  try {
    gap = cronPeriodMs(v);
  } catch {
    return ctx.report(path, `cron expression ${JSON.stringify(v)} never fires`);
  }
  if (gap < MIN_DIGEST_GAP_MS)
    return ctx.report(path, `fires every ${Math.round(gap / 1000)}s: a digest sums up 24 h, schedule it at most once an hour (like "0 9 * * *")`);
  return v.trim();
};

/** An IANA time zone name, checked (and canonicalised) by Intl.DateTimeFormat. */
export const timeZoneName: Validator<string> = (v, path, ctx) => {
  if (typeof v !== 'string' || v.trim() === '') return ctx.report(path, `must be an IANA time zone name like "Europe/Berlin" or "UTC", got ${typeName(v)}`);
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: v.trim() }).resolvedOptions().timeZone;
  } catch {
    return ctx.report(path, `unknown time zone ${JSON.stringify(v)}: use an IANA name like "Europe/Berlin", "America/New_York" or "UTC"`);
  }
};

export const digestSection = object({
  schedule: field(digestSchedule, { required: true }),
  timezone: field(timeZoneName, { default: 'UTC' }),
  skipWhenQuiet: field(bool(), { default: true }),
  sinks: field(arrayOf(str(), { minItems: 1 })),
}, (v): DigestSection => v);
