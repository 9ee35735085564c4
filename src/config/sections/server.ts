/** The `server` section: where vipwatch serves metrics and the API, who may read them, and what a client may hold of it. */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { Secret } from '../../lib/secret.js';
import { listenAddress } from '../address.js';
import { pathStr, secretFile } from '../secrets.js';
import { duration, field, int, INVALID, object, str, type Validator } from '../schema-dsl.js';

/**
 * Credentials a client must present (either one when both are set): `Authorization: Bearer <token>` and/or HTTP basic
 * auth. Read from files at load (and at every reload); compared in constant time; never logged.
 */
export interface EndpointAuthConfig {
  /** From `bearerTokenFile`. */
  bearerToken?: Secret;
  /** From `basic: { username, passwordFile }`. */
  basic?: { username: string; password: Secret };
}

/** The server's own certificate and key (PEM files, absolute paths); re-read when either file changes. */
export interface ServerTlsConfig {
  certFile: string;
  keyFile: string;
}

export interface ServerConfig {
  listen: { host: string; port: number };
  /** Connections held at once; Node closes the ones beyond it as soon as it accepts them. */
  maxConnections: number;
  /** A request's headers must be complete within this (a slowloris client is dropped). */
  headersTimeoutMs: number;
  /** A whole request must arrive within this; also the idle limit of a connection (reading or writing nothing). */
  requestTimeoutMs: number;
  /** Protects the status page and /api/…; none by default. /-/healthy and /-/ready stay open. */
  auth?: EndpointAuthConfig;
  /** Protects /metrics, separately from `auth` (Prometheus' scrape config sends bearer or basic); none by default. */
  metricsAuth?: EndpointAuthConfig;
  /** HTTPS instead of plain HTTP; none by default. */
  tls?: ServerTlsConfig;
}

export const SERVER_DEFAULTS: ServerConfig = {
  listen: { host: '0.0.0.0', port: 9464 },
  // A Prometheus or two, a few browsers on the status page, curl: far below any fd limit, far above the need.
  maxConnections: 256,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 30_000,
};

/** A `*File` secret that must not be empty (an empty token or password would let anyone in). */
function credentialFile(opts: { oneWord?: boolean } = {}): Validator<Secret> {
  const read = secretFile();
  return (v, path, ctx) => {
    const s = read(v, path, ctx);
    if (s === INVALID) return s;
    if (s.reveal() === '') return ctx.report(path, 'the file is empty');
    if (opts.oneWord && /\s/.test(s.reveal())) return ctx.report(path, 'the token must not contain whitespace (it is sent as one word after "Bearer ")');
    return s;
  };
}

const basicAuth = object({
  // RFC 7617: the user-id cannot contain a colon.
  username: field(str({ pattern: /^[^:\x00-\x1f\x7f]+$/, patternHint: 'must not contain ":" or control characters' }), { required: true }),
  passwordFile: field(credentialFile(), { required: true }),
}, (v) => ({ username: v.username, password: v.passwordFile }));

const endpointAuth: Validator<EndpointAuthConfig> = object({
  bearerTokenFile: field(credentialFile({ oneWord: true })),
  basic: field(basicAuth),
}, (v, path, ctx) => {
  if (!v.bearerTokenFile && !v.basic) return ctx.report(path, 'set bearerTokenFile, basic or both (leave the key out for no authentication)');
  const out: EndpointAuthConfig = {};
  if (v.bearerTokenFile) out.bearerToken = v.bearerTokenFile;
  if (v.basic) out.basic = v.basic;
  return out;
});

/**
 * Reads a certificate/key pair and checks that it can serve: both PEM, the key matching the certificate. Throws an
 * Error naming what is wrong (never quoting the key). Used at load, at start and whenever the files change.
 */
export function readTlsPair(files: ServerTlsConfig): { cert: string; key: string; x509: X509Certificate } {
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const cert = read(files.certFile);
  const key = read(files.keyFile);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`${files.certFile} is not a PEM certificate: ${(err as Error).message}`);
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) throw new Error(`${files.keyFile} is not a PEM private key`);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new Error(`${files.certFile} and ${files.keyFile} are not a usable pair: ${(err as Error).message}`);
  }
  return { cert, key, x509 };
}

const serverTls: Validator<ServerTlsConfig> = object({
  certFile: field(pathStr(), { required: true }),
  keyFile: field(pathStr(), { required: true }),
}, (v, path, ctx) => {
  try {
    readTlsPair(v);
    return { certFile: v.certFile, keyFile: v.keyFile };
  } catch (err) {
    return ctx.report(path, (err as Error).message);
  }
});

export const serverSection: Validator<ServerConfig> = object({
  listen: field(listenAddress(), { default: SERVER_DEFAULTS.listen }),
  maxConnections: field(int({ min: 1, max: 100_000 }), { default: SERVER_DEFAULTS.maxConnections }),
  headersTimeout: field(duration({ min: 100, max: 300_000 }), { default: SERVER_DEFAULTS.headersTimeoutMs }),
  requestTimeout: field(duration({ min: 100, max: 3_600_000 }), { default: SERVER_DEFAULTS.requestTimeoutMs }),
  auth: field(endpointAuth),
  metricsAuth: field(endpointAuth),
  tls: field(serverTls),
}, (v, path, ctx) => {
  // Node refuses a headers timeout longer than the request timeout.
  if (v.headersTimeout > v.requestTimeout) return ctx.report([...path, 'headersTimeout'], `must not exceed server.requestTimeout (${v.requestTimeout}ms), got ${v.headersTimeout}ms`);
  const out: ServerConfig = { listen: v.listen, maxConnections: v.maxConnections, headersTimeoutMs: v.headersTimeout, requestTimeoutMs: v.requestTimeout };
  if (v.auth) out.auth = v.auth;
  if (v.metricsAuth) out.metricsAuth = v.metricsAuth;
  if (v.tls) out.tls = v.tls;
  return out;
});
