import { describe, expect, it } from 'vitest';
import type { Attempt, FailureAttribution } from '../../src/history/attempt.js';
import { AttemptStore } from '../../src/history/attempt-store.js';
import { TargetHistory } from '../../src/history/history.js';
import type { WindowName } from '../../src/history/windows.js';
import { seededRandom } from '../support/jitter-clock.js';
import { AttemptGen, T0 } from './random-attempts.js';
import { ReferenceHistory } from './reference-history.js';

const WINDOW_NAMES: WindowName[] = ['1m', '5m', '15m'];
const ATTRIBUTIONS: FailureAttribution[] = [{ node: 'node-1', how: 'inferred' }, { node: 'node-2', how: 'observed' }, { node: 'ambiguous', how: 'inferred' }, { node: 'unknown', how: 'inferred' }];

/**
 * Every attempt read back equals the recorded one: same keys (absent or undefined alike), values, key order; frozen
 * (an attempt of another shape altogether is kept and given back as the recorded object itself).
 */
function expectSameAttempts(got: Attempt[], want: Attempt[]): void {
  expect(got).toStrictEqual(want);
  expect(JSON.stringify(got)).toBe(JSON.stringify(want));
  got.forEach((a, i) => expect(Object.isFrozen(a) || a === want[i]).toBe(true));
}

function expectSameReads(h: TargetHistory, ref: ReferenceHistory, r: () => number, gen: AttemptGen): void {
  const last = h.last();
  expect(last).toStrictEqual(ref.last());
  if (last) expect(Object.isFrozen(last) || last === ref.last()).toBe(true);
  expectSameAttempts(h.recent(), ref.recent());
  for (const n of [0, 1, Math.floor(r() * (h.capacity + 3)), h.capacity + 1]) expectSameAttempts(h.recent(n), ref.recent(n));
  for (const ms of [0, 1000, Math.floor(r() * 600_000), 10_000_000]) {
    const now = gen.now + Math.floor(r() * 4000) - 2000;
    expectSameAttempts(h.since(ms, now), ref.since(ms, now));
  }
  const held = ref.recent();
  const seqs = [...held.map((a) => a.seq), 0, -1, 1e9, held[0] ? held[0].seq - 1 : 1];
  for (const s of seqs) expect(h.attributionOf(s)).toStrictEqual(ref.attributionOf(s));
  const epn = r() < 0.5 ? undefined : { 'node-0': 1, 'node-9': 2 };
  const counts = h.nodeCounts(epn);
  expect(counts).toStrictEqual(ref.nodeCounts(epn));
  expect(Object.keys(counts)).toEqual(Object.keys(ref.nodeCounts(epn)));
  for (const w of WINDOW_NAMES) expect(h.stats(w, gen.now)).toStrictEqual(ref.stats(w, gen.now));
  expect(h.allStats(gen.now + 30_000)).toStrictEqual(ref.allStats(gen.now + 30_000));
}

