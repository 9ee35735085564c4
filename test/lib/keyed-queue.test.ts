import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../src/lib/keyed-queue.js';

/** A promise the test settles by hand. */
function gate(): { promise: Promise<void>; open: () => void; fail: (e: Error) => void } {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((open = res), (fail = rej)));
  return { promise, open, fail };
}

describe('KeyedQueue', () => {
  it('runs calls of one key in call order without overlap, other keys meanwhile, and forgets idle keys', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const g1 = gate();
    const a1 = q.run('a', async () => { log.push('a1 start'); await g1.promise; log.push('a1 end'); return 1; });
    const a2 = q.run('a', async () => { log.push('a2'); return 2; });
    const b1 = q.run('b', async () => { log.push('b1'); return 3; });
    expect(await b1).toBe(3);
    expect(log).toEqual(['a1 start', 'b1']);
    g1.open();
    expect(await Promise.all([a1, a2])).toEqual([1, 2]);
    expect(log).toEqual(['a1 start', 'b1', 'a1 end', 'a2']);
    await new Promise((r) => setImmediate(r));
    expect(q.size).toBe(0);
  });

  it('returns a failure to its own caller only; the next call of the key still runs', async () => {
    const q = new KeyedQueue();
    const g = gate();
    const bad = q.run('k', () => g.promise);
    const good = q.run('k', async () => 'ran');
    g.fail(new Error('disk full'));
    await expect(bad).rejects.toThrow('disk full');
    expect(await good).toBe('ran');
  });
});
