/** The `server` section: where vipwatch serves metrics and the API, and what it lets a client hold of it. */
import { listenAddress } from '../address.js';
import { duration, field, int, object, type Validator } from '../schema-dsl.js';

export interface ServerConfig {
  listen: { host: string; port: number };
  /** Connections held at once; Node closes the ones beyond it as soon as it accepts them. */
  maxConnections: number;
  /** A request's headers must be complete within this (a slowloris client is dropped). */
  headersTimeoutMs: number;
  /** A whole request must arrive within this; also the idle limit of a connection (reading or writing nothing). */
  requestTimeoutMs: number;
}

export const SERVER_DEFAULTS: ServerConfig = {
  listen: { host: '0.0.0.0', port: 9464 },
  // A Prometheus or two, a few browsers on the status page, curl: far below any fd limit, far above the need.
  maxConnections: 256,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 30_000,
};

export const serverSection: Validator<ServerConfig> = object({
  listen: field(listenAddress(), { default: SERVER_DEFAULTS.listen }),
  maxConnections: field(int({ min: 1, max: 100_000 }), { default: SERVER_DEFAULTS.maxConnections }),
  headersTimeout: field(duration({ min: 100, max: 300_000 }), { default: SERVER_DEFAULTS.headersTimeoutMs }),
  requestTimeout: field(duration({ min: 100, max: 3_600_000 }), { default: SERVER_DEFAULTS.requestTimeoutMs }),
}, (v, path, ctx) => {
  // Node refuses a headers timeout longer than the request timeout.
  if (v.headersTimeout > v.requestTimeout) return ctx.report([...path, 'headersTimeout'], `must not exceed server.requestTimeout (${v.requestTimeout}ms), got ${v.headersTimeout}ms`);
  return { listen: v.listen, maxConnections: v.maxConnections, headersTimeoutMs: v.headersTimeout, requestTimeoutMs: v.requestTimeout };
});
