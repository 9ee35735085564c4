import { describe, expect, it } from 'vitest';
import { DIAGNOSIS_DEFAULTS } from '../../src/config/sections/diagnosis.js';
import { diagnose, NO_IDENTITY_MAX_CONFIDENCE } from '../../src/diagnosis/diagnose.js';
import { context, run, Stream, web } from './helpers.js';

describe('diagnose: healthy and insufficient data', () => {
  it('calls a clean stream healthy with full confidence', () => {
    const d = run(new Stream().add('123', 15));
    expect(d.verdict).toBe('healthy');
    expect(d.confidence).toBe(1);
    expect(d.attempts).toBe(45);
    expect(d.failureRatio).toBe(0);
    expect(d.nodes['node-2']).toMatchObject({ endpoints: 1, successes: 15, failures: 0 });
    expect(d.identity).toBe('backend');
    expect(d.remediation).toEqual([]);
  });

  it('says insufficient_data below minAttempts, even when everything fails', () => {
    const d = run(new Stream().add('X', 19));
    expect(d.verdict).toBe('insufficient_data');
    expect(d.summary).toContain('19 of 20');
  });

  it('treats a stray failure as noise', () => {
    const d = run(new Stream().add('123', 10).add('X').add('123', 10));
    expect(d.verdict).toBe('healthy');
    expect(d.failures).toBe(1);
    expect(d.confidence).toBeLessThan(1);
  });

  it('ignores attempts older than the window', () => {
    const s = new Stream().add('X', 40).add('123', 10);
    // 50 attempts, 2 s apart; a 60 s window keeps the last 30 (20 of them timeouts would be in an older window).
    const d = run(s, { config: { windowMs: 59_000 } });
    expect(d.attempts).toBe(30);
    expect(d.failures).toBe(0);
    expect(d.verdict).toBe('healthy');
  });
});

describe('diagnose: asymmetric_routing with backend identity', () => {
  it('needs (1 - share)^S below 1e-4: 22 successes are not enough for a 1/3 share, 24 are', () => {
    // node-2 never answers; its share is 1/3; a third of the attempts time out.
    const early = run(new Stream().add('1X3', 11));
    expect(early.verdict).toBe('insufficient_data');
    expect(early.evidence.join(' ')).toContain('Closest node split: node-2');
    const d = run(new Stream().add('1X3', 12));
    expect(d.verdict).toBe('asymmetric_routing');
    expect(d.suspectedNodes).toEqual(['node-2']);
    expect(d.pValue).toBeCloseTo(Math.pow(2 / 3, 24), 12);
    expect(d.confidence).toBeGreaterThan(0.9999);
    expect(d.expectedFailureRatio).toBeCloseTo(1 / 3, 9);
    expect(d.failureRatio).toBeCloseTo(1 / 3, 9);
    expect(d.reasons).toEqual({ connect_timeout: 12 });
    expect(d.nodes['node-2']).toEqual({ endpoints: 1, successes: 0, failures: 12, lastSuccessAt: null });
    expect(d.summary).toContain('node-2');
    const ev = d.evidence.join('\n');
    expect(ev).toContain('(1 - 0.33)^24');
    expect(ev).toContain('interleave');
    expect(ev).toContain('announcer: node-1');
  });

  it('isolates two of three nodes after about 9 successes', () => {
    expect(run(new Stream().add('1XX', 8)).verdict).toBe('insufficient_data');
    const d = run(new Stream().add('1XX', 9));
    expect(d.verdict).toBe('asymmetric_routing');
    expect(d.suspectedNodes).toEqual(['node-2', 'node-3']);
    expect(d.expectedFailureRatio).toBeCloseTo(2 / 3, 9);
    expect(d.pValue).toBeCloseTo(Math.pow(1 / 3, 9), 12);
  });

  it('judges a fault that began mid-window on the attempts since the node last served', () => {
    const d = run(new Stream().add('123', 20).add('1X3', 12));
    expect(d.verdict).toBe('asymmetric_routing');
    expect(d.suspectedNodes).toEqual(['node-2']);
    expect(d.nodes['node-2']!.successes).toBe(20);
  });

  it('weights the share by endpoints per node', () => {
    // node-2 holds 2 of 4 endpoints: share 1/2, so (1/2)^S < 1e-4 needs 14 successes.
    const view = context({ endpointsPerNode: { 'node-1': 1, 'node-2': 2, 'node-3': 1 } });
    expect(run(new Stream({ cluster: view }).add('1X3X', 6)).verdict).toBe('insufficient_data');
    const d = run(new Stream({ cluster: view }).add('1X3X', 7));
    expect(d.verdict).toBe('asymmetric_routing');
    expect(d.suspectedNodes).toEqual(['node-2']);
    expect(d.expectedFailureRatio).toBe(0.5);
  });

  it('does not blame a silent node when too few attempts fail for its share (random loss at a lower rate)', () => {
    // node-2 silent for 30 successes (p = 5e-6), but only 2 failures: loss, not a broken third of the backends.
    const d = run(new Stream().add('13', 7).add('X').add('13', 8).add('X'));
    expect(d.verdict).not.toBe('asymmetric_routing');
  });

  it('ignores attempts made while the probe stalled', () => {
    const d = run(new Stream().add('1X3s', 12));
    expect(d.verdict).toBe('asymmetric_routing');
    expect(d.excluded.stalled).toBe(12);
    expect(d.attempts).toBe(36);
    expect(d.evidence[0]).toContain('12 made while the probe itself stalled');
  });

  it('recommends the rp_filter checks, loose mode persisted, Local with its trade-off, and never 0 without the warning', () => {
    const d = run(new Stream().add('1X3', 12));
    const text = d.remediation.join('\n');
    expect(text).toContain('net.ipv4.conf.all.rp_filter');
    expect(text).toContain('max(all, interface)');
    expect(text).toContain('/etc/sysctl.d/');
    expect(text).toContain('rp_filter=2');
    expect(text).toContain('externalTrafficPolicy: Local');
    expect(text).toContain('Trade-off');
    expect(text).toContain('SNAT');
    expect(text).toMatch(/rp_filter=0 unless .* spoofed/);
  });
});

