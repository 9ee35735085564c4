import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Client, type Dispatcher } from 'undici';
import { prepared, type PreparedRequest } from './http-request.js';
import { ProbeRun, type Outcome } from './run.js';
import type { ProberOptions } from './options.js';
import { excerpt, matches } from './text.js';
import type { Prober, ProbeResult, ProbeSpec } from './types.js';

/**
 * HTTP and HTTPS on undici. Each attempt connects once itself (so it knows connect, TLS and source port exactly),
 * then lends that one socket to a single-use undici Client: a second connection is refused, so undici can neither
 * pool nor retry. The AbortSignal is the only deadline; undici's own timers are off.
 */
export class HttpProber implements Prober {
  constructor(private readonly opts: ProberOptions = {}) {}

  probe(spec: ProbeSpec, signal: AbortSignal): Promise<ProbeResult> {
    let p: PreparedRequest;
    try {
      p = prepared(spec);
    } catch (err) {
      return Promise.reject(err);
    }
    const run = new ProbeRun(signal);
    run.onReady = (socket) => request(run, p, socket);
    run.open(spec.address, spec.port, this.opts.lookup, p.tls);
    return run.result;
  }
}

function request(run: ProbeRun, p: PreparedRequest, socket: Socket): void {
  socket.on('readable', function first(this: Socket) {
    if (this.readableLength > 0) {
      run.firstByte();
      this.removeListener('readable', first);
    }
  });
  let lent = false;
  const client = new Client(p.origin, {
    connect(_opts, cb) {
      if (lent) return cb(new Error('vipwatch: one connection per attempt'), null);
      lent = true;
      // Asynchronously: undici's resume loop is not re-entrant and ignores a synchronous callback.
      queueMicrotask(() => cb(null, socket));
    },
    pipelining: 1,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  // For attempts that end before the response does (deadline, body cap, errors).
  run.closer = { close: () => void client.destroy().catch(() => {}) };
  // reset: "connection: close" and no reuse; nothing here is ever re-sent.
  client.dispatch({ path: p.path, method: p.method, headers: p.headers, reset: true, idempotent: false }, new Exchange(run, p));
}

/** undici's handler for one response: status, backend identity, and the body up to its cap. */
class Exchange implements Dispatcher.DispatchHandler {
  private status = 0;
  private backend?: string;
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly run: ProbeRun, private readonly p: PreparedRequest) {}

  /** Its presence tells undici this is a current-API handler. */
  onRequestStart(): void {}

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // informational (103 Early Hints): the real response follows
    this.status = statusCode;
    if (this.p.backendHeader) {
      const v = headers[this.p.backendHeader];
      this.backend = Array.isArray(v) ? v[0] : v;
    }
    if (this.p.maxBodyBytes === 0) this.finish();
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.run.done) return;
    const room = this.p.maxBodyBytes - this.bytes;
    if (this.p.keepBody) this.chunks.push(room < chunk.length ? chunk.subarray(0, room) : chunk);
    this.bytes += Math.min(room, chunk.length);
    // At the cap: judge what was read and stop reading; a larger body is not a failure.
    if (this.bytes >= this.p.maxBodyBytes) this.finish();
  }

  onResponseEnd(): void {
    // The exchange is over: closing the socket is all the teardown needed (client.destroy() would build an error).
    this.run.closer = undefined;
    this.finish();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    // undici refusing the request itself is not something the network did.
    const code = (err as { code?: unknown }).code;
    if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') this.run.abandon(err);
    else this.run.failWith(err);
  }

  private finish(): void {
    const { run, p, status } = this;
    if (run.done) return;
    const body = p.keepBody ? Buffer.concat(this.chunks).toString('utf8') : '';
    if (p.backendJsonField && this.backend === undefined) this.backend = jsonField(body, p.backendJsonField);
    const outcome: Outcome = { httpStatus: status, backend: this.backend };
    if (p.expect ? !p.expect.has(status) : status < 200 || status > 399) {
      return run.fail({ reason: 'http_status', detail: `status ${status}, expected ${p.expectText}` }, outcome);
    }
    if (p.bodyRegex && !matches(p.bodyRegex, body)) {
      return run.fail({ reason: 'body_mismatch', detail: `bodyRegex ${p.bodyRegex} did not match the first ${this.bytes} body bytes: ${excerpt(body)}` }, outcome);
    }
    run.succeed(outcome);
  }
}

/** A top-level field of a JSON body, as text; anything else (truncated body, not JSON, nested value) names no one. */
function jsonField(body: string, field: string): string | undefined {
  try {
    const v = (JSON.parse(body) as Record<string, unknown> | null)?.[field];
    return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
  } catch {
    return undefined;
  }
}
