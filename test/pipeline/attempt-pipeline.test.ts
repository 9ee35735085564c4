import { describe, expect, it } from 'vitest';
import { DIAGNOSIS_DEFAULTS } from '../../src/config/sections/diagnosis.js';
import { DiagnosisEngine } from '../../src/diagnosis/engine.js';
import { attemptJson } from '../../src/history/attempt-json.js';
import { parsePromText, sumBy } from '../lab/prom-text.js';
import { Stream } from '../diagnosis/helpers.js';
import { harness } from './harness.js';

describe('the attempt pipeline', () => {
  it('labels each failure once: metrics, the history, the API shape and listeners all carry the diagnosis\'s attribution', async () => {
    const h = await harness();
    // node-2 never serves and its share of attempts times out: the diagnosis isolates it after enough attempts.
    h.feed(new Stream().add('1X3', 30).attempts);
    await h.stop();
    const failures = h.outcomes.filter((o) => !o.attempt.ok);
    expect(failures.length).toBe(30);
    // Failures before the verdict are ambiguous; once node-2 is isolated, every further one is inferred to node-2.
    const labels = failures.map((o) => o.attribution!.node);
    const first = labels.indexOf('node-2');
    expect(first).toBeGreaterThan(0);
    expect(labels.slice(0, first).every((n) => n === 'ambiguous')).toBe(true);
    expect(labels.slice(first).every((n) => n === 'node-2')).toBe(true);
    expect(failures.every((o) => o.attribution!.how === 'inferred')).toBe(true);

    const byNode = sumBy(parsePromText(await h.registry.metrics()), 'vipwatch_probe_failures_total', 'node', { target: 'web' });
    expect(byNode).toEqual({ ambiguous: first, 'node-2': 30 - first });
    for (const o of failures) {
      expect(h.history.attributionOf(o.attempt.seq)).toEqual(o.attribution);
      expect(attemptJson(o.attempt, h.history.attributionOf(o.attempt.seq))).toMatchObject({ node: o.attribution!.node, nodeHow: 'inferred' });
    }
    expect(h.history.nodeCounts({ 'node-1': 1, 'node-2': 1, 'node-3': 1 })).toEqual({
      'node-1': { endpoints: 1, successes: 30, failures: 0 },
      'node-2': { endpoints: 1, successes: 0, failures: 30 - first },
      'node-3': { endpoints: 1, successes: 30, failures: 0 },
      ambiguous: { endpoints: 0, successes: 0, failures: first },
    });
    // The verdict went to incidents (opened, notified) and the burst request to the scheduler.
    expect(h.incidents.list().map((i) => [i.kind, i.suspectedNodes])).toEqual([['asymmetric_routing', ['node-2']]]);
    expect(h.events.map((e) => e.type)).toContain('open');
    expect(h.bursts.length).toBeGreaterThan(0);
  });

  it('never changes an attempt: records are frozen, and handling leaves them as they were built', async () => {
    const h = await harness();
    const drafts = new Stream().add('1X3R', 10).attempts;
    h.feed(drafts);
    await h.stop();
    expect(h.outcomes).toHaveLength(40);
    for (const o of h.outcomes) {
      expect(Object.isFrozen(o.attempt)).toBe(true);
      expect(() => {
        (o.attempt as { ok: boolean }).ok = !o.attempt.ok;
      }).toThrow(TypeError);
      expect('node' in o.attempt || 'nodeHow' in o.attempt).toBe(false);
    }
    const heldSeqs = h.history.recent().map((a) => a.seq);
    expect(heldSeqs).toEqual(h.outcomes.map((o) => o.attempt.seq));
  });

  it('a diagnosis that throws loses no attempt: it is counted with node "unknown" and the error is logged', async () => {
    const broken = new DiagnosisEngine({ ...DIAGNOSIS_DEFAULTS });
    broken.step = () => {
      throw new Error('bug in a rule');
    };
    const h = await harness({ engine: broken });
    h.feed(new Stream().add('1X', 3).attempts);
    await h.stop();
    expect(h.outcomes).toHaveLength(6);
    const text = parsePromText(await h.registry.metrics());
    expect(sumBy(text, 'vipwatch_probe_failures_total', 'node', { target: 'web' })).toEqual({ unknown: 3 });
    expect(sumBy(text, 'vipwatch_probe_attempts_total', 'result', { target: 'web' })).toEqual({ success: 3, failure: 3, probe_error: 0 });
    const errors = h.logs.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(6);
    expect(errors[0]).toMatchObject({ msg: 'diagnosis failed for an attempt (counted without a node label)', target: 'web', error: 'bug in a rule' });
  });

  it('hands the scheduler\'s answer to a burst back to the engine: a refused burst is asked for again on the next failure', async () => {
    const h = await harness({ accept: 0 });
    h.feed(new Stream().add('1', 5).add('X').add('1').add('X').attempts);
    await h.stop();
    // Nothing accepted: no cooldown was started, so the second failure asks again.
    expect(h.bursts).toHaveLength(2);
    expect(h.logs.some((l) => l.msg.startsWith('burst started'))).toBe(false);
  });
});
