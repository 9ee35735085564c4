import { Agent, request, type Dispatcher } from 'undici';
import { DeadlineError } from '../lib/clock.js';
import { ERR } from '../lib/error-codes.js';
import { VipwatchError } from '../lib/errors.js';
import { isTlsError } from '../lib/tls-errors.js';
import type { KubeConnection } from './connection.js';
import type { CredentialSource, Credentials } from './credentials.js';
import { DEFAULT_MAX_RESPONSE_BYTES, LineSplitter, readBodyBounded } from './bounded-body.js';
import { statusError } from './kube-errors.js';

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  object: unknown;
}

export interface ListResult {
  resourceVersion: string;
  items: unknown[];
}

export interface WatchHandlers {
  /** The server accepted the watch (HTTP 200): the view is current as of now. */
  onOpen(): void;
  onEvent(event: WatchEvent): void;
}

const PAGE = 500;
const MAX_ERROR_BODY = 64 * 1024;

/**
 * A small read-only Kubernetes API client on undici: GET lists (paginated) and newline-delimited watch streams.
 * Timeouts are the caller's AbortSignal (on the injected clock); undici's own real-time timers are off.
 */
export interface KubeClientLimits {
  /** Largest list page and largest watch event line read (kubernetes.maxResponseBytes); past it reading stops. */
  maxResponseBytes?: number;
}

export class KubeClient {
  private current?: { agent: Agent; cert?: string };
  private readonly maxResponseBytes: number;

  constructor(
    private readonly connection: KubeConnection,
    private readonly credentials: CredentialSource,
    private readonly connectTimeoutMs = 10_000,
    limits: KubeClientLimits = {},
  ) {
    this.maxResponseBytes = limits.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  get server(): string {
    return this.connection.server;
  }

  /**
   * Lists every page of a collection. Throws KubeApiError (status code) or VipwatchError (unreachable, timeout, TLS,
   * protocol, a page over maxResponseBytes).
   */
  async list(path: string, query: Record<string, string>, signal: AbortSignal): Promise<ListResult> {
    const items: unknown[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const q: Record<string, string> = { ...query, limit: String(PAGE) };
      if (cont) q.continue = cont;
      const res = await this.send(path, q, signal);
      let body: { items?: unknown; metadata?: { resourceVersion?: unknown; continue?: unknown } };
      let raw: Buffer;
      try {
        raw = await readBodyBounded(res, this.maxResponseBytes, `list ${path}`);
      } catch (err) {
        throw wrap(err, signal, `list ${path}`);
      } finally {
        res.body.destroy();
      }
      try {
        body = JSON.parse(raw.toString('utf8')) as typeof body;
      } catch {
        throw new VipwatchError(ERR.KUBE_PROTOCOL, `list ${path}: answer is not JSON`);
      }
      if (!Array.isArray(body?.items) || typeof body.metadata?.resourceVersion !== 'string')
        throw new VipwatchError(ERR.KUBE_PROTOCOL, `list ${path}: answer is not a Kubernetes list`);
      items.push(...body.items);
      resourceVersion = body.metadata.resourceVersion;
      cont = typeof body.metadata.continue === 'string' && body.metadata.continue !== '' ? body.metadata.continue : undefined;
    } while (cont);
    return { resourceVersion, items };
  }

  /**
   * Watches a collection until the server ends the stream (resolves) or it fails (throws). An ERROR event is thrown
   * as the KubeApiError its Status describes, so an expired resourceVersion is VIPWATCH_KUBE_EXPIRED either way.
   * A line that is not a watch event throws VIPWATCH_KUBE_PROTOCOL; one longer than maxResponseBytes (or a line that
   * never ends) throws VIPWATCH_KUBE_TOO_LARGE as soon as it passes the limit, and the connection is closed.
   */
  async watch(path: string, query: Record<string, string>, signal: AbortSignal, handlers: WatchHandlers): Promise<void> {
    const res = await this.send(path, { ...query, watch: '1' }, signal);
    handlers.onOpen();
    const lines = new LineSplitter(this.maxResponseBytes, `watch ${path}`);
    const iterator = res.body[Symbol.asyncIterator]();
    try {
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          next = await iterator.next();
        } catch (err) {
          throw wrap(err, signal, `watch ${path}`);
        }
        if (next.done) break;
        for (const line of lines.push(next.value)) handlers.onEvent(parseEvent(line, path));
      }
      const rest = lines.end();
      if (rest) handlers.onEvent(parseEvent(rest, path));
    } finally {
      // Ends the stream when a handler threw or the loop stopped early.
      res.body.destroy();
    }
  }

  async close(): Promise<void> {
    const c = this.current;
    this.current = undefined;
    await c?.agent.destroy();
  }

  private async send(path: string, query: Record<string, string>, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    const creds = await this.credentials.get(signal);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'vipwatch' };
    if (creds.token) headers.authorization = `Bearer ${creds.token.reveal()}`;
    const url = `${this.connection.server}${path}?${new URLSearchParams(query).toString()}`;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, { method: 'GET', headers, signal, dispatcher: this.agentFor(creds) });
    } catch (err) {
      throw wrap(err, signal, `GET ${path}`);
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return res;
    if (res.statusCode === 401) this.credentials.invalidate();
    let body: unknown;
    try {
      const text = await readBounded(res, MAX_ERROR_BODY);
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    throw statusError(res.statusCode, body, `GET ${path}`);
  }

  /** One connection pool per client certificate: an exec plugin may hand out a new one. */
  private agentFor(creds: Credentials): Agent {
    const tls = this.connection.tls;
    const cert = creds.cert ?? tls.cert;
    if (this.current && this.current.cert === cert) return this.current.agent;
    const old = this.current?.agent;
    const agent = new Agent({
      headersTimeout: 0,
      bodyTimeout: 0,
      connectTimeout: this.connectTimeoutMs,
      connect: {
        ca: tls.ca,
        cert,
        key: (creds.cert ? creds.key : tls.key)?.reveal(),
        rejectUnauthorized: !tls.insecureSkipVerify,
        ...(tls.serverName ? { servername: tls.serverName } : {}),
      },
    });
    this.current = { agent, cert };
    // Streams on the old pool finish on their own; close() waits for them.
    void old?.close().catch(() => {});
    return agent;
  }
}

