/**
 * The per-target series fit the kit: histograms only for the phases a target can time, per-node series at 0 for every
 * node with ready endpoints (gone again when the node leaves and nothing was counted), and the target's state as a
 * gauge. Checked through both renderings (prom-client's registry.metrics() and the streamed /metrics).
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { TargetClusterView } from '../../src/cluster/types.js';
import type { TargetConfig } from '../../src/config/targets.js';
import type { Attempt } from '../../src/history/attempt.js';
import { TargetHistory } from '../../src/history/history.js';
import { phasesOf } from '../../src/metrics/phases.js';
import { ProbeMetrics, type ProbeMetricsSource } from '../../src/metrics/probe-metrics.js';
import { renderMetrics } from '../../src/metrics/render.js';
import { targetStatus } from '../../src/schedule/target-status.js';

const T0 = Date.UTC(2026, 0, 1);
let seq = 0;

function target(name: string, protocol: TargetConfig['protocol'], over: Partial<TargetConfig> = {}): TargetConfig {
  return { name, address: '192.0.2.1', port: 80, protocol, intervalMs: 1000, timeoutMs: 1000, origin: 'static', ...over };
}

function attempt(t: string, at: number, ok: boolean, over: Partial<Attempt> = {}): Attempt {
  const a: Attempt = {
    seq: ++seq, target: t, startedAt: at, ok, stalled: false, burst: false, synRetransmit: false,
    timings: { connectMs: 1, tlsMs: 2, firstByteMs: 3, totalMs: 4 },
  };
  if (!ok) Object.assign(a, { reason: 'refused' });
  return Object.assign(a, over);
}

function view(endpointsPerNode: Record<string, number>): TargetClusterView {
  return { endpoints: [], endpointsPerNode, stale: false };
}

async function streamed(registry: Registry): Promise<string> {
  let out = '';
  for await (const piece of renderMetrics(registry)) out += piece;
  return out;
}

/** Both renderings, checked equal; returns the text. */
async function exposition(registry: Registry): Promise<string> {
  const text = await streamed(registry);
  expect(await registry.metrics()).toBe(text);
  return text;
}

function setup(targets: TargetConfig[], opts: { views?: Map<string, TargetClusterView>; now?: () => number } = {}) {
  const registry = new Registry();
  const histories = new Map(targets.map((t) => [t.name, new TargetHistory(t.name, 256)]));
  const source: ProbeMetricsSource = {
    targets: () => targets.map((t) => ({ target: t, history: histories.get(t.name) })),
    now: opts.now ?? (() => T0 + 30_000),
    takeLagMs: () => 0,
    statusOf: targetStatus,
    viewFor: (t) => opts.views?.get(t.name),
  };
  const metrics = new ProbeMetrics(registry, source, 'test');
  const record = (t: TargetConfig, a: Attempt, node?: string) => {
    histories.get(t.name)!.record(a);
    metrics.record(a, t, node ? { node, how: 'inferred' } : undefined);
  };
  return { registry, metrics, record, histories };
}

const lines = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix));

