import { afterEach, describe, expect, it } from 'vitest';
import { HttpProber } from '../../src/probe/http.js';
import type { HttpCheck, ProbeSpec } from '../../src/probe/types.js';
import { Secret } from '../../src/lib/secret.js';
import { fullBacklogListener } from '../support/net-backlog.js';
import {
  afterPeerRead, closedPort, garbageServer, httpServer, resettingServer, silentServer, tcpServer, type HttpHandler, type TestServer,
} from '../support/net-servers.js';
import { needTools, PYTHON3 } from '../support/tools.js';

const python3 = needTools('HTTP connect_timeout test against a full accept queue', PYTHON3());

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function serve(h: HttpHandler, host?: string): Promise<TestServer> {
  const s = await httpServer(h, host);
  servers.push(s);
  return s;
}
function keep<T extends { close(): Promise<void> }>(s: T): T {
  servers.push(s);
  return s;
}

function spec(port: number, http: Partial<HttpCheck> = {}, opts: { address?: string; timeoutMs?: number } = {}): ProbeSpec {
  return {
    target: 't', address: opts.address ?? '127.0.0.1', port, protocol: 'http', timeoutMs: opts.timeoutMs ?? 2000,
    http: { path: '/', method: 'GET', headers: {}, expectStatus: [], maxBodyBytes: 64 * 1024, ...http },
  };
}
const prober = new HttpProber();
const probe = (s: ProbeSpec) => prober.probe(s, AbortSignal.timeout(s.timeoutMs));

const ok: HttpHandler = (_req, res) => {
  res.setHeader('x-node', 'node-1');
  res.end('ok\n');
};

describe('HttpProber: success', () => {
  it('GET 200 with timings, source port and remote address', async () => {
    const srv = await serve(ok);
    const r = await probe(spec(srv.port));
    expect(r).toMatchObject({ ok: true, httpStatus: 200, remoteAddress: '127.0.0.1', sourcePort: srv.remotePorts[0], synRetransmit: false });
    expect(r.reason).toBeUndefined();
    const t = r.timings;
    expect(t.connectMs).toBeGreaterThan(0);
    expect(t.tlsMs).toBeUndefined();
    expect(t.firstByteMs).toBeGreaterThanOrEqual(t.connectMs!);
    expect(t.totalMs).toBeGreaterThanOrEqual(t.firstByteMs!);
  });

  it('sends method, path and headers (Secret values revealed on the wire only), Host from the spec', async () => {
    let seen: { method?: string; url?: string; auth?: string; host?: string; connection?: string } = {};
    const srv = await serve((req, res) => {
      seen = { method: req.method, url: req.url, auth: req.headers.authorization, host: req.headers.host, connection: req.headers.connection };
      res.end();
    });
    const r = await probe(spec(srv.port, { method: 'POST', path: '/health?x=1', headers: { Host: 'web.example.test', Authorization: new Secret('Bearer s3cret') } }));
    expect(r.ok).toBe(true);
    expect(seen).toEqual({ method: 'POST', url: '/health?x=1', auth: 'Bearer s3cret', host: 'web.example.test', connection: 'close' });
    expect(JSON.stringify(r)).not.toContain('s3cret');
  });

  it('default Host is address:port', async () => {
    let host: string | undefined;
    const srv = await serve((req, res) => {
      host = req.headers.host;
      res.end();
    });
    await probe(spec(srv.port));
    expect(host).toBe(`127.0.0.1:${srv.port}`);
  });

  it('HEAD works (no body expected)', async () => {
    let method: string | undefined;
    const srv = await serve((req, res) => {
      method = req.method;
      res.setHeader('content-length', '1000');
      res.end();
    });
    const r = await probe(spec(srv.port, { method: 'HEAD' }));
    expect(r).toMatchObject({ ok: true, httpStatus: 200 });
    expect(method).toBe('HEAD');
  });

  it('skips informational responses (103 Early Hints) and judges the final one', async () => {
    const srv = await serve((_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.setHeader('x-node', 'node-1');
      res.end('ok');
    });
    const r = await probe(spec(srv.port, { expectStatus: [200], backendHeader: 'x-node', maxBodyBytes: 0 }));
    expect(r).toMatchObject({ ok: true, httpStatus: 200, backend: 'node-1' });
  });

  it('records the backend named by http.backendHeader', async () => {
    const srv = await serve(ok);
    const r = await probe(spec(srv.port, { backendHeader: 'X-Node' }));
    expect(r).toMatchObject({ ok: true, backend: 'node-1' });
  });

  it('records the backend named by a top-level JSON field (http.backendJsonField)', async () => {
    const srv = await serve((_req, res) => res.end(JSON.stringify({ node: 'node-2', pod: { name: 'x' } })));
    expect(await probe(spec(srv.port, { backendJsonField: 'node' }))).toMatchObject({ ok: true, backend: 'node-2' });
    expect((await probe(spec(srv.port, { backendJsonField: 'pod' }))).backend).toBeUndefined();
  });

  it('works on an IPv6 literal', async () => {
    let host: string | undefined;
    const srv = await serve((req, res) => {
      host = req.headers.host;
      res.end();
    }, '::1');
    const r = await probe(spec(srv.port, {}, { address: '::1' }));
    expect(r).toMatchObject({ ok: true, remoteAddress: '::1', sourcePort: srv.remotePorts[0] });
    expect(host).toBe(`[::1]:${srv.port}`);
  });

  it('stops reading at maxBodyBytes and judges what it read; a larger body is no failure', async () => {
    let aborted = false;
    const srv = await serve((req, res) => {
      res.write('ok' + 'x'.repeat(1000));
      // Never ends: only the cap can finish this attempt before the deadline.
      req.socket.on('close', () => (aborted = !res.writableEnded));
    });
    const r = await probe(spec(srv.port, { maxBodyBytes: 100, bodyRegex: /^okx+$/ }));
    expect(r).toMatchObject({ ok: true, httpStatus: 200 });
    await expect.poll(() => aborted).toBe(true);
    const miss = await probe(spec(srv.port, { maxBodyBytes: 100, bodyRegex: /x{101}/ }));
    expect(miss).toMatchObject({ ok: false, reason: 'body_mismatch' });
    expect(miss.detail).toContain('first 100 body bytes');
  });

  it('opens a fresh connection per attempt: the server sees a distinct remote port each time', async () => {
    const srv = await serve((_req, res) => {
      res.setHeader('connection', 'keep-alive');
      res.end('ok');
    });
    const ports: number[] = [];
    for (let i = 0; i < 4; i++) ports.push((await probe(spec(srv.port))).sourcePort!);
    expect(srv.connections).toBe(4);
    expect(srv.remotePorts).toEqual(ports);
    expect(new Set(ports).size).toBe(4);
    // ...and closes each one although the server offered keep-alive.
    await expect.poll(() => srv.open).toBe(0);
  });
});

