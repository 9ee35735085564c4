import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { CHROMIUM, hasChromium, launchChromium } from '../support/browser.js';
import { needTools, tool } from '../support/tools.js';
import { waitFor } from '../support/wait.js';

const chromium = needTools('status page test', tool('chromium', () => (hasChromium() ? undefined : `${CHROMIUM} is not installed (apt-get install chromium)`)));

/** Screenshots of this file (named in the test names below). */
export const ARTIFACTS = join('test-artifacts', 'status-page');

describe.skipIf(chromium.skip)('status page in a real browser', () => {
  let web: Server;
  let web6: Server;
  let app: App;
  let browser: Browser;
  let base: string;
  let dir: string;

  beforeEach(() => chromium.check());
  beforeAll(async () => {
    if (chromium.missing) return;
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'vipwatch-status-'));
    let n = 0;
    // Every third request fails with a 503: the page must show a degraded target and the reason.
    web = createServer((_req, res) => (++n % 3 === 0 ? res.writeHead(503).end('busy') : res.writeHead(200).end('ok')));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    web6 = createServer((_req, res) => res.writeHead(200).end('ok'));
    await new Promise<void>((r) => web6.listen(0, '::1', r));
    const port = (web.address() as AddressInfo).port;
    const port6 = (web6.address() as AddressInfo).port;
    const config = parseConfig(`
server: { listen: "127.0.0.1:0" }
state: { dir: ${JSON.stringify(join(dir, 'state'))} }
targets:
  - { name: flaky-web, address: 127.0.0.1, port: ${port}, protocol: http, interval: 500ms, timeout: 500ms }
  - { name: v6-web, address: "::1", port: ${port6}, protocol: http, interval: 500ms, timeout: 500ms }
`, 'inline.yaml', { env: {} });
    app = new App({ config, logger: silentLogger });
    base = `http://127.0.0.1:${(await app.start()).port}/`;
    await waitFor(() => (app.scheduler.history('flaky-web')?.recent().length ?? 0) >= 6 && (app.scheduler.history('v6-web')?.recent().length ?? 0) >= 2, { what: 'attempts' });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    web?.close();
    web6?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows each target with its state, failure ratios, last failure reason, and IPv6 endpoints in brackets (status-page/desktop.png)', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(base);
    const card = page.locator('details.target[data-target="flaky-web"]');
    await card.waitFor({ timeout: 10_000 });
    expect(await card.locator('summary .badge').textContent()).toBe('degraded');
    expect(await card.locator('summary code.reason').textContent()).toBe('http_status');
    expect(await card.locator('summary').textContent()).toMatch(/failed 1m \d+(\.\d)?%/);
    // Local time and "ago" both shown.
    expect(await card.locator('summary time').first().getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await card.locator('summary .ago').first().textContent()).toMatch(/^\((just now|\d+ s ago)\)$/);
    // Two targets, so both cards are open: the degraded one's chart and reasons come from /api/v1/series.
    await card.locator('svg.chart rect.fail').first().waitFor({ timeout: 10_000 });
    expect(await card.locator('.reasons code.reason').first().textContent()).toBe('http_status');
    const v6 = page.locator('details.target[data-target="v6-web"]');
    expect(await v6.locator('.endpoint').textContent()).toBe(`http://[::1]:${(web6.address() as AddressInfo).port}`);
    expect(await v6.locator('summary .badge').textContent()).toBe('healthy');
    expect(await page.locator('#updated').textContent()).toMatch(/^updated /);
    // A click closes a card and it stays closed across polls.
    await v6.locator('summary .name').click();
    await page.waitForTimeout(2500);
    expect(await page.locator('details.target[data-target="v6-web"]').getAttribute('open')).toBeNull();
    await page.screenshot({ path: join(ARTIFACTS, 'desktop.png'), fullPage: true });
    await page.close();
  });

  it('polls a summary of a few hundred bytes per target, not the full target list', async () => {
    const page = await browser.newPage();
    const paths: string[] = [];
    const versions = new Set<string>();
    page.on('request', (r) => paths.push(new URL(r.url()).pathname + new URL(r.url()).search));
    page.on('response', async (r) => {
      if (new URL(r.url()).pathname === '/api/v1/summary') versions.add((await r.json()).incidents.version);
    });
    await page.goto(base);
    await page.locator('details.target[data-target="flaky-web"] svg.chart').waitFor({ timeout: 10_000 });
    await page.waitForTimeout(4500);
    await page.close();
    expect(paths.filter((p) => p === '/api/v1/summary').length).toBeGreaterThanOrEqual(3);
    expect(paths).not.toContain('/api/v1/targets');
    // The incident list is fetched only when the summary says it changed (at most once per fingerprint seen).
    expect(paths.filter((p) => p.startsWith('/api/v1/incidents')).length).toBeLessThanOrEqual(versions.size);
    expect(paths.filter((p) => p.startsWith('/api/v1/incidents')).length).toBeGreaterThanOrEqual(1);
    expect(paths).toContain('/api/v1/series?target=flaky-web');
    const summary = await (await fetch(`${base}api/v1/summary`)).text();
    const targets = await (await fetch(`${base}api/v1/targets`)).text();
    const perTarget = (summary.length - summary.indexOf('"targets"')) / 2;
    writeFileSync(join(ARTIFACTS, 'sizes.json'), JSON.stringify({ summaryBytes: summary.length, summaryBytesPerTarget: perTarget, targetsBytes: targets.length }, null, 2) + '\n');
    expect(perTarget).toBeLessThan(500);
    expect(targets.length / 2).toBeGreaterThan(10 * perTarget);
    const s = JSON.parse(summary);
    expect(s.targets.map((t: { name: string }) => t.name)).toEqual(['flaky-web', 'v6-web']);
    expect(s.targets[0]).toMatchObject({ status: 'degraded', lastFailure: { reason: 'http_status' }, announcer: null });
    expect(s.targets[1]).toMatchObject({ address: '::1', status: 'healthy', lastFailure: null, incidents: [] });
  });

  it('answers series questions with stable error codes', async () => {
    const missing = await fetch(`${base}api/v1/series`);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ code: 'VIPWATCH_BAD_QUERY' });
    const unknown = await fetch(`${base}api/v1/series?target=nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'VIPWATCH_NOT_FOUND' });
    const s = (await (await fetch(`${base}api/v1/series?target=flaky-web`)).json()) as { ranges: Record<string, { attempts: number[]; failures: number[] }>; reasons: Record<string, { count: number }> };
    expect(Object.keys(s.ranges)).toEqual(['1h', '24h']);
    expect(s.ranges['1h'].attempts).toHaveLength(60);
    expect(s.ranges['24h'].attempts).toHaveLength(144);
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    expect(sum(s.ranges['1h']!.failures)).toBeGreaterThan(0);
    expect(sum(s.ranges['24h']!.attempts)).toBe(sum(s.ranges['1h']!.attempts));
    expect(s.reasons.http_status!.count).toBe(sum(s.ranges['1h']!.failures));
  });
});

describe.skipIf(chromium.skip)('status page when the API needs credentials', () => {
  let app: App;
  let browser: Browser;
  let base: string;
  let dir: string;
  const config = (password: string) => {
    writeFileSync(join(dir, `page-${password}.password`), `${password}\n`);
    return parseConfig(`
server:
  listen: "127.0.0.1:0"
  auth: { basic: { username: admin, passwordFile: ${JSON.stringify(join(dir, `page-${password}.password`))} } }
state: { dir: ${JSON.stringify(join(dir, 'state'))} }
`, join(dir, 'vipwatch.yaml'), { env: {} });
  };

  beforeEach(() => chromium.check());
  beforeAll(async () => {
    if (chromium.missing) return;
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'vipwatch-status-auth-'));
    app = new App({ config: config('first-password-1'), logger: silentLogger });
    base = `http://127.0.0.1:${(await app.start()).port}/`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a page whose credentials stop working shows the 401 message instead of going blank (status-page/401-banner.png)', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 700 }, httpCredentials: { username: 'admin', password: 'first-password-1' } });
    const page = await context.newPage();
    await page.goto(base);
    await page.locator('#targets').getByText('No target configured.').waitFor({ timeout: 10_000 });
    expect(await page.locator('#auth-needed').count()).toBe(0);
    app.reload(config('second-password-2'));
    const banner = page.locator('#auth-needed');
    await banner.waitFor({ timeout: 10_000 });
    expect(await banner.textContent()).toMatch(/401 Unauthorized.*server\.auth/s);
    expect(await page.locator('#updated').textContent()).toBe('credentials needed');
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(ARTIFACTS, '401-banner.png') });
    await context.close();
  });

  it('a browser without credentials gets a page that says so, API clients keep the JSON 401 (status-page/401-page.png)', async () => {
    // With basic auth a browser prompts first (headless Chromium cannot); with a bearer token only it shows the 401 body.
    writeFileSync(join(dir, 'api.token'), 'api-token-0123456789\n');
    app.reload(parseConfig(`
server:
  listen: "127.0.0.1:0"
  auth: { bearerTokenFile: ${JSON.stringify(join(dir, 'api.token'))} }
state: { dir: ${JSON.stringify(join(dir, 'state'))} }
`, join(dir, 'vipwatch.yaml'), { env: {} }));
    const page = await browser.newPage({ viewport: { width: 390, height: 700 } });
    const res = await page.goto(base);
    expect(res!.status()).toBe(401);
    expect(await page.locator('#auth-needed').textContent()).toMatch(/credentials needed.*bearer token.*browser cannot send/s);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(ARTIFACTS, '401-page.png') });
    await page.close();
    const api = await fetch(base, { headers: { accept: 'application/json' } });
    expect(api.status).toBe(401);
    expect(api.headers.get('www-authenticate')).toBe('Bearer realm="vipwatch"');
    expect(await api.json()).toEqual({ error: 'unauthorized: missing or wrong credentials', code: 'VIPWATCH_UNAUTHORIZED' });
    const html = await fetch(base, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(html.status).toBe(401);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await html.text()).toContain('VIPWATCH_UNAUTHORIZED');
  });
});
