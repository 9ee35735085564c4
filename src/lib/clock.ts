import { ERR } from './error-codes.js';

/** Time source injected everywhere, so tests advance time instead of sleeping. */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Wall-clock time, epoch milliseconds. */
  now(): number;
  /** Monotonic milliseconds for measuring durations. */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Node's timers hold at most 2^31-1 ms (~24.8 days); a longer delay fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

class RealHandle implements TimerHandle {
  timer?: NodeJS.Timeout;
  constructor(readonly id: number) {}
}

let realIds = 0;

/** Arms `handle` for `ms`, in legs of at most MAX_TIMER_MS, so a long delay is never cut short. */
function armReal(handle: RealHandle, fn: () => void, ms: number): void {
  const leg = Math.min(ms, MAX_TIMER_MS);
  handle.timer = setTimeout(() => (ms > leg ? armReal(handle, fn, ms - leg) : fn()), leg);
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(fn, ms) {
    const handle = new RealHandle(++realIds);
    armReal(handle, fn, ms > 0 ? ms : 0);
    return handle;
  },
  clearTimeout(handle) {
    if (handle instanceof RealHandle) clearTimeout(handle.timer);
  },
};

/** Resolves after ms on the given clock; rejects with the signal's reason when aborted. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clock.clearTimeout(h);
      reject(signal!.reason);
    };
    const h = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** An AbortSignal that fires after ms on the given clock (or when parent aborts). */
export function deadlineSignal(clock: Clock, ms: number, parent?: AbortSignal): { signal: AbortSignal; cancel(): void } {
  const ac = new AbortController();
  const h = clock.setTimeout(() => ac.abort(new DeadlineError(ms)), ms);
  const onParent = () => ac.abort(parent!.reason);
  if (parent) {
    if (parent.aborted) ac.abort(parent.reason);
    else parent.addEventListener('abort', onParent, { once: true });
  }
  return {
    signal: ac.signal,
    cancel() {
      clock.clearTimeout(h);
      parent?.removeEventListener('abort', onParent);
    },
  };
}

export class DeadlineError extends Error {
  readonly code = ERR.DEADLINE;
  constructor(readonly ms: number) {
    super(`deadline of ${ms}ms exceeded`);
    this.name = 'DeadlineError';
  }
}
