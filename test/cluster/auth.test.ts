import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KubeConnection } from '../../src/cluster/connection.js';
import { credentialSource } from '../../src/cluster/credentials.js';
import { KubeClient } from '../../src/cluster/kube-client.js';
import { KubeconfigError, resolveKubeconfig } from '../../src/cluster/kubeconfig.js';
import { resolveConnection } from '../../src/cluster/resolve-connection.js';
import { FakeClock } from '../support/fake-clock.js';
import { FakeKubeApi } from '../support/fake-kube-api.js';
import { FIXTURES, kubeConfig, makePki, writeKubeconfig, type Pki } from './helpers.js';

let pki: Pki;
beforeAll(() => {
  pki = makePki();
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function server(opts: { tokens?: string[]; requireClientCert?: boolean } = {}): Promise<FakeKubeApi> {
  const api = new FakeKubeApi({ tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requireClientCert: opts.requireClientCert }, tokens: opts.tokens });
  await api.start();
  api.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.11' }] } });
  cleanups.push(() => api.stop());
  return api;
}

function client(conn: KubeConnection, clock = new FakeClock()) {
  const creds = credentialSource(conn.auth, clock);
  const c = new KubeClient(conn, creds);
  cleanups.push(() => c.close());
  return { client: c, creds, list: () => c.list('/api/v1/nodes', {}, AbortSignal.timeout(10_000)) };
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('kubeconfig authentication against a TLS fake API server', () => {
  it('static token with inline CA data', async () => {
    const api = await server({ tokens: ['tok-1'] });
    const { file } = writeKubeconfig('kubeconfig-token.yaml', pki, { SERVER: api.url, TOKEN: 'tok-1' });
    const conn = resolveKubeconfig(file);
    expect(conn.describe).toBe(`kubeconfig ${file} context fake (${api.url})`);
    expect(JSON.stringify(conn)).not.toContain('tok-1');
    const res = await client(conn).list();
    expect(res.items).toHaveLength(1);
    expect(api.requests.at(-1)!.authorization).toBe('Bearer tok-1');
  });

  it('a wrong token is a 401 with its own code', async () => {
    const api = await server({ tokens: ['tok-1'] });
    const { file } = writeKubeconfig('kubeconfig-token.yaml', pki, { SERVER: api.url, TOKEN: 'nope' });
    expect(await codeOf(client(resolveKubeconfig(file)).list())).toBe('VIPWATCH_KUBE_UNAUTHORIZED');
  });

  it('tokenFile is re-read on every request, so a rotated token is picked up; CA from a relative file', async () => {
    const api = await server({ tokens: ['tok-a'] });
    const { file, dir } = writeKubeconfig('kubeconfig-token-file.yaml', pki, { SERVER: api.url });
    writeFileSync(join(dir, 'token'), 'tok-a\n');
    expect(() => resolveKubeconfig(file)).toThrow(/context "other": cluster "nowhere" of context "other" not found|cluster "nowhere" of context "other" not found/);
    const c = client(resolveKubeconfig(file, 'fake'));
    await c.list();
    writeFileSync(join(dir, 'token'), 'tok-b\n');
    api.tokens = new Set(['tok-b']);
    await c.list();
    expect(api.requests.map((r) => r.authorization)).toEqual(['Bearer tok-a', 'Bearer tok-b']);
  });

  it('client certificate from files, with tls-server-name, where the server requires one', async () => {
    const api = await server({ requireClientCert: true });
    const { file } = writeKubeconfig('kubeconfig-client-cert.yaml', pki, { SERVER: api.url });
    const conn = resolveKubeconfig(file);
    expect(conn.tls.serverName).toBe('kubernetes.default');
    await client(conn).list();
    expect(api.requests.at(-1)!.clientCn).toBe('vipwatch');
  });

  it('client certificate and key as inline data', async () => {
    const api = await server({ requireClientCert: true });
    const { file } = writeKubeconfig('kubeconfig-client-cert-data.yaml', pki, { SERVER: api.url });
    await client(resolveKubeconfig(file)).list();
    expect(api.requests.at(-1)!.clientCn).toBe('vipwatch');
  });

  it('without the required client certificate the server drops the connection before any request', async () => {
    const api = await server({ requireClientCert: true });
    const { file } = writeKubeconfig('kubeconfig-token.yaml', pki, { SERVER: api.url, TOKEN: 'x' });
    // TLS 1.3: the client finishes its side of the handshake; the server then rejects it and closes.
    const err = (await client(resolveKubeconfig(file)).list().catch((e: unknown) => e)) as Error & { code: string };
    expect(err.code).toBe('VIPWATCH_KUBE_UNREACHABLE');
    expect(err.message).toBe('GET /api/v1/nodes: UND_ERR_SOCKET: other side closed');
    expect(api.requests).toHaveLength(0);
  });

  it('a server certificate from another CA fails verification; insecure-skip-tls-verify accepts it', async () => {
    const api = await server({ tokens: ['t'] });
    const { file } = writeKubeconfig('kubeconfig-token.yaml', pki, { SERVER: api.url, TOKEN: 't', CA_DATA: Buffer.from(pki.otherCa).toString('base64') });
    expect(await codeOf(client(resolveKubeconfig(file)).list())).toBe('VIPWATCH_KUBE_TLS');
    const insecure = writeKubeconfig('kubeconfig-insecure.yaml', pki, { SERVER: api.url, TOKEN: 't' });
    const conn = resolveKubeconfig(insecure.file);
    expect(conn.tls.insecureSkipVerify).toBe(true);
    await client(conn).list();
  });
});

describe('exec credential plugin (ExecCredential v1)', () => {
  it('runs the plugin once and caches the token until expirationTimestamp; a 401 forces a fresh run', async () => {
    const api = await server({ tokens: ['exec-1'] });
    const { file, dir } = writeKubeconfig('kubeconfig-exec.yaml', pki, { SERVER: api.url, EXEC_MODE: 'token' });
    const clock = new FakeClock();
    writeFileSync(join(dir, 'token'), 'exec-1');
    writeFileSync(join(dir, 'expires'), new Date(clock.now() + 600_000).toISOString());
    const runs = () => readFileSync(join(dir, 'runs'), 'utf8').trim().split('\n');
    const c = client(resolveKubeconfig(file), clock);
    await c.list();
    await c.list();
    expect(runs()).toEqual(['--cluster fake']);
    writeFileSync(join(dir, 'expires'), new Date(clock.now() + 7_200_000).toISOString());
    await clock.advance(599_999);
    await c.list();
    expect(runs()).toHaveLength(1);
    await clock.advance(1);
    await c.list();
    expect(runs()).toHaveLength(2);

    // Revoked early: the server now wants exec-2 although exec-1 has not expired.
    writeFileSync(join(dir, 'token'), 'exec-2');
    api.tokens = new Set(['exec-2']);
    expect(await codeOf(c.list())).toBe('VIPWATCH_KUBE_UNAUTHORIZED');
    await c.list();
    expect(runs()).toHaveLength(3);
    expect(api.requests.map((r) => r.authorization)).toEqual(['Bearer exec-1', 'Bearer exec-1', 'Bearer exec-1', 'Bearer exec-1', 'Bearer exec-1', 'Bearer exec-2']);
  });

  it('a plugin may hand out a client certificate instead of a token', async () => {
    const api = await server({ requireClientCert: true });
    const { file, dir } = writeKubeconfig('kubeconfig-exec.yaml', pki, { SERVER: api.url, EXEC_MODE: 'cert' });
    writeFileSync(join(dir, 'cert.pem'), pki.clientCert);
    writeFileSync(join(dir, 'key.pem'), pki.clientKey);
    await client(resolveKubeconfig(file)).list();
    expect(api.requests.at(-1)!.clientCn).toBe('vipwatch');
  });

  it('a failing plugin is a credentials error, its output never in the message', async () => {
    const api = await server({ tokens: ['x'] });
    const { file } = writeKubeconfig('kubeconfig-exec.yaml', pki, { SERVER: api.url, EXEC_MODE: 'token', STATE_DIR: '' });
    const err = await client(resolveKubeconfig(file)).list().catch((e: unknown) => e as Error & { code: string });
    expect(err).toMatchObject({ code: 'VIPWATCH_KUBE_CREDENTIALS' });
    expect((err as Error).message).toMatch(/exec-plugin\.mjs: 1: exec-plugin: missing EXEC_STATE_DIR or KUBERNETES_EXEC_INFO/);
  });
});

describe('explicit apiServer and in-cluster connections', () => {
  it('apiServer + tokenFile + caFile', async () => {
    const api = await server({ tokens: ['sa-token'] });
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-sa-'));
    writeFileSync(join(dir, 'token'), 'sa-token');
    writeFileSync(join(dir, 'ca.crt'), pki.ca);
    const conn = resolveConnection(kubeConfig({ apiServer: api.url, tokenFile: join(dir, 'token'), caFile: join(dir, 'ca.crt') }), { env: {} });
    expect(conn.describe).toBe(`apiServer ${api.url}`);
    await client(conn).list();
    expect(api.requests.at(-1)!.authorization).toBe('Bearer sa-token');
  });

  it('in-cluster: KUBERNETES_SERVICE_HOST/PORT with the mounted ServiceAccount token and CA', async () => {
    const api = await server({ tokens: ['pod-token'] });
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-sa-'));
    writeFileSync(join(dir, 'token'), 'pod-token');
    writeFileSync(join(dir, 'ca.crt'), pki.ca);
    const env = { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: new URL(api.url).port };
    // enabled with nothing else picks in-cluster from the environment
    const conn = resolveConnection(kubeConfig(), { env, serviceAccountDir: dir });
    expect(conn.server).toBe(api.url);
    await client(conn).list();
  });

  it('enabled with no kubeconfig, apiServer or in-cluster environment falls back to $KUBECONFIG', async () => {
    const api = await server({ tokens: ['tok-1'] });
    const { file } = writeKubeconfig('kubeconfig-token.yaml', pki, { SERVER: api.url, TOKEN: 'tok-1' });
    const conn = resolveConnection(kubeConfig(), { env: { KUBECONFIG: file } });
    await client(conn).list();
    expect(() => resolveConnection(kubeConfig(), { env: {} })).toThrow(/no kubeconfig, apiServer or in-cluster environment/);
  });
});

describe('kubeconfig errors name the file and the entry', () => {
  const write = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-kc-'));
    writeFileSync(join(dir, 'config'), text);
    return join(dir, 'config');
  };
  const base = (user: string, server = 'https://192.0.2.10:6443') =>
    `apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: ${server}\nusers:\n- name: u\n  user:\n${user}\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n`;

  it.each([
    ['an unknown context', base('    token: t'), 'nope', 'context "nope" not found', 'context'],
    ['a server that is not a URL', base('    token: t', 'kube:6443'), undefined, 'cluster "k": server must be an http(s) URL, got "kube:6443"', 'kubeconfig'],
    ['basic auth', base('    username: a\n    password: b'), undefined, 'user "u": basic auth (username/password) is not supported; use a token', 'kubeconfig'],
    ['a certificate without key', base('    client-certificate-data: eA=='), undefined, 'user "u": client certificate and client key must be given together', 'kubeconfig'],
    ['a missing key file', base('    client-certificate-data: eA==\n    client-key: missing.key'), undefined, 'client-key', 'kubeconfig'],
    ['an exec plugin of an unknown version', base('    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: x'), undefined, 'exec: apiVersion must be client.authentication.k8s.io/v1 or v1beta1', 'kubeconfig'],
  ])('%s', (_name, text, context, message, key) => {
    const file = write(text);
    let err: unknown;
    try {
      resolveKubeconfig(file, context);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KubeconfigError);
    expect((err as KubeconfigError).message).toContain(`${file}: `);
    expect((err as KubeconfigError).message).toContain(message);
    expect((err as KubeconfigError).key).toBe(key);
  });

  it('the fixtures directory ships the plugin used above', () => {
    expect(readFileSync(join(FIXTURES, 'exec-plugin.mjs'), 'utf8')).toContain('ExecCredential');
  });
});
