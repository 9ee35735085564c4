import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TcpProber } from '../../src/probe/tcp.js';
import type { ProbeSpec, TcpCheck } from '../../src/probe/types.js';
import { fullBacklogListener, listenOverflows, synDropped } from '../support/net-backlog.js';
import { closedPort, resettingServer, silentServer, tcpServer, type TestServer } from '../support/net-servers.js';
import { needTools, PYTHON3 } from '../support/tools.js';

const python3 = needTools('connect_timeout tests against a full accept queue', PYTHON3());

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
function keep<T extends { close(): Promise<void> }>(s: T): T {
  servers.push(s);
  return s;
}

function spec(port: number, tcp?: Partial<TcpCheck>, address = '127.0.0.1', timeoutMs = 2000): ProbeSpec {
  return { target: 't', address, port, protocol: 'tcp', timeoutMs, tcp: tcp ? { maxBytes: 4096, ...tcp } : undefined };
}
const prober = new TcpProber();
const probe = (s: ProbeSpec) => prober.probe(s, AbortSignal.timeout(s.timeoutMs));

function pingPong(reply = 'PONG\r\n'): Promise<TestServer> {
  return tcpServer((s) => s.once('data', () => s.end(reply)));
}

describe('TcpProber', () => {
  it('connects, records the source port the server saw, and closes', async () => {
    const srv = keep(await tcpServer((s) => s.resume()));
    const r = await probe(spec(srv.port));
    expect(r.ok).toBe(true);
    expect(r.reason).toBeUndefined();
    expect(r.sourcePort).toBe(srv.remotePorts[0]);
    expect(r.remoteAddress).toBe('127.0.0.1');
    expect(r.timings.connectMs).toBeGreaterThan(0);
    expect(r.timings.totalMs).toBeGreaterThanOrEqual(r.timings.connectMs!);
    expect(r.synRetransmit).toBe(false);
  });

  it('opens a fresh connection per attempt (a distinct source port each time)', async () => {
    const srv = keep(await tcpServer((s) => s.resume()));
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) ports.push((await probe(spec(srv.port))).sourcePort!);
    expect(srv.connections).toBe(3);
    expect(srv.remotePorts).toEqual(ports);
    expect(new Set(ports).size).toBe(3);
  });

  it('send/expect: matches the reply and records the first byte', async () => {
    const srv = keep(await pingPong());
    const r = await probe(spec(srv.port, { send: 'PING\r\n', expectRegex: /PONG/ }));
    expect(r.ok).toBe(true);
    expect(r.timings.firstByteMs).toBeGreaterThanOrEqual(r.timings.connectMs!);
  });

  it('send without expect succeeds once the bytes are written', async () => {
    let got = '';
    const srv = keep(await tcpServer((s) => s.on('data', (d) => (got += d))));
    const r = await probe(spec(srv.port, { send: 'HELLO' }));
    expect(r.ok).toBe(true);
    await expect.poll(() => got).toBe('HELLO');
  });

  it('body_mismatch when the peer closes without the expected bytes', async () => {
    const srv = keep(await pingPong('NOPE\r\n'));
    const r = await probe(spec(srv.port, { send: 'PING\r\n', expectRegex: /PONG/ }));
    expect(r).toMatchObject({ ok: false, reason: 'body_mismatch' });
    expect(r.detail).toContain('"NOPE\\r\\n"');
    expect(r.detail).toContain('before the peer closed');
  });

  it('body_mismatch at tcp.maxBytes: stops reading instead of waiting for the deadline', async () => {
    const srv = keep(await tcpServer((s) => s.write('x'.repeat(10_000))));
    const r = await probe(spec(srv.port, { expectRegex: /PONG/, maxBytes: 100 }));
    expect(r).toMatchObject({ ok: false, reason: 'body_mismatch' });
    expect(r.detail).toContain('first 100 bytes');
  });

  it('refused: RST to the SYN on a closed port', async () => {
    const r = await probe(spec(await closedPort()));
    expect(r).toMatchObject({ ok: false, reason: 'refused', errorCode: 'ECONNREFUSED', synRetransmit: false });
    expect(r.timings.connectMs).toBeUndefined();
  });

  it('reset: the server resets the connection after accepting it', async () => {
    const srv = keep(await resettingServer());
    const r = await probe(spec(srv.port, { send: 'PING\r\n', expectRegex: /PONG/ }));
    expect(r).toMatchObject({ ok: false, reason: 'reset' });
    expect(['ECONNRESET', 'EPIPE']).toContain(r.errorCode);
    expect(r.timings.connectMs).toBeDefined();
  });

  it('reset mid-reply: part of the answer, then RST', async () => {
    const srv = keep(await resettingServer('PO'));
    const r = await probe(spec(srv.port, { send: 'PING\r\n', expectRegex: /PONG/ }));
    expect(r).toMatchObject({ ok: false, reason: 'reset', errorCode: 'ECONNRESET' });
    expect(r.timings.firstByteMs).toBeDefined();
  });

  it('response_timeout: connected, the peer never answers', async () => {
    const srv = keep(await silentServer());
    const r = await probe(spec(srv.port, { send: 'PING\r\n', expectRegex: /PONG/ }, '127.0.0.1', 300));
    expect(r).toMatchObject({ ok: false, reason: 'response_timeout' });
    expect(r.timings.connectMs).toBeDefined();
    expect(r.sourcePort).toBe(srv.remotePorts[0]);
  });

  it('works on an IPv6 literal', async () => {
    const srv = keep(await tcpServer((s) => s.resume(), '::1'));
    const r = await probe(spec(srv.port, undefined, '::1'));
    expect(r).toMatchObject({ ok: true, remoteAddress: '::1', sourcePort: srv.remotePorts[0] });
  });

  describe.skipIf(python3.skip)('against a full accept queue (python3 helper)', () => {
    beforeEach(() => python3.check());

    it('connect_timeout: the kernel drops the SYN, no SYN-ACK before the deadline', async () => {
      const l = keep(await fullBacklogListener());
      const r = await probe(spec(l.port, undefined, '127.0.0.1', 300));
      expect(r).toMatchObject({ ok: false, reason: 'connect_timeout', synRetransmit: false });
      expect(r.timings.connectMs).toBeUndefined();
      expect(r.detail).toMatch(/no SYN-ACK within \d+ms/);
      expect(r.sourcePort).toBeGreaterThan(0);
    });

    it('synRetransmit: a connect that only succeeds on the first SYN retransmission', async () => {
      const l = keep(await fullBacklogListener());
      const before = listenOverflows();
      const pending = probe(spec(l.port, undefined, '127.0.0.1', 2500));
      await synDropped(before); // the first SYN is gone (TcpExt ListenOverflows rose)...
      await l.acceptOne(); // ...then free the slot: only the retransmission, about 1 s later, can get through
      const r = await pending;
      expect(r).toMatchObject({ ok: true, synRetransmit: true });
      expect(r.timings.connectMs).toBeGreaterThanOrEqual(1000);
    });
  });
});
