/**
 * probe_error attempts: one log line per kind and episode (and one when it is over), a counter by kind, a gauge that
 * is 1 while an episode lasts; in the per-target metrics they are neither successes nor failures of the target.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { TargetConfig } from '../../src/config/targets.js';
import type { Attempt } from '../../src/history/attempt.js';
import { TargetHistory } from '../../src/history/history.js';
import { FakeClock } from '../support/fake-clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { ProbeMetrics } from '../../src/metrics/probe-metrics.js';
import { SelfErrorMonitor } from '../../src/metrics/self-errors.js';

const T0 = Date.UTC(2026, 0, 1);
let seq = 0;
function attempt(target: string, at: number, kind?: string): Attempt {
  const a: Attempt = { seq: ++seq, target, startedAt: at, ok: kind === undefined, stalled: false, burst: false, synRetransmit: false, timings: { totalMs: 0.3 } };
  if (kind) Object.assign(a, { reason: 'probe_error', errorCode: kind, detail: `vipwatch's own resources: connect ${kind} 192.0.2.1:80` });
  return a;
}

function setup() {
  const clock = new FakeClock(T0);
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>), now: () => clock.now() });
  const registry = new Registry();
  const mon = new SelfErrorMonitor(registry, { clock, logger, quietMs: 60_000 });
  return { clock, lines, registry, mon };
}

async function value(registry: Registry, name: string, kind: string): Promise<number | undefined> {
  const m = await registry.getSingleMetric(name)!.get();
  return m.values.find((v) => v.labels.kind === kind)?.value;
}

describe('SelfErrorMonitor', () => {
  it('logs once per kind per episode, however many attempts and targets are hit', async () => {
    const { clock, lines, registry, mon } = setup();
    for (let i = 0; i < 500; i++) {
      mon.observe(attempt(`t${i % 50}`, clock.now(), 'EMFILE'));
      if (i % 10 === 0) mon.observe(attempt('t1', clock.now(), 'EADDRNOTAVAIL'));
      await clock.advance(100);
    }
    const starts = lines.filter((l) => String(l.msg).startsWith('probe error:'));
    expect(starts.map((l) => l.kind)).toEqual(['EMFILE', 'EADDRNOTAVAIL']);
    expect(starts[0]).toMatchObject({ level: 'error', target: 't0' });
    expect(String(starts[0]!.check)).toContain('LimitNOFILE');
    expect(String(starts[1]!.check)).toContain('ip_local_port_range');
    expect(await value(registry, 'vipwatch_probe_self_errors_total', 'EMFILE')).toBe(500);
    expect(await value(registry, 'vipwatch_probe_self_errors_total', 'EADDRNOTAVAIL')).toBe(50);
    expect(await value(registry, 'vipwatch_probe_self_error', 'EMFILE')).toBe(1);
  });

  it('an episode ends after a quiet minute: the gauge goes to 0, one closing line, and a new episode logs again', async () => {
    const { clock, lines, registry, mon } = setup();
    for (let i = 0; i < 10; i++) {
      mon.observe(attempt('web', clock.now(), 'EMFILE'));
      await clock.advance(1000);
    }
    // The last error was 1 s ago; 58 s later the episode still holds.
    await clock.advance(58_000);
    expect(await value(registry, 'vipwatch_probe_self_error', 'EMFILE')).toBe(1);
    await clock.advance(1001);
    // Quiet for a minute: the gauge says so at the next scrape, with no attempt needed.
    expect(await value(registry, 'vipwatch_probe_self_error', 'EMFILE')).toBe(0);
    // The next good attempt closes the episode in the log, once.
    mon.observe(attempt('web', clock.now()));
    mon.observe(attempt('web', clock.now()));
    const over = lines.filter((l) => String(l.msg).startsWith('probe error episode over'));
    expect(over).toHaveLength(1);
    expect(over[0]).toMatchObject({ kind: 'EMFILE', attempts: 10, targets: 1, durationMs: 9000 });
    mon.observe(attempt('web', clock.now(), 'EMFILE'));
    expect(lines.filter((l) => String(l.msg).startsWith('probe error:'))).toHaveLength(2);
    expect(await value(registry, 'vipwatch_probe_self_error', 'EMFILE')).toBe(1);
    expect(await value(registry, 'vipwatch_probe_self_errors_total', 'EMFILE')).toBe(11);
  });

  it('a new error after a quiet minute with no attempt in between still closes the old episode first', async () => {
    const { clock, lines, mon } = setup();
    mon.observe(attempt('web', clock.now(), 'ENOBUFS'));
    await clock.advance(120_000);
    mon.observe(attempt('web', clock.now(), 'ENOBUFS'));
    expect(lines.map((l) => String(l.msg).split(':')[0])).toEqual(['probe error', 'probe error episode over', 'probe error']);
  });
});

describe('probe_error in the per-target metrics and failure windows', () => {
  it('counts as result="probe_error" and reason="probe_error", never as a failure of the target', async () => {
    const registry = new Registry();
    const t: TargetConfig = { name: 'web', address: '192.0.2.1', port: 80, protocol: 'tcp', intervalMs: 1000, timeoutMs: 1000, origin: 'static' };
    const history = new TargetHistory('web', 64);
    const metrics = new ProbeMetrics(registry, { targets: () => [{ target: t, history }], now: () => T0 + 30_000, takeLagMs: () => 0 }, 'test');
    for (let i = 0; i < 20; i++) {
      const a = attempt('web', T0 + i * 1000, i % 2 ? 'EMFILE' : undefined);
      history.record(a);
      metrics.record(a, t, undefined);
    }
    const text = await registry.metrics();
    expect(text).toContain('vipwatch_probe_attempts_total{target="web",protocol="tcp",result="success"} 10');
    expect(text).toContain('vipwatch_probe_attempts_total{target="web",protocol="tcp",result="failure"} 0');
    expect(text).toContain('vipwatch_probe_attempts_total{target="web",protocol="tcp",result="probe_error"} 10');
    expect(text).toContain('vipwatch_probe_failures_total{target="web",reason="probe_error",node="unknown"} 10');
    // The failure ratio is the target's: 0, over the 10 attempts that were really made.
    expect(text).toContain('vipwatch_failure_ratio{target="web",window="1m"} 0');
    expect(history.stats('1m', T0 + 30_000)).toEqual({ attempts: 10, failures: 0, ratio: 0 });
  });
});
