/**
 * Endpoint authentication: `server.auth` guards the status page and the API, `server.metricsAuth` guards /metrics,
 * /-/healthy and /-/ready stay open (container HEALTHCHECKs and Kubernetes probes carry no credentials).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { EndpointAuthConfig, ServerConfig } from '../config/sections/server.js';
import { ERR } from '../lib/error-codes.js';
import { json, type Guard, type Reply } from './http-server.js';
import { unauthorizedDocument } from './status/unauthorized-html.js';

/** Paths served to anyone, whatever `server.auth` says. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/-/healthy', '/-/ready']);

const REALM = 'vipwatch';

/**
 * The guard for vipwatch's routes, reading the server config at each request (so a reload that changes the
 * credentials applies at once). Unknown paths are guarded like the API: without credentials a client learns nothing.
 */
export function authGuard(server: () => ServerConfig): Guard {
  return (req, url) => {
    if (OPEN_PATHS.has(url.pathname)) return undefined;
    const cfg = server();
    const auth = url.pathname === '/metrics' ? cfg.metricsAuth : cfg.auth;
    if (!auth || authorized(auth, req.headers.authorization)) return undefined;
    const refusal = unauthorized(auth);
    // A browser opening the status page gets the same refusal as a page a person can read; API clients keep the JSON.
    if (url.pathname === '/' && /\btext\/html\b/.test(req.headers.accept ?? '')) {
      return { ...refusal, contentType: 'text/html; charset=utf-8', body: unauthorizedDocument(Boolean(auth.basic)) };
    }
    return refusal;
  };
}

/** True when the Authorization header carries a configured credential (bearer token, or basic user and password). */
export function authorized(auth: EndpointAuthConfig, header: string | undefined): boolean {
  if (!header) return false;
  const m = /^([A-Za-z]+) +(\S+) *$/.exec(header);
  if (!m) return false;
  const scheme = m[1]!.toLowerCase();
  const credentials = m[2]!;
  if (scheme === 'bearer' && auth.bearerToken) return same(credentials, auth.bearerToken.reveal());
  if (scheme === 'basic' && auth.basic) {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    // Both compared, always: how long a refusal takes says nothing about which half was wrong.
    const user = same(decoded.slice(0, colon), auth.basic.username);
    const password = same(decoded.slice(colon + 1), auth.basic.password.reveal());
    return user && password;
  }
  return false;
}

/** 401 with one challenge per configured scheme (a browser prompts for basic; API clients read Bearer). */
export function unauthorized(auth: EndpointAuthConfig): Reply {
  const challenges: string[] = [];
  if (auth.basic) challenges.push(`Basic realm="${REALM}", charset="UTF-8"`);
  if (auth.bearerToken) challenges.push(`Bearer realm="${REALM}"`);
  return { ...json({ error: 'unauthorized: missing or wrong credentials', code: ERR.UNAUTHORIZED }, 401), headers: { 'www-authenticate': challenges } };
}

/** Constant-time equality of two strings of any lengths (their digests are compared). */
function same(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
