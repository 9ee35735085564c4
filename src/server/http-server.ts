import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { SERVER_DEFAULTS, type ServerTlsConfig } from '../config/sections/server.js';
import { ERR } from '../lib/error-codes.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { scrub, scrubBody } from '../lib/redact.js';
import { TlsPairWatch } from './tls-pair-watch.js';

export type Handler = (req: IncomingMessage, url: URL) => Promise<Reply> | Reply;

export interface Reply {
  status: number;
  contentType: string;
  /** A stream is written chunk by chunk with backpressure, yielding to the event loop between slices. */
  body: string | Buffer | AsyncIterable<string> | Iterable<string>;
  headers?: Record<string, string | string[]>;
}

/** Runs before routing: a reply refuses the request, undefined lets it through (see auth.ts). */
export type Guard = (req: IncomingMessage, url: URL) => Reply | undefined;

export const json = (value: unknown, status = 200): Reply => ({ status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(value, null, 2) + '\n' });
export const text = (body: string, status = 200, contentType = 'text/plain; charset=utf-8'): Reply => ({ status, contentType, body });

export interface HttpServerOptions {
  /** Connections held at once; beyond it Node closes each new connection right after accepting it. */
  maxConnections?: number;
  /** Request headers must be complete within this from the first byte. */
  headersTimeoutMs?: number;
  /** The whole request within this; also how long a connection may sit without reading or writing anything. */
  requestTimeoutMs?: number;
  /** How often Node checks the two timeouts above (its default, 30 s, would let a slowloris client linger). */
  checkIntervalMs?: number;
  /** Most synchronous work per slice of a streamed reply before yielding to the event loop. */
  sliceMs?: number;
  /** Serve HTTPS with this certificate/key pair (re-read when the files change); plain HTTP without. */
  tls?: ServerTlsConfig;
  /** How often the TLS files are looked at for a change. Default 2 s. */
  tlsCheckIntervalMs?: number;
}

/** A minimal router over node:http: exact-path GET routes, JSON errors, no framework; bounded in what clients hold. */
export class HttpServer {
  private readonly routes = new Map<string, Handler>();
  private server?: Server | TlsServer;
  private readonly o: Required<Omit<HttpServerOptions, 'tls'>>;
  private readonly tls?: ServerTlsConfig;
  private tlsWatch?: TlsPairWatch;
  private guardFn?: Guard;
  private dropped = 0;

