import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { FakeClock } from '../support/fake-clock.js';
import { waitFor } from '../support/wait.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const dir = mkdtempSync(join(tmpdir(), 'vipwatch-digest-app-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the digest in the app', () => {
  it('starts with the app on its clock, fires at the schedule, and stops with it', async () => {
    const hook = await WebhookReceiver.start();
    const config = parseConfig(`
server: { listen: "127.0.0.1:0" }
state: { dir: ${JSON.stringify(dir)} }
alerting:
  instance: probe-a
  webhooks: [{ name: ops, url: "${hook.url}" }]
  digest: { schedule: "0 9 * * *", skipWhenQuiet: false }
`, join(dir, 'vipwatch.yaml'), { env: {} });
    const clock = new FakeClock(Date.parse('2026-01-15T08:59:00Z'));
    const app = new App({ config, clock, logger: silentLogger });
    try {
      await app.start();
      expect(new Date(app.digest!.nextAt()).toISOString()).toBe('2026-01-15T09:00:00.000Z');
      await clock.advance(60_000);
      await waitFor(() => hook.accepted().length === 1, { what: 'the digest posted' });
      const body = JSON.parse(hook.accepted()[0]!.body) as { instance: string; date: string; quiet: boolean; totals: { targets: number } };
      expect(body).toMatchObject({ instance: 'probe-a', date: '2026-01-15', quiet: true, totals: { targets: 0 } });
      expect(hook.accepted()[0]!.headers['x-vipwatch-event']).toBe('digest');
    } finally {
      await app.stop();
    }
    // Stopped: the next day's fire time passes without a digest (the receiver still listens).
    await clock.advance(24 * 3_600_000);
    await new Promise((r) => setTimeout(r, 100)); // a POST that is not coming: real sockets, no clock to advance
    expect(hook.requests).toHaveLength(1);
    await hook.close();
    expect(new App({ config: parseConfig('server: { listen: "127.0.0.1:0" }\n', join(dir, 'b.yaml'), { env: {} }), logger: silentLogger }).digest).toBeUndefined();
  });
});
