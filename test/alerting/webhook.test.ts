import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toNotification, type Notification } from '../../src/alerting/notification.js';
import { sendOnce } from '../../src/alerting/send-once.js';
import { WebhookSink } from '../../src/alerting/webhook.js';
import { signWebhook } from '../../src/alerting/webhook-signature.js';
import { verifyWebhook } from '../support/webhook-verify.js';
import { parseConfig } from '../../src/config/load.js';
import type { WebhookSinkConfig } from '../../src/config/sections/alerting.js';
import { systemClock } from '../../src/lib/clock.js';
import { FakeClock } from '../support/fake-clock.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { waitFor } from '../support/wait.js';
import { makeCert, type TestCert } from './certs.js';
import { event } from './incident.js';

const dir = mkdtempSync(join(tmpdir(), 'vipwatch-webhook-'));
writeFileSync(join(dir, 'hmac'), 'topsecret-hmac\n');
let cert: TestCert;
beforeAll(() => {
  cert = makeCert();
});
afterAll(() => {
  cert.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const open: { r?: WebhookReceiver; sinks: WebhookSink[] } = { sinks: [] };
afterEach(async () => {
  await Promise.all(open.sinks.splice(0).map((s) => s.close()));
  await open.r?.close();
  open.r = undefined;
});

/** A sink decoded from YAML exactly as vipwatch would load it. */
function sinkFrom(yamlItem: string, env: NodeJS.ProcessEnv = {}, clock = systemClock): WebhookSink {
  const config = parseConfig(`alerting:\n  webhooks:\n    - ${yamlItem.trim().split('\n').join('\n      ')}\n`, join(dir, 'c.yaml'), { env });
  const s = new WebhookSink(config.alerting.webhooks[0] as WebhookSinkConfig, clock);
  open.sinks.push(s);
  return s;
}

function note(type: Parameters<typeof event>[0] = 'open', over = {}): Notification {
  return toNotification(event(type, over), { seq: 1, queuedAt: Date.now(), instance: 'probe-a' });
}

describe('webhook sink against a real receiver', () => {
  it('POSTs the incident record as is, with event, idempotency key, signed timestamp and configured headers', async () => {
    const r = (open.r = await WebhookReceiver.start({ secret: 'topsecret-hmac' }));
    const sink = sinkFrom(`url: ${r.url}\nsecretFile: hmac\nheaders: { Authorization: "Bearer \${HOOK_TOKEN}", X-Team: net }`, { HOOK_TOKEN: 'tok-1' });
    const n = note('open');
    const res = await sendOnce(sink, n, systemClock);
    expect(res.ok).toBe(true);
    const [req] = r.requests;
    expect(req!.signatureOk).toBe(true);
    expect(req!.status).toBe(200);
    expect(JSON.parse(req!.body)).toEqual(n.incident);
    expect(req!.headers).toMatchObject({
      'content-type': 'application/json',
      'x-vipwatch-event': 'open',
      'idempotency-key': n.id,
      'x-vipwatch-delivery': n.id,
      'x-vipwatch-incident': 'inc-web-asym-1',
      'x-vipwatch-instance': 'probe-a',
      authorization: 'Bearer tok-1',
      'x-team': 'net',
    });
    expect(Number(req!.headers['x-vipwatch-timestamp'])).toBeCloseTo(Date.now() / 1000, -1);
    // The exported verifier (README) agrees with the receiver's own check, and catches tampering and replays.
    const h = { timestamp: req!.headers['x-vipwatch-timestamp'], signature: req!.headers['x-vipwatch-signature'] };
    const nowSec = Math.floor(Date.now() / 1000);
    expect(verifyWebhook('topsecret-hmac', h, req!.body, { nowSec })).toEqual({ ok: true });
    expect(verifyWebhook('topsecret-hmac', h, req!.body.replace('node-2', 'node-3'), { nowSec })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhook('topsecret-hmac', h, req!.body, { nowSec: nowSec + 3600 })).toEqual({ ok: false, reason: 'stale' });
    expect(verifyWebhook('other-key', h, req!.body, { nowSec })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('keeps the idempotency key on a retry but signs each attempt with its own timestamp', async () => {
    const r = (open.r = await WebhookReceiver.start({ secret: 'topsecret-hmac' }));
    const clock = new FakeClock(Date.now());
    const sink = sinkFrom(`url: ${r.url}\nsecretFile: hmac`, {}, clock);
    const n = note('update');
    r.mode = { kind: 'status', status: 503 };
    expect((await sendOnce(sink, n, clock)).ok).toBe(false);
    clock.jump(7000);
    r.mode = { kind: 'ok' };
    expect((await sendOnce(sink, n, clock)).ok).toBe(true);
    const [a, b] = r.requests;
    expect(a!.headers['idempotency-key']).toBe(b!.headers['idempotency-key']);
    expect(Number(b!.headers['x-vipwatch-timestamp']) - Number(a!.headers['x-vipwatch-timestamp'])).toBe(7);
    expect(a!.headers['x-vipwatch-signature']).not.toBe(b!.headers['x-vipwatch-signature']);
    expect(b!.headers['x-vipwatch-signature']).toBe(signWebhook('topsecret-hmac', Number(b!.headers['x-vipwatch-timestamp']), b!.body));
    expect(a!.signatureOk && b!.signatureOk).toBe(true);
  });

  it('sends no signature header without a secret', async () => {
    const r = (open.r = await WebhookReceiver.start());
    const res = await sendOnce(sinkFrom(`url: ${r.url}`), note('resolved'), systemClock);
    expect(res.ok).toBe(true);
    expect(r.requests[0]!.headers['x-vipwatch-signature']).toBeUndefined();
    expect(r.requests[0]!.headers['x-vipwatch-event']).toBe('resolved');
    expect(JSON.parse(r.requests[0]!.body).status).toBe('resolved');
  });
});

describe('webhook failures, each with its exact reason', () => {
  it('a 500 is http_status with the status and the start of the body', async () => {
    const r = (open.r = await WebhookReceiver.start());
    r.mode = { kind: 'status', status: 500 };
    const res = await sendOnce(sinkFrom(`url: ${r.url}`), note(), systemClock);
    expect(res).toMatchObject({ ok: false, error: { reason: 'http_status', code: 'VIPWATCH_ALERT_HTTP_STATUS', detail: { status: 500 }, message: 'HTTP 500: refused with 500' } });
  });

  it('a receiver that is down is connection_refused', async () => {
    const r = (open.r = await WebhookReceiver.start());
    await r.down();
    const res = await sendOnce(sinkFrom(`url: ${r.url}`), note(), systemClock);
    expect(res).toMatchObject({ ok: false, error: { reason: 'connection_refused', code: 'VIPWATCH_ALERT_CONNECTION_REFUSED' } });
  });

  it('a receiver that never answers is a timeout after the sink timeout (injected clock)', async () => {
    const r = (open.r = await WebhookReceiver.start());
    r.mode = { kind: 'stall' };
    const clock = new FakeClock(Date.now());
    const sink = sinkFrom(`url: ${r.url}\ntimeout: 3s`, {}, clock);
    const pending = sendOnce(sink, note(), clock);
    await waitFor(() => r.requests.length === 1, { what: 'the stalled request' });
    await clock.advance(2999);
    expect(r.requests[0]!.status).toBe(0);
    await clock.advance(1);
    const res = await pending;
    expect(res).toMatchObject({ ok: false, error: { reason: 'timeout', code: 'VIPWATCH_ALERT_TIMEOUT', message: 'no answer within 3000ms' } });
    expect(res.ms).toBe(3000);
  });

  it('a connection cut mid-request is connection_reset', async () => {
    const r = (open.r = await WebhookReceiver.start());
    r.mode = { kind: 'reset' };
    const res = await sendOnce(sinkFrom(`url: ${r.url}`), note(), systemClock);
    expect(res).toMatchObject({ ok: false, error: { reason: 'connection_reset', code: 'VIPWATCH_ALERT_CONNECTION_RESET' } });
  });

  it('an untrusted certificate is a tls failure; with caFile it is accepted', async () => {
    const r = (open.r = await WebhookReceiver.start({ tls: { key: cert.key, cert: cert.cert } }));
    const bad = await sendOnce(sinkFrom(`url: ${r.url}`), note(), systemClock);
    expect(bad).toMatchObject({ ok: false, error: { reason: 'tls', code: 'VIPWATCH_ALERT_TLS' } });
    expect(r.requests).toHaveLength(0);
    const good = await sendOnce(sinkFrom(`url: ${r.url}\ntls: { caFile: ${cert.certFile} }`), note(), systemClock);
    expect(good.ok).toBe(true);
    expect(r.requests).toHaveLength(1);
  });

  it('a certificate for another name is a tls failure', async () => {
    const r = (open.r = await WebhookReceiver.start({ tls: { key: cert.key, cert: cert.cert } }));
    const res = await sendOnce(sinkFrom(`url: ${r.url}\ntls: { caFile: ${cert.certFile}, serverName: other.example }`), note(), systemClock);
    expect(res).toMatchObject({ ok: false, error: { reason: 'tls' } });
  });
});
