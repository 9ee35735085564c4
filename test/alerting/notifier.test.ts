import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/lib/backoff.js';
import { Notifier } from '../../src/alerting/notifier.js';
import { parseConfig } from '../../src/config/load.js';
import type { IncidentEventType } from '../../src/incidents/types.js';
import { FakeClock } from '../support/fake-clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { waitFor } from '../support/wait.js';
import { event } from './incident.js';

interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function receiver(): Promise<WebhookReceiver> {
  const r = await WebhookReceiver.start();
  cleanups.push(() => r.close());
  return r;
}

function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vipwatch-outbox-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A Notifier decoded from YAML, on a FakeClock, with its log lines and metrics captured. */
function setup(alertingYaml: string, opts: { dir?: string; clock?: FakeClock; random?: () => number } = {}) {
  const dir = opts.dir ?? stateDir();
  const clock = opts.clock ?? new FakeClock(Date.now());
  const config = parseConfig(`alerting:\n${alertingYaml.replace(/^/gm, '  ')}\n`, join(dir, 'c.yaml')).alerting;
  const logs: LogLine[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => logs.push(JSON.parse(l) as LogLine), now: () => clock.now() });
  const registry = new Registry();
  const notifier = new Notifier({ config, stateDir: dir, clock, logger, registry, instance: 'probe-a', random: opts.random ?? (() => 0) });
  cleanups.push(() => notifier.stop());
  const retries = () => logs.filter((l) => l.msg === 'notification delivery failed; will retry').length;
  const metric = async (name: string, labels: Record<string, string>) => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    const v = (m?.values as { labels: Record<string, string>; value: number }[] | undefined)?.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
    return v?.value;
  };
  return { dir, clock, notifier, logs, registry, retries, metric };
}

const ev = (type: IncidentEventType, id = 'inc-a', at = 0) => event(type, { id }, Date.parse('2026-01-01T00:00:00Z') + at);