describe('duration histograms per protocol', () => {
  it('times only the phases a target has: tls only for https, first_byte only where a byte can arrive', () => {
    expect(phasesOf(target('a', 'tcp'))).toEqual(['connect', 'total']);
    expect(phasesOf(target('a', 'tcp', { tcp: { send: 'PING\r\n', maxBytes: 100 } }))).toEqual(['connect', 'total']);
    expect(phasesOf(target('a', 'tcp', { tcp: { expectRegex: /^\+PONG/, maxBytes: 100 } }))).toEqual(['connect', 'first_byte', 'total']);
    expect(phasesOf(target('a', 'http'))).toEqual(['connect', 'first_byte', 'total']);
    expect(phasesOf(target('a', 'https'))).toEqual(['connect', 'tls', 'first_byte', 'total']);
  });

  it('exports no empty tls or first_byte histogram, and rebuilds the cells when a reload changes the protocol', async () => {
    const tcp = target('plain', 'tcp');
    const http = target('web', 'http');
    const https = target('secure', 'https');
    const { registry, record } = setup([tcp, http, https]);
    for (const t of [tcp, http, https]) record(t, attempt(t.name, T0, true, t.protocol === 'tcp' ? { timings: { connectMs: 1, totalMs: 1 } } : {}));
    const text = await exposition(registry);
    const phases = (name: string) => [...new Set(lines(text, `vipwatch_probe_duration_seconds_count{target="${name}"`).map((l) => /phase="([^"]+)"/.exec(l)![1]))];
    expect(phases('plain')).toEqual(['connect', 'total']);
    expect(phases('web')).toEqual(['connect', 'first_byte', 'total']);
    expect(phases('secure')).toEqual(['connect', 'tls', 'first_byte', 'total']);
    // A tcp attempt reporting a tls time (it never does) has nowhere to go rather than a cell created for it.
    record(tcp, attempt('plain', T0 + 1, true));
    expect(lines(await exposition(registry), 'vipwatch_probe_duration_seconds_count{target="plain",phase="tls"}')).toEqual([]);

    // Same name, now https: the tcp attempt counters and its two histograms go, the https ones start.
    const reloaded = { ...tcp, protocol: 'https' as const };
    record(reloaded, attempt('plain', T0 + 2, true));
    const after = await exposition(registry);
    expect(lines(after, 'vipwatch_probe_attempts_total{target="plain"')).toEqual([
      'vipwatch_probe_attempts_total{target="plain",protocol="https",result="success"} 1',
      'vipwatch_probe_attempts_total{target="plain",protocol="https",result="failure"} 0',
      'vipwatch_probe_attempts_total{target="plain",protocol="https",result="probe_error"} 0',
    ]);
    expect(lines(after, 'vipwatch_probe_duration_seconds_count{target="plain"')).toHaveLength(4);
  });
});

describe('per-node series at 0', () => {
  it('seeds backend successes and connect_timeout failures for every node with ready endpoints, and drops them when the node leaves', async () => {
    const web = target('web', 'http', { http: { path: '/', method: 'GET', headers: {}, expectStatus: [], maxBodyBytes: 1024, backendHeader: 'X-Node' } });
    // A tcp target cannot name the node of a success: failures per node yes, successes per node no.
    const db = target('db', 'tcp');
    const views = new Map([['web', view({ 'node-1': 1, 'node-2': 2, 'node-3': 0 })], ['db', view({ 'node-3': 1 })]]);
    const { registry, record, metrics } = setup([web, db], { views });
    const text = await exposition(registry);
    expect(lines(text, 'vipwatch_backend_successes_total{')).toEqual([
      'vipwatch_backend_successes_total{target="web",node="node-1"} 0',
      'vipwatch_backend_successes_total{target="web",node="node-2"} 0',
    ]);
    expect(lines(text, 'vipwatch_probe_failures_total{')).toEqual([
      'vipwatch_probe_failures_total{target="web",reason="connect_timeout",node="node-1"} 0',
      'vipwatch_probe_failures_total{target="web",reason="connect_timeout",node="node-2"} 0',
      'vipwatch_probe_failures_total{target="db",reason="connect_timeout",node="node-3"} 0',
    ]);
    views.delete('db');

    // Events land on the seeded cells (no duplicate series); other reasons appear with their first event.
    record(web, attempt('web', T0 + 1, true, { backendNode: 'node-2' }));
    record(web, attempt('web', T0 + 2, false, { reason: 'connect_timeout' }), 'node-1');
    record(web, attempt('web', T0 + 3, false, { reason: 'reset' }), 'node-2');
    const counted = await exposition(registry);
    expect(lines(counted, 'vipwatch_backend_successes_total{')).toEqual([
      'vipwatch_backend_successes_total{target="web",node="node-1"} 0',
      'vipwatch_backend_successes_total{target="web",node="node-2"} 1',
    ]);
    expect(lines(counted, 'vipwatch_probe_failures_total{')).toEqual([
      'vipwatch_probe_failures_total{target="web",reason="connect_timeout",node="node-1"} 1',
      'vipwatch_probe_failures_total{target="web",reason="connect_timeout",node="node-2"} 0',
      'vipwatch_probe_failures_total{target="web",reason="reset",node="node-2"} 1',
    ]);

    // node-1 and node-2 leave, node-4 arrives: the zero series of the gone nodes go, counted ones stay.
    views.set('web', view({ 'node-4': 1 }));
    const moved = await exposition(registry);
    expect(lines(moved, 'vipwatch_backend_successes_total{')).toEqual([
      'vipwatch_backend_successes_total{target="web",node="node-2"} 1',
      'vipwatch_backend_successes_total{target="web",node="node-4"} 0',
    ]);
    expect(lines(moved, 'vipwatch_probe_failures_total{')).toEqual([
      'vipwatch_probe_failures_total{target="web",reason="connect_timeout",node="node-1"} 1',
      'vipwatch_probe_failures_total{target="web",reason="reset",node="node-2"} 1',
      'vipwatch_probe_failures_total{target="web",reason="connect_timeout",node="node-4"} 0',
    ]);

    // A target without a cluster view gets nothing seeded; a removed target takes its series along.
    views.delete('web');
    expect(lines(await exposition(registry), 'vipwatch_backend_successes_total{')).toEqual(['vipwatch_backend_successes_total{target="web",node="node-2"} 1']);
    metrics.forget('web');
    expect(lines(await exposition(registry), 'vipwatch_backend_successes_total{')).toEqual([]);
  });
});

describe('vipwatch_target_up and vipwatch_target_state', () => {
  it('follow the 1-minute status: healthy and degraded are up, down is 0, unknown has no up series', async () => {
    const ts = ['ok', 'flaky', 'dead', 'idle', 'thin'].map((n) => target(n, 'tcp'));
    const [ok, flaky, dead, , thin] = ts as [TargetConfig, TargetConfig, TargetConfig, TargetConfig, TargetConfig];
    const { registry, record } = setup(ts);
    for (let i = 0; i < 6; i++) {
      record(ok, attempt('ok', T0 + i * 1000, true));
      record(flaky, attempt('flaky', T0 + i * 1000, i % 3 !== 0));
      record(dead, attempt('dead', T0 + i * 1000, false));
    }
    // Two failures only: not enough to call it down.
    for (let i = 0; i < 2; i++) record(thin, attempt('thin', T0 + i * 1000, false));
    const text = await exposition(registry);
    expect(lines(text, 'vipwatch_target_up{')).toEqual([
      'vipwatch_target_up{target="ok"} 1',
      'vipwatch_target_up{target="flaky"} 1',
      'vipwatch_target_up{target="dead"} 0',
      'vipwatch_target_up{target="thin"} 1',
    ]);
    const state = Object.fromEntries(lines(text, 'vipwatch_target_state{').filter((l) => l.endsWith(' 1')).map((l) => [/target="(\w+)"/.exec(l)![1], /state="(\w+)"/.exec(l)![1]]));
    expect(state).toEqual({ ok: 'healthy', flaky: 'degraded', dead: 'down', idle: 'unknown', thin: 'degraded' });
    // One series per state and target, exactly one of them 1.
    expect(lines(text, 'vipwatch_target_state{')).toHaveLength(5 * 4);
    expect(text).toMatch(/# HELP vipwatch_target_state .*healthy .*degraded .*down .*unknown/);
  });

  it('exports no state series when the source cannot tell the status (HELP and TYPE only)', async () => {
    const registry = new Registry();
    new ProbeMetrics(registry, { targets: () => [{ target: target('a', 'tcp'), history: undefined }], now: () => T0, takeLagMs: () => 0 }, 'test');
    const text = await exposition(registry);
    expect(text).toContain('# TYPE vipwatch_target_up gauge');
    expect(lines(text, 'vipwatch_target_')).toEqual([]);
  });
});
