import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpProber } from '../../src/probe/http.js';
import type { HttpCheck, ProbeSpec, TlsOptions } from '../../src/probe/types.js';
import { httpServer, httpsServer, silentServer, tcpServer, type TestServer } from '../support/net-servers.js';
import { makePki, type TestPki } from '../support/net-tls.js';

let pki: TestPki;
let otherPki: TestPki;
let srv: TestServer;
let sni: (string | false | null)[] = [];
beforeAll(async () => {
  pki = makePki(['DNS:web.test', 'IP:127.0.0.1']);
  otherPki = makePki(['DNS:web.test', 'IP:127.0.0.1']);
  srv = await httpsServer(pki, (req, res) => {
    sni.push((req.socket as TLSSocket).servername);
    res.setHeader('x-node', 'node-1');
    res.end('ok');
  });
});
afterAll(async () => {
  await srv.close();
  pki.cleanup();
  otherPki.cleanup();
});
const extra: { close(): Promise<void> }[] = [];
afterEach(async () => {
  sni = [];
  await Promise.all(extra.splice(0).map((s) => s.close()));
});

function spec(port: number, tls: Partial<TlsOptions>, http: Partial<HttpCheck> = {}, timeoutMs = 2000): ProbeSpec {
  return {
    target: 't', address: '127.0.0.1', port, protocol: 'https', timeoutMs,
    http: { path: '/', method: 'GET', headers: {}, expectStatus: [], maxBodyBytes: 65536, ...http },
    tls: { insecureSkipVerify: false, ...tls },
  };
}
const prober = new HttpProber();
const probe = (s: ProbeSpec) => prober.probe(s, AbortSignal.timeout(s.timeoutMs));

describe('HttpProber over TLS', () => {
  it('verifies against tls.ca (the caFile contents) and records tlsMs and certNotAfter', async () => {
    const r = await probe(spec(srv.port, { ca: readFileSync(pki.caFile, 'utf8') }, { backendHeader: 'x-node' }));
    expect(r).toMatchObject({ ok: true, httpStatus: 200, backend: 'node-1', certNotAfter: pki.notAfter, sourcePort: srv.remotePorts.at(-1) });
    expect(r.timings.tlsMs).toBeGreaterThan(0);
    expect(r.timings.firstByteMs).toBeGreaterThan(r.timings.connectMs! + r.timings.tlsMs! - 0.001);
    // An IP address is verified against the IP SAN and never sent as SNI.
    expect(sni).toEqual([false]);
  });

  it('tls.serverName sets SNI and the name verified', async () => {
    const r = await probe(spec(srv.port, { ca: pki.caCert, serverName: 'web.test' }));
    expect(r.ok).toBe(true);
    expect(sni).toEqual(['web.test']);
  });

  it('without serverName, the Host header names the certificate to verify', async () => {
    const r = await probe(spec(srv.port, { ca: pki.caCert }, { headers: { Host: 'web.test:8443' } }));
    expect(r.ok).toBe(true);
    expect(sni).toEqual(['web.test']);
  });

  it('tls: a certificate from an untrusted CA (system trust store)', async () => {
    const before = srv.connections;
    const r = await probe(spec(srv.port, {}));
    expect(r).toMatchObject({ ok: false, reason: 'tls', errorCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(r.timings.connectMs).toBeDefined();
    expect(srv.connections - before).toBe(1); // no retry
  });

  it('tls: a certificate from another CA than tls.ca', async () => {
    const r = await probe(spec(srv.port, { ca: otherPki.caCert }));
    expect(r).toMatchObject({ ok: false, reason: 'tls' });
    expect(r.errorCode).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_SIGNATURE_FAILURE/);
  });

  it('tls: the wrong name', async () => {
    const before = srv.connections;
    const r = await probe(spec(srv.port, { ca: pki.caCert, serverName: 'other.test' }));
    expect(r).toMatchObject({ ok: false, reason: 'tls', errorCode: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(r.detail).toContain('other.test');
    expect(srv.connections - before).toBe(1);
  });

  it('tls: an IP address the certificate does not name (no IP SAN)', async () => {
    const dnsOnly = makePki(['DNS:web.test']);
    const s = await httpsServer(dnsOnly, (_req, res) => res.end('ok'));
    extra.push(s, { close: async () => dnsOnly.cleanup() });
    const r = await probe(spec(s.port, { ca: dnsOnly.caCert }));
    expect(r).toMatchObject({ ok: false, reason: 'tls', errorCode: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(r.detail).toContain('127.0.0.1');
  });

  it('insecureSkipVerify accepts an untrusted certificate and still records certNotAfter', async () => {
    const r = await probe(spec(srv.port, { insecureSkipVerify: true }));
    expect(r).toMatchObject({ ok: true, certNotAfter: pki.notAfter });
  });

  it('tls: the server speaks plain HTTP', async () => {
    const plain = await httpServer((_req, res) => res.end('ok'));
    extra.push(plain);
    const r = await probe(spec(plain.port, { ca: pki.caCert }));
    expect(r).toMatchObject({ ok: false, reason: 'tls' });
    expect(r.errorCode).toMatch(/^ERR_SSL_/);
  });

  it('response_timeout: connected, the TLS handshake never completes', async () => {
    const silent = await silentServer();
    extra.push(silent);
    const r = await probe(spec(silent.port, { ca: pki.caCert }, {}, 300));
    expect(r).toMatchObject({ ok: false, reason: 'response_timeout' });
    expect(r.detail).toMatch(/TLS handshake not complete/);
    expect(r.timings.connectMs).toBeDefined();
    expect(r.timings.tlsMs).toBeUndefined();
  });

  it('reset: the server resets during the handshake', async () => {
    const rst = await tcpServer((s) => s.once('data', () => s.resetAndDestroy()));
    extra.push(rst);
    const r = await probe(spec(rst.port, { ca: pki.caCert }));
    expect(r).toMatchObject({ ok: false, reason: 'reset', errorCode: 'ECONNRESET' });
  });
});