describe('diagnose: asymmetric_routing without backend identity', () => {
  it('uses the path-drop signature (timeouts, no slow connects) with capped confidence and candidate nodes', () => {
    const d = run(new Stream().add('.X.', 30));
    expect(d.identity).toBe('none');
    expect(d.verdict).toBe('asymmetric_routing');
    expect(d.confidence).toBeLessThanOrEqual(NO_IDENTITY_MAX_CONFIDENCE);
    expect(d.suspectedNodes).toEqual(['node-2', 'node-3']);
    expect(d.expectedFailureRatio).toBeCloseTo(1 / 3, 9);
    expect(d.evidence.join('\n')).toContain('evidence is the failure pattern only');
  });

  it('calls random loss (mostly slow connects) packet_loss, never asymmetric_routing', () => {
    const d = run(new Stream().add('..S..S...S.X', 12));
    expect(d.verdict).toBe('packet_loss');
    expect(d.slowConnects).toBe(36);
    expect(d.impairedRatio).toBeCloseTo(48 / 144, 9);
    expect(d.remediation.join('\n')).toContain('ip -s link');
  });

  it('cannot tell a path drop from loss when the timeout leaves no room for a retransmission', () => {
    const target = { ...web, timeoutMs: 1000 };
    const d = run(new Stream({ timeoutMs: 1000 }).add('.X.', 30), { target });
    expect(d.verdict).toBe('packet_loss');
    expect(d.candidateNodes).toEqual(['node-2', 'node-3']);
    expect(d.remediation.join('\n')).toContain("raise the target's timeout");
  });

  it('names no node without a cluster view', () => {
    const d = run(new Stream({ cluster: null }).add('.X.', 30));
    expect(d.verdict).toBe('asymmetric_routing');
    expect(d.suspectedNodes).toEqual([]);
    expect(d.placementKnown).toBe(false);
    expect(d.evidence.join('\n')).toContain('No cluster view');
  });

  it('draws no node-level conclusion from a stale view', () => {
    const d = run(new Stream({ cluster: context({ stale: true }) }).add('1X3', 30));
    expect(d.placementKnown).toBe(false);
    expect(d.suspectedNodes).toEqual([]);
    expect(d.evidence[0]).toContain('stale');
  });
});

