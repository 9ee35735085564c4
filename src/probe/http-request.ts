import { isIP } from 'node:net';
import { ERR } from '../lib/error-codes.js';
import { VipwatchError } from '../lib/errors.js';
import type { RunTls } from './run.js';
import type { ProbeSpec } from './types.js';

/** Everything about a target's request that does not change between attempts, computed once. */
export interface PreparedRequest {
  origin: URL;
  path: string;
  method: string;
  /** Flat [name, value, ...]; Secret values revealed here, never logged. */
  headers: string[];
  /** Accepted statuses; null means 200-399. */
  expect: ReadonlySet<number> | null;
  expectText: string;
  bodyRegex?: RegExp;
  maxBodyBytes: number;
  /** Body bytes are kept only when something reads them. */
  keepBody: boolean;
  /** Lower-case, as undici hands headers over. */
  backendHeader?: string;
  backendJsonField?: string;
  tls?: RunTls;
}

/**
 * Request headers the prober owns (one request, no body, connection closed after it) or undici refuses.
 * The config should reject them at load; the prober refuses them before connecting.
 */
export const PROBER_OWNED_HEADERS: readonly string[] = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect', 'content-length', 'te'];

const cache = new WeakMap<ProbeSpec, PreparedRequest>();

/** The spec object lives as long as its target's loop, so a WeakMap keyed on it costs nothing per attempt. */
export function prepared(spec: ProbeSpec): PreparedRequest {
  let p = cache.get(spec);
  if (!p) cache.set(spec, (p = prepare(spec)));
  return p;
}

export function prepare(spec: ProbeSpec): PreparedRequest {
  const http = spec.http ?? { path: '/', method: 'GET', headers: {}, expectStatus: [], maxBodyBytes: 64 * 1024 };
  const host = isIP(spec.address) === 6 ? `[${spec.address}]` : spec.address;
  const headers: string[] = [];
  let hostHeader: string | undefined;
  for (const [k, v] of Object.entries(http.headers)) {
    const name = k.toLowerCase();
    if (PROBER_OWNED_HEADERS.includes(name)) {
      throw new VipwatchError(ERR.HTTP_HEADER_UNSUPPORTED, `target ${spec.target}: http.headers.${k} cannot be set: the prober sends one request without a body and closes the connection`);
    }
    const value = typeof v === 'string' ? v : v.reveal();
    if (name === 'host') {
      if (hostHeader !== undefined) throw new VipwatchError(ERR.HTTP_HEADER_UNSUPPORTED, `target ${spec.target}: http.headers has more than one Host`);
      hostHeader = value;
    }
    headers.push(k, value);
  }
  const p: PreparedRequest = {
    origin: new URL(`${spec.protocol === 'https' ? 'https' : 'http'}://${host}:${spec.port}`),
    path: http.path,
    method: http.method,
    headers,
    expect: http.expectStatus.length ? new Set(http.expectStatus) : null,
    expectText: http.expectStatus.length ? http.expectStatus.join(', ') : '200-399',
    bodyRegex: http.bodyRegex,
    maxBodyBytes: http.maxBodyBytes,
    keepBody: Boolean(http.bodyRegex || http.backendJsonField),
    backendHeader: http.backendHeader?.toLowerCase(),
    backendJsonField: http.backendJsonField,
  };
  if (spec.protocol === 'https') {
    const t = spec.tls ?? { insecureSkipVerify: false };
    p.tls = { servername: t.serverName ?? tlsName(hostHeader, spec.address), ca: t.ca, rejectUnauthorized: !t.insecureSkipVerify };
  }
  return p;
}

/**
 * The name the certificate must carry when tls.serverName is not set: the Host header's host (what a browser
 * would verify), else a hostname address. IP addresses are never sent as SNI; Node then verifies the IP SAN.
 */
function tlsName(hostHeader: string | undefined, address: string): string | undefined {
  if (hostHeader) {
    const name = hostHeader.startsWith('[') ? '' : hostHeader.replace(/:\d+$/, '');
    if (name && !isIP(name)) return name;
  }
  return isIP(address) ? undefined : address;
}
