/**
 * vipwatch_failover_gap_seconds: one observation per closed gap, rendered the same by prom-client and the streamed
 * /metrics, clean under promtool, and gone with its target.
 */
import { execFileSync } from 'node:child_process';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { TargetConfig } from '../../src/config/targets.js';
import { FAILOVER_GAP_BUCKETS } from '../../src/metrics/failover-metrics.js';
import { ProbeMetrics } from '../../src/metrics/probe-metrics.js';
import { renderMetrics } from '../../src/metrics/render.js';
import { parsePromText, sumOf } from '../lab/prom-text.js';
import { needTools, PROMTOOL } from '../support/tools.js';

const promtool = needTools('promtool check metrics', PROMTOOL());

const T0 = Date.UTC(2026, 0, 1);
const target = (name: string): TargetConfig => ({ name, address: '192.0.2.1', port: 80, protocol: 'tcp', intervalMs: 1000, timeoutMs: 1000, origin: 'static' });

async function exposition(registry: Registry): Promise<string> {
  let text = '';
  for await (const piece of renderMetrics(registry)) text += piece;
  expect(await registry.metrics()).toBe(text);
  return text;
}

const web = target('web');
const db = target('db');

function setup() {
  const registry = new Registry();
  const metrics = new ProbeMetrics(registry, { targets: () => [{ target: web, history: undefined }, { target: db, history: undefined }], now: () => T0, takeLagMs: () => 0 }, 'test');
  return { registry, metrics };
}

describe('vipwatch_failover_gap_seconds', () => {
  it('counts each gap in its bucket with the right count and sum, and goes with its target', async () => {
    const { registry, metrics } = setup();
    // Declared with no series before the first gap.
    expect(parsePromText(await exposition(registry)).filter((s) => s.name.startsWith('vipwatch_failover_gap_seconds'))).toEqual([]);
    for (const s of [0, 3.2, 10, 200]) metrics.failoverGap(web, s);
    metrics.failoverGap(db, 1);
    const text = await exposition(registry);
    expect(text).toContain('# TYPE vipwatch_failover_gap_seconds histogram');
    expect(text).toMatch(/# HELP vipwatch_failover_gap_seconds .*first successful attempt through the new announcer/);
    const samples = parsePromText(text);
    expect(sumOf(samples, 'vipwatch_failover_gap_seconds_count', { target: 'web' })).toBe(4);
    expect(sumOf(samples, 'vipwatch_failover_gap_seconds_sum', { target: 'web' })).toBeCloseTo(213.2, 9);
    const bucket = (le: string) => sumOf(samples, 'vipwatch_failover_gap_seconds_bucket', { target: 'web', le });
    expect(FAILOVER_GAP_BUCKETS[0]).toBe(0.1);
    expect(FAILOVER_GAP_BUCKETS.at(-1)).toBe(120);
    expect([bucket('0.1'), bucket('3'), bucket('5'), bucket('10'), bucket('120'), bucket('+Inf')]).toEqual([1, 1, 2, 3, 3, 4]);
    expect(sumOf(samples, 'vipwatch_failover_gap_seconds_count', { target: 'db' })).toBe(1);

    metrics.forget('web');
    const after = parsePromText(await exposition(registry)).filter((s) => s.name.startsWith('vipwatch_failover_gap_seconds'));
    expect(new Set(after.map((s) => s.labels.target))).toEqual(new Set(['db']));
  });

  it('passes promtool check metrics, empty and with gaps', async (ctx) => {
    promtool.require(ctx);
    const { registry, metrics } = setup();
    const check = async () => execFileSync('promtool', ['check', 'metrics'], { input: await exposition(registry), encoding: 'utf8' });
    expect(await check()).toBe('');
    metrics.failoverGap(web, 2.5);
    expect(await check()).toBe('');
  });
});
