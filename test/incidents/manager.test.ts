import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIAGNOSIS_DEFAULTS, type DiagnosisConfig } from '../../src/config/sections/diagnosis.js';
import type { Diagnosis } from '../../src/diagnosis/types.js';
import { IncidentManager, openHoldMs } from '../../src/incidents/manager.js';
import { IncidentMetrics } from '../../src/incidents/metrics.js';
import type { KernelEvidenceSource } from '../../src/evidence/types.js';
import type { IncidentEvent } from '../../src/incidents/types.js';
import { FakeClock } from '../support/fake-clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { run, Stream, web } from '../diagnosis/helpers.js';

const cfg: DiagnosisConfig = { ...DIAGNOSIS_DEFAULTS, openAfterMs: 30_000, resolveAfterMs: 120_000, repeatIntervalMs: 3_600_000, keepResolvedMs: 86_400_000 };
const S = 1000;

function nodes(lastSuccessAt: number | null, node2: number | null = lastSuccessAt) {
  return {
    'node-1': { endpoints: 1, successes: 41, failures: 0, lastSuccessAt },
    'node-2': { endpoints: 1, successes: node2 === null ? 0 : 10, failures: node2 === null ? 40 : 0, lastSuccessAt: node2 },
    'node-3': { endpoints: 1, successes: 39, failures: 0, lastSuccessAt },
  };
}

/** The asymmetric verdict of the example record. */
function asym(over: Partial<Diagnosis> = {}): Diagnosis {
  return {
    target: 'web', verdict: 'asymmetric_routing', confidence: 0.99995, suspectedNodes: ['node-2'], candidateNodes: ['node-2'], identity: 'backend',
    attempts: 120, failures: 40, successes: 80, slowConnects: 0, failureRatio: 40 / 120, impairedRatio: 40 / 120, expectedFailureRatio: 1 / 3,
    pValue: 5e-5, recovered: false, changePoint: null, firstAttemptAt: null, reasons: { connect_timeout: 40 }, nodes: nodes(0, null), announcerNode: 'node-1', service: 'default/web',
    externalTrafficPolicy: 'Cluster', placementKnown: true, excluded: { stalled: 0, probeErrors: 0, otherView: 0 }, viewVersion: 'v1',
    summary: 'web: 33% of connections time out, only to backends on node-2', evidence: ['node-2 served none of the last 80 successes'],
    remediation: ['check rp_filter on node-2'], at: 0, lastSeq: 100, lastFailureAt: undefined as unknown as number | null, ...over,
  };
}

/**
 * A verdict that no longer names the fault, its window still holding the fault's timeouts (30 of 120): too many for the
 * verified resolve over the window, so these cases exercise the quiet way (the ratio they pass) unless they say otherwise.
 */
function healthy(lastSuccessAt: number, over: Partial<Diagnosis> = {}): Diagnosis {
  return asym({
    verdict: 'healthy', confidence: 1, suspectedNodes: [], candidateNodes: [], failures: 30, successes: 90, failureRatio: 0, impairedRatio: 0,
    expectedFailureRatio: null, pValue: null, reasons: {}, nodes: nodes(lastSuccessAt), summary: 'web: healthy', evidence: [], remediation: [], ...over,
  });
}