  constructor(private readonly logger: Logger, opts: HttpServerOptions = {}) {
    const headersTimeoutMs = opts.headersTimeoutMs ?? SERVER_DEFAULTS.headersTimeoutMs;
    this.o = {
      maxConnections: opts.maxConnections ?? SERVER_DEFAULTS.maxConnections,
      headersTimeoutMs,
      requestTimeoutMs: opts.requestTimeoutMs ?? SERVER_DEFAULTS.requestTimeoutMs,
      checkIntervalMs: opts.checkIntervalMs ?? Math.max(50, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
      sliceMs: opts.sliceMs ?? 5,
      tlsCheckIntervalMs: opts.tlsCheckIntervalMs ?? 2000,
    };
    this.tls = opts.tls;
  }

  get(path: string, handler: Handler): this {
    this.routes.set(path, handler);
    return this;
  }

  /** Every request passes `guard` first (one guard; a second call replaces it). */
  guard(guard: Guard): this {
    this.guardFn = guard;
    return this;
  }

  /** Serving HTTPS: use this pair from now on when it checks out (a config reload named other files). */
  setTlsFiles(files: ServerTlsConfig): void {
    this.tlsWatch?.setFiles(files);
  }

  /** Connections refused at the cap since the start. */
  get droppedConnections(): number {
    return this.dropped;
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    const o = this.o;
    const options = {
      headersTimeout: o.headersTimeoutMs,
      requestTimeout: o.requestTimeoutMs,
      connectionsCheckingInterval: o.checkIntervalMs,
      keepAliveTimeout: 5000,
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    let server: Server | TlsServer;
    if (this.tls) {
      // A client that connects and never completes the handshake holds a connection no longer than one sending no headers.
      const tlsServer: TlsServer = createTlsServer({ ...options, handshakeTimeout: o.headersTimeoutMs }, onRequest);
      const watch = new TlsPairWatch(this.tls, this.logger, (pair) => tlsServer.setSecureContext(pair), o.tlsCheckIntervalMs);
      // Unusable files refuse the start (the config check read them a moment ago; this is the race it cannot see).
      tlsServer.setSecureContext(watch.load());
      this.tlsWatch = watch;
      server = tlsServer;
    } else server = createServer(options, onRequest);
    server.maxConnections = o.maxConnections;
    // Idle sockets (nothing read or written for this long: a client that connects and says nothing, or stops reading a
    // streamed reply) are destroyed: with no 'timeout' listener on the server, Node does that itself.
    server.timeout = o.requestTimeoutMs;
    let lastLog = -Infinity;
    server.on('drop', (d?: { remoteAddress?: string }) => {
      this.dropped++;
      // One line per minute at most: a flood of connections must not become a flood of log lines.
      const now = performance.now();
      if (now - lastLog < 60_000) return;
      lastLog = now;
      this.logger.warn('http server at server.maxConnections: new connections are closed until others end (logged once a minute)', {
        maxConnections: o.maxConnections, droppedSoFar: this.dropped, remoteAddress: d?.remoteAddress ?? null,
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.tlsWatch?.start();
    return server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    this.tlsWatch?.stop();
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const handler = this.routes.get(url.pathname);
      const refused = this.guardFn?.(req, url);
      if (refused) reply = refused;
      else if (!handler) reply = json({ error: 'not found', code: ERR.NOT_FOUND, path: url.pathname }, 404);
      else if (req.method !== 'GET' && req.method !== 'HEAD') reply = { ...json({ error: 'method not allowed', code: ERR.METHOD }, 405), headers: { allow: 'GET, HEAD' } };
      else reply = await handler(req, url);
    } catch (err) {
      this.logger.error('http handler failed', { url: req.url, error: errorMessage(err) });
      reply = json({ error: 'internal error', code: ERR.INTERNAL }, 500);
    }
    res.writeHead(reply.status, { 'content-type': reply.contentType, 'cache-control': 'no-store', ...reply.headers });
    const body = reply.body;
    if (req.method === 'HEAD') res.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) res.end(scrubBody(body)); // no configured secret leaves in a reply
    else await this.stream(req, res, body);
  }

  /**
   * Writes a streamed body: waits for the client to take each chunk it cannot buffer (memory stays bounded by the
   * socket's buffer) and yields to the event loop every `sliceMs` of work, so a large reply never stalls probing.
   */
  private async stream(req: IncomingMessage, res: ServerResponse, body: AsyncIterable<string> | Iterable<string>): Promise<void> {
    const socket: Socket = req.socket;
    let sliceStart = performance.now();
    try {
      for await (const chunk of body) {
        if (res.destroyed || socket.destroyed) return;
        // Chunks are whole JSON values: a secret never straddles two.
        // 'drain' can come on process.nextTick when the kernel took everything at once: no turn of the event loop,
        // so the slice goes on counting through it.
        if (!res.write(scrub(chunk))) await drained(res);
        if (performance.now() - sliceStart >= this.o.sliceMs) {
          await yieldToLoop();
          sliceStart = performance.now();
        }
      }
      if (!res.destroyed) res.end();
    } catch (err) {
      // Headers are gone already: all that can be said is to cut the response short, which the client sees.
      this.logger.error('http streamed reply failed', { url: req.url, error: errorMessage(err) });
      res.destroy();
    }
  }
}

/** Resolves when the response can take more, or when it is gone (closed or destroyed). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
