/**
 * Failover gaps (src/diagnosis/failover-gaps.ts): per announcer change, from the first of the failures right before
 * it (or the first attempt under the new announcer when none failed) to the first success through the new one; open,
 * never 0, while no such success came.
 */
import { describe, expect, it } from 'vitest';
import { DIAGNOSIS_DEFAULTS } from '../../src/config/sections/diagnosis.js';
import { DiagnosisEngine } from '../../src/diagnosis/engine.js';
import { changeStart, failoverGapsLine, FailoverGapTracker, gapsInWindow, RECENT_GAPS, type FailoverGap } from '../../src/diagnosis/failover-gaps.js';
import type { Attempt, AttemptNeighbour } from '../../src/history/attempt.js';
import { TargetHistory } from '../../src/history/history.js';
import { context, STEP, Stream, T0, web } from './helpers.js';

const WINDOW = DIAGNOSIS_DEFAULTS.windowMs;
const MAC1 = '02:00:00:00:00:01';
const MAC3 = '02:00:00:00:00:03';

const on = (node: string) => context({ announcerNode: node });
const mac = (m: string, over: Partial<AttemptNeighbour> = {}) =>
  context({ neighbour: { macs: [m], nodes: [m === MAC1 ? 'node-1' : 'node-3'], steady: true, ...over } });

/** Feeds attempts in the order given; the window is every attempt fed so far. Returns the gaps closed. */
function feed(tracker: FailoverGapTracker, attempts: readonly Attempt[], seen: Attempt[] = []): FailoverGap[] {
  const closed: FailoverGap[] = [];
  for (const a of attempts) {
    seen.push(a);
    const g = tracker.feed(a, () => seen);
    if (g) closed.push(g);
  }
  return closed;
}

/** Same attempt, another start (for completion-order tests). */
const at = (a: Attempt, startedAt: number): Attempt => ({ ...a, startedAt });
const ok = (a: Attempt, over: Partial<Attempt> = {}): Attempt => ({ ...a, ok: true, reason: undefined, ...over });

describe('a view-based failover', () => {
  it('runs from the first of the failures under the old announcer to the first success under the new one', () => {
    // 10 good attempts on node-1, then node-1 stops (3 timeouts), the view moves to node-3, 2 more fail, then one succeeds.
    const s = new Stream().view(on('node-1')).add('.', 10).add('XXX').view(on('node-3')).add('XX.').add('.', 3);
    const t = new FailoverGapTracker(WINDOW);
    const closed = feed(t, s.attempts);
    expect(closed).toHaveLength(1);
    const g = closed[0]!;
    // Attempts 11..15 failed (5 attempts of 2 s), the 16th succeeded: 10 s from the first failure.
    expect(g).toMatchObject({ source: 'view', from: 'node-1', to: 'node-3', at: T0 + 10 * STEP, firstNewAt: T0 + 13 * STEP, closedAt: T0 + 15 * STEP, open: null });
    expect(g.seconds).toBe(10);
    expect(t.recent()).toEqual([g]);
  });

  it('reads 0 when no attempt failed across the change, and one interval when only the first under the new one did', () => {
    const clean = feed(new FailoverGapTracker(WINDOW), new Stream().view(on('node-1')).add('.', 5).view(on('node-3')).add('.', 2).attempts);
    expect(clean.map((g) => [g.seconds, g.open])).toEqual([[0, null]]);
    const one = feed(new FailoverGapTracker(WINDOW), new Stream().view(on('node-1')).add('.', 5).view(on('node-3')).add('X.').attempts);
    expect(one.map((g) => g.seconds)).toEqual([STEP / 1000]);
  });

  it('ignores failures that a success separates from the change, and the first announcer ever seen', () => {
    // X then a success on node-1: the old path still worked, so the change counts from the first attempt on node-3.
    const s = new Stream().view(on('node-1')).add('..X.').view(on('node-3')).add('XX.');
    const closed = feed(new FailoverGapTracker(WINDOW), s.attempts);
    expect(closed.map((g) => [g.at, g.seconds])).toEqual([[T0 + 4 * STEP, 4]]);
    // No announcer before the first attempt: nothing changed.
    expect(feed(new FailoverGapTracker(WINDOW), new Stream().view(on('node-3')).add('X.').attempts)).toEqual([]);
  });

  it('does not count an announcer appearing or disappearing from the view as a change', () => {
    const s = new Stream().view(context({ announcerNode: undefined })).add('..').view(on('node-1')).add('..')
      .view(context({ announcerNode: undefined })).add('X.').view(on('node-1')).add('.');
    const t = new FailoverGapTracker(WINDOW);
    expect(feed(t, s.attempts)).toEqual([]);
    expect(t.recent()).toEqual([]);
  });
});

