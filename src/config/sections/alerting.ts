import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { INCIDENT_KINDS, type IncidentKind } from '../../lib/incident-kinds.js';
import { pinSecret } from '../../lib/redact.js';
import { redactedUrl, Secret, SecretUrl } from '../../lib/secret.js';
import { hostAddress } from '../address.js';
import { headerValue } from '../http-chars.js';
import { envValuesAt, maybeSecret, secretFile, textFile } from '../secrets.js';
import { digestSection, type DigestConfig, type DigestSection } from './digest.js';
import {
  arrayOf, bool, duration, field, int, INVALID, num, object, oneOf, record, str, typeName,
  type DecodeContext, type Decoded, type Path, type Validator,
} from '../schema-dsl.js';

/** Client-side TLS for a receiver: a private CA, an SNI name, or (for labs only) no verification. */
export interface ClientTlsConfig {
  ca?: string;
  serverName?: string;
  insecureSkipVerify: boolean;
}

interface SinkCommon {
  /** Unique across all sinks: the `sink` metric label and the outbox folder. */
  name: string;
  /** Only incidents of these kinds; undefined means all. */
  kinds?: IncidentKind[];
  timeoutMs: number;
}

export interface WebhookSinkConfig extends SinkCommon {
  type: 'webhook';
  /** A SecretUrl when the config built it from ${ENV} (a token in the path): it prints with path and query redacted. */
  url: string | SecretUrl;
  /** HMAC-SHA256 key (from secretFile). */
  secret?: Secret;
  headers: Record<string, string | Secret>;
  tls?: ClientTlsConfig;
}

export interface SmtpConfig {
  host: string;
  port: number;
  /** Implicit TLS from the first byte (port 465); otherwise STARTTLS when offered. */
  secure: boolean;
  /** Refuse to continue without STARTTLS; defaults to true when credentials are set (never send them in clear). */
  requireTLS: boolean;
  /** Explicit consent to credentials over an unencrypted connection to a non-loopback host (requireTLS: false). */
  allowPlaintextAuth: boolean;
  user?: string;
  password?: Secret;
  tls?: ClientTlsConfig;
}

export interface EmailSinkConfig extends SinkCommon {
  type: 'email';
  smtp: SmtpConfig;
  from: string;
  to: string[];
  cc: string[];
}

export interface AlertmanagerSinkConfig extends SinkCommon {
  type: 'alertmanager';
  /** Base URL; /api/v2/alerts is appended unless already there. A SecretUrl when it came from ${ENV}. */
  url: string | SecretUrl;
  headers: Record<string, string | Secret>;
  tls?: ClientTlsConfig;
  resendIntervalMs: number;
}

export type SinkConfig = WebhookSinkConfig | EmailSinkConfig | AlertmanagerSinkConfig;

export interface BackoffConfig {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  /** Fraction of each delay that is randomized (0 = none, 1 = full jitter). */
  jitter: number;
}

export interface AlertingConfig {
  /** The `vipwatch_instance` label: which vantage point sent the alert. */
  instance: string;
  timeoutMs: number;
  maxAgeMs: number;
  backoff: BackoffConfig;
  resendIntervalMs: number;
  webhooks: WebhookSinkConfig[];
  email: EmailSinkConfig[];
  alertmanager: AlertmanagerSinkConfig[];
  /** The daily digest; absent when not configured. */
  digest?: DigestConfig;
}

export type { DigestConfig };

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_AGE_MS = 24 * 3_600_000;
export const DEFAULT_RESEND_INTERVAL_MS = 60_000;
export const DEFAULT_BACKOFF: BackoffConfig = { initialMs: 1000, maxMs: 300_000, multiplier: 2, jitter: 0.2 };

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;
const HEADER = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers vipwatch sets itself; a config may not replace them. */
const RESERVED_HEADER = /^(content-type|content-length|host|idempotency-key|x-vipwatch-.*)$/i;
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * An absolute http(s) URL without credentials (they would end up in logs: use headers). A URL built from ${ENV}
 * (a Slack-style `https://hooks.example.com/services/${TOKEN}`) becomes a SecretUrl: it prints as scheme and host
 * only, and the substituted values are known to the scrubber; error messages never quote it.
 */
