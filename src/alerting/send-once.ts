import { deadlineSignal, type Clock } from '../lib/clock.js';
import { classifyError, type DeliveryError } from './delivery-error.js';
import type { Notification } from './notification.js';
import type { Sink } from './sink.js';

export type SendResult = { ok: true; ms: number } | { ok: false; ms: number; error: DeliveryError };

/** One attempt, bounded by the sink's timeout (or the parent signal); never throws. */
export async function sendOnce(sink: Sink, n: Notification, clock: Clock, parent?: AbortSignal): Promise<SendResult> {
  const start = clock.monotonic();
  const error = await boundedSend(clock, sink.timeoutMs, parent, (signal) => sink.send(n, signal));
  return error ? { ok: false, ms: clock.monotonic() - start, error } : { ok: true, ms: clock.monotonic() - start };
}

/**
 * Runs one send with a deadline signal of `timeoutMs` on the clock (aborted by `parent` too) and resolves with the
 * classified error, or undefined when it succeeded; never throws. The race is insurance: a sender that ignored its
 * signal must still not hold its queue past the deadline.
 */
export async function boundedSend(clock: Clock, timeoutMs: number, parent: AbortSignal | undefined, send: (signal: AbortSignal) => Promise<unknown>): Promise<DeliveryError | undefined> {
  const d = deadlineSignal(clock, timeoutMs, parent);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(d.signal.reason);
    if (d.signal.aborted) onAbort();
    else d.signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    await Promise.race([send(d.signal), aborted]);
    return undefined;
  } catch (err) {
    return classifyError(err, d.signal);
  } finally {
    d.signal.removeEventListener('abort', onAbort!);
    d.cancel();
  }
}
