import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { CHROMIUM, hasChromium, launchChromium } from '../support/browser.js';
import { needTools, tool } from '../support/tools.js';
import { waitFor } from '../support/wait.js';

const chromium = needTools('status page test', tool('chromium', () => (hasChromium() ? undefined : `${CHROMIUM} is not installed (apt-get install chromium)`)));

describe.skipIf(chromium.skip)('status page in a real browser', () => {
  let web: Server;
  let app: App;
  let browser: Browser;
  let base: string;

  beforeEach(() => chromium.check());
  beforeAll(async () => {
    if (chromium.missing) return;
    let n = 0;
    // Every third request fails with a 503: the page must show a degraded target and the reason.
    web = createServer((_req, res) => (++n % 3 === 0 ? res.writeHead(503).end('busy') : res.writeHead(200).end('ok')));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    const port = (web.address() as AddressInfo).port;
    const config = parseConfig(`
server: { listen: "127.0.0.1:0" }
targets:
  - { name: flaky-web, address: 127.0.0.1, port: ${port}, protocol: http, interval: 500ms, timeout: 500ms }
`, 'inline.yaml', { env: {} });
    app = new App({ config, logger: silentLogger });
    base = `http://127.0.0.1:${(await app.start()).port}/`;
    await waitFor(() => (app.scheduler.history('flaky-web')?.recent().length ?? 0) >= 6, { what: 'attempts' });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    web?.close();
  });

  it('shows each target with its status, failure ratio, attempt strip and last failure reason', async () => {
    const page = await browser.newPage();
    await page.goto(base);
    const row = page.locator('tr[data-target="flaky-web"]');
    await row.waitFor({ timeout: 10_000 });
    expect(await row.locator('.badge').textContent()).toBe('degraded');
    expect(await row.locator('code.reason').textContent()).toBe('http_status');
    expect(await row.locator('.spark i.f').count()).toBeGreaterThan(0);
    expect(await row.locator('.spark i:not(.f)').count()).toBeGreaterThan(0);
    expect(await row.textContent()).toMatch(/\d+\.\d%/);
    expect(await page.locator('#updated').textContent()).toMatch(/^updated /);
    await page.screenshot({ path: '/tmp/vipwatch-status-page.png', fullPage: true });
    await page.close();
  });
});