function parseEvent(line: string, path: string): WatchEvent {
  let e: { type?: unknown; object?: unknown };
  try {
    e = JSON.parse(line) as typeof e;
  } catch {
    throw new VipwatchError(ERR.KUBE_PROTOCOL, `watch ${path}: malformed event line`);
  }
  if (e.type === 'ERROR') throw statusError(500, e.object, `watch ${path}: ERROR event`);
  if (e.type === 'ADDED' || e.type === 'MODIFIED' || e.type === 'DELETED' || e.type === 'BOOKMARK') return { type: e.type, object: e.object };
  throw new VipwatchError(ERR.KUBE_PROTOCOL, `watch ${path}: unknown event type ${JSON.stringify(e.type)}`);
}

async function readBounded(res: Dispatcher.ResponseData, max: number): Promise<string> {
  let out = '';
  for await (const chunk of res.body) {
    out += (chunk as Buffer).toString('utf8');
    if (out.length > max) {
      res.body.destroy();
      break;
    }
  }
  return out;
}

/** Turns a network or abort error into a stable code; our own errors and an outer abort pass through. */
function wrap(err: unknown, signal: AbortSignal, what: string): unknown {
  if (err instanceof VipwatchError) return err;
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof DeadlineError) return new VipwatchError(ERR.KUBE_TIMEOUT, `${what}: no answer within ${reason.ms}ms`, { cause: err });
    return reason;
  }
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e.cause?.code ?? e.code ?? 'ERROR';
  const message = e.cause?.message ?? e.message;
  return new VipwatchError(isTlsError(code) ? ERR.KUBE_TLS : ERR.KUBE_UNREACHABLE, `${what}: ${code}: ${message}`, { cause: err });
}
