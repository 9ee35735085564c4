/**
 * Attempts vipwatch could not make itself (reason probe_error: out of fds, ephemeral ports, memory or buffers) are
 * neutral for the diagnosis: not failures, not successes, counted apart like attempts made during a probe stall.
 */
import { describe, expect, it } from 'vitest';
import { DIAGNOSIS_DEFAULTS } from '../../src/config/sections/diagnosis.js';
import { BurstPlanner } from '../../src/diagnosis/burst.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import type { ClusterSource, TargetClusterView } from '../../src/cluster/types.js';
import { DiagnosisEngine } from '../../src/diagnosis/engine.js';
import { TargetHistory } from '../../src/history/history.js';
import { FakeClock } from '../support/fake-clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { selectSample } from '../../src/diagnosis/sample.js';
import { tally } from '../../src/diagnosis/tally.js';
import type { Attempt } from '../../src/history/attempt.js';
import { run, Stream, T0, web } from './helpers.js';

/** Turns every `X` of the pattern into a probe_error (EMFILE), the way the prober reports it. */
function withProbeErrors(s: Stream): Stream {
  for (const a of s.attempts) {
    if (a.ok || a.reason !== 'connect_timeout') continue;
    Object.assign(a, { reason: 'probe_error', errorCode: 'EMFILE', detail: "vipwatch's own resources: connect EMFILE 192.0.2.100:80", timings: { totalMs: 0.2 } });
  }
  return s;
}

describe('probe_error attempts in the diagnosis', () => {
  it('a healthy target whose probe runs out of file descriptors stays healthy, not vip_unreachable', () => {
    // 21 good attempts, then 60 attempts vipwatch could not even open a socket for.
    const s = withProbeErrors(new Stream().add('123', 7).add('X', 60));
    const d = run(s);
    expect(d.verdict).toBe('healthy');
    expect(d.failures).toBe(0);
    expect(d.attempts).toBe(21);
    expect(d.excluded.probeErrors).toBe(60);
    expect(d.reasons).toEqual({});
    expect(d.evidence[0]).toContain('60 vipwatch could not make (probe_error');
  });

  it('only probe errors: insufficient data, never a verdict about the VIP', () => {
    const d = run(withProbeErrors(new Stream().add('X', 100)));
    expect(d.verdict).toBe('insufficient_data');
    expect(d.attempts).toBe(0);
    expect(d.excluded.probeErrors).toBe(100);
  });

  it('a real rp_filter signature is still found through interleaved probe errors', () => {
    // node-2 silent (real connect timeouts), and after every third attempt one that vipwatch could not make.
    const s = new Stream().add('1X3X', 14);
    for (let i = 3; i < s.attempts.length; i += 4) Object.assign(s.attempts[i]!, { reason: 'probe_error', errorCode: 'EADDRNOTAVAIL' });
    const d = run(s);
    expect(d.excluded.probeErrors).toBe(14);
    expect(d.reasons).toEqual({ connect_timeout: 14 });
    expect(d.verdict).toBe('asymmetric_routing');
    expect(d.suspectedNodes).toEqual(['node-2']);
    expect(d.failureRatio).toBeCloseTo(1 / 3, 5);
  });

  it('selectSample and tally count them apart', () => {
    const s = withProbeErrors(new Stream().add('1X', 5));
    const sample = selectSample(s.attempts, undefined, s.now, 300_000);
    expect(sample.probeErrors).toBe(5);
    expect(sample.all.every((a) => a.reason !== 'probe_error')).toBe(true);
    const t = tally(s.attempts);
    expect(t).toMatchObject({ attempts: 5, successes: 5, failures: 0 });
  });

  it('asks for no burst and is never attributed to a node', () => {
    const b = new BurstPlanner({ ...DIAGNOSIS_DEFAULTS, burst: { count: 5, spacingMs: 200, concurrency: 1, cooldownMs: 60_000, maxConcurrent: 2 } });
    const pe: Attempt = withProbeErrors(new Stream().add('X')).attempts[0]!;
    expect(b.plan({ target: 'web', attempt: pe, now: T0 })).toBeUndefined();
    expect(b.plan({ target: 'web', attempt: new Stream().add('X').attempts[0]!, now: T0 })).toBeDefined();
  });

  it('the engine neither attributes a probe_error to a node nor asks for a burst, while a real failure gets both', () => {
    const view: TargetClusterView = { endpoints: [], endpointsPerNode: { 'node-1': 1 }, stale: false };
    const engine = new DiagnosisEngine({ ...DIAGNOSIS_DEFAULTS });
    const history = new TargetHistory('web', 64);
    const pe = withProbeErrors(new Stream({ cluster: null }).add('X')).attempts[0]!;
    history.record(pe);
    const first = engine.step({ attempt: pe, target: web, history, view, now: pe.startedAt + 1, incidentOpen: false });
    expect(first.attribution).toBeUndefined();
    expect(first.burst).toBeUndefined();
    const real = new Stream({ cluster: null }).add('X').attempts[0]!;
    history.record(real);
    const second = engine.step({ attempt: real, target: web, history, view, now: real.startedAt + 1, incidentOpen: false });
    expect(second.attribution).toEqual({ node: 'node-1', how: 'inferred' }); // the only node with endpoints
    expect(second.burst).toBeDefined();
  });
});
