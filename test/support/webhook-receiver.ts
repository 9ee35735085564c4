import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the receiver saw it. */
export interface ReceivedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** null when the receiver has no secret; otherwise whether the signature over timestamp + "." + body matched. */
  signatureOk: boolean | null;
  /** What the receiver answered (0 when it stalled or reset). */
  status: number;
  /** Wall-clock ms of arrival. */
  receivedAt: number;
}

/** ok: 200; status: answer with that status; stall: never answer; reset: destroy the connection. */
export type ReceiverMode = { kind: 'ok' } | { kind: 'status'; status: number } | { kind: 'stall' } | { kind: 'reset' };

export interface WebhookReceiverOptions {
  /** HMAC key: signatures are checked independently of vipwatch's code, as a real receiver would. */
  secret?: string;
  tls?: { key: string; cert: string };
  port?: number;
  /** Replay window for X-Vipwatch-Timestamp, seconds. */
  toleranceSec?: number;
}

/** A real HTTP(S) receiver on 127.0.0.1 that records requests, verifies signatures and can fail, stall, go down and recover. */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  mode: ReceiverMode = { kind: 'ok' };
  /** Per-request override of `mode` (e.g. fail only one incident). */
  decide?: (headers: Record<string, string>, body: string) => ReceiverMode | undefined;
  port = 0;
  private server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly stalled = new Set<ServerResponse>();
  private listeners: ((r: ReceivedRequest) => void)[] = [];

  private constructor(private readonly opts: WebhookReceiverOptions) {
    this.server = this.create();
  }

  static async start(opts: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
    const r = new WebhookReceiver(opts);
    await r.listen(opts.port ?? 0);
    return r;
  }

  get url(): string {
    return `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${this.port}/hook`;
  }

  /** Requests answered 2xx: what the sender may consider delivered. */
  accepted(): ReceivedRequest[] {
    return this.requests.filter((r) => r.status >= 200 && r.status < 300);
  }

  /** How many times each idempotency key was accepted. */
  acceptedPerKey(): Map<string, number> {
    const m = new Map<string, number>();
    for (const r of this.accepted()) m.set(r.headers['idempotency-key']!, (m.get(r.headers['idempotency-key']!) ?? 0) + 1);
    return m;
  }

  onRequest(fn: (r: ReceivedRequest) => void): void {
    this.listeners.push(fn);
  }

  /** Stops listening and cuts every connection: senders now get ECONNREFUSED. */
  async down(): Promise<void> {
    for (const res of this.stalled) res.destroy();
    this.stalled.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Listens again on the same port. */
  async up(): Promise<void> {
    this.server = this.create();
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    if (this.server.listening) await this.down();
  }

  private create(): Server {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    const server = this.opts.tls ? createHttpsServer({ key: this.opts.tls.key, cert: this.opts.tls.cert }, handler) : createHttpServer(handler);
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    // TLS failures of a client that refused our certificate are expected in tests.
    server.on('tlsClientError', () => {});
    return server;
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const mode = this.decide?.(headers, body.toString('utf8')) ?? this.mode;
      const status = mode.kind === 'ok' ? 200 : mode.kind === 'status' ? mode.status : 0;
      const rec: ReceivedRequest = { path: req.url ?? '', headers, body: body.toString('utf8'), signatureOk: this.verify(headers, body), status, receivedAt: Date.now() };
      // A bad signature is refused like a real receiver would, whatever the mode.
      if (rec.signatureOk === false) rec.status = 401;
      this.requests.push(rec);
      for (const l of this.listeners) l(rec);
      if (mode.kind === 'stall') {
        this.stalled.add(res);
        res.on('close', () => this.stalled.delete(res));
        return;
      }
      if (mode.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      res.writeHead(rec.status, { 'content-type': 'text/plain' }).end(rec.status === 200 ? 'ok' : `refused with ${rec.status}`);
    });
  }

  private verify(h: Record<string, string>, body: Buffer): boolean | null {
    if (this.opts.secret === undefined) return null;
    const ts = h['x-vipwatch-timestamp'];
    const sig = h['x-vipwatch-signature'];
    if (!ts || !sig || !/^\d+$/.test(ts)) return false;
    if (Math.abs(Date.now() / 1000 - Number(ts)) > (this.opts.toleranceSec ?? 300)) return false;
    const want = Buffer.from(`sha256=${createHmac('sha256', this.opts.secret).update(`${ts}.`).update(body).digest('hex')}`);
    const got = Buffer.from(sig);
    return want.length === got.length && timingSafeEqual(want, got);
  }
}