describe('IncidentManager', () => {
  let dir: string;
  let clock: FakeClock;
  let m: IncidentManager;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vipwatch-incidents-'));
    clock = new FakeClock();
    m = manager();
    await m.load();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function manager(config = cfg) {
    return new IncidentManager({ dir, clock, config, logger: silentLogger });
  }

  /** Feeds the same diagnosis every `step` ms for `ms`; returns the events. */
  async function feed(mgr: IncidentManager, d: (now: number) => Diagnosis, ms: number, step = 2 * S): Promise<IncidentEvent[]> {
    const events: IncidentEvent[] = [];
    for (let t = 0; t < ms; t += step) {
      const diagnosis = d(clock.now());
      // Unless a case says otherwise, a diagnosis with failures saw one just now (the fault is ongoing).
      if (diagnosis.lastFailureAt === undefined) diagnosis.lastFailureAt = diagnosis.failures > 0 ? clock.now() : null;
      events.push(...(await mgr.update(web, diagnosis)));
      await clock.advance(step);
    }
    return events;
  }

  async function openOne(): Promise<IncidentEvent> {
    const ev = await feed(m, () => asym(), 32 * S);
    expect(ev.map((e) => e.type)).toEqual(['open']);
    return ev[0]!;
  }

  it('opens once a verdict has held for openAfter, with the public record, persisted', async () => {
    const before = await feed(m, () => asym(), 30 * S);
    expect(before).toEqual([]);
    const [e] = await m.update(web, asym());
    expect(e!.type).toBe('open');
    const inc = e!.incident;
    expect(Object.keys(inc).sort()).toEqual(expect.arrayContaining([
      'id', 'status', 'kind', 'severity', 'target', 'address', 'port', 'service', 'announcerNode', 'suspectedNodes', 'confidence', 'failureRatio',
      'expectedFailureRatio', 'attempts', 'failures', 'reasons', 'nodes', 'summary', 'evidence', 'remediation', 'startedAt', 'updatedAt', 'resolvedAt',
    ]));
    expect(inc).toMatchObject({
      status: 'open', kind: 'asymmetric_routing', severity: 'critical', target: 'web', address: '192.0.2.100', port: 80, service: 'default/web',
      announcerNode: 'node-1', suspectedNodes: ['node-2'], confidence: 0.99995, failureRatio: 0.3333, expectedFailureRatio: 0.3333, attempts: 120,
      failures: 40, reasons: { connect_timeout: 40 }, resolvedAt: null, startedAt: new Date(clock.now()).toISOString(),
    });
    expect(inc.nodes['node-2']).toEqual({ endpoints: 1, successes: 0, failures: 40 });
    expect(inc.id).toMatch(/^web-20260101T000030Z-[0-9a-f]{8}$/);
    expect(JSON.parse(readFileSync(join(dir, `${inc.id}.json`), 'utf8')).incident).toEqual(inc);
    expect(m.list()).toEqual([inc]);
  });

  it('does not open on a verdict that keeps coming and going (no flapping)', async () => {
    const ev = await feed(m, (now) => (Math.floor(now / (20 * S)) % 2 === 0 ? asym() : healthy(now)), 600 * S);
    expect(ev).toEqual([]);
  });

  it('does not open below minConfidence', async () => {
    expect(await feed(m, () => asym({ confidence: 0.85 }), 120 * S)).toEqual([]);
  });

  it('updates the same incident when the suspected nodes or the kind change and hold', async () => {
    const open = await openOne();
    // A different node set for less than openAfter changes nothing.
    expect(await feed(m, () => asym({ suspectedNodes: ['node-2', 'node-3'] }), 20 * S)).toEqual([]);
    expect(await feed(m, () => asym(), 10 * S)).toEqual([]);
    const ev = await feed(m, () => asym({ suspectedNodes: ['node-2', 'node-3'], expectedFailureRatio: 2 / 3 }), 32 * S);
    expect(ev.map((e) => e.type)).toEqual(['update']);
    expect(ev[0]!.incident).toMatchObject({ id: open.incident.id, suspectedNodes: ['node-2', 'node-3'], expectedFailureRatio: 0.6667 });
    const kind = await feed(m, () => asym({ verdict: 'vip_unreachable', suspectedNodes: [], failureRatio: 1 }), 32 * S);
    expect(kind.map((e) => e.type)).toEqual(['update']);
    expect(kind[0]!.incident).toMatchObject({ id: open.incident.id, kind: 'vip_unreachable', severity: 'critical' });
    expect(m.list({ includeResolved: false })).toHaveLength(1);
  });

  it('does not turn a recovery into a new kind: a change needs failures made while it held', async () => {
    const open = await openOne();
    const fixedAt = clock.now();
    // After the fix the old timeouts are still in the window and read as loss "not tied to a node", but none is new.
    const lossAfterFix = () => asym({ verdict: 'packet_loss', confidence: 0.99, suspectedNodes: [], failureRatio: 0.19, impairedRatio: 0.19, lastFailureAt: fixedAt - 1 });
    expect(await feed(m, lossAfterFix, 60 * S)).toEqual([]);
    expect(m.openFor('web')).toMatchObject({ id: open.incident.id, kind: 'asymmetric_routing', suspectedNodes: ['node-2'] });
    // Fresh failures of the new kind do update it.
    const ev = await feed(m, () => asym({ verdict: 'packet_loss', confidence: 0.99, suspectedNodes: [], failureRatio: 0.19, impairedRatio: 0.19 }), 32 * S);
    expect(ev.map((e) => [e.type, e.incident.kind])).toEqual([['update', 'packet_loss']]);
  });

  it('resolves only after the failure ratio stayed under resolveBelow for resolveAfter, and records the verification', async () => {
    const open = await openOne();
    // The verdict still holds: never resolves, whatever the time.
    expect(await feed(m, () => asym(), 300 * S)).toEqual([]);
    // Below the threshold for 100 s, then a relapse: the timer restarts (hysteresis).
    let t0 = clock.now();
    expect(await feed(m, (now) => healthy(now, { failureRatio: 0.01, lastSeq: 200 }), 100 * S)).toEqual([]);
    expect(await feed(m, (now) => healthy(now, { verdict: 'insufficient_data', confidence: 0, failureRatio: 0.1 }), 4 * S)).toEqual([]);
    t0 = clock.now();
    const ev = await feed(m, (now) => healthy(now, { failureRatio: 0.01, lastSeq: 300 + (now - t0) / (2 * S) }), 122 * S);
    expect(ev.map((e) => e.type)).toEqual(['resolved']);
    const inc = ev[0]!.incident;
    expect(inc).toMatchObject({ id: open.incident.id, status: 'resolved', resolvedReason: 'recovered', resolvedAt: new Date(clock.now() - 2 * S).toISOString() });
    expect(inc.verification).toEqual({ attemptsSince: 60, nodesServing: ['node-1', 'node-2', 'node-3'], nodesNotServing: [], allNodesServed: true, verifiedBy: 'backend_identity' });
    expect(m.openFor('web')).toBeUndefined();
    expect(m.list()[0]!.status).toBe('resolved');
  });

  it('waits (bounded) for every node with endpoints to serve again before resolving', async () => {
    await openOne();
    const t0 = clock.now();
    // node-2 has not served since before the fix window.
    const ev = await feed(m, (now) => healthy(now, { nodes: nodes(now, t0 - 1) }), 400 * S);
    expect(ev.map((e) => e.type)).toEqual(['resolved']);
    expect(ev[0]!.at - t0).toBe(3 * cfg.resolveAfterMs);
    expect(ev[0]!.incident.verification).toMatchObject({ nodesNotServing: ['node-2'], allNodesServed: false });
  });

  it('records a ratio-only verification without backend identity', async () => {
    await openOne();
    const ev = await feed(m, (now) => healthy(now, { identity: 'none' }), 124 * S);
    expect(ev[0]!.incident.verification).toMatchObject({ verifiedBy: 'failure_ratio', nodesServing: [] });
  });

  it('neither starts nor resets the resolve timer on too few attempts', async () => {
    await openOne();
    expect(await feed(m, (now) => healthy(now), 60 * S)).toEqual([]);
    expect(await feed(m, (now) => healthy(now, { verdict: 'insufficient_data', attempts: 5, failureRatio: 0.6 }), 40 * S)).toEqual([]);
    const ev = await feed(m, (now) => healthy(now), 22 * S);
    expect(ev.map((e) => e.type)).toEqual(['resolved']);
  });

  it('uses the impaired ratio (slow connects too) to resolve packet loss', async () => {
    const loss = (over: Partial<Diagnosis> = {}) => asym({ verdict: 'packet_loss', confidence: 0.99, suspectedNodes: [], failureRatio: 0.01, impairedRatio: 0.2, ...over });
    await feed(m, () => loss(), 32 * S);
    expect(m.openFor('web')?.kind).toBe('packet_loss');
    expect(await feed(m, (now) => healthy(now, { failureRatio: 0.005, impairedRatio: 0.1 }), 200 * S)).toEqual([]);
    const ev = await feed(m, (now) => healthy(now, { failureRatio: 0.005, impairedRatio: 0.01 }), 122 * S);
    expect(ev.map((e) => e.type)).toEqual(['resolved']);
  });

  it('reminds every repeatInterval while open', async () => {
    await openOne();
    const ev = await feed(m, () => asym(), 3_600_000 + 2 * S, 60 * S);
    expect(ev.map((e) => e.type)).toEqual(['reminder']);
    clock.jump(3_600_000);
    expect((await m.tick()).map((e) => e.type)).toEqual(['reminder']);
    expect(await m.tick()).toEqual([]);
  });

  it('restores open incidents after a restart, which still resolve; keeps resolved ones for keepResolved', async () => {
    const open = await openOne();
    const m2 = manager();
    await m2.load();
    expect(m2.openFor('web')).toEqual(open.incident);
    const ev = await feed(m2, (now) => healthy(now), 122 * S);
    expect(ev.map((e) => [e.type, e.incident.id])).toEqual([['resolved', open.incident.id]]);
    const m3 = manager();
    await m3.load();
    expect(m3.list().map((i) => i.status)).toEqual(['resolved']);
    expect(m3.list({ includeResolved: false })).toEqual([]);
    clock.jump(cfg.keepResolvedMs + 1);
    await m3.tick();
    expect(m3.list()).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('resolves the open incident of a target that left the configuration', async () => {
    await openOne();
    expect(await m.retainTargets(['web', 'other'])).toEqual([]);
    const ev = await m.retainTargets(['other']);
    expect(ev.map((e) => e.type)).toEqual(['resolved']);
    expect(ev[0]!.incident).toMatchObject({ status: 'resolved', resolvedReason: 'target_removed', verification: { verifiedBy: 'none', attemptsSince: 0 } });
    expect(m.knownTargets()).toEqual([]);
  });

  it('does not open twice when updates of one target overlap', async () => {
    await feed(m, () => asym(), 30 * S);
    const all = await Promise.all([m.update(web, asym()), m.update(web, asym()), m.update(web, asym())]);
    expect(all.flat().map((e) => e.type)).toEqual(['open']);
    expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toHaveLength(1);
  });

  it('opens from real diagnoses of a stream', async () => {
    const s = new Stream().add('1X3', 12);
    const ev = await feed(m, () => run(s), 32 * S);
    expect(ev[0]!.incident).toMatchObject({ kind: 'asymmetric_routing', suspectedNodes: ['node-2'], attempts: 36, failures: 12 });
    expect(ev[0]!.incident.remediation.join('\n')).toContain('rp_filter');
  });

  it('exports vipwatch_incident_open and vipwatch_diagnosis_confidence', async () => {
    const registry = new Registry();
    const metrics = new IncidentMetrics(registry, m);
    await openOne();
    metrics.recordDiagnosis(asym());
    const text = await registry.metrics();
    expect(text).toContain('vipwatch_incident_open{target="web",kind="asymmetric_routing"} 1');
    expect(text).toContain('vipwatch_incident_open{target="web",kind="packet_loss"} 0');
    expect(text).toContain('vipwatch_diagnosis_confidence{target="web",kind="asymmetric_routing"} 0.99995');
    expect(text).toContain('vipwatch_diagnosis_confidence{target="web",kind="vip_unreachable"} 0');
    metrics.forget('web');
    await m.retainTargets([]);
    const after = await registry.metrics();
    expect(after).not.toContain('target="web"');
  });
});

describe('evidence-weighted opening (openHoldMs)', () => {
  const defaults = { ...DIAGNOSIS_DEFAULTS };

  it('waits marginalHold for a verdict just past the bound, nothing for one at the bound squared, less in between', () => {
    expect(defaults).toMatchObject({ openAfterMs: 0, marginalHoldMs: 30_000, pValue: 1e-4, minConfidence: 0.9 });
    expect(openHoldMs({ pValue: 1e-4, confidence: 0.9999 }, defaults)).toBe(30_000);
    expect(openHoldMs({ pValue: 1e-6, confidence: 1 }, defaults)).toBeCloseTo(15_000, 6);
    expect(openHoldMs({ pValue: 1e-8, confidence: 1 }, defaults)).toBe(0);
    expect(openHoldMs({ pValue: 1e-12, confidence: 1 }, defaults)).toBe(0);
    // Without a p-value (loss, outage, refusals, HTTP errors) the confidence against minConfidence counts.
    expect(openHoldMs({ pValue: null, confidence: 0.9 }, defaults)).toBeCloseTo(30_000, 6);
    expect(openHoldMs({ pValue: null, confidence: 0.99 }, defaults)).toBeCloseTo(0, 6);
    expect(openHoldMs({ pValue: null, confidence: 1 }, defaults)).toBe(0);
  });

  it('never waits less than openAfter, a lower bound the user may set', () => {
    expect(openHoldMs({ pValue: 1e-12, confidence: 1 }, { ...defaults, openAfterMs: 5_000 })).toBe(5_000);
    expect(openHoldMs({ pValue: 1e-4, confidence: 0.9999 }, { ...defaults, openAfterMs: 60_000 })).toBe(60_000);
  });

  it('an overwhelming verdict opens an incident at once with the default settings; a marginal one after 30 s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-incidents-hold-'));
    try {
      const clock = new FakeClock();
      const m = new IncidentManager({ dir, clock, config: defaults, logger: silentLogger });
      await m.load();
      const strong = { ...asym({ pValue: 1e-9 }), lastFailureAt: clock.now() };
      expect((await m.update(web, strong)).map((e) => e.type)).toEqual(['open']);

      const other = { ...web, name: 'api' };
      const marginal = () => ({ ...asym({ target: 'api', pValue: 9e-5 }), lastFailureAt: clock.now() });
      const seen: string[] = [];
      for (let t = 0; t <= 30_000; t += 2_000) {
        seen.push(...(await m.update(other, marginal())).map((e) => `${t}:${e.type}`));
        await clock.advance(2_000);
      }
      expect(seen).toEqual(['30000:open']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});


describe('verified resolve and re-open (default resolveAfter 10 s, reopenWithin 10 m)', () => {
  const defaults: DiagnosisConfig = { ...DIAGNOSIS_DEFAULTS };
  let dir: string;
  let clock: FakeClock;
  let m: IncidentManager;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vipwatch-incidents-verify-'));
    clock = new FakeClock();
    m = new IncidentManager({ dir, clock, config: defaults, logger: silentLogger });
    await m.load();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** The verdict after a fix: node-2 served again at `at`; `attempts` since, `failures` of them failed. */
  function since(at: number, attempts: number, failures = 0, over: Partial<Diagnosis> = {}): Diagnosis {
    return healthy(clock.now(), {
      verdict: failures || attempts < 20 ? 'insufficient_data' : 'healthy', confidence: 0, attempts, failures, successes: attempts - failures,
      failureRatio: attempts ? failures / attempts : 0, recovered: false, lastFailureAt: null,
      changePoint: { kind: 'served_again', at, attempts, failures, node: 'node-2' }, nodes: nodes(clock.now()), ...over,
    });
  }

  async function open(): Promise<string> {
    const ev = await m.update(web, { ...asym({ pValue: 1e-9 }), lastFailureAt: clock.now() });
    expect(ev.map((e) => e.type)).toEqual(['open']);
    return ev[0]!.incident.id;
  }

  it('resolves as soon as the attempts since the fix are significantly below the incident ratio and resolveAfter has passed', async () => {
    const id = await open();
    await clock.advance(10_000);
    const fix = clock.now();
    // (2/3)^22 = 1.3e-4 > pValue: not yet; (2/3)^23 = 9.0e-5: significant, but only 6 s since the fix (< 10 s).
    await clock.advance(6_000);
    expect(await m.update(web, since(fix, 22))).toEqual([]);
    expect(await m.update(web, since(fix, 23))).toEqual([]);
    await clock.advance(4_000);
    const ev = await m.update(web, since(fix, 24));
    expect(ev.map((e) => e.type)).toEqual(['resolved']);
    const inc = ev[0]!.incident;
    expect(inc).toMatchObject({ id, status: 'resolved', resolvedReason: 'recovered' });
    expect(inc.verification).toMatchObject({ attemptsSince: 24, allNodesServed: true, verifiedBy: 'backend_identity', since: new Date(fix).toISOString() });
    // The record keeps the ratio to 4 decimals (0.3333).
    expect(inc.verification!.pValue).toBeCloseTo((1 - 0.3333) ** 24, 10);
    expect(inc.evidence.at(-1)).toMatch(/^Resolved: 0 of the 24 attempts since .* failed \(node-2 served again then\); at the incident's failure rate of 33% so few would happen by chance with p=5\.9e-5\.$/);
  });

  it('tests against the rate under the fault (the expected share), not the window ratio diluted by the healthy minutes before it', async () => {
    // A one-minute fault in a five-minute window: 11% of the window failed, a third of the connections while it held.
    const ev = await m.update(web, { ...asym({ pValue: 1e-9, failureRatio: 0.11, expectedFailureRatio: 1 / 3 }), lastFailureAt: clock.now() });
    expect(ev.map((e) => e.type)).toEqual(['open']);
    const fix = clock.now();
    await clock.advance(12_000);
    // 23 clean attempts: (2/3)^23 = 9e-5 <= 1e-4; against 0.11 it would take 80.
    expect((await m.update(web, since(fix, 23))).map((e) => e.type)).toEqual(['resolved']);
  });

  it('without a change point (a restart lost the fault\'s attempts) tests every attempt judged', async () => {
    await open();
    await clock.advance(20_000);
    const quiet = (attempts: number, sinceMs: number) => healthy(clock.now(), { attempts, failures: 0, successes: attempts, changePoint: null, firstAttemptAt: clock.now() - sinceMs, nodes: nodes(clock.now()) });
    expect(await m.update(web, quiet(22, 15_000))).toEqual([]);
    // Enough attempts, but judged over less than resolveAfter (10 s): a restart 5 s ago.
    expect(await m.update(web, quiet(30, 5_000))).toEqual([]);
    const ev = await m.update(web, quiet(30, 15_000));
    expect(ev.map((e) => e.type)).toEqual(['resolved']);
    expect(ev[0]!.incident.evidence.at(-1)).toMatch(/^Resolved: 0 of the 30 attempts in the window failed; at the incident's failure rate of 33%/);
  });

  it('does not resolve by the test while a node with endpoints has not served since the change, nor while failures stay as frequent', async () => {
    await open();
    const fix = clock.now();
    await clock.advance(30_000);
    expect(await m.update(web, since(fix, 40, 0, { nodes: nodes(clock.now(), fix - 1) }))).toEqual([]);
    expect(await m.update(web, since(fix, 40, 13))).toEqual([]);
    expect((await m.update(web, since(fix, 60, 2))).map((e) => e.type)).toEqual(['resolved']);
  });

  it('a fault back within reopenWithin re-opens the same incident, which then has to stay clean longer; after reopenWithin a new one opens', async () => {
    const id = await open();
    const types: string[] = [];
    for (let round = 1; round <= 3; round++) {
      const fix = clock.now();
      let resolvedAfter = -1;
      for (let t = 2_000; t <= 200_000 && resolvedAfter < 0; t += 2_000) {
        await clock.advance(2_000);
        const ev = await m.update(web, since(fix, 30 + t / 2_000));
        types.push(...ev.map((e) => e.type));
        if (ev.length) resolvedAfter = t;
      }
      // 10 s the first time; once re-opened 30 s, then 60 s.
      expect(resolvedAfter).toBe([10_000, 30_000, 60_000][round - 1]);
      await clock.advance(60_000);
      const back = await m.update(web, { ...asym({ pValue: 1e-9 }), lastFailureAt: clock.now() });
      expect(back.map((e) => [e.type, e.incident.id, e.incident.status, e.incident.reopens])).toEqual([['open', id, 'open', round]]);
      expect(back[0]!.incident.resolvedAt).toBeNull();
      expect(back[0]!.incident.verification).toBeUndefined();
    }
    expect(types).toEqual(['resolved', 'resolved', 'resolved']);
    expect(m.list().filter((i) => i.status === 'open').map((i) => i.id)).toEqual([id]);
    // Resolve once more, wait past reopenWithin: the next fault is a new incident.
    const fix = clock.now();
    await clock.advance(120_000);
    expect((await m.update(web, since(fix, 80))).map((e) => e.type)).toEqual(['resolved']);
    await clock.advance(600_001);
    const fresh = await m.update(web, { ...asym({ pValue: 1e-9 }), lastFailureAt: clock.now() });
    expect(fresh.map((e) => e.type)).toEqual(['open']);
    expect(fresh[0]!.incident.id).not.toBe(id);
    expect(fresh[0]!.incident.reopens).toBeUndefined();
  });

  it('a re-opened incident survives a restart with its count', async () => {
    const id = await open();
    const fix = clock.now();
    await clock.advance(20_000);
    await m.update(web, since(fix, 40));
    await clock.advance(5_000);
    await m.update(web, { ...asym({ pValue: 1e-9 }), lastFailureAt: clock.now() });
    const m2 = new IncidentManager({ dir, clock, config: defaults, logger: silentLogger });
    await m2.load();
    expect(m2.openFor('web')).toMatchObject({ id, status: 'open', reopens: 1 });
  });
});

describe('kernel evidence on an asymmetric-routing incident', () => {
  it('carries what the suspected node\'s kernel says, raises the confidence when it confirms, refreshes it at resolve', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-incidents-kernel-'));
    try {
      const clock = new FakeClock();
      const wanted: string[][] = [];
      let drops = 0;
      let effective = 1;
      const kernel: KernelEvidenceSource = {
        want: (_t, nodes) => void wanted.push([...nodes]),
        evidence: (nodes) => Object.fromEntries(nodes.map((n) => [n, {
          agent: 'ok' as const, readAt: new Date(clock.now()).toISOString(), interfaces: { eth1: { rpFilter: { all: 0, default: 1, interface: effective, effective } } },
          strictInterfaces: effective === 1 ? ['eth1'] : [], reversePathDrops: 1000 + drops, reversePathDropsSinceOpen: drops,
        }])),
      };
      const m = new IncidentManager({ dir, clock, config: { ...DIAGNOSIS_DEFAULTS }, logger: silentLogger, kernel });
      await m.load();
      const strong = () => ({ ...asym({ pValue: 1e-9, confidence: 1 - 1e-9 }), lastFailureAt: clock.now() });
      // No drops counted yet: not confirmed, the confidence is the probe's.
      const [open] = await m.update(web, strong());
      expect(open!.incident.kernel!['node-2']).toMatchObject({ strictInterfaces: ['eth1'], reversePathDropsSinceOpen: 0 });
      expect(open!.incident.confidence).toBe(1); // 1 - 1e-9, to the record's 6 decimals
      expect(wanted.at(-1)).toEqual(['node-2']);
      drops = 57;
      await clock.advance(61_000);
      await m.update(web, { ...asym({ pValue: 1e-3, confidence: 0.999 }), lastFailureAt: clock.now() });
      const inc = m.openFor('web')!;
      // Confirmed by the kernel: the chance of another cause 100 times smaller.
      expect(inc.confidence).toBe(0.99999);
      expect(inc.evidence.filter((l) => l.startsWith('Kernel of node-2'))).toHaveLength(1);
      expect(inc.evidence.at(-1)).toMatch(/57 reverse-path drops .* this confirms the diagnosis\.$/);
      expect(inc.remediation[0]).toMatch(/^On node-2 \(its kernel reports strict rp_filter on eth1\): `sysctl -w net\.ipv4\.conf\.eth1\.rp_filter=2 net\.ipv4\.conf\.default\.rp_filter=2`/);
      // The fix: loose, the counter stopped; the resolved record says so and reading stops.
      effective = 2;
      const fix = clock.now();
      await clock.advance(20_000);
      const ev = await m.update(web, healthy(clock.now(), { verdict: 'healthy', attempts: 40, failures: 0, changePoint: { kind: 'served_again', at: fix, attempts: 40, failures: 0, node: 'node-2' } }));
      expect(ev.map((e) => e.type)).toEqual(['resolved']);
      const done = ev[0]!.incident;
      expect(done.kernel!['node-2']).toMatchObject({ strictInterfaces: [], reversePathDropsSinceOpen: 57 });
      expect(done.kernel!['node-2']!.interfaces.eth1!.rpFilter.effective).toBe(2);
      expect(done.remediation.some((l) => l.includes('its kernel reports strict'))).toBe(false);
      expect(wanted.at(-1)).toEqual([]);
      // The record with its kernel evidence survives a restart.
      const m2 = new IncidentManager({ dir, clock, config: { ...DIAGNOSIS_DEFAULTS }, logger: silentLogger });
      await m2.load();
      expect(m2.list()[0]!.kernel).toEqual(done.kernel);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
