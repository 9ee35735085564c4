import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAlertCommand } from '../../src/cli/test-alert.js';
import { parseConfig } from '../../src/config/load.js';
import { TestSmtpServer } from '../support/smtp-server.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const dir = mkdtempSync(join(tmpdir(), 'vipwatch-test-alert-'));
writeFileSync(join(dir, 'hmac'), 'k1\n');
let hook: WebhookReceiver;
let down: WebhookReceiver;
let mail: TestSmtpServer;
beforeAll(async () => {
  hook = await WebhookReceiver.start({ secret: 'k1' });
  down = await WebhookReceiver.start();
  await down.down();
  mail = await TestSmtpServer.start({});
});
afterAll(async () => {
  await hook.close();
  await mail.close();
  rmSync(dir, { recursive: true, force: true });
});

function config() {
  return parseConfig(`alerting:
  instance: probe-a
  webhooks:
    - name: ops
      url: ${hook.url}
      secretFile: hmac
    - name: broken
      url: ${down.url}
  email:
    - name: oncall
      smtp: { host: 127.0.0.1, port: ${mail.port} }
      from: vipwatch@example.com
      to: [oncall@example.com]
`, join(dir, 'c.yaml'));
}

describe('vipwatch test-alert', () => {
  it('sends a sample marked as a test to every sink directly, one line per sink, 1 when any failed', async () => {
    const lines: string[] = [];
    const code = await testAlertCommand(config(), { out: (l) => lines.push(l) });
    expect(code).toBe(1);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`^ok {4}webhook ops -> http://127\\.0\\.0\\.1:${hook.port}/hook \\(\\d+ms\\)$`));
    expect(lines[1]).toMatch(new RegExp(`^FAIL  webhook broken -> http://127\\.0\\.0\\.1:${down.port}/hook: connection_refused: connection refused: `));
    expect(lines[2]).toMatch(new RegExp(`^ok {4}email oncall -> smtp://127\\.0\\.0\\.1:${mail.port} \\(\\d+ms\\)$`));
    const req = hook.requests.at(-1)!;
    expect(req.signatureOk).toBe(true);
    expect(req.headers['x-vipwatch-test']).toBe('true');
    expect(JSON.parse(req.body)).toMatchObject({ target: 'vipwatch-test-alert', address: '192.0.2.100', summary: expect.stringContaining('this is a test alert') });
    expect(mail.messages.at(-1)!.mail.subject).toBe('[vipwatch] TEST OPEN asymmetric_routing vipwatch-test-alert 192.0.2.100:80 — node-2');
    // Not through the outbox: nothing written under state.dir.
    expect(existsSync(join(dir, 'state'))).toBe(false);
  });

  it('sends to one sink with --sink, 0 when it succeeded', async () => {
    const lines: string[] = [];
    const before = hook.requests.length;
    expect(await testAlertCommand(config(), { sink: 'ops', out: (l) => lines.push(l) })).toBe(0);
    expect(lines).toHaveLength(1);
    expect(hook.requests.length).toBe(before + 1);
  });

  it('names the configured sinks when --sink matches none', async () => {
    const lines: string[] = [];
    expect(await testAlertCommand(config(), { sink: 'nope', out: (l) => lines.push(l) })).toBe(1);
    expect(lines).toEqual(['no sink named "nope" (configured: ops, broken, oncall)']);
    const none: string[] = [];
    expect(await testAlertCommand(parseConfig('', join(dir, 'c.yaml')), { out: (l) => none.push(l) })).toBe(1);
    expect(none).toEqual(['no alert sinks configured (alerting.webhooks, alerting.email, alerting.alertmanager)']);
  });
});