describe('outbox', () => {
  it('writes each notification to the outbox before any send, and removes it only after success', async () => {
    const r = await receiver();
    await r.down();
    const { dir, notifier, metric, retries } = setup(`webhooks:\n  - name: ops\n    url: ${r.url}`);
    await notifier.notify(ev('open'));
    // Queued before start: on disk, nothing sent.
    const files = readdirSync(join(dir, 'outbox', 'ops'));
    expect(files).toHaveLength(1);
    const stored = JSON.parse(readFileSync(join(dir, 'outbox', 'ops', files[0]!), 'utf8'));
    expect(stored).toMatchObject({ event: 'open', instance: 'probe-a', incident: { id: 'inc-a', kind: 'asymmetric_routing' } });
    expect(files[0]).toBe(`${String(stored.seq).padStart(16, '0')}-${stored.id}.json`);
    expect(await metric('vipwatch_outbox_pending', { sink: 'ops' })).toBe(1);
    await notifier.start();
    await waitFor(() => retries() === 1, { what: 'first failed attempt' });
    expect(readdirSync(join(dir, 'outbox', 'ops'))).toEqual(files);
    expect(await metric('vipwatch_notification_errors_total', { sink: 'ops', reason: 'connection_refused' })).toBe(1);
    expect(await metric('vipwatch_notifications_total', { sink: 'ops', event: 'open', result: 'failure' })).toBe(1);
    await notifier.stop();
    await r.up();
    // Delivered by the next process, with the key fixed at queue time.
    const next = setup(`webhooks:\n  - name: ops\n    url: ${r.url}`, { dir });
    await next.notifier.start();
    await next.notifier.whenIdle();
    expect(r.accepted().map((a) => a.headers['idempotency-key'])).toEqual([stored.id]);
    expect(readdirSync(join(dir, 'outbox', 'ops'))).toEqual([]);
    expect(await next.metric('vipwatch_outbox_pending', { sink: 'ops' })).toBe(0);
    expect(await next.metric('vipwatch_notification_last_success_timestamp_seconds', { sink: 'ops' })).toBe(next.clock.now() / 1000);
    expect(await next.metric('vipwatch_notifications_total', { sink: 'ops', event: 'open', result: 'success' })).toBe(1);
  });

  it('retries with capped exponential backoff on the injected clock, then delivers once', async () => {
    const r = await receiver();
    r.mode = { kind: 'status', status: 500 };
    const { clock, notifier, retries, logs } = setup(`backoff: { initial: 1s, multiplier: 2, max: 5s, jitter: 0 }\nwebhooks:\n  - name: ops\n    url: ${r.url}`);
    await notifier.start();
    const t0 = clock.monotonic();
    await notifier.notify(ev('open'));
    const arrivals: number[] = [];
    r.onRequest(() => arrivals.push(clock.monotonic() - t0));
    await waitFor(() => retries() === 1);
    // Retries at +1s, +2s, +4s, then capped at +5s, +5s.
    for (const [k, gap] of [1000, 2000, 4000, 5000, 5000].entries()) {
      await clock.advance(gap - 1);
      expect(r.requests).toHaveLength(k + 1);
      await clock.advance(1);
      await waitFor(() => retries() === k + 2, { what: `retry ${k + 1}` });
    }
    expect(arrivals).toEqual([0, 1000, 3000, 7000, 12000, 17000]);
    expect(logs.filter((l) => l.msg === 'notification delivery failed; will retry').map((l) => l.retryInMs)).toEqual([1000, 2000, 4000, 5000, 5000, 5000]);
    r.mode = { kind: 'ok' };
    await clock.advance(5000);
    await notifier.whenIdle();
    expect(r.accepted()).toHaveLength(1);
    expect(new Set(r.requests.map((q) => q.headers['idempotency-key'])).size).toBe(1);
    expect(logs.find((l) => l.msg === 'notification delivered')).toMatchObject({ sink: 'ops', event: 'open', attempts: 7 });
  });

  it('jitter only shortens a delay, never beyond its cap', () => {
    const b = { initialMs: 1000, maxMs: 8000, multiplier: 2, jitter: 0.5 };
    expect([1, 2, 3, 4, 5, 9].map((f) => backoffDelay(b, f, () => 0))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    expect([1, 2, 3, 4, 5].map((f) => backoffDelay(b, f, () => 1))).toEqual([500, 1000, 2000, 4000, 4000]);
    expect(backoffDelay(b, 3, () => 0.5)).toBe(3000);
  });

  it('drops an entry after maxAge with an error log and a metric, then goes on with the next', async () => {
    const r = await receiver();
    r.mode = { kind: 'status', status: 503 };
    const { dir, clock, notifier, retries, logs, metric } = setup(`maxAge: 10s\nbackoff: { initial: 4s, multiplier: 1, jitter: 0 }\nwebhooks:\n  - name: ops\n    url: ${r.url}`);
    await notifier.start();
    await notifier.notify(ev('open'));
    await waitFor(() => retries() === 1);
    await clock.advance(4000);
    await waitFor(() => retries() === 2);
    await notifier.notify(ev('update', 'inc-a', 1));
    await clock.advance(4000);
    await waitFor(() => retries() === 3);
    // The receiver recovers except for the open: at t=12s it fails once more, is older than maxAge, and is dropped.
    r.mode = { kind: 'ok' };
    r.decide = (h) => (h['x-vipwatch-event'] === 'open' ? { kind: 'status', status: 503 } : undefined);
    await clock.advance(4000);
    await notifier.whenIdle();
    const dropped = logs.find((l) => l.msg === 'notification dropped: undelivered for longer than alerting.maxAge');
    expect(dropped).toMatchObject({ level: 'error', sink: 'ops', event: 'open', incident: 'inc-a', reason: 'http_status', ageMs: 12000, maxAgeMs: 10000, failures: 4 });
    expect(dropped!.incidentRecord).toMatchObject({ id: 'inc-a', target: 'web' });
    expect(await metric('vipwatch_notifications_dropped_total', { sink: 'ops', event: 'open' })).toBe(1);
    expect(r.accepted().map((q) => q.headers['x-vipwatch-event'])).toEqual(['update']);
    expect(readdirSync(join(dir, 'outbox', 'ops'))).toEqual([]);
  });

  it('delivers in order per incident; one failing incident does not hold the others', async () => {
    const r = await receiver();
    const { clock, notifier, retries } = setup(`backoff: { initial: 1s, jitter: 0 }\nwebhooks:\n  - name: ops\n    url: ${r.url}`);
    r.decide = (h) => (h['x-vipwatch-incident'] === 'inc-a' ? { kind: 'status', status: 500 } : undefined);
    for (const [i, t] of (['open', 'update', 'reminder', 'resolved'] as const).entries()) {
      await notifier.notify(ev(t, 'inc-a', i));
      await notifier.notify(ev(t, 'inc-b', i));
    }
    await notifier.start();
    await waitFor(() => r.accepted().length === 4 && retries() === 1, { what: 'inc-b delivered while inc-a backs off' });
    expect(r.requests.filter((q) => q.headers['x-vipwatch-incident'] === 'inc-a')).toHaveLength(1);
    r.decide = undefined;
    await clock.advance(1000);
    await notifier.whenIdle();
    const order = (id: string) => r.accepted().filter((q) => q.headers['x-vipwatch-incident'] === id).map((q) => q.headers['x-vipwatch-event']);
    expect(order('inc-a')).toEqual(['open', 'update', 'reminder', 'resolved']);
    expect(order('inc-b')).toEqual(['open', 'update', 'reminder', 'resolved']);
    expect([...r.acceptedPerKey().values()].every((c) => c === 1)).toBe(true);
  });

  it('a stalled sink neither blocks notify() nor the other sinks', async () => {
    const slow = await receiver();
    const fast = await receiver();
    slow.mode = { kind: 'stall' };
    const { clock, notifier, retries, metric } = setup(`webhooks:\n  - name: slow\n    url: ${slow.url}\n    timeout: 5s\n  - name: fast\n    url: ${fast.url}`);
    await notifier.start();
    await notifier.notify(ev('open'));
    await notifier.notify(ev('open', 'inc-b'));
    await waitFor(() => fast.accepted().length === 2 && slow.requests.length === 2, { what: 'fast sink delivered while slow stalls' });
    expect(notifier.pending('slow')).toBe(2);
    expect(notifier.pending('fast')).toBe(0);
    await clock.advance(5000);
    await waitFor(() => retries() === 2);
    expect(await metric('vipwatch_notification_errors_total', { sink: 'slow', reason: 'timeout' })).toBe(2);
  });

  it('sends to a sink only the kinds it asked for', async () => {
    const r = await receiver();
    const { dir, notifier } = setup(`webhooks:\n  - name: outages\n    url: ${r.url}\n    kinds: [vip_unreachable]\n  - name: all\n    url: ${r.url}`);
    await notifier.notify(ev('open'));
    await notifier.notify(event('open', { id: 'inc-down', kind: 'vip_unreachable' }));
    expect(readdirSync(join(dir, 'outbox', 'outages'))).toHaveLength(1);
    expect(readdirSync(join(dir, 'outbox', 'all'))).toHaveLength(2);
    await notifier.start();
    await notifier.whenIdle();
    expect(r.accepted().map((q) => q.headers['x-vipwatch-incident']).sort()).toEqual(['inc-a', 'inc-down', 'inc-down']);
  });

  it('on start, removes unfinished temp files, sets unreadable entries aside with an error, and delivers the rest', async () => {
    const r = await receiver();
    const first = setup(`webhooks:\n  - name: ops\n    url: ${r.url}`);
    await first.notifier.notify(ev('open'));
    await first.notifier.stop();
    const box = join(first.dir, 'outbox', 'ops');
    writeFileSync(join(box, '.tmp-0000000000000001-x.json.ab12'), '{"half":');
    writeFileSync(join(box, '0000000000000002-garbled.json'), 'not json');
    const next = setup(`webhooks:\n  - name: ops\n    url: ${r.url}`, { dir: first.dir });
    await next.notifier.start();
    await next.notifier.whenIdle();
    expect(r.accepted()).toHaveLength(1);
    expect(readdirSync(box)).toEqual([`0000000000000002-garbled.json.corrupt-${next.clock.now()}`]);
    expect(next.logs.find((l) => l.msg === 'unreadable outbox entry set aside')).toMatchObject({ level: 'error', sink: 'ops' });
  });

  it('warns about the outbox of a sink that is no longer configured, and keeps it', async () => {
    const r = await receiver();
    await r.down();
    const first = setup(`webhooks:\n  - name: old\n    url: ${r.url}`);
    await first.notifier.notify(ev('open'));
    await first.notifier.stop();
    const next = setup(`webhooks:\n  - name: new\n    url: ${r.url}`, { dir: first.dir });
    await next.notifier.start();
    expect(next.logs.find((l) => l.msg.startsWith('outbox of a sink no longer configured'))).toMatchObject({ level: 'warn', sink: 'old', pending: 1 });
    expect(existsSync(join(first.dir, 'outbox', 'old'))).toBe(true);
  });

  it('stops Alertmanager re-sends once a resolve is queued, also when that resolve is dropped after maxAge', async () => {
    // A real HTTP endpoint standing in for an Alertmanager that answers 503 for a while.
    const r = await receiver();
    const { dir, clock, notifier, retries, metric } = setup(`maxAge: 5m\nbackoff: { initial: 1m, multiplier: 1, jitter: 0 }\nresendInterval: 1m\nalertmanager:\n  - name: am\n    url: http://127.0.0.1:${r.port}/`);
    await notifier.start();
    await notifier.notify(ev('open'));
    await notifier.whenIdle();
    expect(r.requests.map((q) => q.path)).toEqual(['/api/v2/alerts']);
    await clock.advance(60_000);
    await waitFor(() => r.requests.length === 2, { what: 're-send' });
    const resent = JSON.parse(r.requests[1]!.body) as { labels: Record<string, string>; endsAt: string }[];
    expect(resent).toHaveLength(1);
    expect(Date.parse(resent[0]!.endsAt)).toBe(clock.now() + 4 * 60_000);

    r.mode = { kind: 'status', status: 503 };
    await notifier.notify(ev('resolved', 'inc-a', 60_000));
    await waitFor(() => retries() === 1);
    // Retries at +1m .. +4m fail; at +5m the resolve is maxAge old, fails once more and is dropped.
    for (let k = 2; k <= 5; k++) {
      await clock.advance(60_000);
      await waitFor(() => retries() === k, { what: `attempt ${k}` });
    }
    await clock.advance(60_000);
    await notifier.whenIdle();
    expect(await metric('vipwatch_notifications_dropped_total', { sink: 'am', event: 'resolved' })).toBe(1);
    // Every request after the resolve was queued is that resolve (endsAt in the past), never a firing re-send.
    const after = r.requests.slice(2).map((q) => JSON.parse(q.body) as { endsAt: string }[]);
    expect(after).toHaveLength(6);
    for (const alerts of after) expect(alerts.map((a) => Date.parse(a.endsAt) <= clock.now() - 5 * 60_000)).toEqual([true]);
    const count = r.requests.length;
    await clock.advance(5 * 60_000);
    expect(r.requests.length).toBe(count);
    expect(JSON.parse(readFileSync(join(dir, 'alertmanager', 'am.json'), 'utf8'))).toEqual({});
  });
});
