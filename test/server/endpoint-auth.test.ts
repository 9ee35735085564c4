import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/lib/errors.js';
import { silentLogger } from '../../src/lib/logger.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('server.auth and server.metricsAuth (the real App and HttpServer on 127.0.0.1)', () => {
  let dir: string;
  let app: App;
  let base: string;
  const files = (d: string) => ({ token: join(d, 'api.token'), password: join(d, 'page.password'), metrics: join(d, 'metrics.token') });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vipwatch-auth-'));
    const f = files(dir);
    writeFileSync(f.token, 'api-token-0123456789\n');
    writeFileSync(f.password, 'page-password-42\n');
    writeFileSync(f.metrics, 'scrape-token-abcdef\n');
    const config = parseConfig(`
server:
  listen: "127.0.0.1:0"
  auth: { bearerTokenFile: ${JSON.stringify(f.token)}, basic: { username: admin, passwordFile: ${JSON.stringify(f.password)} } }
  metricsAuth: { bearerTokenFile: ${JSON.stringify(f.metrics)} }
state: { dir: ${JSON.stringify(join(dir, 'state'))} }
`, join(dir, 'vipwatch.yaml'), { env: {} });
    app = new App({ config, logger: silentLogger });
    const addr = await app.start();
    base = `http://127.0.0.1:${addr.port}`;
  });

  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string, authorization?: string) => fetch(`${base}${path}`, { headers: authorization ? { authorization } : {} });

  it('refuses the API, the status page and unknown paths without credentials: 401 with both challenges', async () => {
    for (const path of ['/api/v1/targets', '/api/v1/incidents', '/', '/nope']) {
      const res = await get(path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate'), path).toBe('Basic realm="vipwatch", charset="UTF-8", Bearer realm="vipwatch"');
      expect(await res.json()).toEqual({ error: 'unauthorized: missing or wrong credentials', code: 'VIPWATCH_UNAUTHORIZED' });
    }
  });

  it('lets the API in with the bearer token or basic credentials, and not with wrong ones', async () => {
    expect((await get('/api/v1/targets', 'Bearer api-token-0123456789')).status).toBe(200);
    expect((await get('/api/v1/targets', 'bearer api-token-0123456789')).status).toBe(200);
    expect((await get('/', basic('admin', 'page-password-42'))).status).toBe(200);
    expect((await get('/nope', basic('admin', 'page-password-42'))).status).toBe(404);
    for (const wrong of ['Bearer api-token-012345678', 'Bearer scrape-token-abcdef', basic('admin', 'wrong'), basic('root', 'page-password-42'),
      'Basic !!!', 'Bearer', 'Digest api-token-0123456789', basic('admin', '')]) {
      expect((await get('/api/v1/targets', wrong)).status, wrong).toBe(401);
    }
  });

  it('guards /metrics with its own credentials, separate from the API', async () => {
    const res = await get('/metrics');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="vipwatch"');
    expect((await get('/metrics', 'Bearer api-token-0123456789')).status).toBe(401);
    expect((await get('/metrics', basic('admin', 'page-password-42'))).status).toBe(401);
    const ok = await get('/metrics', 'Bearer scrape-token-abcdef');
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('vipwatch_build_info');
    // The API's token does not open /metrics, nor the scrape token the API.
    expect((await get('/api/v1/targets', 'Bearer scrape-token-abcdef')).status).toBe(401);
  });

  it('keeps /-/healthy and /-/ready open', async () => {
    expect((await get('/-/healthy')).status).toBe(200);
    expect((await get('/-/ready')).status).toBe(200);
  });

  it('applies new credentials on reload at once', async () => {
    const d2 = mkdtempSync(join(dir, 'next-'));
    const f = files(d2);
    writeFileSync(f.token, 'rotated-token-999999');
    writeFileSync(f.password, 'unused-password');
    const next = parseConfig(`
server:
  listen: "127.0.0.1:0"
  auth: { bearerTokenFile: ${JSON.stringify(f.token)} }
state: { dir: ${JSON.stringify(join(dir, 'state'))} }
`, join(dir, 'vipwatch.yaml'), { env: {} });
    app.reload(next);
    expect((await get('/api/v1/targets', 'Bearer api-token-0123456789')).status).toBe(401);
    expect((await get('/api/v1/targets', 'Bearer rotated-token-999999')).status).toBe(200);
    expect((await get('/api/v1/targets', basic('admin', 'page-password-42'))).status).toBe(401);
    // metricsAuth left out: /metrics is open again.
    expect((await get('/metrics')).status).toBe(200);
  });
});

describe('server.auth validation', () => {
  const load = (yaml: string, dir: string) => {
    try {
      parseConfig(yaml, join(dir, 'vipwatch.yaml'), { env: {} });
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  };

  it('refuses empty, missing or malformed credentials, naming the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-auth-v-'));
    try {
      writeFileSync(join(dir, 'empty'), '\n');
      writeFileSync(join(dir, 'spaced'), 'two words\n');
      writeFileSync(join(dir, 'ok'), 'secret-value-1\n');
      expect(load('server: { auth: {} }', dir)).toEqual([expect.stringMatching(/:1:\d+: server\.auth: set bearerTokenFile, basic or both/)]);
      expect(load('server: { auth: { bearerTokenFile: empty } }', dir)).toEqual([expect.stringContaining('server.auth.bearerTokenFile: the file is empty')]);
      expect(load('server: { metricsAuth: { bearerTokenFile: spaced } }', dir)).toEqual([expect.stringContaining('server.metricsAuth.bearerTokenFile: the token must not contain whitespace')]);
      expect(load('server: { auth: { bearerTokenFile: missing } }', dir)).toEqual([expect.stringContaining(`server.auth.bearerTokenFile: cannot read ${join(dir, 'missing')}: ENOENT`)]);
      expect(load('server: { auth: { basic: { username: "a:b", passwordFile: ok } } }', dir)).toEqual([expect.stringContaining('server.auth.basic.username: must not contain ":"')]);
      expect(load('server: { auth: { basic: { username: a } } }', dir)).toEqual([expect.stringContaining('server.auth.basic.passwordFile: is required')]);
      expect(load('server: { auth: { basic: { username: a, passwordFile: ok } }, metricsAuth: { bearerTokenFile: ok } }', dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves both out by default: no authentication', () => {
    const config = parseConfig('{}', 'inline.yaml', { env: {} });
    expect(config.server.auth).toBeUndefined();
    expect(config.server.metricsAuth).toBeUndefined();
    expect(config.server.tls).toBeUndefined();
  });
});