describe('HttpProber: failure reasons', () => {
  it('http_status: outside 200-399 by default, records status and backend', async () => {
    const srv = await serve((_req, res) => {
      res.statusCode = 503;
      res.setHeader('x-node', 'node-3');
      res.end('busy');
    });
    const r = await probe(spec(srv.port, { backendHeader: 'x-node' }));
    expect(r).toMatchObject({ ok: false, reason: 'http_status', httpStatus: 503, backend: 'node-3' });
    expect(r.detail).toBe('status 503, expected 200-399');
  });

  it('http_status: a redirect passes by default but not an explicit expectStatus list', async () => {
    const srv = await serve((_req, res) => {
      res.statusCode = 302;
      res.setHeader('location', '/elsewhere');
      res.end();
    });
    expect(await probe(spec(srv.port))).toMatchObject({ ok: true, httpStatus: 302 });
    const r = await probe(spec(srv.port, { expectStatus: [200, 204] }));
    expect(r).toMatchObject({ ok: false, reason: 'http_status', httpStatus: 302, detail: 'status 302, expected 200, 204' });
  });

  it('body_mismatch: records status and backend too', async () => {
    const srv = await serve((_req, res) => res.end(JSON.stringify({ node: 'node-4', status: 'degraded' })));
    const r = await probe(spec(srv.port, { bodyRegex: /"status":"ok"/, backendJsonField: 'node' }));
    expect(r).toMatchObject({ ok: false, reason: 'body_mismatch', httpStatus: 200, backend: 'node-4' });
    expect(r.detail).toContain('degraded');
  });

  it('refused: nothing listens on the port', async () => {
    const r = await probe(spec(await closedPort()));
    expect(r).toMatchObject({ ok: false, reason: 'refused', errorCode: 'ECONNREFUSED' });
    expect(r.timings.connectMs).toBeUndefined();
  });

  it('reset: the server destroys the socket with an RST after accept', async () => {
    const srv = keep(await resettingServer());
    const r = await probe(spec(srv.port));
    expect(r).toMatchObject({ ok: false, reason: 'reset' });
    expect(['ECONNRESET', 'EPIPE']).toContain(r.errorCode);
    expect(r.timings.connectMs).toBeDefined();
  });

  it('reset: mid-response (headers and part of the body, then RST)', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
      afterPeerRead(() => res.socket!.resetAndDestroy());
    });
    const r = await probe(spec(srv.port, { bodyRegex: /never/ }));
    expect(r).toMatchObject({ ok: false, reason: 'reset', errorCode: 'ECONNRESET' });
    expect(r.timings.firstByteMs).toBeDefined();
  });

  it('reset: mid-response of a read-until-close body is not mistaken for its end', async () => {
    const srv = keep(await tcpServer((s) => {
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\npartial');
        afterPeerRead(() => s.resetAndDestroy());
      });
    }));
    const r = await probe(spec(srv.port));
    expect(r).toMatchObject({ ok: false, reason: 'reset', errorCode: 'ECONNRESET' });
  });

  it('reset: the peer closes (FIN) without answering', async () => {
    const srv = keep(await tcpServer((s) => s.once('data', () => s.end())));
    const r = await probe(spec(srv.port));
    expect(r).toMatchObject({ ok: false, reason: 'reset', errorCode: 'UND_ERR_SOCKET' });
  });

  it('response_timeout: connected, the server never answers', async () => {
    const srv = keep(await silentServer());
    const r = await probe(spec(srv.port, {}, { timeoutMs: 300 }));
    expect(r).toMatchObject({ ok: false, reason: 'response_timeout' });
    expect(r.timings.connectMs).toBeDefined();
    expect(r.timings.firstByteMs).toBeUndefined();
    expect(r.detail).toMatch(/connected, no response within \d+ms/);
  });

  it('response_timeout: headers came, the body never completes', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('only part');
    });
    const r = await probe(spec(srv.port, {}, { timeoutMs: 300 }));
    expect(r).toMatchObject({ ok: false, reason: 'response_timeout', httpStatus: undefined });
    expect(r.timings.firstByteMs).toBeDefined();
  });

  it('protocol: garbage bytes instead of a status line', async () => {
    const srv = keep(await garbageServer('\x00\x01garbage\r\n\r\n'));
    const r = await probe(spec(srv.port));
    expect(r).toMatchObject({ ok: false, reason: 'protocol' });
    expect(r.errorCode).toMatch(/^(HPE_|HTTPParserError)/);
  });

  it('protocol: a malformed status line', async () => {
    const srv = keep(await garbageServer('HTTP/1.1 abc Broken\r\n\r\n'));
    const r = await probe(spec(srv.port));
    expect(r).toMatchObject({ ok: false, reason: 'protocol' });
    expect(r.errorCode).toMatch(/^(HPE_|HTTPParserError)/);
  });

  it('protocol: a body shorter than its content-length, then FIN (truncated response)', async () => {
    const srv = keep(await tcpServer((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort'))));
    const r = await probe(spec(srv.port));
    expect(r).toMatchObject({ ok: false, reason: 'protocol', errorCode: 'UND_ERR_SOCKET' });
    expect(r.detail).toContain('truncated');
  });

  it('protocol: a body shorter than its content-length under connection: close', async () => {
    const srv = keep(await tcpServer((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 100\r\n\r\nshort'))));
    const r = await probe(spec(srv.port));
    expect(r).toMatchObject({ ok: false, reason: 'protocol' });
  });

  it.skipIf(python3.skip)('connect_timeout: no SYN-ACK (full accept queue)', async () => {
    python3.check();
    const l = keep(await fullBacklogListener());
    const r = await probe(spec(l.port, {}, { timeoutMs: 300 }));
    expect(r).toMatchObject({ ok: false, reason: 'connect_timeout', synRetransmit: false });
    expect(r.timings.connectMs).toBeUndefined();
  });
});

describe('HttpProber: requests it cannot make', () => {
  it('rejects (records no attempt) for headers the prober owns, before connecting', async () => {
    const srv = await serve(ok);
    const cases: Record<string, string>[] = [{ Connection: 'keep-alive' }, { 'Transfer-Encoding': 'chunked' }, { Host: 'a.test', host: 'b.test' }];
    for (const headers of cases) {
      await expect(probe(spec(srv.port, { headers }))).rejects.toMatchObject({ code: 'VIPWATCH_HTTP_HEADER_UNSUPPORTED' });
    }
    expect(srv.connections).toBe(0);
  });
});

describe('HttpProber: never retries', () => {
  it('one failed attempt = exactly one connection (reset before any response)', async () => {
    const srv = keep(await resettingServer());
    const r = await probe(spec(srv.port, { method: 'GET' }));
    expect(r.ok).toBe(false);
    await new Promise((res) => setTimeout(res, 200)); // a retry would reconnect at once; give it the chance
    expect(srv.connections).toBe(1);
  });

  it('one failed attempt = exactly one connection (FIN before any response, idempotent GET)', async () => {
    const srv = keep(await tcpServer((s) => s.once('data', () => s.end())));
    const r = await probe(spec(srv.port, { method: 'GET' }));
    expect(r.reason).toBe('reset');
    await new Promise((res) => setTimeout(res, 200));
    expect(srv.connections).toBe(1);
  });
});
