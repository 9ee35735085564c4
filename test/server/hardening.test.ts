/**
 * vipwatch's own HTTP server holds a bounded number of connections and drops clients that never finish a request.
 * Real sockets on 127.0.0.1; the deadlines are generous upper bounds.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger, createLogger } from '../../src/lib/logger.js';
import { HttpServer, text } from '../../src/server/http-server.js';
import { waitFor } from '../support/wait.js';

const servers: HttpServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(opts: ConstructorParameters<typeof HttpServer>[1], logger = silentLogger): Promise<{ server: HttpServer; port: number }> {
  const server = new HttpServer(logger, opts).get('/-/healthy', () => text('ok\n'));
  servers.push(server);
  const { port } = await server.listen('127.0.0.1', 0);
  return { server, port };
}

interface Held {
  socket: Socket;
  closedAt?: number;
  got: string;
}

/** Opens a TCP connection and records when the server closes it and what it sent. */
function open(port: number): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    const h: Held = { socket, got: '' };
    socket.on('data', (d) => (h.got += d));
    socket.on('error', () => {});
    socket.on('close', () => (h.closedAt = performance.now()));
    socket.once('connect', () => resolve(h));
    socket.once('error', reject);
  });
}

function healthy(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/-/healthy', agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('server.maxConnections', () => {
  it('holds at most maxConnections; Node closes each connection beyond it right after accept; a new client is served once old ones end', async () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (l) => lines.push(l) });
    const { server, port } = await start({ maxConnections: 20, headersTimeoutMs: 20_000, requestTimeoutMs: 30_000 }, logger);
    const held: Held[] = [];
    for (let i = 0; i < 70; i++) held.push(await open(port));
    // The kernel completed all 70 handshakes (the accept queue); Node accepts each and closes the 50 beyond the cap.
    await waitFor(() => held.filter((h) => h.closedAt !== undefined).length >= 50, { what: '50 connections closed by the server' });
    expect(held.filter((h) => h.closedAt !== undefined)).toHaveLength(50);
    expect(held.slice(0, 20).every((h) => h.closedAt === undefined)).toBe(true);
    expect(server.droppedConnections).toBe(50);
    // Closed without a byte: no HTTP answer, just FIN (or RST), so a health check at the cap fails fast, not slowly.
    expect(held.slice(20).every((h) => h.got === '')).toBe(true);
    await expect(healthy(port)).rejects.toThrow();
    // One warning for the whole flood.
    expect(lines.filter((l) => l.includes('server.maxConnections'))).toHaveLength(1);
    // The held ones end: the next client is served.
    for (const h of held.slice(0, 20)) h.socket.destroy();
    expect(await waitFor(() => healthy(port).catch(() => 0), { what: '/-/healthy after the held connections closed' })).toBe(200);
  });
});

describe('slow and idle clients are dropped (server.headersTimeout, Node checks every second at most)', () => {
  it('with the defaults, a slowloris client (one header byte per second) and an idle one are cut off within a few seconds', async () => {
    const cfg = parseConfig('server: { listen: "127.0.0.1:0" }\n', 'inline.yaml', { env: {} });
    expect(cfg.server).toMatchObject({ maxConnections: 256, headersTimeoutMs: 5000, requestTimeoutMs: 30_000 });
    const { port } = await start({ maxConnections: cfg.server.maxConnections, headersTimeoutMs: cfg.server.headersTimeoutMs, requestTimeoutMs: cfg.server.requestTimeoutMs });
    const t0 = performance.now();
    const slow = await open(port);
    const idle = await open(port);
    const req = `GET /-/healthy HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(100)}`;
    let i = 0;
    const drip = setInterval(() => {
      if (slow.socket.destroyed) return clearInterval(drip);
      slow.socket.write(req[i++ % req.length]!);
    }, 1000);
    try {
      await waitFor(() => slow.closedAt !== undefined && idle.closedAt !== undefined, { timeoutMs: 30_000, what: 'both dropped' });
    } finally {
      clearInterval(drip);
    }
    console.log(JSON.stringify({ slowlorisDroppedAfterMs: Math.round(slow.closedAt! - t0), idleDroppedAfterMs: Math.round(idle.closedAt! - t0), headerBytesSent: i }));
    // headersTimeout 5 s, checked every second: dropped after 5-6 s, far below the 30 s Node would otherwise wait.
    for (const h of [slow, idle]) {
      expect(h.closedAt! - t0).toBeGreaterThan(4500);
      expect(h.closedAt! - t0).toBeLessThan(12_000);
      expect(h.got).toMatch(/^HTTP\/1\.1 408 /);
    }
    expect(i).toBeLessThan(12);
    // The server itself is fine.
    expect(await healthy(port)).toBe(200);
  }, 40_000);

  it('server.headersTimeout and requestTimeout are validated together', () => {
    expect(() => parseConfig('server: { headersTimeout: 40s, requestTimeout: 30s }\n', 'x.yaml', { env: {} })).toThrow(/x\.yaml:1:\d+: server\.headersTimeout: must not exceed server\.requestTimeout/);
    expect(() => parseConfig('server: { maxConnections: 0 }\n', 'x.yaml', { env: {} })).toThrow(/server\.maxConnections: must be >= 1/);
    const c = parseConfig('server: { maxConnections: 32, headersTimeout: 2s, requestTimeout: 10s }\n', 'x.yaml', { env: {} });
    expect(c.server).toMatchObject({ maxConnections: 32, headersTimeoutMs: 2000, requestTimeoutMs: 10_000 });
  });
});

describe('a client that stops reading a streamed reply', () => {
  it('has its socket destroyed after requestTimeout without progress: the stream stops, memory stays bounded', async () => {
    let produced = 0;
    let finishedAt: number | undefined;
    const chunk = 'x'.repeat(10_000);
    const server = new HttpServer(silentLogger, { maxConnections: 8, headersTimeoutMs: 500, requestTimeoutMs: 1000 })
      .get('/-/healthy', () => text('ok\n'))
      .get('/big', () => ({
        status: 200, contentType: 'text/plain',
        body: (function* () {
          try {
            for (let i = 0; i < 1_000_000; i++) {
              produced++;
              yield chunk;
            }
          } finally {
            // Runs when the server abandons the stream (or at its end, which 10 GB never reaches here).
            finishedAt = performance.now();
          }
        })(),
      }));
    servers.push(server);
    const { port } = await server.listen('127.0.0.1', 0);
    const c = await open(port);
    c.socket.pause(); // reads nothing: the socket buffers fill, the server waits for 'drain', then gives up
    const t0 = performance.now();
    c.socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => finishedAt !== undefined, { timeoutMs: 20_000, what: 'the server to abandon the stream' });
    console.log(JSON.stringify({ slowReaderAbandonedAfterMs: Math.round(finishedAt! - t0), bufferedMiB: +((produced * chunk.length) / 2 ** 20).toFixed(1) }));
    // requestTimeout (1 s) of no progress after the buffers filled: not before, and not much later.
    expect(finishedAt! - t0).toBeGreaterThan(900);
    expect(finishedAt! - t0).toBeLessThan(10_000);
    // Bounded by the socket buffers (a few MB on loopback), not the 10 GB the generator could make.
    expect(produced * chunk.length).toBeLessThan(64 * 1024 * 1024);
    expect(await healthy(port)).toBe(200);
  }, 30_000);
});
