/**
 * Keyed serialisation: `run(key, fn)` starts fn after every earlier call for the same key has settled (resolved or
 * rejected), so async steps on one key never interleave while different keys run concurrently. A failure is
 * returned to its own caller only; the next call for the key still runs. Idle keys hold no memory.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn);
    const tail = next.then(() => {}, () => {});
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Keys with a call pending or running (for tests and diagnostics). */
  get size(): number {
    return this.tails.size;
  }
}
