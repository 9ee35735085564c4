import { describe, expect, it } from 'vitest';
import type { Attempt } from '../../src/history/attempt.js';
import { run, Stream } from './helpers.js';

// 1-3: success served by node-N; X: connect timeout. Every third attempt goes to node-2; under the fault it times out.
const faulty = () => new Stream().add('1X3', 20);

describe('after a blamed node serves again (the fix)', () => {
  it('the fault itself is asymmetric routing on node-2', () => {
    expect(run(faulty())).toMatchObject({ verdict: 'asymmetric_routing', suspectedNodes: ['node-2'] });
  });

  it('one success through node-2 is decisive: healthy (recovered) at once, not packet loss read from the old timeouts', () => {
    const d = run(faulty().add('12'));
    expect(d).toMatchObject({ verdict: 'healthy', recovered: true, failures: 0, attempts: 1 });
    // The change point: where node-2 served again, and the attempts since (what a resolve is tested on).
    expect(d.changePoint).toMatchObject({ kind: 'served_again', node: 'node-2', attempts: 1, failures: 0 });
    expect(d.summary).toMatch(/recovered: node-2 serves again since/);
    expect(d.evidence.join(' ')).toMatch(/node-2 served a success at .* the drop through node-2 stopped there/);
  });

  it('is never a kind the attempts since the fix do not show, all the way until the window forgets the fault', () => {
    const s = faulty();
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      s.add('231'[i % 3]!);
      seen.add(run(s).verdict);
    }
    expect([...seen]).toEqual(['healthy']);
  });

  it('a timeout after the fix is judged with the attempts since: insufficient data, then the usual rules', () => {
    const d = run(faulty().add('12X'));
    expect(d.changePoint).toMatchObject({ kind: 'served_again', node: 'node-2', attempts: 2, failures: 1 });
    expect(d.verdict).toBe('insufficient_data');
    expect(d.summary).toMatch(/node-2 serves again since .*; judging the 2 attempts since/);
  });

  it('the fault coming back after the fix is found again from the attempts since the fix', () => {
    const d = run(faulty().add('123', 4).add('1X3', 20));
    expect(d).toMatchObject({ verdict: 'asymmetric_routing', suspectedNodes: ['node-2'] });
    expect(d.evidence.join(' ')).toMatch(/only the \d+ attempts since are judged/);
  });

  it('two blamed nodes: healthy only once both have served again', () => {
    const two = () => new Stream().add('1XX', 25);
    expect(run(two())).toMatchObject({ verdict: 'asymmetric_routing', suspectedNodes: ['node-2', 'node-3'] });
    expect(run(two().add('12')).verdict).toBe('insufficient_data');
    expect(run(two().add('123'))).toMatchObject({ verdict: 'healthy', recovered: true });
  });

  it('without backend identity there is no decisive success: the usual window rules apply', () => {
    const d = run(new Stream().add('.X.', 20).add('...'));
    expect(d.verdict).not.toBe('healthy');
  });

  it('judges in start order: a timeout that started before the decisive success but completed after it belongs to the past', () => {
    const s = faulty().add('12');
    // A node-2 attempt sent 1 s before the decisive success times out 2 s later: recorded after it.
    const late: Attempt = { ...new Stream().add('X').attempts[0]!, seq: 999, startedAt: s.attempts.at(-1)!.startedAt - 1000 };
    s.attempts.push(late);
    for (let i = 0; i < 25; i++) s.add('312'[i % 3]!);
    const d = run(s);
    expect(d).toMatchObject({ verdict: 'healthy', recovered: true, failures: 0 });
    expect(d.changePoint).toMatchObject({ kind: 'served_again', node: 'node-2', failures: 0 });
  });

  it('connects caught in flight by the fix (their first SYN dropped, the retransmission through) are not read as loss', () => {
    const s = faulty();
    const t = s.attempts.at(-1)!.startedAt;
    const mk = (i: number, node: string, slow: boolean): Attempt => ({
      ...new Stream().add(node.slice(-1)).attempts[0]!, seq: 1000 + i, startedAt: t + 100 + i * 150,
      ...(slow ? { synRetransmit: true, timings: { connectMs: 1003, totalMs: 1010 } } : {}),
    });
    // A burst of 8 in flight when node-2 switches to loose: the three to node-2 connect on their retransmission.
    s.attempts.push(mk(0, 'node-2', true), mk(1, 'node-1', false), mk(2, 'node-3', false), mk(3, 'node-2', true), mk(4, 'node-1', false), mk(5, 'node-2', true));
    for (let i = 0; i < 24; i++) s.add('312'[i % 3]!);
    const d = run(s, { now: s.attempts.at(-1)!.startedAt + 1 });
    expect(d.verdict).toBe('healthy');
    expect(d.slowConnects).toBe(1);
    expect(d.changePoint).toMatchObject({ kind: 'served_again', node: 'node-2', failures: 0 });
  });
});

describe('at the onset (failures begin after clean attempts)', () => {
  it('never healthy while the attempts since the first failure fail beyond noise; a stray failure is healthy again soon', () => {
    const clean = () => new Stream().add('123', 30);
    // 2 timeouts in the last 4 attempts: over the 94-attempt window they are noise (2%), since their onset they are not.
    const onset = run(clean().add('1X3X'));
    expect(onset.verdict).toBe('insufficient_data');
    expect(onset.summary).toMatch(/2 of the last 3 attempts failed \(connect_timeout x2\) after 91 that mostly worked/);
    // One stray timeout, then clean attempts: healthy within a few attempts.
    const stray = clean().add('X');
    expect(run(stray).verdict).toBe('insufficient_data');
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) seen.push(run(stray.add('123'[i % 3]!)).verdict);
    expect(seen.indexOf('healthy')).toBeGreaterThan(-1);
    expect(seen.indexOf('healthy')).toBeLessThanOrEqual(5);
    expect(seen.slice(seen.indexOf('healthy'))).toEqual(Array(8 - seen.indexOf('healthy')).fill('healthy'));
  });

  it('failures spread over the window stay healthy (noise), as before', () => {
    expect(run(new Stream().add('123', 16).add('X').add('123', 16).add('X').add('123', 4)).verdict).toBe('healthy');
  });
});
