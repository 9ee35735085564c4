import { HttpProber } from './http.js';
import type { ProberOptions } from './options.js';
import { TcpProber } from './tcp.js';
import type { Prober, Protocol } from './types.js';

export type { ProberOptions } from './options.js';

/** One prober per protocol; http and https share one (TLS is a property of the spec). */
export function createProbers(opts: ProberOptions = {}): Record<Protocol, Prober> {
  const http = new HttpProber(opts);
  return { tcp: new TcpProber(opts), http, https: http };
}
