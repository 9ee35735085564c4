import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { scrubBody } from '../lib/redact.js';

export type Handler = (req: IncomingMessage, url: URL) => Promise<Reply> | Reply;

export interface Reply {
  status: number;
  contentType: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

export const json = (value: unknown, status = 200): Reply => ({ status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(value, null, 2) + '\n' });
export const text = (body: string, status = 200, contentType = 'text/plain; charset=utf-8'): Reply => ({ status, contentType, body });

/** A minimal router over node:http: exact-path GET routes, JSON errors, no framework. */
export class HttpServer {
  private readonly routes = new Map<string, Handler>();
  private server?: Server;

  constructor(private readonly logger: Logger) {}

  get(path: string, handler: Handler): this {
    this.routes.set(path, handler);
    return this;
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5000;
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const handler = this.routes.get(url.pathname);
      if (!handler) reply = json({ error: 'not found', code: 'VIPWATCH_NOT_FOUND', path: url.pathname }, 404);
      else if (req.method !== 'GET' && req.method !== 'HEAD') reply = { ...json({ error: 'method not allowed', code: 'VIPWATCH_METHOD' }, 405), headers: { allow: 'GET, HEAD' } };
      else reply = await handler(req, url);
    } catch (err) {
      this.logger.error('http handler failed', { url: req.url, error: errorMessage(err) });
      reply = json({ error: 'internal error', code: 'VIPWATCH_INTERNAL' }, 500);
    }
    res.writeHead(reply.status, { 'content-type': reply.contentType, 'cache-control': 'no-store', ...reply.headers });
    res.end(req.method === 'HEAD' ? undefined : scrubBody(reply.body)); // no configured secret leaves in a reply
  }
}
