import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { waitFor } from '../support/wait.js';
import { closedPort } from '../support/net-servers.js';
import { needTools, PROMTOOL } from '../support/tools.js';

const promtool = needTools('promtool check metrics', PROMTOOL());


describe('vipwatch engine end to end on loopback', () => {
  let web: Server;
  let app: App;
  let base: string;
  const remotePorts = new Set<number>();

  beforeAll(async () => {
    web = createServer((req, res) => {
      remotePorts.add(req.socket.remotePort!);
      res.writeHead(200, { 'x-node': 'node-a' }).end('ok');
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    const webPort = (web.address() as AddressInfo).port;
    const refused = await closedPort();
    const config = parseConfig(`
server: { listen: "127.0.0.1:0" }
targets:
  - { name: web, address: 127.0.0.1, port: ${webPort}, protocol: http, interval: 300ms, timeout: 300ms, http: { backendHeader: X-Node, bodyRegex: "^ok$" } }
  - { name: closed, address: 127.0.0.1, port: ${refused}, protocol: tcp, interval: 300ms, timeout: 300ms }
`, 'inline.yaml', { env: {} });
    app = new App({ config, logger: silentLogger });
    const addr = await app.start();
    base = `http://127.0.0.1:${addr.port}`;
    await waitFor(() => (app.scheduler.history('web')?.recent().length ?? 0) >= 5 && (app.scheduler.history('closed')?.recent().length ?? 0) >= 5, { what: '5 attempts per target' });
  });

  afterAll(async () => {
    await app?.stop();
    web?.close();
  });

  it('serves health and readiness', async () => {
    expect((await fetch(`${base}/-/healthy`)).status).toBe(200);
    expect((await fetch(`${base}/-/ready`)).status).toBe(200);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('opens a fresh connection per attempt (distinct source ports)', () => {
    const attempts = app.scheduler.history('web')!.recent();
    const ports = attempts.map((a) => a.sourcePort);
    expect(new Set(ports).size).toBe(ports.length);
    expect(remotePorts.size).toBeGreaterThanOrEqual(attempts.length);
  });

  it('lists targets with windows and the last attempts in /api/v1/targets', async () => {
    const body = (await (await fetch(`${base}/api/v1/targets`)).json()) as { targets: any[] };
    const web = body.targets.find((t) => t.name === 'web');
    const closed = body.targets.find((t) => t.name === 'closed');
    expect(web.status).toBe('healthy');
    expect(web.attempts.at(-1)).toMatchObject({ ok: true, reason: null, backend: 'node-a', httpStatus: 200 });
    expect(web.attempts.at(-1).sourcePort).toBeGreaterThan(0);
    expect(web.attempts.at(-1).timings.connectMs).toBeGreaterThanOrEqual(0);
    expect(web.windows['1m'].attempts).toBeGreaterThanOrEqual(5);
    expect(closed.status).toBe('down');
    expect(closed.attempts.at(-1)).toMatchObject({ ok: false, reason: 'refused', node: 'unknown' });
    expect(closed.windows['1m'].ratio).toBe(1);
  });

  it('exports the metrics', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/vipwatch_probe_attempts_total\{target="web",protocol="http",result="success"\} [1-9]/);
    expect(text).toMatch(/vipwatch_probe_failures_total\{target="closed",reason="refused",node="unknown"\} [1-9]/);
    expect(text).toMatch(/vipwatch_probe_duration_seconds_bucket\{le="0.005",target="web",phase="connect"\}/);
    expect(text).toMatch(/vipwatch_failure_ratio\{target="closed",window="1m"\} 1/);
    expect(text).toContain('vipwatch_probe_skipped_total');
    expect(text).toMatch(/vipwatch_event_loop_lag_seconds \d/);
    expect(text).toMatch(/vipwatch_build_info\{version="[^"]+",nodejs="v\d+/);
  });

  it('exports metrics that pass promtool check metrics', async (ctx) => {
    promtool.require(ctx);
    const text = await (await fetch(`${base}/metrics`)).text();
    const out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(out.trim()).toBe('');
  });

  it('applies a reloaded target list live', async () => {
    const { targets } = (app as unknown as { config: { targets: unknown[] } }).config;
    app.reload({ ...(app as any).config, targets: targets.slice(0, 1) });
    expect(app.scheduler.targets().map((t) => t.name)).toEqual(['web']);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).not.toContain('target="closed"');
  });
});
