/**
 * A fake Kubernetes API server for tests and the lab: real HTTP(S) on 127.0.0.1, real-shaped JSON lists and chunked,
 * newline-delimited watch streams. It can send BOOKMARKs, expire resourceVersions (HTTP 410 or an ERROR event), cut
 * or stall streams, answer 401/403/404/500, require client certificates, and stop and restart on the same port.
 * Fault modes (watchFault/listFault) misbehave the way broken servers and proxies do: watches that end at once, a line
 * that never ends, garbage lines, malformed events, list pages of any size; faultResponses records what was sent.
 *
 * Collections are named by their plural resource ("services", "endpointslices", "nodes", "events",
 * "servicel2statuses"); any kind can be stored, its plural derived from the kind.
 *
 * With `rbac`, it enforces RBAC as the API server does: each token is granted rules (verbs on resources of an API
 * group, in one namespace or cluster-wide) and a request no rule allows is answered 403 with the API server's Status.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

export interface FakeKubeApiOptions {
  /** Serve HTTPS with this key and certificate; `ca` + `requireClientCert` demand a client certificate signed by it. */
  tls?: { key: string; cert: string; ca?: string; requireClientCert?: boolean };
  /** Bearer tokens accepted. When unset, requests without a token are served (anonymous or client-cert auth). */
  tokens?: string[];
  /** End watches after their timeoutSeconds (real time). Default true. */
  honorTimeoutSeconds?: boolean;
  /**
   * Bearer token -> the rules it is granted. When set, a request needs one of these tokens (else 401) and a rule that
   * allows it (else 403, with the Status a real API server sends).
   */
  rbac?: Record<string, RbacRule[]>;
}

/** One granted rule, as a Role (namespace set) or a ClusterRole bound cluster-wide (namespace undefined) gives it. */
export interface RbacRule {
  /** '' is the core group. */
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  /** The namespace a RoleBinding grants it in; undefined: every namespace and cluster-scoped resources. */
  namespace?: string;
}

/** The user a token authenticates as, in 403 messages. */
export const RBAC_USER = 'system:serviceaccount:vipwatch:vipwatch';

export interface RecordedRequest {
  path: string;
  resource?: string;
  query: Record<string, string>;
  watch: boolean;
  /** "Bearer <token>" as sent. */
  authorization?: string;
  /** CN of the client certificate, when one was presented. */
  clientCn?: string;
}

/**
 * How watches of a resource misbehave (after answering 200):
 * - `end-at-once`: the stream ends at once, with no event (a proxy or server closing every watch);
 * - `endless-line`: bytes with no newline, as fast as the client reads them, up to `maxBytes` (default 1 GiB);
 * - `garbage`: `lines` lines that are not JSON (default 100), then the stream stays open;
 * - `bad-events`: `lines` JSON events whose object has no name (the parser rejects them), then the stream serves
 *   normally (later changes are sent).
 */
export type WatchFault =
  | { mode: 'end-at-once' }
  | { mode: 'endless-line'; maxBytes?: number }
  | { mode: 'garbage'; lines?: number }
  | { mode: 'bad-events'; lines?: number };

/** A list answered with one page of about `bytes` bytes (real items, padded), chunked or with a Content-Length. */
export interface ListFault {
  bytes: number;
  contentLength?: boolean;
}

/** One faulty answer: how many payload bytes the server wrote, and whether the client hung up before the end. */
export interface FaultResponse {
  resource: string;
  fault: string;
  bytesWritten: number;
  /** The client closed the connection before the server finished (or the stream was meant to stay open). */
  clientClosed: boolean;
  done: boolean;
}

export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
};

interface Route {
  apiVersion: string;
  resource: string;
  namespace?: string;
}

interface OpenWatch {
  route: Route;
  query: Record<string, string>;
  res: ServerResponse;
  bookmarks: boolean;
  timer?: NodeJS.Timeout;
}