export function httpUrl(): Validator<string | SecretUrl> {
  return (v, path, ctx) => {
    if (typeof v !== 'string' || v === '') return ctx.report(path, `must be an http:// or https:// URL, got ${typeName(v)}`);
    const env = envValuesAt(ctx, path);
    const shown = env ? redactedUrl(v) : v;
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      return ctx.report(path, `invalid URL ${JSON.stringify(env ? '[redacted]' : v)}: must be an absolute http:// or https:// URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return ctx.report(path, `invalid URL ${JSON.stringify(shown)}: scheme must be http or https, got ${u.protocol.replace(/:$/, '')}`);
    if (u.username || u.password) return ctx.report(path, 'URL must not contain credentials: put them in headers (e.g. Authorization: "Bearer ${TOKEN}")');
    if (u.hash) return ctx.report(path, `invalid URL ${JSON.stringify(shown)}: must not have a #fragment`);
    const url = u.toString();
    if (!env) return url;
    // Values that went into the scheme, host or port are shown (the redacted form keeps them); the rest are secrets.
    // The path and query as a whole (a peer echoing the request line shows "/[redacted]"), and each value.
    pinSecret(url.slice(u.origin.length + 1));
    for (const x of env) if (!u.origin.includes(x) && !u.origin.includes(encodeURIComponent(x))) pinSecret(x);
    return new SecretUrl(url);
  };
}

/** Hosts where credentials never leave the machine: plaintext SMTP auth to them needs no consent. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}

/** `user@domain` or `Name <user@domain>`. */
export function emailAddress(): Validator<string> {
  return (v, path, ctx) => {
    if (typeof v !== 'string' || v === '') return ctx.report(path, `must be an email address, got ${typeName(v)}`);
    const m = /^\s*(?:"?([^"<>]*)"?\s*<([^<>]+)>|([^<>\s]+))\s*$/.exec(v);
    const addr = m ? (m[2] ?? m[3])! : '';
    const at = addr.lastIndexOf('@');
    if (!m || at < 1 || !LOCAL.test(addr.slice(0, at)) || !DOMAIN.test(addr.slice(at + 1)) || addr.length > 254)
      return ctx.report(path, `invalid email address ${JSON.stringify(v)}: expected user@domain or "Name <user@domain>"`);
    return v.trim();
  };
}

function headersV(): Validator<Record<string, string | Secret>> {
  // A CR/LF or other character undici refuses would make every delivery fail: refused at load instead.
  const inner = record(headerValue(maybeSecret()));
  return (v, path, ctx) => {
    const r = inner(v, path, ctx);
    if (r === INVALID) return r;
    let bad = false;
    for (const k of Object.keys(r)) {
      if (!HEADER.test(k)) bad = !!ctx.report([...path, k], 'invalid HTTP header name', true);
      else if (RESERVED_HEADER.test(k)) bad = !!ctx.report([...path, k], `header ${k} is set by vipwatch and cannot be configured`, true);
    }
    return bad ? INVALID : r;
  };
}

const tlsV = object({
  caFile: field(textFile()),
  serverName: field(str()),
  insecureSkipVerify: field(bool(), { default: false }),
}, (v): ClientTlsConfig => ({ ca: v.caFile, serverName: v.serverName, insecureSkipVerify: v.insecureSkipVerify }));

const nameV = str({ pattern: NAME, patternHint: 'must be 1-64 characters of letters, digits, "_", "." or "-", starting with a letter or digit' });
const kindsV = arrayOf(oneOf(INCIDENT_KINDS), { minItems: 1 });
const timeoutV = duration({ min: 10, max: 300_000 });

const webhookV = object({
  name: field(nameV),
  url: field(httpUrl(), { required: true }),
  secretFile: field(secretFile()),
  headers: field(headersV(), { default: () => ({}) }),
  kinds: field(kindsV),
  timeout: field(timeoutV),
  tls: field(tlsV),
});

