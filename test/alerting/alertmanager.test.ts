import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Notifier } from '../../src/alerting/notifier.js';
import { testAlertCommand } from '../../src/cli/test-alert.js';
import { parseConfig } from '../../src/config/load.js';
import { systemClock, type Clock } from '../../src/lib/clock.js';
import { FakeClock } from '../support/fake-clock.js';
import { ALERTMANAGER_BIN, alertmanagerAvailable, RunningAlertmanager } from '../support/alertmanager.js';
import { needTools, tool } from '../support/tools.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { waitFor } from '../support/wait.js';
import { event } from './incident.js';

/** Alertmanager's webhook payload (version 4), as it notifies its receivers. */
interface AmWebhook {
  status: 'firing' | 'resolved';
  alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string; fingerprint: string }[];
}

const alertmanager = needTools('Alertmanager tests', tool('alertmanager', () =>
  (alertmanagerAvailable() ? undefined : `${ALERTMANAGER_BIN} is not installed (apt-get install -y prometheus-alertmanager)`)));

describe.skipIf(alertmanager.skip)(`a real Alertmanager (${ALERTMANAGER_BIN})`, () => {
  let am: RunningAlertmanager;
  let hook: WebhookReceiver;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeEach(() => alertmanager.check());
  beforeAll(async () => {
    if (alertmanager.missing) return;
    hook = await WebhookReceiver.start();
    am = await RunningAlertmanager.start({ webhookUrl: hook.url });
  }, 40_000);
  afterAll(async () => {
    await am?.close();
    await hook?.close();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** What Alertmanager told its receiver about alerts of one target. */
  const notified = (target: string): AmWebhook[] =>
    hook.requests.map((r) => JSON.parse(r.body) as AmWebhook).filter((p) => p.alerts.some((a) => a.labels.target === target));
  const active = async (target: string) => (await am.alerts()).filter((a) => a.labels.target === target);

  function notifier(target: string, opts: { clock?: Clock; instance?: string; dir?: string } = {}) {
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'vipwatch-am-state-'));
    if (!opts.dir) cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = parseConfig(`alerting:\n  alertmanager:\n    - url: ${am.url}\n      resendInterval: 1m\n`, join(dir, 'c.yaml')).alerting;
    const registry = new Registry();
    const n = new Notifier({ config, stateDir: dir, clock: opts.clock ?? systemClock, registry, instance: opts.instance ?? 'probe-a' });
    cleanups.push(() => n.stop());
    return { n, dir, registry };
  }

  it('shows the alert firing with stable labels, keeps it alive by re-sending, then resolved with the same labels', async () => {
    const clock = new FakeClock(Date.now());
    const { n, registry } = notifier('am-web', { clock });
    await n.start();
    await n.notify(event('open', { id: 'am-1', target: 'am-web' }));
    await n.whenIdle();
    const [alert, ...others] = await active('am-web');
    expect(others).toEqual([]);
    expect(alert!.labels).toEqual({
      alertname: 'VipAsymmetricRouting', target: 'am-web', kind: 'asymmetric_routing', node: 'node-2', service: 'default/web', severity: 'critical', vipwatch_instance: 'probe-a',
    });
    expect(alert!.annotations).toMatchObject({
      summary: 'web 192.0.2.100:80: connections through node-2 time out (asymmetric routing, rp_filter)',
      suspected_nodes: 'node-2',
      evidence: '15 of 48 attempts timed out in connect (SYN sent, no SYN-ACK)\nnode-2 served 0 of 33 successes; chance if healthy 1.5e-6',
      remediation: expect.stringMatching(/^1\. Check rp_filter on node-2.*\n2\. Set loose mode/),
      incident_id: 'am-1',
      endpoint: '192.0.2.100:80',
    });
    expect(alert!.status.state).toBe('active');
    expect(Date.parse(alert!.startsAt)).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(Date.parse(alert!.endsAt)).toBe(clock.now() + 4 * 60_000);
    const firing = await waitFor(() => notified('am-web').find((p) => p.status === 'firing'), { what: 'Alertmanager firing notification' });
    expect(firing.alerts[0]!.labels).toEqual(alert!.labels);

    // Each resendInterval pushes endsAt forward: the alert never lapses while vipwatch runs.
    await clock.advance(60_000);
    await waitFor(async () => Date.parse((await active('am-web'))[0]!.endsAt) === clock.now() + 4 * 60_000, { what: 're-sent endsAt' });
    const resends = (await registry.getSingleMetricAsString('vipwatch_notifications_total')).match(/event="resend",result="success"} (\d+)/);
    expect(resends?.[1]).toBe('1');

    // An update that suspects one more node keeps node-2's alert (same identity, new annotations) and adds node-3's.
    await n.notify(event('update', { id: 'am-1', target: 'am-web', suspectedNodes: ['node-2', 'node-3'] }));
    await n.whenIdle();
    const updated = await active('am-web');
    expect(updated.map((a) => a.labels.node).sort()).toEqual(['node-2', 'node-3']);
    const node2 = updated.find((a) => a.labels.node === 'node-2')!;
    expect(node2.fingerprint).toBe(alert!.fingerprint);
    expect(node2.annotations.suspected_nodes).toBe('node-2, node-3');
    expect(updated.find((a) => a.labels.node === 'node-3')!.labels).toEqual({ ...alert!.labels, node: 'node-3' });

    // The resolve ends both (the incident record names only node-2 by then: node-3's alert is ended from vipwatch's state).
    await n.notify(event('resolved', { id: 'am-1', target: 'am-web' }));
    await n.whenIdle();
    expect(await active('am-web')).toEqual([]);
    const resolved = await waitFor(() => notified('am-web').find((p) => p.status === 'resolved'), { what: 'Alertmanager resolved notification' });
    expect(resolved.alerts.map((a) => a.labels.node).sort()).toEqual(['node-2', 'node-3']);
    const resolvedNode2 = resolved.alerts.find((a) => a.labels.node === 'node-2')!;
    expect(resolvedNode2.labels).toEqual(alert!.labels);
    expect(resolvedNode2.fingerprint).toBe(alert!.fingerprint);
    // No re-sends after a resolve.
    await clock.advance(60_000);
    expect((await registry.getSingleMetricAsString('vipwatch_notifications_total')).match(/event="resend",result="success"} (\d+)/)?.[1]).toBe('1');
    expect(await active('am-web')).toEqual([]);
  });

  it('ends the old alert and fires the new one when an update changes the kind', async () => {
    const { n } = notifier('am-kind');
    await n.start();
    await n.notify(event('open', { id: 'am-2', target: 'am-kind' }));
    await n.notify(event('update', { id: 'am-2', target: 'am-kind', kind: 'packet_loss', severity: 'warning' }));
    await n.whenIdle();
    await waitFor(async () => (await active('am-kind')).length === 1, { what: 'one active alert' });
    expect((await active('am-kind'))[0]!.labels).toMatchObject({ alertname: 'VipPacketLoss', kind: 'packet_loss', severity: 'warning' });
    await n.notify(event('resolved', { id: 'am-2', target: 'am-kind', kind: 'packet_loss', severity: 'warning' }));
    await n.whenIdle();
    expect(await active('am-kind')).toEqual([]);
  });

  it('fires one alert per suspected node: a silence on node matches only its alert, a node no longer suspected is resolved', async () => {
    const { n } = notifier('am-nodes');
    await n.start();
    await n.notify(event('open', { id: 'am-5', target: 'am-nodes', suspectedNodes: ['node-2', 'node-3'] }));
    await n.whenIdle();
    const firing = await active('am-nodes');
    expect(firing.map((a) => a.labels.node).sort()).toEqual(['node-2', 'node-3']);
    expect(firing.map((a) => a.annotations.suspected_nodes)).toEqual(['node-2, node-3', 'node-2, node-3']);

    // node-3 is under maintenance: a silence on its node label silences its alert only.
    const now = Date.now();
    const res = await fetch(`${am.url}/api/v2/silences`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        matchers: [{ name: 'target', value: 'am-nodes', isRegex: false, isEqual: true }, { name: 'node', value: 'node-3', isRegex: false, isEqual: true }],
        startsAt: new Date(now - 1000).toISOString(), endsAt: new Date(now + 3_600_000).toISOString(), createdBy: 'vipwatch test', comment: 'node-3 maintenance',
      }),
    });
    expect(res.status).toBe(200);
    const state = async () => Object.fromEntries((await active('am-nodes')).map((a) => [a.labels.node ?? '', a.status.state]));
    await waitFor(async () => (await state())['node-3'] === 'suppressed', { what: 'node-3 silenced' });
    expect(await state()).toEqual({ 'node-2': 'active', 'node-3': 'suppressed' });

    // node-2 is no longer suspected: its alert ends, node-3's keeps firing.
    await n.notify(event('update', { id: 'am-5', target: 'am-nodes', suspectedNodes: ['node-3'] }));
    await n.whenIdle();
    expect(await state()).toEqual({ 'node-3': 'suppressed' });

    // A kind with no suspected node: one alert without a node label; node-3's ends.
    await n.notify(event('update', { id: 'am-5', target: 'am-nodes', kind: 'vip_unreachable', suspectedNodes: [] }));
    await n.whenIdle();
    const [unreachable, ...rest] = await active('am-nodes');
    expect(rest).toEqual([]);
    expect(unreachable!.labels).toMatchObject({ alertname: 'VipUnreachable', kind: 'vip_unreachable' });
    expect(unreachable!.labels.node).toBeUndefined();

    await n.notify(event('resolved', { id: 'am-5', target: 'am-nodes', kind: 'vip_unreachable', suspectedNodes: [] }));
    await n.whenIdle();
    expect(await active('am-nodes')).toEqual([]);
  });

  it('keeps two vantage points apart by vipwatch_instance, and a duplicate push stays one alert', async () => {
    const a = notifier('am-multi', { instance: 'probe-a' });
    const b = notifier('am-multi', { instance: 'probe-b' });
    await Promise.all([a.n.start(), b.n.start()]);
    await a.n.notify(event('open', { id: 'am-3', target: 'am-multi' }));
    await a.n.notify(event('reminder', { id: 'am-3', target: 'am-multi' }));
    await b.n.notify(event('open', { id: 'am-3b', target: 'am-multi' }));
    await Promise.all([a.n.whenIdle(), b.n.whenIdle()]);
    expect((await active('am-multi')).map((x) => x.labels.vipwatch_instance).sort()).toEqual(['probe-a', 'probe-b']);
    await a.n.notify(event('resolved', { id: 'am-3', target: 'am-multi' }));
    await b.n.notify(event('resolved', { id: 'am-3b', target: 'am-multi' }));
    await Promise.all([a.n.whenIdle(), b.n.whenIdle()]);
    expect(await active('am-multi')).toEqual([]);
  });

  it('remembers firing alerts across a restart and re-sends them', async () => {
    const clock = new FakeClock(Date.now());
    const first = notifier('am-restart', { clock });
    await first.n.start();
    await first.n.notify(event('open', { id: 'am-4', target: 'am-restart' }));
    await first.n.whenIdle();
    await first.n.stop();
    const stateFile = join(first.dir, 'alertmanager', 'alertmanager.json');
    expect(existsSync(stateFile)).toBe(true);
    expect(Object.keys(JSON.parse(readFileSync(stateFile, 'utf8')))).toEqual(['am-4']);
    const second = notifier('am-restart', { clock, dir: first.dir });
    await second.n.start();
    await clock.advance(60_000);
    await waitFor(async () => Date.parse((await active('am-restart'))[0]?.endsAt ?? '0') === clock.now() + 4 * 60_000, { what: 're-send after restart' });
    await second.n.notify(event('resolved', { id: 'am-4', target: 'am-restart' }));
    await second.n.whenIdle();
    expect(await active('am-restart')).toEqual([]);
    expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toEqual({});
  });

  it('re-sends and resolves the alerts of a state file written before per-node alerts (one alert per incident)', async () => {
    const clock = new FakeClock(Date.now());
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-am-state-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const labels = { alertname: 'VipAsymmetricRouting', target: 'am-old', kind: 'asymmetric_routing', severity: 'critical', vipwatch_instance: 'probe-a', service: 'default/web' };
    mkdirSync(join(dir, 'alertmanager'), { recursive: true });
    writeFileSync(join(dir, 'alertmanager', 'alertmanager.json'), JSON.stringify({ 'am-6': { labels, annotations: { summary: 'old' }, startsAt: '2026-01-01T00:00:00.000Z' } }));
    const { n } = notifier('am-old', { clock, dir });
    await n.start();
    await clock.advance(60_000);
    await waitFor(async () => (await active('am-old')).length === 1, { what: 're-send of the old-format alert' });
    expect((await active('am-old'))[0]!.labels).toEqual(labels);
    // The resolve ends the old alert (no node label) and the node-2 one the record names.
    await n.notify(event('resolved', { id: 'am-6', target: 'am-old' }));
    await n.whenIdle();
    expect(await active('am-old')).toEqual([]);
  });

  it('test-alert pushes a test alert that Alertmanager accepts and shows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-am-test-alert-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = parseConfig(`alerting:\n  instance: probe-t\n  alertmanager:\n    - name: am\n      url: ${am.url}\n`, join(dir, 'c.yaml'));
    const lines: string[] = [];
    expect(await testAlertCommand(config, { out: (l) => lines.push(l) })).toBe(0);
    expect(lines[0]).toMatch(new RegExp(`^ok {4}alertmanager am -> ${am.url}/api/v2/alerts \\(\\d+ms\\)$`));
    const [alert] = await active('vipwatch-test-alert');
    expect(alert!.labels).toMatchObject({ alertname: 'VipwatchTest', vipwatch_instance: 'probe-t' });
    expect(alert!.annotations.test).toBe('sent by vipwatch test-alert; not a real incident');
  });
});