interface LogEntry {
  rv: number;
  resource: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

interface Failure {
  resource: string;
  status: number;
  on: 'list' | 'watch' | 'any';
  remaining: number;
}

const PLURALS: Record<string, string> = {
  Service: 'services', EndpointSlice: 'endpointslices', Node: 'nodes', Event: 'events',
  ServiceL2Status: 'servicel2statuses', Pod: 'pods', Namespace: 'namespaces',
};

const REASONS: Record<number, [string, string]> = {
  401: ['Unauthorized', 'Unauthorized'],
  403: ['Forbidden', 'is forbidden: User "system:serviceaccount:vipwatch:vipwatch" cannot list resource in API group at the cluster scope'],
  404: ['NotFound', 'the server could not find the requested resource'],
  410: ['Expired', 'too old resource version'],
  429: ['TooManyRequests', 'the server has received too many requests and has asked us to try again later'],
  500: ['InternalError', 'Internal error occurred: etcdserver: request timed out'],
  503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
};

export function pluralOf(kind: string): string {
  return PLURALS[kind] ?? `${kind.toLowerCase()}s`;
}

export function statusObject(code: number, message?: string): Record<string, unknown> {
  const [reason, dflt] = REASONS[code] ?? ['InternalError', 'error'];
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: message ?? dflt, reason, code };
}

