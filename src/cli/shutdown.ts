import type { StopOptions } from '../schedule/scheduler.js';
import type { Logger } from '../lib/logger.js';
import { EXIT } from './io.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Default time from the stop signal to the exit: Docker's `stop` and Kubernetes' grace period start at 10 s and 30 s. */
export const GRACE_MS = 10_000;
/** Of the grace period, what is kept for flushing incident state and the outbox and closing the server after the drain. */
const FLUSH_RESERVE_MS = 2000;

/** Resolves with what asked vipwatch to stop: SIGINT, SIGTERM, or 'abort' when `signal` aborts. */
export function stopRequested(signal?: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    const handlers = STOP_SIGNALS.map((sig) => [sig, () => done(sig)] as const);
    const done = (why: string) => {
      for (const [sig, h] of handlers) process.off(sig, h);
      signal?.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onAbort = () => done('abort');
    for (const [sig, h] of handlers) process.once(sig, h);
    if (signal?.aborted) done('abort');
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface GracefulStopOptions {
  /** From the stop request to the exit, at most this; then the process exits anyway (code 1) with a warning. */
  graceMs?: number;
  /** How the process is ended at the deadline or on a second SIGINT/SIGTERM. Default process.exit. */
  exit?: (code: number) => void;
}

/**
 * Stops the app within the grace period: no new attempt starts, attempts in flight may end by their own deadline
 * (up to the grace period less a reserve) and are recorded, then incident state and the outbox are flushed and the
 * server closes. Returns 0 when that finished in time. Past the grace period, or on a second SIGINT/SIGTERM, the
 * process exits at once with 1 and a warning.
 */
export async function gracefulStop(
  app: { stop(opts: StopOptions): Promise<void> },
  logger: Logger,
  why: string,
  opts: GracefulStopOptions = {},
): Promise<number> {
  const graceMs = opts.graceMs ?? GRACE_MS;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const drainMs = Math.max(0, graceMs - FLUSH_RESERVE_MS);
  logger.info('stopping: attempts in flight may end by their deadline, then state and the outbox are flushed', { signal: why, drainMs, graceMs });
  const again = (sig: string) => {
    logger.warn('second stop signal: exiting at once', { signal: sig });
    exit(EXIT.failed);
  };
  const handlers = STOP_SIGNALS.map((sig) => [sig, () => again(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  // Not unref'd: if the stop hangs on nothing that keeps the process alive, this still ends it with its warning.
  const deadline = setTimeout(() => {
    logger.warn(`stop did not finish within ${graceMs} ms: exiting anyway`, { graceMs });
    exit(EXIT.failed);
  }, graceMs);
  try {
    await app.stop({ drainMs });
  } finally {
    clearTimeout(deadline);
    for (const [sig, h] of handlers) process.off(sig, h);
  }
  return EXIT.ok;
}
