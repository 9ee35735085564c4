import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { request, type RequestOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/net-servers.js';
import { makePki, type TestPki } from '../support/net-tls.js';
import { waitFor } from '../support/wait.js';
import { metricValue, RunProcess } from './run-process.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  serial: string;
}

/** One GET over a fresh HTTPS connection (no keep-alive: each sees the certificate served at that moment). */
function httpsGet(port: number, path: string, ca: string, authorization?: string): Promise<Answer> {
  const opts: RequestOptions = { host: '127.0.0.1', port, path, ca, servername: 'vipwatch.test', agent: false, headers: authorization ? { authorization } : {} };
  return new Promise((resolve, reject) => {
    const req = request(opts, (res) => {
      const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, serial }));
    });
    req.on('error', reject);
    req.end();
  });
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('vipwatch run with server.auth, server.metricsAuth and server.tls (the built binary)', () => {
  let dir: string;
  let a: TestPki;
  let b: TestPki;
  let p: RunProcess;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vipwatch-endpoint-'));
    a = makePki(['DNS:vipwatch.test', 'IP:127.0.0.1']);
    b = makePki(['DNS:vipwatch.test', 'IP:127.0.0.1']);
    writeFileSync(join(dir, 'tls.crt'), a.cert);
    writeFileSync(join(dir, 'tls.key'), a.key);
    writeFileSync(join(dir, 'page.password'), 'page-password-42\n');
    writeFileSync(join(dir, 'scrape.token'), 'scrape-token-abcdef\n');
    port = await freePort();
    // Relative paths: relative to the config file.
    writeFileSync(join(dir, 'vipwatch.yaml'), `server:
  listen: "127.0.0.1:${port}"
  tls: { certFile: tls.crt, keyFile: tls.key }
  auth: { basic: { username: admin, passwordFile: page.password } }
  metricsAuth: { bearerTokenFile: scrape.token }
state: { dir: state }
targets:
  - { name: own-port, address: 127.0.0.1, port: ${port}, protocol: tcp, interval: 200ms, timeout: 200ms }
`);
    p = new RunProcess(join(dir, 'vipwatch.yaml'));
    await p.started();
  });

  afterAll(async () => {
    await p?.kill();
    a?.cleanup();
    b?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the API and the status page need the basic credentials: 401 with a Basic challenge, 200 with them', async () => {
    for (const path of ['/', '/api/v1/targets']) {
      const refused = await httpsGet(port, path, a.caCert);
      expect(refused.status, path).toBe(401);
      expect(refused.headers['www-authenticate'], path).toBe('Basic realm="vipwatch", charset="UTF-8"');
      expect((await httpsGet(port, path, a.caCert, basic('admin', 'nope'))).status, path).toBe(401);
      expect((await httpsGet(port, path, a.caCert, basic('admin', 'page-password-42'))).status, path).toBe(200);
    }
    // The page's credentials do not open /metrics.
    expect((await httpsGet(port, '/metrics', a.caCert, basic('admin', 'page-password-42'))).status).toBe(401);
  });

  it('/metrics needs its own bearer token', async () => {
    const refused = await httpsGet(port, '/metrics', a.caCert);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer realm="vipwatch"');
    const ok = await httpsGet(port, '/metrics', a.caCert, 'Bearer scrape-token-abcdef');
    expect(ok.status).toBe(200);
    expect(metricValue(ok.body, 'vipwatch_config_last_reload_successful')).toBe(1);
  });

  it('/-/healthy and /-/ready stay open', async () => {
    expect((await httpsGet(port, '/-/healthy', a.caCert)).status).toBe(200);
    expect((await httpsGet(port, '/-/ready', a.caCert)).status).toBe(200);
  });

  it('speaks only HTTPS, and serves a replaced certificate to new connections', async () => {
    const plain = await new Promise<string>((resolve) => {
      httpGet({ host: '127.0.0.1', port, path: '/-/healthy', agent: false }, (res) => resolve(String(res.statusCode))).on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? 'error'));
    });
    expect(plain).not.toBe('200');
    expect((await httpsGet(port, '/-/healthy', a.caCert)).serial).toBe(new X509Certificate(a.cert).serialNumber);
    writeFileSync(join(dir, 'tls.key.new'), b.key);
    writeFileSync(join(dir, 'tls.crt.new'), b.cert);
    renameSync(join(dir, 'tls.key.new'), join(dir, 'tls.key'));
    renameSync(join(dir, 'tls.crt.new'), join(dir, 'tls.crt'));
    const serialB = new X509Certificate(b.cert).serialNumber;
    await waitFor(async () => (await httpsGet(port, '/-/healthy', b.caCert).catch(() => undefined))?.serial === serialB, { what: 'the new certificate served' });
    expect(p.find('server TLS certificate reloaded')).toEqual([expect.objectContaining({ serialNumber: serialB })]);
    expect(p.stdout).not.toContain('page-password-42');
    expect(p.stdout).not.toContain('scrape-token-abcdef');
  });
});