describe('compact TargetHistory against the plain-array reference', () => {
  for (const [capacity, attempts, seed] of [[1, 600, 1], [2, 800, 2], [7, 1500, 3], [64, 3000, 4], [300, 3000, 5]] as const) {
    it(`capacity ${capacity}: ${attempts} random attempts, every read equal to what was recorded`, () => {
      const r = seededRandom(seed);
      const gen = new AttemptGen(seededRandom(seed * 7919));
      const h = new TargetHistory('t', capacity);
      const ref = new ReferenceHistory('t', capacity);
      expect(h.capacity).toBe(capacity);
      expect(h.last()).toBeUndefined();
      expect(h.recent()).toEqual([]);
      for (let i = 0; i < attempts; i++) {
        const next = h.nextSeq();
        expect(ref.nextSeq()).toBe(next);
        const a = gen.next(gen.seq(next));
        h.record(a);
        ref.record(a);
        // The diagnosis attributes most failures, sometimes late, sometimes twice, sometimes a seq no longer held.
        if (!a.ok && r() < 0.8) {
          const at = ATTRIBUTIONS[Math.floor(r() * ATTRIBUTIONS.length)]!;
          const seq = r() < 0.9 ? a.seq : a.seq - Math.floor(r() * (capacity + 2));
          h.attribute(seq, at);
          ref.attribute(seq, at);
        }
        if (i % Math.max(2, Math.floor(capacity / 2)) === 0 || i > attempts - 3) expectSameReads(h, ref, r, gen);
      }
    });
  }

  it('reads back a failure detail, an odd seq and an odd number exactly, and keeps absent and undefined keys apart', () => {
    const h = new TargetHistory('t', 4);
    const a: Attempt = { ok: false, reason: 'connect_timeout', detail: 'no SYN-ACK within 1000ms', errorCode: undefined, timings: { connectMs: undefined, totalMs: 1000.0004 }, synRetransmit: false, seq: 7.5, target: 't', startedAt: T0 + 0.25, stalled: false, burst: true };
    const b: Attempt = { ok: true, timings: { totalMs: 0.412 }, synRetransmit: false, sourcePort: 65_535, seq: 8.5, target: 't', startedAt: T0 + 1, stalled: false, burst: false, cluster: undefined };
    h.record(a);
    h.record(b);
    expectSameAttempts(h.recent(), [a, b]);
    expect(h.recent()[0]).not.toHaveProperty('sourcePort');
    expect(h.recent()[0]).toHaveProperty('errorCode', undefined);
    expect(h.recent()[1]).toHaveProperty('cluster', undefined);
  });
});

