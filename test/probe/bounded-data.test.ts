/**
 * Per-attempt data a peer controls is bounded before it is stored: a backend identity (response header or JSON field)
 * to MAX_IDENTITY_BYTES, failure details (which quote the peer) to MAX_DETAIL_BYTES. Real servers on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HttpProber } from '../../src/probe/http.js';
import { TcpProber } from '../../src/probe/tcp.js';
import { capBytes, MAX_DETAIL_BYTES, MAX_IDENTITY_BYTES } from '../../src/probe/text.js';
import type { HttpCheck, ProbeSpec } from '../../src/probe/types.js';
import { httpServer, tcpServer, type HttpHandler, type TestServer } from '../support/net-servers.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function serve(h: HttpHandler): Promise<TestServer> {
  const s = await httpServer(h);
  servers.push(s);
  return s;
}
function spec(port: number, http: Partial<HttpCheck> = {}): ProbeSpec {
  return {
    target: 't', address: '127.0.0.1', port, protocol: 'http', timeoutMs: 5000,
    http: { path: '/', method: 'GET', headers: {}, expectStatus: [], maxBodyBytes: 64 * 1024, ...http },
  };
}
const http = new HttpProber();
const probe = (s: ProbeSpec) => http.probe(s, AbortSignal.timeout(s.timeoutMs));
const bytes = (s: string | undefined) => Buffer.byteLength(s ?? '', 'utf8');

describe('backend identity is capped before it is stored', () => {
  it('a 12 KB backend header becomes at most 256 bytes, marked as cut', async () => {
    const srv = await serve((_req, res) => res.setHeader('x-node', 'n'.repeat(12_000)).end('ok'));
    const r = await probe(spec(srv.port, { backendHeader: 'x-node' }));
    expect(r.ok).toBe(true);
    expect(bytes(r.backend)).toBeLessThanOrEqual(MAX_IDENTITY_BYTES);
    expect(r.backend).toMatch(/^n{200,}…$/);
  });

  it('a 50 KB JSON field likewise; multi-byte text is never cut inside a character', async () => {
    const srv = await serve((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ node: 'é'.repeat(25_000) })));
    const r = await probe(spec(srv.port, { backendJsonField: 'node' }));
    expect(r.ok).toBe(true);
    expect(bytes(r.backend)).toBeLessThanOrEqual(MAX_IDENTITY_BYTES);
    expect(r.backend).toMatch(/^é+…$/);
  });

  it('the longest valid Kubernetes name (253 bytes) is kept whole', async () => {
    const name = `node-${'a'.repeat(248)}`;
    const srv = await serve((_req, res) => res.setHeader('x-node', name).end('ok'));
    expect((await probe(spec(srv.port, { backendHeader: 'x-node' }))).backend).toBe(name);
  });

  it('a failure keeps the capped identity too (http_status named by the backend)', async () => {
    const srv = await serve((_req, res) => res.writeHead(500, { 'x-node': 'z'.repeat(9000) }).end());
    const r = await probe(spec(srv.port, { backendHeader: 'x-node' }));
    expect(r).toMatchObject({ ok: false, reason: 'http_status', httpStatus: 500 });
    expect(bytes(r.backend)).toBeLessThanOrEqual(MAX_IDENTITY_BYTES);
  });
});

describe('failure details are capped', () => {
  it('a body mismatch quotes a short excerpt of a 60 KB body', async () => {
    const srv = await serve((_req, res) => res.end('\u{1F600}'.repeat(15_000)));
    const r = await probe(spec(srv.port, { bodyRegex: /never/ }));
    expect(r.reason).toBe('body_mismatch');
    expect(bytes(r.detail)).toBeLessThanOrEqual(MAX_DETAIL_BYTES);
  });

  it('a tcp expectRegex mismatch too', async () => {
    const srv = await tcpServer((s) => s.end('x'.repeat(100_000)));
    servers.push(srv);
    const r = await new TcpProber().probe({ target: 't', address: '127.0.0.1', port: srv.port, protocol: 'tcp', timeoutMs: 5000, tcp: { expectRegex: /PONG/, maxBytes: 65_536 } }, AbortSignal.timeout(5000));
    expect(r.reason).toBe('body_mismatch');
    expect(bytes(r.detail)).toBeLessThanOrEqual(MAX_DETAIL_BYTES);
  });
});

describe('capBytes', () => {
  it('keeps short text as is and cuts long text on a character boundary', () => {
    expect(capBytes('node-1', 256)).toBe('node-1');
    const emoji = '\u{1F600}'.repeat(100); // 4 bytes each, surrogate pairs in UTF-16
    const cut = capBytes(emoji, 30);
    expect(bytes(cut)).toBeLessThanOrEqual(30);
    expect(cut).toBe('\u{1F600}'.repeat(6) + '…');
    expect(Buffer.from(cut, 'utf8').toString('utf8')).toBe(cut);
    expect(capBytes('a'.repeat(257), 256)).toBe('a'.repeat(253) + '…');
    expect(capBytes('a'.repeat(256), 256)).toBe('a'.repeat(256));
  });
});
