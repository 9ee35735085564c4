import { describe, expect, it } from 'vitest';
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
});
