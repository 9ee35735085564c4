import cron from 'node-cron';
import { PROBER_OWNED_HEADERS } from '../probe/http-request.js';
import type { HttpCheck, Protocol, TcpCheck, TlsOptions } from '../probe/types.js';
import { hostAddress } from './address.js';
import { headerValue, requestPath } from './http-chars.js';
import { maybeSecret, textFile } from './secrets.js';
import {
  arrayOf, bool, duration, field, int, INVALID, object, oneOf, record, regex, str, typeName,
  type Validator,
} from './schema-dsl.js';

export interface TargetConfig {
  name: string;
  address: string;
  port: number;
  protocol: Protocol;
  /** Either an interval or a cron schedule (with seconds). */
  intervalMs?: number;
  schedule?: string;
  timeoutMs: number;
  /** The Kubernetes Service behind the VIP, "namespace/name". */
  service?: string;
  /** Pins the announcing node when no cluster source tells it. */
  announcerNode?: string;
  http?: HttpCheck;
  tcp?: TcpCheck;
  tls?: TlsOptions;
  /** Where the target came from: the config file or Kubernetes discovery. */
  origin: 'static' | 'discovered';
}

export interface Defaults {
  intervalMs: number;
  timeoutMs: number;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.:-]{0,127}$/;
const SERVICE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const HEADER = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The longest interval: Node's timers cap at 2^31-1 ms (about 24.8 days) and fire at once beyond it, so a longer
 * interval would probe in a tight loop. 24h is the documented limit.
 */
export const MAX_INTERVAL_MS = 86_400_000;
export const intervalDuration: Validator<number> = duration({ min: 10, max: MAX_INTERVAL_MS, maxHint: '24h (the longest interval vipwatch schedules)' });

const statusCode: Validator<number> = int({ min: 100, max: 599 });

const httpShape = object({
  path: field(requestPath(), { default: '/' }),
  method: field(oneOf(['GET', 'HEAD', 'POST', 'PUT', 'OPTIONS'] as const), { default: 'GET' as const }),
  headers: field(record(headerValue(maybeSecret())), { default: () => ({}) }),
  expectStatus: field(arrayOf(statusCode, { minItems: 1 })),
  bodyRegex: field(regex()),
  maxBodyBytes: field(int({ min: 0, max: 16 * 1024 * 1024 }), { default: 64 * 1024 }),
  backendHeader: field(str({ pattern: HEADER, patternHint: 'must be a valid HTTP header name' })),
  backendJsonField: field(str()),
}, (v, path, ctx) => {
  if (v.backendHeader && v.backendJsonField) return ctx.report([...path, 'backendJsonField'], 'set either backendHeader or backendJsonField, not both');
  let hosts = 0;
  for (const k of Object.keys(v.headers)) {
    if (!HEADER.test(k)) return ctx.report([...path, 'headers', k], 'invalid HTTP header name', true);
    if (PROBER_OWNED_HEADERS.includes(k.toLowerCase()))
      return ctx.report([...path, 'headers', k], 'cannot be set: every attempt sends one request without a body on a fresh connection and closes it', true);
    if (k.toLowerCase() === 'host' && ++hosts > 1) return ctx.report([...path, 'headers', k], 'a second Host header', true);
  }
  const out: HttpCheck = { ...v, method: v.method, expectStatus: v.expectStatus ?? [] };
  return out;
});

const tcpShape = object({
  send: field(str()),
  expectRegex: field(regex()),
  maxBytes: field(int({ min: 1, max: 1024 * 1024 }), { default: 4096 }),
}, (v): TcpCheck => v);

const tlsShape = object({
  caFile: field(textFile()),
  serverName: field(str()),
  insecureSkipVerify: field(bool(), { default: false }),
}, (v): TlsOptions => ({ ca: v.caFile, serverName: v.serverName, insecureSkipVerify: v.insecureSkipVerify }));

const cronSchedule: Validator<string> = (v, path, ctx) => {
  if (typeof v !== 'string' || v.trim() === '') return ctx.report(path, `must be a cron expression string, got ${typeName(v)}`);
  const fields = v.trim().split(/\s+/).length;
  if (fields !== 6) return ctx.report(path, `must be a cron expression with seconds (6 fields, like "*/5 * * * * *"), got ${fields} fields`);
  if (!cron.validate(v)) return ctx.report(path, `invalid cron expression ${JSON.stringify(v)}`);
  return v;
};

export function targetValidator(defaults: Defaults): Validator<TargetConfig> {
  return object({
    name: field(str({ pattern: NAME, patternHint: 'must be 1-128 characters of letters, digits, "_", ".", ":" or "-", starting with a letter or digit' }), { required: true }),
    address: field(hostAddress(), { required: true }),
    port: field(int({ min: 1, max: 65535 }), { required: true }),
    protocol: field(oneOf(['tcp', 'http', 'https'] as const), { default: 'tcp' as const }),
    interval: field(intervalDuration),
    schedule: field(cronSchedule),
    timeout: field(duration({ min: 1, max: 300_000 })),
    service: field(str({ pattern: SERVICE, patternHint: 'must be "namespace/name"' })),
    announcerNode: field(str()),
    http: field(httpShape),
    tcp: field(tcpShape),
    tls: field(tlsShape),
  }, (v, path, ctx, raw) => {
    let bad = false;
    if (v.interval !== undefined && v.schedule !== undefined) {
      ctx.report([...path, 'schedule'], 'set either interval or schedule, not both');
      bad = true;
    }
    if (raw.http !== undefined && v.protocol === 'tcp') {
      ctx.report([...path, 'http'], 'only allowed with protocol http or https', true);
      bad = true;
    }
    if (raw.tcp !== undefined && v.protocol !== 'tcp') {
      ctx.report([...path, 'tcp'], 'only allowed with protocol tcp', true);
      bad = true;
    }
    if (raw.tls !== undefined && v.protocol !== 'https') {
      ctx.report([...path, 'tls'], 'only allowed with protocol https', true);
      bad = true;
    }
    const intervalMs = v.schedule === undefined ? (v.interval ?? defaults.intervalMs) : undefined;
    const timeoutMs = v.timeout ?? Math.min(defaults.timeoutMs, intervalMs ?? Infinity);
    if (intervalMs !== undefined && timeoutMs > intervalMs) {
      ctx.report([...path, v.timeout !== undefined ? 'timeout' : 'interval'], `timeout (${timeoutMs}ms) must not exceed interval (${intervalMs}ms): attempts never overlap`);
      bad = true;
    }
    if (bad) return INVALID;
    const t: TargetConfig = {
      name: v.name, address: v.address, port: v.port, protocol: v.protocol,
      intervalMs, schedule: v.schedule, timeoutMs, service: v.service, announcerNode: v.announcerNode,
      origin: 'static',
    };
    if (v.protocol !== 'tcp') t.http = v.http ?? { path: '/', method: 'GET', headers: {}, expectStatus: [], maxBodyBytes: 64 * 1024 };
    if (v.protocol === 'tcp' && v.tcp) t.tcp = v.tcp;
    if (v.protocol === 'https') t.tls = v.tls ?? { insecureSkipVerify: false };
    return t;
  });
}
