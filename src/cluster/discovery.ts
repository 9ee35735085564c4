import { badPathChar, describeChar } from '../config/http-chars.js';
import type { Defaults, TargetConfig } from '../config/targets.js';
import type { Protocol } from '../probe/types.js';
import { matchesLabels, type LabelRequirement } from '../lib/label-selector.js';
import type { ServiceObj } from './objects.js';

export const ANNOTATION_PROTOCOL = 'vipwatch.io/protocol';
export const ANNOTATION_PATH = 'vipwatch.io/path';
export const ANNOTATION_BACKEND_HEADER = 'vipwatch.io/backend-header';

const HEADER = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export interface DiscoveryOptions {
  selector: readonly LabelRequirement[];
  /** Empty: every namespace. */
  namespaces: readonly string[];
  defaults: Defaults;
  /** True when a static target already probes this address and port: the static one wins. */
  taken(address: string, port: number): boolean;
  /** A bad annotation; the target falls back to the default for it. */
  warn(service: string, message: string): void;
}

/**
 * One target per ingress IP and TCP port of every matching LoadBalancer Service: TCP by default, HTTP(S) when
 * annotated. Names are "<namespace>.<service>:<ip>:<port>" (Service and namespace names contain no dots).
 */
export function discoverTargets(services: Iterable<ServiceObj>, o: DiscoveryOptions): TargetConfig[] {
  const out: TargetConfig[] = [];
  for (const svc of services) {
    const ns = svc.meta.namespace ?? 'default';
    if (svc.type !== 'LoadBalancer') continue;
    if (o.namespaces.length && !o.namespaces.includes(ns)) continue;
    if (!matchesLabels(o.selector, svc.meta.labels)) continue;
    const key = `${ns}/${svc.meta.name}`;
    const a = svc.meta.annotations;
    let protocol: Protocol = 'tcp';
    const p = a[ANNOTATION_PROTOCOL];
    if (p === 'http' || p === 'https' || p === 'tcp') protocol = p;
    else if (p !== undefined) o.warn(key, `${ANNOTATION_PROTOCOL} must be tcp, http or https, got ${JSON.stringify(p)}; probing over TCP`);
    let path = '/';
    const ap = a[ANNOTATION_PATH];
    if (ap !== undefined) {
      const bad = badPathChar(ap);
      if (!ap.startsWith('/')) o.warn(key, `${ANNOTATION_PATH} must start with "/", got ${JSON.stringify(ap)}; using "/"`);
      // A path undici refuses would never be probed: fall back instead of dropping the target silently.
      else if (bad >= 0) o.warn(key, `${ANNOTATION_PATH} contains ${describeChar(ap, bad)} at character ${bad + 1} (percent-encode it); using "/"`);
      else path = ap;
    }
    let backendHeader: string | undefined;
    const bh = a[ANNOTATION_BACKEND_HEADER];
    if (bh !== undefined) {
      if (HEADER.test(bh)) backendHeader = bh;
      else o.warn(key, `${ANNOTATION_BACKEND_HEADER} is not a valid HTTP header name: ${JSON.stringify(bh)}`);
    }
    for (const ip of svc.ingressIps) {
      for (const port of svc.ports) {
        if (port.protocol !== 'TCP' || o.taken(ip, port.port)) continue;
        const intervalMs = o.defaults.intervalMs;
        const t: TargetConfig = {
          name: `${ns}.${svc.meta.name}:${ip}:${port.port}`,
          address: ip,
          port: port.port,
          protocol,
          intervalMs,
          timeoutMs: Math.min(o.defaults.timeoutMs, intervalMs),
          service: key,
          origin: 'discovered',
        };
        if (protocol !== 'tcp') t.http = { path, method: 'GET', headers: {}, expectStatus: [], maxBodyBytes: 64 * 1024, ...(backendHeader ? { backendHeader } : {}) };
        if (protocol === 'https') t.tls = { insecureSkipVerify: false };
        out.push(t);
      }
    }
  }
  return out.sort((x, y) => x.name.localeCompare(y.name));
}