const smtpV = object({
  host: field(hostAddress(), { required: true }),
  port: field(int({ min: 1, max: 65535 })),
  secure: field(bool()),
  requireTLS: field(bool()),
  allowPlaintextAuth: field(bool(), { default: false }),
  user: field(str()),
  passwordFile: field(secretFile()),
  password: field(maybeSecret()),
  tls: field(tlsV),
}, (v, path, ctx): Decoded<SmtpConfig> => {
  if (v.passwordFile && v.password !== undefined) return ctx.report([...path, 'password'], 'set either password or passwordFile, not both');
  const password = v.passwordFile ?? (v.password === undefined ? undefined : v.password instanceof Secret ? v.password : new Secret(v.password));
  if (v.user !== undefined && !password) return ctx.report([...path, 'user'], 'needs passwordFile (or password)');
  if (v.user === undefined && password) return ctx.report([...path, v.passwordFile ? 'passwordFile' : 'password'], 'needs user');
  const secure = v.secure ?? v.port === 465;
  const requireTLS = v.requireTLS ?? (!secure && v.user !== undefined);
  // requireTLS: false with credentials sends the password in clear whenever the server offers no STARTTLS.
  if (v.user !== undefined && !secure && !requireTLS && !v.allowPlaintextAuth && !isLoopbackHost(v.host))
    return ctx.report([...path, 'requireTLS'], `requireTLS: false with user and password would send the password to ${v.host} unencrypted when it offers no STARTTLS; use secure: true or requireTLS: true, or set allowPlaintextAuth: true to accept that`);
  return {
    host: v.host, port: v.port ?? (secure ? 465 : 587), secure, requireTLS, allowPlaintextAuth: v.allowPlaintextAuth,
    user: v.user, password, tls: v.tls,
  };
});

const emailV = object({
  name: field(nameV),
  smtp: field(smtpV, { required: true }),
  from: field(emailAddress(), { required: true }),
  to: field(arrayOf(emailAddress(), { minItems: 1 }), { required: true }),
  cc: field(arrayOf(emailAddress()), { default: () => [] }),
  kinds: field(kindsV),
  timeout: field(timeoutV),
});

const alertmanagerV = object({
  name: field(nameV),
  url: field(httpUrl(), { required: true }),
  headers: field(headersV(), { default: () => ({}) }),
  kinds: field(kindsV),
  timeout: field(timeoutV),
  resendInterval: field(duration({ min: 1000, max: 3_600_000 })),
  tls: field(tlsV),
});

const backoffV = object({
  initial: field(duration({ min: 10, max: 3_600_000 }), { default: DEFAULT_BACKOFF.initialMs }),
  max: field(duration({ min: 10, max: 86_400_000 }), { default: DEFAULT_BACKOFF.maxMs }),
  multiplier: field(num({ min: 1, max: 10 }), { default: DEFAULT_BACKOFF.multiplier }),
  jitter: field(num({ min: 0, max: 1 }), { default: DEFAULT_BACKOFF.jitter }),
}, (v, path, ctx): Decoded<BackoffConfig> =>
  v.max < v.initial
    ? ctx.report([...path, 'max'], `must be at least backoff.initial (${v.initial}ms)`)
    : { initialMs: v.initial, maxMs: v.max, multiplier: v.multiplier, jitter: v.jitter });