export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  tokens: Set<string> | undefined;
  rbac: Record<string, RbacRule[]> | undefined;
  private server?: Server;
  private port = 0;
  private rv = 1000;
  private compactedRv = 0;
  private expiredAnswer: 'http' | 'event' = 'http';
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly log: LogEntry[] = [];
  private readonly watches = new Set<OpenWatch>();
  private readonly sockets = new Set<Socket>();
  private readonly failures: Failure[] = [];
  private readonly stalled = new Set<string>();
  private readonly held = new Set<ServerResponse>();
  private readonly watchFaults = new Map<string, WatchFault>();
  private readonly listFaults = new Map<string, ListFault>();
  readonly faultResponses: FaultResponse[] = [];

  constructor(private readonly opts: FakeKubeApiOptions = {}) {
    this.tokens = opts.tokens ? new Set(opts.tokens) : undefined;
    this.rbac = opts.rbac;
  }

  get url(): string {
    if (!this.port) throw new Error('fake kube api not started');
    return `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** Listens on 127.0.0.1 (port 0 the first time, the same port after a stop). */
  async start(): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    const t = this.opts.tls;
    const server = t
      ? createHttpsServer({ key: t.key, cert: t.cert, ca: t.ca, requestCert: !!t.requireClientCert, rejectUnauthorized: !!t.requireClientCert }, handler)
      : createHttpServer(handler);
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
    return this.url;
  }

  /** Closes the listener and every connection abruptly (open watches see a cut stream). Data is kept. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const w of this.watches) clearTimeout(w.timer);
    this.watches.clear();
    this.held.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Creates or replaces an object (assigning a new resourceVersion) and tells matching watches. */
  apply(obj: KubeObject): KubeObject {
    const resource = pluralOf(obj.kind);
    const coll = this.collection(resource);
    const key = objKey(obj);
    const type = coll.has(key) ? 'MODIFIED' : 'ADDED';
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    coll.set(key, stored);
    this.emit({ rv: this.rv, resource, type, object: stored });
    return stored;
  }

  /** Deletes an object; returns false when it did not exist. */
  remove(kind: string, namespace: string | undefined, name: string): boolean {
    const resource = pluralOf(kind);
    const coll = this.collection(resource);
    const key = namespace ? `${namespace}/${name}` : name;
    const old = coll.get(key);
    if (!old) return false;
    coll.delete(key);
    const object = structuredClone(old);
    object.metadata.resourceVersion = String(++this.rv);
    this.emit({ rv: this.rv, resource, type: 'DELETED', object });
    return true;
  }

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.collection(pluralOf(kind)).get(namespace ? `${namespace}/${name}` : name);
  }

  /** Sends a BOOKMARK at the current resourceVersion to every open watch that asked for bookmarks. */
  bookmark(resource?: string): number {
    let n = 0;
    for (const w of this.watches) {
      if (!w.bookmarks || (resource && w.route.resource !== resource) || this.stalled.has(w.route.resource) || this.stalled.has('*')) continue;
      const kind = Object.entries(PLURALS).find(([, p]) => p === w.route.resource)?.[0] ?? 'Unknown';
      write(w.res, { type: 'BOOKMARK', object: { kind, apiVersion: w.route.apiVersion, metadata: { resourceVersion: String(this.rv) } } });
      n++;
    }
    return n;
  }

  /**
   * Compacts history: every resourceVersion up to now expires. Later watches from an old version get HTTP 410
   * (`answer: 'http'`) or a 200 with an ERROR event (`answer: 'event'`); open watches get the ERROR event and end.
   */
  expire(opts: { answer?: 'http' | 'event'; openWatches?: boolean } = {}): void {
    // Everything up to now expires; a list afterwards returns a newer, valid version.
    this.compactedRv = this.rv++;
    this.expiredAnswer = opts.answer ?? 'http';
    if (opts.openWatches === false) return;
    for (const w of [...this.watches]) {
      write(w.res, { type: 'ERROR', object: statusObject(410, `too old resource version: ${this.compactedRv}`) });
      this.endWatch(w);
    }
  }

  /** Destroys the connections of open watches mid-stream (no terminating chunk). */
  cutWatches(resource?: string): number {
    let n = 0;
    for (const w of [...this.watches]) {
      if (resource && w.route.resource !== resource) continue;
      this.watches.delete(w);
      clearTimeout(w.timer);
      w.res.socket?.destroy();
      n++;
    }
    return n;
  }

  /** Ends open watches cleanly, as the server does at timeoutSeconds. */
  endWatches(resource?: string): void {
    for (const w of [...this.watches]) if (!resource || w.route.resource === resource) this.endWatch(w);
  }

  /** Answers requests for a resource ('*' for all) with an error status, `times` times (default: until cleared). */
  fail(resource: string, status: number, opts: { times?: number; on?: 'list' | 'watch' | 'any' } = {}): void {
    this.failures.push({ resource, status, on: opts.on ?? 'any', remaining: opts.times ?? Infinity });
  }

  clearFailures(): void {
    this.failures.length = 0;
  }

  /** Every later watch of the resource ('*' for all) misbehaves as `fault` says, until clearFaults(). */
  watchFault(resource: string, fault: WatchFault): void {
    this.watchFaults.set(resource, fault);
  }

  /** Every later list of the resource ('*' for all) is answered with one oversized page, until clearFaults(). */
  listFault(resource: string, fault: ListFault): void {
    this.listFaults.set(resource, fault);
  }

  clearFaults(): void {
    this.watchFaults.clear();
    this.listFaults.clear();
  }

  /** Requests for the resource ('*' for all) are accepted and never answered; open watches receive nothing more. */
  stall(resource = '*'): void {
    this.stalled.add(resource);
  }

  unstall(): void {
    this.stalled.clear();
  }

  openWatches(resource?: string): number {
    return [...this.watches].filter((w) => !resource || w.route.resource === resource).length;
  }

  requestsFor(resource: string, kind?: 'list' | 'watch'): RecordedRequest[] {
    return this.requests.filter((r) => r.resource === resource && (kind === undefined || r.watch === (kind === 'watch')));
  }

  private collection(resource: string): Map<string, KubeObject> {
    let c = this.objects.get(resource);
    if (!c) this.objects.set(resource, (c = new Map()));
    return c;
  }

  private emit(e: LogEntry): void {
    this.log.push(e);
    if (this.stalled.has('*') || this.stalled.has(e.resource)) return;
    for (const w of this.watches) {
      if (w.route.resource === e.resource && matches(e.object, w.route, w.query)) write(w.res, { type: e.type, object: e.object });
    }
  }

  private endWatch(w: OpenWatch): void {
    this.watches.delete(w);
    clearTimeout(w.timer);
    w.res.end();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    const route = parseRoute(url.pathname);
    const watch = query.watch === '1' || query.watch === 'true';
    const peer = (req.socket as TLSSocket).getPeerCertificate?.();
    const clientCn = peer && typeof peer.subject?.CN === 'string' ? peer.subject.CN : undefined;
    this.requests.push({ path: url.pathname, resource: route?.resource, query, watch, authorization: req.headers.authorization, clientCn });

    if (this.tokens && !clientCn) {
      const token = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
      if (!token || !this.tokens.has(token)) return answer(res, 401, statusObject(401));
    }
    if (this.rbac) {
      const token = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
      const rules = token === undefined ? undefined : this.rbac[token];
      if (!rules) return answer(res, 401, statusObject(401));
      if (route) {
        const verb = watch ? 'watch' : 'list';
        const request = { group: groupOf(route), resource: route.resource, namespace: route.namespace };
        if (!rules.some((r) => rbacAllows(r, request, verb))) return answer(res, 403, forbiddenStatus(route, verb));
      }
    }
    if (this.stalled.has('*') || (route && this.stalled.has(route.resource))) {
      this.held.add(res);
      res.on('close', () => this.held.delete(res));
      return;
    }
    const failure = this.failures.find((f) => f.remaining > 0 && (f.resource === '*' || f.resource === route?.resource) && (f.on === 'any' || (f.on === 'watch') === watch));
    if (failure) {
      failure.remaining--;
      const msg = failure.status === 403 && route ? `${route.resource} is forbidden: User "system:serviceaccount:vipwatch:vipwatch" cannot ${watch ? 'watch' : 'list'} resource "${route.resource}"` : undefined;
      return answer(res, failure.status, statusObject(failure.status, msg));
    }
    if (!route || req.method !== 'GET') return answer(res, 404, statusObject(404));
    const wf = watch ? this.watchFaults.get(route.resource) ?? this.watchFaults.get('*') : undefined;
    if (wf) return this.serveWatchFault(route, wf, res);
    const lf = watch ? undefined : this.listFaults.get(route.resource) ?? this.listFaults.get('*');
    if (lf) return this.serveListFault(route, lf, res);
    if (watch) return this.serveWatch(route, query, res);
    return this.serveList(route, query, res);
  }

  private serveList(route: Route, query: Record<string, string>, res: ServerResponse): void {
    const all = [...this.collection(route.resource).values()].filter((o) => matches(o, route, query)).sort((a, b) => objKey(a).localeCompare(objKey(b)));
    let offset = 0;
    let rv = this.rv;
    if (query.continue) {
      const c = JSON.parse(Buffer.from(query.continue, 'base64url').toString()) as { rv: number; offset: number };
      if (c.rv <= this.compactedRv) return answer(res, 410, statusObject(410, 'The provided continue parameter is too old to display a consistent list result.'));
      ({ offset, rv } = c);
    }
    const limit = query.limit ? Number(query.limit) : Infinity;
    const page = all.slice(offset, offset + limit);
    const metadata: Record<string, string> = { resourceVersion: String(rv) };
    if (offset + limit < all.length) metadata.continue = Buffer.from(JSON.stringify({ rv, offset: offset + limit })).toString('base64url');
    const kind = Object.entries(PLURALS).find(([, p]) => p === route.resource)?.[0] ?? 'Unknown';
    // Real lists carry kind/apiVersion on the list, not on the items.
    const items = page.map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
    answer(res, 200, { kind: `${kind}List`, apiVersion: route.apiVersion, metadata, items });
  }

  private serveWatch(route: Route, query: Record<string, string>, res: ServerResponse): void {
    const from = query.resourceVersion ? Number(query.resourceVersion) : 0;
    const expired = from > 0 && from <= this.compactedRv;
    if (expired && this.expiredAnswer === 'http') return answer(res, 410, statusObject(410, `too old resource version: ${from} (${this.compactedRv})`));
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    if (expired) {
      write(res, { type: 'ERROR', object: statusObject(410, `too old resource version: ${from} (${this.compactedRv})`) });
      res.end();
      return;
    }
    if (from === 0) {
      for (const o of this.collection(route.resource).values()) if (matches(o, route, query)) write(res, { type: 'ADDED', object: o });
    } else {
      for (const e of this.log) if (e.rv > from && e.resource === route.resource && matches(e.object, route, query)) write(res, { type: e.type, object: e.object });
    }
    const w: OpenWatch = { route, query, res, bookmarks: query.allowWatchBookmarks === 'true' };
    const seconds = Number(query.timeoutSeconds);
    if (this.opts.honorTimeoutSeconds !== false && seconds > 0) w.timer = setTimeout(() => this.endWatch(w), seconds * 1000);
    this.watches.add(w);
    res.on('close', () => {
      clearTimeout(w.timer);
      this.watches.delete(w);
    });
  }

  private record(resource: string, fault: string, res: ServerResponse): FaultResponse {
    const r: FaultResponse = { resource, fault, bytesWritten: 0, clientClosed: false, done: false };
    this.faultResponses.push(r);
    res.on('close', () => {
      if (!res.writableFinished) r.clientClosed = true;
      r.done = true;
    });
    return r;
  }

  private serveWatchFault(route: Route, fault: WatchFault, res: ServerResponse): void {
    const r = this.record(route.resource, fault.mode, res);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const send = (text: string | Buffer) => {
      r.bytesWritten += Buffer.byteLength(text);
      return res.write(text);
    };
    switch (fault.mode) {
      case 'end-at-once':
        res.end();
        return;
      case 'endless-line': {
        send('{"type":"ADDED","object":{"kind":"Service","metadata":{"name":"');
        pump(res, Buffer.alloc(64 * 1024, 'x'), fault.maxBytes ?? 1024 ** 3, send);
        return;
      }
      case 'garbage':
        for (let i = 0; i < (fault.lines ?? 100); i++) send(`<html>502 Bad Gateway ${i} {"type":\n`);
        this.hold(res);
        return;
      case 'bad-events': {
        for (let i = 0; i < (fault.lines ?? 100); i++)
          send(JSON.stringify({ type: 'ADDED', object: { kind: 'Service', apiVersion: route.apiVersion, metadata: { namespace: 'default', resourceVersion: String(this.rv) } } }) + '\n');
        const w: OpenWatch = { route, query: {}, res, bookmarks: false };
        this.watches.add(w);
        res.on('close', () => this.watches.delete(w));
        return;
      }
    }
  }

  private serveListFault(route: Route, fault: ListFault, res: ServerResponse): void {
    const r = this.record(route.resource, 'oversized-list', res);
    const kind = Object.entries(PLURALS).find(([, p]) => p === route.resource)?.[0] ?? 'Unknown';
    const head = `{"kind":"${kind}List","apiVersion":"${route.apiVersion}","metadata":{"resourceVersion":"${this.rv}"},"items":[`;
    const item = (i: number) => JSON.stringify({ metadata: { name: `pad-${i}`, namespace: 'default', annotations: { pad: 'p'.repeat(4000) } } });
    const n = Math.max(1, Math.ceil((fault.bytes - head.length) / (item(0).length + 1)));
    if (fault.contentLength) {
      const body = head + Array.from({ length: n }, (_, i) => item(i)).join(',') + ']}';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      r.bytesWritten = Buffer.byteLength(body);
      res.end(body);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    let i = 0;
    const next = (): void => {
      while (!res.destroyed) {
        const chunk = i === 0 ? head + item(0) : i < n ? ',' + item(i) : ']}';
        r.bytesWritten += chunk.length;
        if (i++ >= n) {
          res.end(chunk);
          return;
        }
        if (!res.write(chunk)) {
          res.once('drain', next);
          return;
        }
      }
    };
    next();
  }

  private hold(res: ServerResponse): void {
    this.held.add(res);
    res.on('close', () => this.held.delete(res));
  }
}

/** Writes `chunk` again and again as fast as the peer reads, until `max` bytes or the peer hangs up. */
function pump(res: ServerResponse, chunk: Buffer, max: number, send: (b: Buffer) => boolean): void {
  let sent = 0;
  const next = (): void => {
    while (!res.destroyed && sent < max) {
      sent += chunk.length;
      if (!send(chunk)) {
        res.once('drain', next);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  next();
}

function objKey(o: KubeObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

function write(res: ServerResponse, event: unknown): void {
  if (!res.writableEnded && !res.destroyed) res.write(JSON.stringify(event) + '\n');
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** /api/v1[/namespaces/NS]/PLURAL or /apis/GROUP/VERSION[/namespaces/NS]/PLURAL */
function parseRoute(path: string): Route | undefined {
  const m = path.match(/^\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))(?:\/namespaces\/([^/]+))?\/([a-z0-9]+)\/?$/);
  if (!m) return undefined;
  return { apiVersion: m[1] ?? m[2]!, namespace: m[3], resource: m[4]! };
}

function groupOf(route: Route): string {
  return route.apiVersion.includes('/') ? route.apiVersion.split('/')[0]! : '';
}

/**
 * RBAC's check: group, resource and verb match, and a grant in a namespace covers only requests in that namespace
 * (never a cluster-wide list, never a cluster-scoped resource).
 */
export function rbacAllows(rule: RbacRule, request: { group: string; resource: string; namespace?: string }, verb: string): boolean {
  const any = (list: string[], v: string) => list.includes('*') || list.includes(v);
  if (!any(rule.apiGroups, request.group) || !any(rule.resources, request.resource) || !any(rule.verbs, verb)) return false;
  return rule.namespace === undefined || rule.namespace === request.namespace;
}

/** The Status kube-apiserver answers a forbidden request with. */
function forbiddenStatus(route: Route, verb: string): Record<string, unknown> {
  const group = groupOf(route);
  const where = route.namespace === undefined ? 'at the cluster scope' : `in the namespace "${route.namespace}"`;
  const qualified = group ? `${route.resource}.${group}` : route.resource;
  return {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
    message: `${qualified} is forbidden: User "${RBAC_USER}" cannot ${verb} resource "${route.resource}" in API group "${group}" ${where}`,
    reason: 'Forbidden', details: { group: group || undefined, kind: route.resource }, code: 403,
  };
}

function matches(o: KubeObject, route: Route, query: Record<string, string>): boolean {
  if (route.namespace && o.metadata.namespace !== route.namespace) return false;
  if (query.labelSelector && !selectorMatches(query.labelSelector, (k) => o.metadata.labels?.[k])) return false;
  if (query.fieldSelector && !selectorMatches(query.fieldSelector, (k) => fieldOf(o, k))) return false;
  return true;
}

/** Equality-based selectors: k=v, k==v, k!=v, k, !k (comma-separated, all must hold). */
function selectorMatches(selector: string, get: (key: string) => string | undefined): boolean {
  return selector.split(',').every((req) => {
    const r = req.trim();
    let m: RegExpMatchArray | null;
    if ((m = r.match(/^([^!=]+)!=(.*)$/))) return get(m[1]!.trim()) !== m[2]!.trim();
    if ((m = r.match(/^([^!=]+)==?(.*)$/))) return get(m[1]!.trim()) === m[2]!.trim();
    if (r.startsWith('!')) return get(r.slice(1).trim()) === undefined;
    return r === '' || get(r) !== undefined;
  });
}

function fieldOf(o: unknown, dotted: string): string | undefined {
  let cur: unknown = o;
  for (const part of dotted.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur === undefined || cur === null ? undefined : String(cur);
}