describe('diagnose: outages, refusals, HTTP errors, loss', () => {
  it('calls a stream that stopped working vip_unreachable and says to check other layers', () => {
    const d = run(new Stream().add('123', 15).add('X', 20));
    expect(d.verdict).toBe('vip_unreachable');
    expect(d.suspectedNodes).toEqual([]);
    expect(d.remediation[0]).toContain('check the other layers first');
    expect(d.remediation.join('\n')).toContain('ip neigh show 192.0.2.100');
  });

  it('does not call an outage in progress asymmetric routing (failures in one block, not interleaved)', () => {
    const d = run(new Stream({ cluster: null }).add('.', 40).add('X', 19));
    expect(d.verdict).not.toBe('asymmetric_routing');
  });

  it('calls a target that never worked vip_unreachable', () => {
    expect(run(new Stream().add('X', 25)).verdict).toBe('vip_unreachable');
    expect(run(new Stream().add('U', 25)).verdict).toBe('vip_unreachable');
  });

  it('attributes refusals to the node whose pod refuses', () => {
    const d = run(new Stream().add('12R', 12));
    expect(d.verdict).toBe('backend_refused');
    expect(d.suspectedNodes).toEqual(['node-3']);
    expect(d.remediation.join('\n')).toContain('not an rp_filter drop');
  });

  it('calls refusals backend_refused without naming a node when identity is missing', () => {
    const d = run(new Stream().add('..R', 12));
    expect(d.verdict).toBe('backend_refused');
    expect(d.suspectedNodes).toEqual([]);
  });

  it('calls all-refused backend_refused on every node with endpoints', () => {
    const d = run(new Stream().add('r', 25));
    expect(d.verdict).toBe('backend_refused');
    expect(d.suspectedNodes).toEqual(['node-1', 'node-2', 'node-3']);
  });

  it('names the node whose responses carry the errors', () => {
    const d = run(new Stream().add('1b3', 10));
    expect(d.verdict).toBe('http_errors');
    expect(d.suspectedNodes).toEqual(['node-2']);
    expect(d.nodes['node-2']!.failures).toBe(10);
    expect(d.evidence.join('\n')).toContain('node-2 10/10');
  });

  it('reports app-wide HTTP errors without a node', () => {
    const d = run(new Stream().add('1a2b3c', 6));
    expect(d.verdict).toBe('http_errors');
    expect(d.suspectedNodes).toEqual([]);
  });

  it('calls slow connects spread over every node packet_loss', () => {
    const d = run(new Stream().add('123S', 15).add('1X23'));
    // The slow successes carry no identity here, so identity covers 45 of 60 successes: not enough.
    expect(d.identity).toBe('none');
    expect(d.verdict).toBe('packet_loss');
  });
});

describe('diagnose: a changing cluster view', () => {
  it('does not mix evidence across views: after a failover it gathers again, then concludes', () => {
    const s = new Stream().add('1X3', 12).view(context({ announcerNode: 'node-3', viewVersion: 'v2' })).add('1X3', 3);
    const mid = run(s);
    expect(mid.verdict).toBe('insufficient_data');
    expect(mid.excluded.otherView).toBe(36);
    expect(mid.evidence.join('\n')).toContain('changed 9 attempts ago');
    s.add('1X3', 9);
    const d = run(s);
    expect(d.verdict).toBe('asymmetric_routing');
    expect(d.suspectedNodes).toEqual(['node-2']);
    expect(d.viewVersion).toBe('v2');
    expect(d.announcerNode).toBe('node-3');
  });

  it('stays healthy across a view change when nothing fails', () => {
    const d = run(new Stream().add('123', 10).view(context({ viewVersion: 'v2' })).add('12', 2));
    expect(d.verdict).toBe('healthy');
  });

  it('keeps an outage that survives a failover', () => {
    const d = run(new Stream().add('123', 10).add('X', 5).view(context({ announcerNode: 'node-2', viewVersion: 'v2' })).add('X', 16));
    expect(d.verdict).toBe('vip_unreachable');
  });

  it('uses the view given when attempts carry no cluster context', () => {
    const view = { service: 'default/web', endpoints: [], endpointsPerNode: { 'node-1': 1, 'node-2': 1, 'node-3': 1 }, announcer: { node: 'node-1', source: 'config' as const }, stale: false };
    const s = new Stream({ cluster: null }).add('1X3', 12);
    const d = run(s);
    expect(d.placementKnown).toBe(false);
    const d2 = diagnose({ target: web, attempts: s.attempts, view, now: s.now, config: DIAGNOSIS_DEFAULTS });
    expect(d2.verdict).toBe('asymmetric_routing');
    expect(d2.suspectedNodes).toEqual(['node-2']);
  });

  it('notices the recovery long before the failures leave the window (no backend identity: by the streak)', () => {
    // 12 failures in 35 attempts, then successes: at a failure rate bounded below by ~0.13, 66 in a row is p < 1e-4.
    // (With backend identity the first success through the blamed node is decisive: test/diagnosis/transition.test.ts.)
    expect(run(new Stream().add('.X.', 12).add('...', 20)).recovered).toBe(false);
    const d = run(new Stream().add('.X.', 12).add('...', 22));
    expect(d.verdict).toBe('healthy');
    expect(d.recovered).toBe(true);
    expect(d.summary).toContain('recovered');
  });
});

