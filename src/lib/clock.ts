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

class RealHandle implements TimerHandle {
  constructor(readonly id: number, readonly timer: NodeJS.Timeout) {}
}

let realIds = 0;

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    return new RealHandle(++realIds, t);
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
  readonly code = 'VIPWATCH_DEADLINE';
  constructor(readonly ms: number) {
    super(`deadline of ${ms}ms exceeded`);
    this.name = 'DeadlineError';
  }
}