const rootV = object({
  instance: field(str({ pattern: /^\S.{0,127}$/, patternHint: 'must be 1-128 characters, not starting with a space' })),
  timeout: field(timeoutV, { default: DEFAULT_TIMEOUT_MS }),
  maxAge: field(duration({ min: 1000, max: 30 * 86_400_000 }), { default: DEFAULT_MAX_AGE_MS }),
  backoff: field(backoffV, { default: () => ({ ...DEFAULT_BACKOFF }) }),
  resendInterval: field(duration({ min: 1000, max: 3_600_000 }), { default: DEFAULT_RESEND_INTERVAL_MS }),
  webhooks: field(arrayOf(webhookV), { default: () => [] }),
  email: field(arrayOf(emailV), { default: () => [] }),
  alertmanager: field(arrayOf(alertmanagerV), { default: () => [] }),
  digest: field(digestSection),
}, (v, path, ctx): Decoded<AlertingConfig> => {
  const names = new Map<string, string>();
  let bad = false;
  // A sink without a name gets its type ("webhook"), then "webhook-2", ...: stable while the list order is.
  const named = <T extends { name?: string }>(list: T[], type: string, key: string): (T & { name: string })[] =>
    list.map((s, i) => {
      const name = s.name ?? (i === 0 ? type : `${type}-${i + 1}`);
      const at: Path = s.name === undefined ? [...path, key, i] : [...path, key, i, 'name'];
      const first = names.get(name);
      if (first !== undefined) bad = !!ctx.report(at, `duplicate sink name "${name}" (first at ${first}); give each sink a unique name`);
      else names.set(name, `alerting.${key}[${i}]`);
      return { ...s, name };
    });
  const webhooks = named(v.webhooks, 'webhook', 'webhooks').map((s): WebhookSinkConfig => ({
    type: 'webhook', name: s.name, url: s.url, secret: s.secretFile, headers: s.headers, kinds: s.kinds,
    timeoutMs: s.timeout ?? v.timeout, tls: s.tls,
  }));
  const email = named(v.email, 'email', 'email').map((s): EmailSinkConfig => ({
    type: 'email', name: s.name, smtp: s.smtp, from: s.from, to: s.to, cc: s.cc, kinds: s.kinds, timeoutMs: s.timeout ?? v.timeout,
  }));
  const alertmanager = named(v.alertmanager, 'alertmanager', 'alertmanager').map((s): AlertmanagerSinkConfig => ({
    type: 'alertmanager', name: s.name, url: s.url, headers: s.headers, kinds: s.kinds, timeoutMs: s.timeout ?? v.timeout,
    resendIntervalMs: s.resendInterval ?? v.resendInterval, tls: s.tls,
  }));
  const digest = v.digest && digestSinks(v.digest, [...webhooks, ...email], alertmanager, [...path, 'digest'], ctx);
  if (bad || digest === INVALID) return INVALID;
  return {
    instance: v.instance ?? defaultInstance(), timeoutMs: v.timeout, maxAgeMs: v.maxAge, backoff: v.backoff,
    resendIntervalMs: v.resendInterval, webhooks, email, alertmanager, ...(digest ? { digest } : {}),
  };
});

/** The digest goes to the named email and webhook sinks, by default all of them; never to Alertmanager (it is not an alert). */
function digestSinks(d: DigestSection, eligible: SinkConfig[], alertmanager: SinkConfig[], path: Path, ctx: DecodeContext): Decoded<DigestConfig> {
  if (d.sinks === undefined) {
    if (!eligible.length) return ctx.report(path, 'needs an email or webhook sink to go to: configure alerting.email or alerting.webhooks');
    return { schedule: d.schedule, timezone: d.timezone, skipWhenQuiet: d.skipWhenQuiet, sinks: eligible.map((s) => s.name) };
  }
  let bad = false;
  d.sinks.forEach((name, i) => {
    if (eligible.some((s) => s.name === name)) return;
    const why = alertmanager.some((s) => s.name === name)
      ? `"${name}" is an Alertmanager sink: a digest is not an alert, send it to email or webhook sinks`
      : `no email or webhook sink is named "${name}"${eligible.length ? ` (known: ${eligible.map((s) => s.name).join(', ')})` : ''}`;
    bad = !!ctx.report([...path, 'sinks', i], why);
  });
  if (bad) return INVALID;
  // Config order, each once.
  const sinks = eligible.map((s) => s.name).filter((n) => d.sinks!.includes(n));
  return { schedule: d.schedule, timezone: d.timezone, skipWhenQuiet: d.skipWhenQuiet, sinks };
}

/** Decoded lazily (never at import): the host name tells vantage points apart in a shared Alertmanager. */
function defaultInstance(): string {
  return hostname() || 'vipwatch';
}

export const alertingSection: Validator<AlertingConfig> = (v: unknown, path: Path, ctx: DecodeContext) => rootV(v, path, ctx);

/** Every configured sink, in config order. */
export function allSinks(c: AlertingConfig): SinkConfig[] {
  return [...c.webhooks, ...c.email, ...c.alertmanager];
}
