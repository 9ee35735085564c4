import { deadlineSignal, type Clock } from '../lib/clock.js';
import { classifyError, type DeliveryError } from './delivery-error.js';
import type { Notification } from './notification.js';
import type { Sink } from './sink.js';

export type SendResult = { ok: true; ms: number } | { ok: false; ms: number; error: DeliveryError };

/** One attempt, bounded by the sink's timeout (or the parent signal); never throws. */
export async function sendOnce(sink: Sink, n: Notification, clock: Clock, parent?: AbortSignal): Promise<SendResult> {
  const start = clock.monotonic();
  const d = deadlineSignal(clock, sink.timeoutMs, parent);
  let onAbort: (() => void) | undefined;
  // The race is insurance: a sink that ignored its signal must still not hold the lane past the deadline.
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(d.signal.reason);
    if (d.signal.aborted) onAbort();
    else d.signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    await Promise.race([sink.send(n, d.signal), aborted]);
    return { ok: true, ms: clock.monotonic() - start };
  } catch (err) {
    return { ok: false, ms: clock.monotonic() - start, error: classifyError(err, d.signal) };
  } finally {
    d.signal.removeEventListener('abort', onAbort!);
    d.cancel();
  }
}
