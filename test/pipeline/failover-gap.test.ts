/**
 * The pipeline hands the failover gap the diagnosis closed to vipwatch_failover_gap_seconds, once per change, and the
 * open incident's evidence carries the gaps. Real engine, history, incidents (on a temp dir) and registry.
 */
import { describe, expect, it } from 'vitest';
import { context, STEP, Stream } from '../diagnosis/helpers.js';
import { parsePromText, sumOf } from '../lab/prom-text.js';
import { harness } from './harness.js';

describe('failover gaps through the pipeline', () => {
  it('observes each closed gap once on /metrics, never an open one, and the incident evidence lists them', async () => {
    const h = await harness();
    const on = (node: string) => context({ announcerNode: node });
    // node-1 stops (5 timeouts), the view moves to node-3 which serves after 2 more (gap 14 s); later a clean move back (0 s);
    // then node-2 takes the VIP and never serves (open).
    const s = new Stream().view(on('node-1')).add('.', 20).add('XXXXX').view(on('node-3')).add('XX').add('.', 10)
      .view(on('node-1')).add('.', 5).view(on('node-2')).add('X', 40);
    h.feed(s.attempts);
    // Incident updates are asynchronous: stopping waits for them.
    await h.incidents.stop();
    const samples = parsePromText(await h.registry.metrics());
    expect(sumOf(samples, 'vipwatch_failover_gap_seconds_count', { target: 'web' })).toBe(2);
    expect(sumOf(samples, 'vipwatch_failover_gap_seconds_sum', { target: 'web' })).toBe(7 * STEP / 1000);
    expect(sumOf(samples, 'vipwatch_failover_gap_seconds_bucket', { target: 'web', le: '0.1' })).toBe(1);
    expect(sumOf(samples, 'vipwatch_failover_gap_seconds_bucket', { target: 'web', le: '10' })).toBe(1);
    expect(sumOf(samples, 'vipwatch_failover_gap_seconds_bucket', { target: 'web', le: '15' })).toBe(2);

    // Every attempt under node-2 fails: an incident (its kind is the diagnosis's business), whose evidence has the three changes.
    const inc = h.incidents.list(false).find((i) => i.target === 'web');
    expect(inc).toBeDefined();
    const line = inc!.evidence.find((l) => l.startsWith('Failover gaps'));
    expect(line).toContain('node-1 -> node-3 at 00:00:40Z: 14.0 s; node-3 -> node-1 at 00:01:14Z: 0.0 s; node-1 -> node-2 at 00:01:24Z: open, no success through node-2 yet.');
  });
});