describe('a MAC flip', () => {
  it('gives one gap, not a second one for the view that moved with it, measured from the failures under the old MAC', () => {
    const s = new Stream()
      .view(mac(MAC1)).add('.', 5)
      // node-1 dies: the view already names node-3, but the client still sends to node-1's MAC until the gratuitous ARP.
      .view({ ...mac(MAC1), announcerNode: 'node-3' }).add('XXXX')
      .view({ ...mac(MAC3), announcerNode: 'node-3' }).add('..');
    const t = new FailoverGapTracker(WINDOW);
    const closed = feed(t, s.attempts);
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ source: 'mac', from: 'node-1', to: 'node-3', fromMac: MAC1, toMac: MAC3, at: T0 + 5 * STEP, seconds: 8 });
    expect(t.recent()).toHaveLength(1);
  });

  it('is not closed by stalled attempts, probe errors, unsteady entries or two MACs at once', () => {
    const s = new Stream().view(mac(MAC1)).add('.', 3).add('XX').view(mac(MAC3)).add('X');
    const good = new Stream().view(mac(MAC3)).add('.').attempts[0]!;
    const late = (n: number, over: Partial<Attempt>, cluster = good.cluster): Attempt => ({ ...good, seq: 100 + n, startedAt: T0 + (5 + n) * STEP, cluster, ...over });
    const notClosing = [
      late(1, { stalled: true }),
      late(2, { ok: false, reason: 'probe_error' }),
      late(3, {}, mac(MAC3, { steady: false })),
      late(4, {}, context({ neighbour: { macs: [MAC1, MAC3], nodes: ['node-1', 'node-3'], steady: true } })),
      // An entry vipwatch could not resolve (no MAC): the announcer is not known, whatever the view says.
      late(5, {}, context({ announcerNode: 'node-3', neighbour: { macs: [], nodes: [], steady: true } })),
    ];
    const t = new FailoverGapTracker(WINDOW);
    const seen: Attempt[] = [];
    expect(feed(t, [...s.attempts, ...notClosing], seen)).toEqual([]);
    expect(t.recent()).toMatchObject([{ source: 'mac', open: 'waiting', seconds: null, closedAt: null }]);
    expect(failoverGapsLine(t.recent())).toContain('open, no success through node-3 yet (MAC');
    // The first steady success through the new MAC closes it: from the first X (attempt 4) to attempt 12.
    const closed = feed(t, [late(6, {})], seen);
    expect(closed.map((g) => g.seconds)).toEqual([(11 - 3) * STEP / 1000]);
  });

  it('names the MAC when no node is known to own it', () => {
    const s = new Stream().view(mac(MAC1, { nodes: [] })).add('..').view(mac(MAC3, { nodes: [] })).add('X.');
    const t = new FailoverGapTracker(WINDOW);
    feed(t, s.attempts);
    expect(failoverGapsLine(t.recent())).toContain(`unknown node (${MAC1}) -> unknown node (${MAC3}) at 00:00:04Z: 2.0 s (MAC ${MAC1} -> ${MAC3})`);
  });
});

describe('changes that never see a success through the new announcer', () => {
  it('stay open when the next change comes first, and the next gap counts from the first failure under the one that never served', () => {
    // Split brain: node-3 takes the VIP and drops everything, then node-1 has it back.
    const s = new Stream().view(mac(MAC1)).add('.', 3).view(mac(MAC3)).add('XX').view(mac(MAC1)).add('..');
    const t = new FailoverGapTracker(WINDOW);
    const closed = feed(t, s.attempts);
    expect(t.recent().map((g) => [g.to, g.open, g.seconds])).toEqual([['node-3', 'superseded', null], ['node-1', null, 4]]);
    expect(closed).toHaveLength(1);
    expect(failoverGapsLine(t.recent())).toBe(
      'Failover gaps (from the first of the failures right before an announcer change, or from the first attempt under the new announcer when none failed, to the first success through it; good to the probe interval): ' +
      `node-1 -> node-3 at 00:00:06Z: open, node-3 served nothing before the next change (MAC ${MAC1} -> ${MAC3}); node-3 -> node-1 at 00:00:06Z: 4.0 s (MAC ${MAC3} -> ${MAC1}).`,
    );
  });

  it('expire open after the window, and a success after that closes nothing', () => {
    const t = new FailoverGapTracker(WINDOW);
    const s = new Stream().view(on('node-1')).add('..').view(on('node-3')).add('X', WINDOW / STEP + 2).add('.');
    expect(feed(t, s.attempts)).toEqual([]);
    expect(t.recent().map((g) => g.open)).toEqual(['expired']);
    expect(failoverGapsLine(t.recent())).toContain('open, no success through node-3 within the window');
    // Out of the window now: the evidence drops it with the window.
    expect(gapsInWindow(t.recent(), WINDOW, s.now)).toEqual([]);
  });
});

