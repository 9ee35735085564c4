import { CronSchedule } from '../lib/cron.js';

/**
 * Attempts held per target: what the diagnosis window needs at the target's rate, plus a burst and a margin, and at
 * least the 50 the API shows. Memory follows the need; nothing is cut silently: a configuration that would need more
 * than MAX_RING_ATTEMPTS for one target is refused at load.
 */
export const MAX_RING_ATTEMPTS = 100_000;
/** The compact ring with a cluster view (56 bytes an attempt, measured) plus its share of the history; for the message only. */
export const BYTES_PER_ATTEMPT = 64;

export function ringSize(periodMs: number, windowMs: number, burstCount: number): number {
  return Math.max(64, Math.ceil(windowMs / periodMs) + burstCount + 20);
}

/** The shortest gap between a cron schedule's next fire times (within its next 60), at least 1 s. */
export function cronPeriodMs(expression: string, from = Date.now()): number {
  const c = new CronSchedule(expression);
  let a = c.next(from);
  let shortest = Infinity;
  for (let i = 0; i < 60; i++) {
    const b = c.next(a);
    shortest = Math.min(shortest, b - a);
    a = b;
  }
  return Math.max(1000, shortest);
}

export function schedulePeriodMs(t: { intervalMs?: number; schedule?: string }): number {
  return t.intervalMs ?? cronPeriodMs(t.schedule!);
}

/** Why a ring of `size` attempts is refused, or undefined when it fits. */
export function ringTooLarge(size: number, windowMs: number, periodMs: number): string | undefined {
  if (size <= MAX_RING_ATTEMPTS) return undefined;
  const mib = (n: number) => Math.round((n * BYTES_PER_ATTEMPT) / 2 ** 20);
  return `diagnosis.window (${windowMs / 1000}s) at one attempt every ${periodMs / 1000}s needs ${size.toLocaleString('en')} attempts held ` +
    `(~${mib(size)} MiB); the limit is ${MAX_RING_ATTEMPTS.toLocaleString('en')} per target (~${mib(MAX_RING_ATTEMPTS)} MiB): ` +
    'lengthen the interval or shorten diagnosis.window';
}
