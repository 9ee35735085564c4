import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Digest, DigestSources } from '../../src/alerting/digest.js';
import { DigestScheduler } from '../../src/alerting/digest-scheduler.js';
import { parseConfig } from '../../src/config/load.js';
import type { AlertingConfig, DigestConfig } from '../../src/config/sections/alerting.js';
import type { TargetConfig } from '../../src/config/targets.js';
import type { Attempt } from '../../src/history/attempt.js';
import { TargetHistory } from '../../src/history/history.js';
import type { Incident } from '../../src/incidents/types.js';
import { FakeClock } from '../support/fake-clock.js';
import { TestSmtpServer } from '../support/smtp-server.js';
import { waitFor } from '../support/wait.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { verifyWebhook } from '../support/webhook-verify.js';
import { incident } from './incident.js';

const SECRET = 'digest-hmac-key';
const dir = mkdtempSync(join(tmpdir(), 'vipwatch-digest-'));
writeFileSync(join(dir, 'hmac'), `${SECRET}\n`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MIN = 60_000;
const HOUR = 60 * MIN;
/** 09:00 in Berlin on 14 January 2026 (CET, UTC+1): the day the script covers starts here. */
const DAY_START = Date.parse('2026-01-14T08:00:00Z');
/** The digest's fire time, 09:00 Berlin the next day. */
const FIRE = DAY_START + 24 * HOUR;

const closers: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

function target(name: string, address: string): TargetConfig {
  return { name, address, port: 80, protocol: 'tcp', intervalMs: MIN, timeoutMs: 1000, origin: 'static', service: `default/${name}` };
}

function attempt(h: TargetHistory, at: number, ok: boolean, announcer: string, backendNode?: string): Attempt {
  return {
    seq: h.nextSeq(), target: h.target, startedAt: at, ok, stalled: false, burst: false, synRetransmit: false, timings: { totalMs: ok ? 1 : 1000 },
    reason: ok ? undefined : 'connect_timeout', backendNode,
    cluster: { announcerNode: announcer, endpointsPerNode: { 'node-1': 1, 'node-2': 1, 'node-3': 1 }, stale: false, viewVersion: announcer },
  };
}

/**
 * The scripted day: three targets probed once a minute; on `web` every third connection (the ones to node-2) times out
 * from 12:00 to 13:30 UTC, an asymmetric_routing incident opens at 12:05 and resolves at 13:35, and web's announcer
 * moves from node-1 to node-3 at 16:00. `api` and `db` are healthy all day.
 */
function scriptedDay(opts: { quiet?: boolean } = {}): DigestSources & { histories: Map<string, TargetHistory>; list: Incident[] } {
  const targets = [target('web', '192.0.2.100'), target('api', '192.0.2.101'), target('db', '2001:db8::5')];
  const histories = new Map(targets.map((t) => [t.name, new TargetHistory(t.name, 2000)]));
  const nodes = ['node-1', 'node-2', 'node-3'];
  // The 24 h series holds ten-minute buckets: the first whole bucket of the day starts ten minutes after the digest's window.
  for (let k = 0, at = DAY_START + 10 * MIN + 30_000; at < FIRE; k++, at += MIN) {
    for (const t of targets) {
      const h = histories.get(t.name)!;
      const node = nodes[k % 3]!;
      const announcer = t.name === 'web' && at >= DAY_START + 8 * HOUR ? 'node-3' : 'node-1';
      const failing = !opts.quiet && t.name === 'web' && node === 'node-2' && at >= DAY_START + 4 * HOUR && at < DAY_START + 5.5 * HOUR;
      const a = attempt(h, at, !failing, announcer, failing ? undefined : node);
      h.record(a);
      if (failing) h.attribute(a.seq, { node: 'node-2', how: 'inferred' });
    }
  }
  const list: Incident[] = opts.quiet ? [
    incident({ id: 'inc-old', target: 'api', status: 'resolved', startedAt: '2026-01-12T10:00:00.000Z', resolvedAt: '2026-01-12T11:00:00.000Z' }),
  ] : [
    incident({
      id: 'inc-web-asym', status: 'resolved', startedAt: '2026-01-14T12:05:00.000Z', resolvedAt: '2026-01-14T13:35:00.000Z',
      nodes: { 'node-1': { endpoints: 1, successes: 20, failures: 0 }, 'node-2': { endpoints: 1, successes: 0, failures: 28 }, 'node-3': { endpoints: 1, successes: 20, failures: 0 } },
    }),
    // Resolved two days before: not part of this digest.
    incident({ id: 'inc-old', target: 'api', status: 'resolved', startedAt: '2026-01-12T10:00:00.000Z', resolvedAt: '2026-01-12T11:00:00.000Z' }),
  ];
  return { histories, list, targets: () => targets, history: (n) => histories.get(n), incidents: () => list };
}

function alertingConfig(yaml: string): AlertingConfig & { digest: DigestConfig } {
  const c = parseConfig(`alerting:\n  backoff: { initial: 1s, max: 1m, multiplier: 2, jitter: 0 }\n${yaml}`, join(dir, 'vipwatch.yaml'), { env: {} }).alerting;
  return c as AlertingConfig & { digest: DigestConfig };
}

function scheduler(config: AlertingConfig & { digest: DigestConfig }, sources: DigestSources, clock: FakeClock, stateDir = mkdtempSync(join(dir, 'state-'))): DigestScheduler {
  const s = new DigestScheduler({ config, stateDir, registry: new Registry(), sources, clock, random: () => 0 });
  closers.push(() => s.stop());
  return s;
}

async function receiver(): Promise<WebhookReceiver> {
  // The fake clock's 2026-01-15 is far from the real date: the receiver's own replay window must not refuse it.
  const r = await WebhookReceiver.start({ secret: SECRET, toleranceSec: 10 * 365 * 86_400 });
  closers.push(() => r.close());
  return r;
}

async function smtpServer(): Promise<TestSmtpServer> {
  const s = await TestSmtpServer.start();
  closers.push(() => s.close());
  return s;
}

const webhookYaml = (r: WebhookReceiver) => `  webhooks:\n    - { name: ops, url: "${r.url}", secretFile: hmac, kinds: [vip_unreachable] }\n`;
const emailYaml = (port: number) => `  email:\n    - { name: oncall, smtp: { host: 127.0.0.1, port: ${port} }, from: "vipwatch <vipwatch@example.com>", to: [oncall@example.com] }\n`;
const digestYaml = (extra = '') => `  digest: { schedule: "0 9 * * *", timezone: Europe/Berlin${extra} }\n`;

describe('daily digest after a scripted day', () => {
  it('at 09:00 Berlin (08:00 UTC) mails and posts the day: availability, the incident and its duration, the worst node, the announcer change', async () => {
    const hook = await receiver();
    const smtp = await smtpServer();
    const clock = new FakeClock(DAY_START);
    const day = scriptedDay();
    const s = scheduler(alertingConfig(webhookYaml(hook) + emailYaml(smtp.port) + digestYaml()), day, clock);
    await s.start();
    expect(new Date(s.nextAt()).toISOString()).toBe('2026-01-15T08:00:00.000Z');

    await clock.advance(24 * HOUR - 1000);
    expect(s.pending()).toBe(0);
    expect(hook.requests).toHaveLength(0);
    await clock.advance(1000);
    await waitFor(() => hook.accepted().length === 1 && smtp.messages.length === 1, { what: 'the digest on both sinks' });
    await waitFor(() => s.pending() === 0, { what: 'both deliveries retired' });
    expect(new Date(s.nextAt()).toISOString()).toBe('2026-01-16T08:00:00.000Z');

    // The webhook: event digest, signed over timestamp.body like every webhook (the sink's incident `kinds` filter does not apply).
    const [req] = hook.accepted();
    expect(req!.headers['x-vipwatch-event']).toBe('digest');
    expect(req!.signatureOk).toBe(true);
    expect(verifyWebhook(SECRET, { timestamp: req!.headers['x-vipwatch-timestamp'], signature: req!.headers['x-vipwatch-signature'] }, req!.body, { nowSec: clock.now() / 1000 })).toEqual({ ok: true });
    const d = JSON.parse(req!.body) as Digest;
    expect(req!.headers['idempotency-key']).toBe(d.id);
    expect(d).toMatchObject({ date: '2026-01-15', timezone: 'Europe/Berlin', from: '2026-01-14T08:00:00.000Z', to: '2026-01-15T08:00:00.000Z', quiet: false });

    // 1,430 attempts a target (one a minute, from the first whole ten-minute bucket); web lost every third for 90 minutes.
    expect(d.totals).toEqual({ targets: 3, attempts: 3 * 1430, failures: 30, availability: (3 * 1430 - 30) / (3 * 1430), incidents: 1, openIncidents: 0 });
    const web = d.targets[0]!;
    expect(web).toMatchObject({
      target: 'web', attempts: 1430, failures: 30, timeouts: 30, availability: 1400 / 1430, incidents: 1, announcer: 'node-3',
      announcerChanges: [{ at: '2026-01-14T16:00:30.000Z', from: 'node-1', to: 'node-3' }],
    });
    // node-2: 30 failures attributed in the attempts held (more than the 28 the incident counted), and the incident suspected it.
    expect(web.worstNode).toEqual({ node: 'node-2', failures: 30, incidents: 1, targets: ['web'] });
    expect(d.worstNode).toEqual({ node: 'node-2', failures: 30, incidents: 1, targets: ['web'] });
    expect(d.targets.slice(1).map((t) => [t.target, t.availability, t.worstNode, t.announcerChanges])).toEqual([['api', 1, null, []], ['db', 1, null, []]]);
    expect(d.incidents).toEqual([expect.objectContaining({
      id: 'inc-web-asym', target: 'web', kind: 'asymmetric_routing', status: 'resolved', suspectedNodes: ['node-2'], durationMs: 90 * MIN,
      startedAt: '2026-01-14T12:05:00.000Z', resolvedAt: '2026-01-14T13:35:00.000Z',
    })]);

    // The email: the subject of the brief, the same numbers in text and HTML, times in Berlin.
    const [m] = smtp.messages;
    expect(m!.to).toEqual(['oncall@example.com']);
    expect(m!.mail.subject).toBe('[vipwatch] digest 2026-01-15 — 3 targets, 1 incident');
    expect(m!.mail.headers.get('x-vipwatch-event')).toBe('digest');
    expect(m!.mail.headers.get('x-vipwatch-delivery')).toBe(d.id);
    const text = m!.mail.text!;
    expect(text).toContain('Period:     2026-01-14 09:00 GMT+1 to 2026-01-15 09:00 GMT+1 (Europe/Berlin)');
    expect(text).toContain('Targets:    3, 99.30% available (30 failures in 4,290 attempts)');
    expect(text).toContain('Worst node: node-2 (30 failures attributed, suspected by 1 incident; web)');
    expect(text).toMatch(/^web\s+192\.0\.2\.100:80\s+1430\s+30\s+97\.90%\s+1\s+node-2 \(30\)\s+node-3$/m);
    expect(text).toMatch(/^db\s+\[2001:db8::5\]:80\s+1430\s+0\s+100%\s+0\s+-\s+node-1$/m);
    expect(text).toContain('- asymmetric_routing on web, nodes: node-2; lasted 1 h 30 min (2026-01-14 13:05 GMT+1 to 2026-01-14 14:35 GMT+1)');
    expect(text).toContain('- web: node-1 -> node-3 at 2026-01-14 17:00 GMT+1');
    const html = String(m!.mail.html);
    expect(html).toContain('<td style="padding:2px 10px 2px 0;text-align:left;vertical-align:top">97.90%</td>');
    expect(html).toContain('lasted 1 h 30 min');
    expect(html).toContain('[2001:db8::5]:80');
  });

  it('skips a quiet day, and sends it when skipWhenQuiet is off', async () => {
    const hook = await receiver();
    const clock = new FakeClock(FIRE);
    const quiet = scriptedDay({ quiet: true });
    const s = scheduler(alertingConfig(webhookYaml(hook) + digestYaml()), quiet, clock);
    await s.start();
    expect(await s.runNow()).toBeUndefined();
    expect(s.pending()).toBe(0);

    const loud = scheduler(alertingConfig(webhookYaml(hook) + digestYaml(', skipWhenQuiet: false')), quiet, clock);
    await loud.start();
    const d = await loud.runNow();
    expect(d).toMatchObject({ quiet: true, totals: { targets: 3, failures: 0, incidents: 0 }, worstNode: null, incidents: [] });
    await loud.whenIdle();
    expect(hook.accepted()).toHaveLength(1);
    expect(JSON.parse(hook.accepted()[0]!.body)).toMatchObject({ id: d!.id, quiet: true });
  });

  it('a failing SMTP server is retried with backoff, then the mail is delivered once', async () => {
    const smtp = await smtpServer();
    const front = await smtpFront(smtp.port);
    const clock = new FakeClock(FIRE);
    const stateDir = mkdtempSync(join(dir, 'state-'));
    const s = scheduler(alertingConfig(emailYaml(front.port) + digestYaml()), scriptedDay(), clock, stateDir);
    await s.start();
    const d = (await s.runNow())!;
    // Written before the first send: a crash now would send it after the restart.
    expect(readdirSync(join(stateDir, 'digest', 'oncall'))).toEqual([`${d.id}.json`]);
    await waitFor(() => front.refused === 1, { what: 'the first attempt refused (421)' });
    await waitFor(() => clock.pendingTimers() > 0, { what: 'the retry armed' });
    expect(s.pending()).toBe(1);
    // The first retry waits alerting.backoff.initial (1 s, no jitter): not a millisecond earlier.
    await clock.advance(999);
    expect(front.refused).toBe(1);
    await clock.advance(1);
    await waitFor(() => front.refused === 2, { what: 'the second attempt refused' });
    await waitFor(() => clock.pendingTimers() > 0, { what: 'the second retry armed' });
    front.failing = false;
    await clock.advance(2000); // the second retry: 1 s x multiplier 2
    await waitFor(() => smtp.messages.length === 1, { what: 'the mail delivered' });
    await waitFor(() => s.pending() === 0, { what: 'the digest retired' });
    expect(smtp.messages[0]!.mail.subject).toBe('[vipwatch] digest 2026-01-15 — 3 targets, 1 incident');
    expect(existsSync(join(stateDir, 'digest', 'oncall', `${d.id}.json`))).toBe(false);
    await clock.advance(10 * MIN);
    expect(smtp.messages).toHaveLength(1);
  });

  it('a digest pending at stop is sent after the next start, with the same id', async () => {
    const hook = await receiver();
    hook.mode = { kind: 'status', status: 503 };
    const clock = new FakeClock(FIRE);
    const stateDir = mkdtempSync(join(dir, 'state-'));
    const config = alertingConfig(webhookYaml(hook) + digestYaml());
    const first = scheduler(config, scriptedDay(), clock, stateDir);
    await first.start();
    const d = (await first.runNow())!;
    await waitFor(() => hook.requests.length === 1, { what: 'the refused attempt' });
    await first.stop();

    hook.mode = { kind: 'ok' };
    const second = scheduler(config, scriptedDay(), clock, stateDir);
    await second.start();
    await second.whenIdle();
    expect(hook.accepted().map((r) => r.headers['idempotency-key'])).toEqual([d.id]);
    expect(readdirSync(join(stateDir, 'digest', 'ops'))).toEqual([]);
  });
});

/**
 * An SMTP front on 127.0.0.1: while `failing`, it greets every connection with 421 (service not available) and hangs
 * up, as a mail server in trouble does; otherwise it passes the connection through to the real test server.
 */
async function smtpFront(backendPort: number): Promise<{ port: number; failing: boolean; refused: number }> {
  const state = { port: 0, failing: true, refused: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    if (state.failing) {
      state.refused++;
      sock.end('421 4.3.2 mail.example.com Service not available, try again later\r\n');
      return;
    }
    const up = createConnection({ host: '127.0.0.1', port: backendPort });
    sockets.add(up);
    up.on('error', () => sock.destroy());
    sock.pipe(up).pipe(sock);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as AddressInfo).port;
  closers.push(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy();
    server.close(() => r());
  }));
  return state;
}
