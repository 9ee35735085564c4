import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_HEALTH_URL, healthcheckCommand } from '../../src/cli/healthcheck.js';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { closedPort, httpServer, httpsServer, silentServer, type TestServer } from '../support/net-servers.js';
import { makePki } from '../support/net-tls.js';

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, env: {}, out: (l) => void stdout.push(l), err: (l) => void stderr.push(l) };
}

describe('vipwatch healthcheck (the image HEALTHCHECK, no curl)', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function serve(status: number): Promise<string> {
    const s = await httpServer((req, res) => {
      res.writeHead(req.url === '/-/healthy' ? status : 404, { 'content-type': 'text/plain' });
      res.end('ok\n');
    });
    servers.push(s);
    return `http://127.0.0.1:${s.port}/-/healthy`;
  }

  it('exits 0 when the URL answers 200', async () => {
    const io = capture();
    const url = await serve(200);
    expect(await main(['healthcheck', '--url', url], io)).toBe(0);
    expect(io.stdout).toEqual([`vipwatch healthcheck: ok (${url} answered 200)`]);
    expect(io.stderr).toEqual([]);
  });

  it('exits 1 on any other status, saying which', async () => {
    const io = capture();
    const url = await serve(503);
    expect(await main(['healthcheck', '--url', url], io)).toBe(1);
    expect(io.stderr).toEqual([`vipwatch healthcheck: unhealthy: ${url} answered 503`]);
  });

  it('exits 1 when nothing listens, naming the socket error', async () => {
    const io = capture();
    const port = await closedPort();
    expect(await main(['healthcheck', '--url', `http://127.0.0.1:${port}/-/healthy`], io)).toBe(1);
    expect(io.stderr.join('\n')).toMatch(new RegExp(`^vipwatch healthcheck: unhealthy: http://127\\.0\\.0\\.1:${port}/-/healthy: .*ECONNREFUSED`));
  });

  it('exits 1 at its deadline when the server never answers', async () => {
    const s = await silentServer();
    servers.push(s);
    const io = capture();
    const t0 = Date.now();
    expect(await healthcheckCommand(`http://127.0.0.1:${s.port}/-/healthy`, io, { deadlineMs: 300 })).toBe(1);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(io.stderr).toEqual([`vipwatch healthcheck: unhealthy: http://127.0.0.1:${s.port}/-/healthy: no answer within 300 ms`]);
  });

  it('refuses what is not an http(s) URL, and never prints credentials from the URL', async () => {
    const io = capture();
    expect(await main(['healthcheck', '--url', 'not a url'], io)).toBe(1);
    expect(io.stderr).toEqual(['vipwatch healthcheck: unhealthy: "not a url" is not a URL']);
    const io2 = capture();
    expect(await main(['healthcheck', '--url', 'file:///etc/passwd'], io2)).toBe(1);
    expect(io2.stderr).toEqual(['vipwatch healthcheck: unhealthy: file: is not http: or https:']);
    const io3 = capture();
    const port = await closedPort();
    expect(await main(['healthcheck', '--url', `http://user:s3cr3t@127.0.0.1:${port}/-/healthy?token=s3cr3t`], io3)).toBe(1);
    expect(io3.stderr.join('\n')).not.toContain('s3cr3t');
  });

  it('sends credentials in the URL as basic auth', async () => {
    let auth: string | undefined;
    const s = await httpServer((req, res) => {
      auth = req.headers.authorization;
      res.writeHead(200);
      res.end('ok\n');
    });
    servers.push(s);
    const io = capture();
    expect(await main(['healthcheck', '--url', `http://prom%40ops:p%3Ass@127.0.0.1:${s.port}/-/healthy`], io)).toBe(0);
    expect(auth).toBe(`Basic ${Buffer.from('prom@ops:p:ss').toString('base64')}`);
    expect(io.stdout.join('\n')).not.toContain('p:ss');
  });

  it('over https checks the certificate unless --insecure (server.tls with a certificate for another name)', async () => {
    const pki = makePki(['DNS:vipwatch.example']);
    try {
      const s = await httpsServer({ key: pki.key, cert: pki.cert }, (_req, res) => {
        res.writeHead(200);
        res.end('ok\n');
      });
      servers.push(s);
      const url = `https://127.0.0.1:${s.port}/-/healthy`;
      const strict = capture();
      expect(await main(['healthcheck', '--url', url], strict)).toBe(1);
      expect(strict.stderr[0]).toMatch(/^vipwatch healthcheck: unhealthy: https:\/\/127\.0\.0\.1:\d+\/-\/healthy: /);
      const insecure = capture();
      expect(await main(['healthcheck', '--url', url, '--insecure'], insecure)).toBe(0);
      expect(insecure.stdout).toEqual([`vipwatch healthcheck: ok (${url} answered 200)`]);
    } finally {
      pki.cleanup();
    }
  });

  it('asks 127.0.0.1:9464/-/healthy by default, takes only --url, and has --help', async () => {
    expect(DEFAULT_HEALTH_URL).toBe('http://127.0.0.1:9464/-/healthy');
    const usage = capture();
    expect(await main(['healthcheck', '--config', 'x.yaml'], usage)).toBe(2);
    expect(usage.stderr[0]).toBe('vipwatch: unknown option --config');
    const help = capture();
    expect(await main(['healthcheck', '--help'], help)).toBe(0);
    expect(help.stdout[0]).toContain('Usage: vipwatch healthcheck [--url URL] [--insecure]');
    const top = capture();
    expect(await main(['--help'], top)).toBe(0);
    expect(top.stdout[0]).toContain('vipwatch healthcheck [--url URL]');
  });
});
