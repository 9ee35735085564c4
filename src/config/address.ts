import { isIP } from 'node:net';
import { typeName, type Validator } from './schema-dsl.js';

const HOSTNAME = /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;

/** An IPv4 or IPv6 address or a DNS hostname. */
export function hostAddress(): Validator<string> {
  return (v, path, ctx) => {
    if (typeof v !== 'string' || v === '') return ctx.report(path, `must be an IPv4 or IPv6 address or a hostname, got ${typeName(v)}`);
    const bare = v.startsWith('[') && v.endsWith(']') ? v.slice(1, -1) : v;
    if (isIP(bare)) return bare;
    if (/^[\d.]+$/.test(v)) return ctx.report(path, `invalid IPv4 address ${JSON.stringify(v)}`);
    if (v.includes(':')) return ctx.report(path, `invalid IPv6 address ${JSON.stringify(v)}`);
    if (!HOSTNAME.test(v)) return ctx.report(path, `invalid hostname ${JSON.stringify(v)}`);
    return v;
  };
}

/** "host:port" for a listener; host may be [v6]. */
export function listenAddress(): Validator<{ host: string; port: number }> {
  return (v, path, ctx) => {
    if (typeof v !== 'string') return ctx.report(path, `must be "host:port", got ${typeName(v)}`);
    const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(v);
    if (!m) return ctx.report(path, `must be "host:port" like "0.0.0.0:9464", got ${JSON.stringify(v)}`);
    const host = m[1] ?? (m[2] || '0.0.0.0');
    const port = Number(m[3]);
    if (port > 65535) return ctx.report(path, `port must be 0-65535, got ${port}`);
    if (!isIP(host) && host !== 'localhost') return ctx.report(path, `host must be an IP address or localhost, got ${JSON.stringify(host)}`);
    return { host, port };
  };
}
