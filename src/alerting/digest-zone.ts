/**
 * Wall-clock time in an IANA time zone, through Intl only: the digest's schedule is read in the configured zone and its
 * times are shown there, whatever the process's TZ.
 */

export interface ZonedTime {
  year: number;
  /** 1-12. */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const partsFormats = new Map<string, Intl.DateTimeFormat>();
const nameFormats = new Map<string, Intl.DateTimeFormat>();

function partsFormat(timeZone: string): Intl.DateTimeFormat {
  let f = partsFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    partsFormats.set(timeZone, f);
  }
  return f;
}

/** The wall-clock time at `ms` in `timeZone`. */
export function zonedTime(ms: number, timeZone: string): ZonedTime {
  const out: Record<string, number> = {};
  for (const p of partsFormat(timeZone).formatToParts(new Date(ms))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return { year: out.year!, month: out.month!, day: out.day!, hour: out.hour! % 24, minute: out.minute!, second: out.second! };
}

/** Milliseconds `timeZone` is ahead of UTC at `ms`. */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const z = zonedTime(ms, timeZone);
  return Date.UTC(z.year, z.month - 1, z.day, z.hour, z.minute, z.second) - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant a wall-clock time in `timeZone` stands for: the earlier one when the clocks went back and it happened
 * twice, undefined when the clocks went forward over it (it never happened).
 */
export function zonedToEpoch(t: ZonedTime, timeZone: string): number | undefined {
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  const first = asUtc - zoneOffsetMs(asUtc, timeZone);
  const found = [first, asUtc - zoneOffsetMs(first, timeZone)]
    .flatMap((c) => [c, c - 3_600_000, c + 3_600_000])
    .filter((c) => sameTime(zonedTime(c, timeZone), t))
    .sort((a, b) => a - b);
  return found[0];
}

/** The calendar day after y-m-d. */
export function nextDay(t: Pick<ZonedTime, 'year' | 'month' | 'day'>): Pick<ZonedTime, 'year' | 'month' | 'day'> {
  const d = new Date(Date.UTC(t.year, t.month - 1, t.day + 1));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** `2026-01-15`: the date at `ms` in `timeZone`. */
export function zonedDate(ms: number, timeZone: string): string {
  const z = zonedTime(ms, timeZone);
  return `${z.year}-${two(z.month)}-${two(z.day)}`;
}

/** `2026-01-15 09:00 GMT+1`: a time as the reader of the digest reads it, with the zone's short name. */
export function zonedStamp(ms: number, timeZone: string): string {
  const z = zonedTime(ms, timeZone);
  return `${z.year}-${two(z.month)}-${two(z.day)} ${two(z.hour)}:${two(z.minute)} ${zoneName(ms, timeZone)}`;
}

function zoneName(ms: number, timeZone: string): string {
  let f = nameFormats.get(timeZone);
  if (!f) nameFormats.set(timeZone, (f = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'short' })));
  return f.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value ?? timeZone;
}

function sameTime(a: ZonedTime, b: ZonedTime): boolean {
  return a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute && a.second === b.second;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}