describe('a path that stopped long before the change', () => {
  it('closes within a window of the first attempt under the new announcer, from the first failure the window holds', () => {
    // node-1 stops at 4 s; the view moves to node-3 only at 204 s, which serves at 324 s: more than a window after the
    // first failure, less than one after the change was seen.
    const s = new Stream().view(on('node-1')).add('..').add('X', 100).view(on('node-3')).add('X', 60).add('.').attempts;
    const closed = feed(new FailoverGapTracker(WINDOW), s);
    expect(closed.map((g) => [g.at, g.firstNewAt, g.seconds])).toEqual([[T0 + 2 * STEP, T0 + 102 * STEP, 320]]);
    // Given only the window before the success (as the engine does), the run starts at the window's edge.
    const end = s.at(-1)!.startedAt;
    const windowed: Attempt[] = [];
    const t = new FailoverGapTracker(WINDOW);
    const gaps = s.flatMap((a) => {
      windowed.push(a);
      const g = t.feed(a, () => windowed.filter((w) => w.startedAt >= a.startedAt - WINDOW));
      return g ? [g] : [];
    });
    expect(gaps.map((g) => g.seconds)).toEqual([WINDOW / 1000]);
    expect(gaps[0]!.closedAt).toBe(end);
  });
});

describe('attempts in completion order', () => {
  it('an older attempt arriving late makes no change back, and a late failure before the change still counts', () => {
    const s = new Stream().view(on('node-1')).add('.', 3).add('XX').view(on('node-3')).add('X.').attempts;
    // Attempt 5 (a failure under node-1, started before node-3's first) completes after node-3's first attempt.
    const order = [s[0]!, s[1]!, s[2]!, s[3]!, s[5]!, s[4]!, s[6]!];
    const t = new FailoverGapTracker(WINDOW);
    const closed = feed(t, order);
    expect(closed.map((g) => [g.at, g.seconds])).toEqual([[T0 + 3 * STEP, 6]]);
    expect(t.recent()).toHaveLength(1);
  });

  it('a success through the new announcer that started before the first one seen moves the first attempt back', () => {
    const s = new Stream().view(on('node-1')).add('..X').view(on('node-3')).add('XX').attempts;
    const early = ok(at(s[3]!, s[3]!.startedAt - 1), { seq: 50 });
    const t = new FailoverGapTracker(WINDOW);
    const closed = feed(t, [...s, early]);
    expect(closed).toMatchObject([{ firstNewAt: early.startedAt, at: T0 + 2 * STEP, closedAt: early.startedAt }]);
    expect(closed[0]!.seconds).toBe((STEP - 1) / 1000);
  });
});

describe('window helpers', () => {
  it('changeStart: the first failure after the newest success before the change, in any order', () => {
    const s = new Stream().add('.X.XXs').attempts;
    expect(changeStart([...s].reverse(), T0 + 6 * STEP)).toBe(T0 + 3 * STEP);
    expect(changeStart(s, T0 + 3 * STEP)).toBe(T0 + 3 * STEP);
    expect(changeStart([], 42)).toBe(42);
  });

  it('gapsInWindow keeps the changes in the window, the newest RECENT_GAPS', () => {
    const gaps = Array.from({ length: 15 }, (_, i): FailoverGap => ({ source: 'view', from: 'a', to: 'b', at: i * 1000, firstNewAt: i * 1000, closedAt: null, seconds: null, open: 'waiting' }));
    expect(gapsInWindow(gaps, 100_000, 14_000).map((g) => g.at)).toEqual(gaps.slice(-RECENT_GAPS).map((g) => g.at));
    expect(gapsInWindow(gaps, 2000, 14_000).map((g) => g.at)).toEqual([12_000, 13_000, 14_000]);
    expect(failoverGapsLine([])).toBeUndefined();
  });
});

describe('the engine', () => {
  it('returns the gap an attempt closed and puts the recent gaps in the diagnosis evidence', () => {
    const engine = new DiagnosisEngine(DIAGNOSIS_DEFAULTS);
    const history = new TargetHistory('web', 512);
    const s = new Stream().view(on('node-1')).add('.', 10).add('XXX').view(on('node-3')).add('XX.');
    const steps = s.attempts.map((a) => {
      history.record(a);
      return engine.step({ attempt: a, target: web, history, view: undefined, now: a.startedAt + 1, incidentOpen: false });
    });
    expect(steps.filter((st) => st.failoverGap).map((st) => st.failoverGap!.seconds)).toEqual([10]);
    expect(steps.at(-1)!.failoverGap).toMatchObject({ from: 'node-1', to: 'node-3' });
    // The closing attempt was diagnosed (failures in the window): its evidence carries the line.
    expect(steps.at(-1)!.diagnosed).toBe(true);
    expect(steps.at(-1)!.diagnosis!.evidence.at(-1)).toMatch(/^Failover gaps \(.*\): node-1 -> node-3 at 00:00:20Z: 10\.0 s\.$/);
    // The open change was already there while it waited.
    expect(steps.at(-2)!.diagnosis!.evidence.at(-1)).toContain('node-1 -> node-3 at 00:00:20Z: open, no success through node-3 yet');
    engine.forget('web');
    const after = new Stream().view(on('node-3')).add('X').attempts[0]!;
    const fresh = new TargetHistory('web', 512);
    fresh.record(after);
    const st = engine.step({ attempt: after, target: web, history: fresh, view: undefined, now: after.startedAt + 1, incidentOpen: false });
    expect(st.diagnosis!.evidence.some((l) => l.startsWith('Failover gaps'))).toBe(false);
  });
});