describe('AttemptStore interning', () => {
  const steady = (seq: number): Attempt => ({
    ok: seq % 4 !== 0, reason: seq % 4 ? undefined : 'connect_timeout', detail: seq % 4 ? undefined : 'no SYN-ACK within 1000ms', timings: { connectMs: 0.3, totalMs: 1.2 },
    synRetransmit: false, sourcePort: 40_000 + (seq % 1000), remoteAddress: '192.0.2.1', backend: seq % 4 ? `web-a-${seq % 3}` : undefined, seq, target: 't', startedAt: T0 + seq * 1000,
    stalled: false, burst: false, cluster: { announcerNode: 'node-1', endpointsPerNode: { 'node-0': 1, 'node-1': 1, 'node-2': 1 }, metadataAgeMs: seq % 5000, stale: false, viewVersion: 'v1' },
    backendNode: seq % 4 ? `node-${seq % 3}` : undefined,
  });

  it('returns to its size after months of pod churn, failure details and cluster views, reusing ids', () => {
    const cap = 50;
    const s = new AttemptStore(cap);
    let seq = 0;
    for (let i = 0; i < cap; i++) s.push(steady(++seq));
    const before = s.tableSizes();
    expect(before.shapes).toBeGreaterThan(0);
    expect(before.clusters).toBe(1);
    // Every attempt a new pod, a new detail and, every 10, a new cluster view with nodes that come and go.
    for (let i = 0; i < 20 * cap; i++) {
      const a = steady(++seq);
      const view = Math.floor(seq / 10);
      s.push({ ...a, detail: `unique ${seq}`, backend: `web-${seq}-x2x7k`, cluster: { ...a.cluster!, endpointsPerNode: { [`node-${view}`]: 1 }, viewVersion: `v${view}` } });
      expect(s.tableSizes().shapes).toBeLessThanOrEqual(cap);
      expect(s.tableSizes().clusters).toBeLessThanOrEqual(cap);
    }
    for (let i = 0; i < cap; i++) s.push(steady(++seq));
    expect(s.tableSizes()).toEqual(before);
    // Ids are reused: never more were handed out than held at once (the ring plus the one being recorded).
    expect(s.idsAllocated().shapes).toBeLessThanOrEqual(cap + 1);
    expect(s.idsAllocated().clusters).toBeLessThanOrEqual(cap + 1);
    expect(s.toArray()).toStrictEqual(Array.from({ length: cap }, (_, i) => steady(seq - cap + 1 + i)));
  });

  it('holds the VIP\'s neighbour entry per attempt in the interned view: a split brain flipping between two MACs costs two entries', () => {
    const cap = 100;
    const s = new AttemptStore(cap);
    const flipping = (seq: number): Attempt => {
      const a = steady(seq);
      const mac = Math.floor(seq / 8) % 2 ? '02:00:00:00:00:03' : '02:00:00:00:00:01';
      // Every 8th attempt straddles a flip: its entry changed while it ran.
      return { ...a, cluster: { ...a.cluster!, neighbour: { macs: [mac], nodes: [`node-${mac.slice(-1)}`], steady: seq % 8 !== 0 } } };
    };
    for (let seq = 1; seq <= 3 * cap; seq++) s.push(flipping(seq));
    expect(s.tableSizes().clusters).toBe(4); // two MACs, steady or not
    const back = s.toArray();
    expect(back).toStrictEqual(Array.from({ length: cap }, (_, i) => flipping(2 * cap + 1 + i)));
    expect(back[0]!.cluster!.neighbour).toEqual({ macs: ['02:00:00:00:00:03'], nodes: ['node-3'], steady: true });
    expect(Object.isFrozen(back[0]!.cluster!.neighbour!.macs)).toBe(true);
  });

  it('keeps starts exact across months (the base moves) and odd starts aside; a tcp ring holds no tls or first-byte column', () => {
    const cap = 20;
    const s = new AttemptStore(cap);
    const day = 86_400_000;
    const at = (seq: number) => (seq === 7 ? T0 + 0.5 : seq === 9 ? -0 : seq === 11 ? 2 ** 60 : T0 + Math.floor(seq / 4) * 30 * day + seq);
    const tcp = (seq: number): Attempt => ({ ...steady(seq), timings: { connectMs: 0.3, totalMs: 1.2 }, startedAt: at(seq) });
    const recorded: Attempt[] = [];
    for (let seq = 1; seq <= 3 * cap; seq++) {
      const a = tcp(seq);
      recorded.push(a);
      s.push(a);
      expect(s.toArray()).toStrictEqual(recorded.slice(-cap));
    }
    // 20 slots x (uint32 start + uint16 port + uint16 shape + flag byte + uint32 metadata age + connect and total uint32).
    expect(s.columnBytes()).toBe(cap * (4 + 2 + 2 + 1 + 4 + 8));
    s.push({ ...tcp(3 * cap + 1), timings: { connectMs: 0.3, tlsMs: 2, totalMs: 3 } });
    expect(s.columnBytes()).toBe(cap * (4 + 2 + 2 + 1 + 4 + 12));
    expect(s.last()!.timings).toEqual({ connectMs: 0.3, tlsMs: 2, totalMs: 3 });
    expect(s.toArray(2)[0]!.timings).toStrictEqual({ connectMs: 0.3, totalMs: 1.2 });
  });

  it('a ring of more than 65,535 attempts holds that many distinct shapes, and a column added late keeps every other column', () => {
    const cap = 70_000;
    const s = new AttemptStore(cap);
    const at = (seq: number): Attempt => ({
      ok: false, reason: 'refused', detail: `refused #${seq}`, timings: { connectMs: 0.25, totalMs: 0.5 }, synRetransmit: false, sourcePort: seq % 65_536,
      seq, target: 't', startedAt: T0 + seq, stalled: false, burst: false,
    });
    for (let seq = 1; seq <= cap + 10; seq++) s.push(at(seq));
    expect(s.tableSizes().shapes).toBe(cap);
    const late: Attempt = { ...at(cap + 11), timings: { connectMs: 0.25, firstByteMs: 1, totalMs: 2 } };
    s.push(late);
    expect(s.columnBytes()).toBe(cap * (4 * 4 + 4 + 2 + 1)); // start, 3 timings, uint32 shape id, port, flag
    const back = s.toArray();
    expect(back[0]).toStrictEqual(at(12));
    expect(back[cap - 2]).toStrictEqual(at(cap + 10));
    expect(back[cap - 1]).toStrictEqual(late);
  });

  it('rejects a bad capacity', () => {
    expect(() => new AttemptStore(0)).toThrow(RangeError);
    expect(() => new TargetHistory('t', 1.5)).toThrow(RangeError);
  });
});
