import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/incidents/types.js';
import { waitFor } from '../support/wait.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { freePort } from '../support/net-servers.js';


function startVipwatch(file: string): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['bin/vipwatch.js', 'run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, out: () => out, exited: new Promise((r) => child.on('exit', (code) => r(code))) };
}

describe('incident lifecycle through the built binary', () => {
  const children: ChildProcess[] = [];
  let web: Server | undefined;
  let receiver: WebhookReceiver | undefined;
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    web?.close();
    await receiver?.down().catch(() => {});
  });

  it('opens an incident, notifies by signed webhook, survives kill -9, and resolves after the fix', async () => {
    let failing = true;
    web = createServer((_req, res) => {
      res.writeHead(failing ? 500 : 200, { 'x-node': 'node-b' }).end(failing ? 'boom' : 'ok');
    });
    await new Promise<void>((r) => web!.listen(0, '127.0.0.1', r));
    receiver = await WebhookReceiver.start({ secret: 'hook-secret' });
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-incident-'));
    writeFileSync(join(dir, 'hmac'), 'hook-secret\n');
    const port = await freePort();
    const file = join(dir, 'vipwatch.yaml');
    writeFileSync(file, `server: { listen: "127.0.0.1:${port}" }
state: { dir: ${JSON.stringify(join(dir, 'state'))} }
targets:
  - name: app
    address: 127.0.0.1
    port: ${(web.address() as AddressInfo).port}
    protocol: http
    interval: 100ms
    timeout: 100ms
    http: { backendHeader: X-Node }
diagnosis:
  window: 30s
  minAttempts: 10
  openAfter: 500ms
  marginalHold: 500ms
  resolveAfter: 1s
  burst: { count: 5, spacing: 50ms }
alerting:
  webhooks:
    - { name: ops, url: "${receiver.url}", secretFile: ./hmac }
`);
    const api = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).json() as Promise<{ incidents: Incident[] }>;

    const first = startVipwatch(file);
    children.push(first.child);
    const opened = await waitFor(async () => (await api('/api/v1/incidents')).incidents.find((i) => i.status === 'open'), { what: `an open incident; output: ${first.out()}` });
    expect(opened).toMatchObject({ kind: 'http_errors', target: 'app', address: '127.0.0.1', status: 'open', resolvedAt: null });
    expect(opened.reasons.http_status).toBeGreaterThan(0);
    expect(opened.summary.length).toBeGreaterThan(0);
    expect(opened.remediation.length).toBeGreaterThan(0);
    const hook = await waitFor(() => receiver!.accepted().find((r) => r.headers['x-vipwatch-event'] === 'open'), { what: 'open webhook' });
    expect(hook.signatureOk).toBe(true);
    expect(JSON.parse(hook.body)).toMatchObject({ id: opened.id, kind: 'http_errors', status: 'open' });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/vipwatch_incident_open\{target="app",kind="http_errors"\} 1/);
    // Without cluster metadata the X-Node value cannot be mapped to a node with certainty: the label stays unknown.
    expect(metrics).toMatch(/vipwatch_probe_failures_total\{target="app",reason="http_status",node="unknown"\} [1-9]/);

    // kill -9: nothing flushed on the way out.
    first.child.kill('SIGKILL');
    await first.exited;
    failing = false;
    const second = startVipwatch(file);
    children.push(second.child);
    // Restored open (its log says so); it may already have resolved by the time the API is first asked.
    await waitFor(async () => (await api('/api/v1/incidents')).incidents.find((i) => i.id === opened.id), { what: `restored incident; output: ${second.out()}` });
    expect(second.out()).toMatch(/"msg":"incidents restored"[^\n]*"open":1/);
    const resolved = await waitFor(async () => (await api('/api/v1/incidents')).incidents.find((i) => i.id === opened.id && i.status === 'resolved'), { what: `resolution; output: ${second.out()}` });
    expect(resolved.resolvedAt).not.toBeNull();
    const resolveHook = await waitFor(() => receiver!.accepted().find((r) => r.headers['x-vipwatch-event'] === 'resolved'), { what: 'resolved webhook' });
    expect(JSON.parse(resolveHook.body)).toMatchObject({ id: opened.id, status: 'resolved' });
    // Each notification arrived once per idempotency key.
    for (const [, n] of receiver.acceptedPerKey()) expect(n).toBe(1);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
