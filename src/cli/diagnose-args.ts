/**
 * `vipwatch diagnose`'s command line: ADDRESS[:PORT] and the options, checked all at once into the target the real
 * probers take. Every problem is a UsageError (exit 2): an invalid address is the user's to fix, not the VIP's failure.
 */
import { isIP } from 'node:net';
import { hostAddress } from '../config/address.js';
import { badPathChar } from '../config/http-chars.js';
import { DecodeContext, INVALID } from '../config/schema-dsl.js';
import type { TargetConfig } from '../config/targets.js';
import { parseDuration } from '../lib/duration.js';
import type { HttpCheck, Protocol } from '../probe/types.js';
import { parseArgs, UsageError, type ArgsSpec } from './args.js';

export const DIAGNOSE_ARGS: ArgsSpec = {
  values: ['http', 'backend-header', 'backend-json-field', 'count', 'concurrency', 'timeout', 'spacing', 'kubeconfig', 'context', 'service'],
  booleans: ['https', 'insecure', 'json', 'help'],
};

/** The defaults the help text states. */
export const DIAGNOSE_DEFAULTS = { count: 60, concurrency: 4, timeoutMs: 2000, spacingMs: 100 } as const;
/** The diagnosis needs this many attempts before it names anything (diagnosis.minAttempts' default). */
export const MIN_COUNT = 20;
export const MAX_COUNT = 10_000;
export const MAX_CONCURRENCY = 64;
export const MAX_TIMEOUT_MS = 60_000;
export const MAX_SPACING_MS = 60_000;

export interface DiagnoseOptions {
  help: false;
  json: boolean;
  count: number;
  concurrency: number;
  spacingMs: number;
  /** The attempt as `vipwatch run` would make it for a target with these settings. */
  target: TargetConfig;
  /** "namespace/name": gather the cluster view of this Service. */
  service?: string;
  kubeconfig?: string;
  context?: string;
}

const SERVICE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const HEADER = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `{ help: true }` for --help (nothing else is checked then). */
export function parseDiagnoseArgs(argv: readonly string[]): DiagnoseOptions | { help: true } {
  const { flags, positionals } = parseArgs(argv, DIAGNOSE_ARGS);
  const str = (name: string): string | undefined => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  const on = (name: string): boolean => flags[name] === true;
  if (on('help')) return { help: true };
  if (positionals.length === 0) throw new UsageError('ADDRESS[:PORT] is required (e.g. 192.0.2.100:80 or [2001:db8::1]:443)');
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}" (one ADDRESS[:PORT] only)`);

  const https = on('https');
  const path = str('http');
  const backendHeader = str('backend-header');
  const backendJsonField = str('backend-json-field');
  const protocol: Protocol = https ? 'https' : path !== undefined ? 'http' : 'tcp';
  const { address, port } = parseAddress(positionals[0]!, protocol === 'https' ? 443 : 80);

  if (path !== undefined && (!path.startsWith('/') || badPathChar(path) >= 0)) throw new UsageError(`--http PATH must start with "/" and hold no spaces or control characters, got ${JSON.stringify(path)}`);
  if (backendHeader !== undefined && backendJsonField !== undefined) throw new UsageError('set either --backend-header or --backend-json-field, not both');
  if ((backendHeader !== undefined || backendJsonField !== undefined) && protocol === 'tcp') throw new UsageError('--backend-header and --backend-json-field need --http PATH or --https (a TCP connect names no backend)');
  if (backendHeader !== undefined && !HEADER.test(backendHeader)) throw new UsageError(`--backend-header must be an HTTP header name, got ${JSON.stringify(backendHeader)}`);
  if (on('insecure') && protocol !== 'https') throw new UsageError('--insecure only applies with --https');

  const service = str('service');
  if (service !== undefined && !SERVICE.test(service)) throw new UsageError(`--service must be NAMESPACE/NAME of a Service (lowercase), got ${JSON.stringify(service)}`);
  for (const k of ['kubeconfig', 'context'] as const) {
    if (str(k) !== undefined && service === undefined) throw new UsageError(`--${k} needs --service NAMESPACE/NAME (the Service whose cluster view to read)`);
  }

  const count = intOption(str('count'), 'count', MIN_COUNT, MAX_COUNT, DIAGNOSE_DEFAULTS.count, `at least ${MIN_COUNT}: the diagnosis names nothing from fewer attempts`);
  const concurrency = intOption(str('concurrency'), 'concurrency', 1, MAX_CONCURRENCY, DIAGNOSE_DEFAULTS.concurrency);
  const timeoutMs = durationOption(str('timeout'), 'timeout', 10, MAX_TIMEOUT_MS, DIAGNOSE_DEFAULTS.timeoutMs);
  const spacingMs = durationOption(str('spacing'), 'spacing', 0, MAX_SPACING_MS, DIAGNOSE_DEFAULTS.spacingMs);

  const target: TargetConfig = {
    name: displayAddress(address, port),
    address,
    port,
    protocol,
    timeoutMs,
    origin: 'static',
    ...(service !== undefined ? { service } : {}),
  };
  if (protocol !== 'tcp') {
    const http: HttpCheck = { path: path ?? '/', method: 'GET', headers: {}, expectStatus: [], maxBodyBytes: 64 * 1024 };
    if (backendHeader !== undefined) http.backendHeader = backendHeader;
    if (backendJsonField !== undefined) http.backendJsonField = backendJsonField;
    target.http = http;
  }
  if (protocol === 'https') target.tls = { insecureSkipVerify: on('insecure') };
  return { help: false, json: on('json'), count, concurrency, spacingMs, target, service, kubeconfig: str('kubeconfig'), context: str('context') };
}

/**
 * "192.0.2.1:80", "192.0.2.1", "web.example.com:8080", "[2001:db8::1]:443", "[::1]" or a bare "::1" (no port: an IPv6
 * address with a port needs the brackets). The host is checked as the config checks a target's address.
 */
export function parseAddress(text: string, defaultPort: number): { address: string; port: number } {
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(\d*))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
    if (isIP(host) !== 6) throw new UsageError(`invalid IPv6 address "${host}" in ${JSON.stringify(text)}`);
  } else if ((text.match(/:/g) ?? []).length > 1) {
    host = text;
    if (isIP(host) !== 6) throw new UsageError(`invalid address ${JSON.stringify(text)} (an IPv6 address with a port is written [2001:db8::1]:443)`);
  } else {
    const i = text.lastIndexOf(':');
    host = i < 0 ? text : text.slice(0, i);
    portText = i < 0 ? undefined : text.slice(i + 1);
  }
  const ctx = new DecodeContext();
  const address = hostAddress()(host, ['ADDRESS'], ctx);
  if (address === INVALID) throw new UsageError(`invalid address ${JSON.stringify(text)}: ${ctx.problems[0]?.message ?? 'not an address'}`);
  if (portText === undefined) return { address, port: defaultPort };
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new UsageError(`invalid port ${JSON.stringify(portText)} in ${JSON.stringify(text)} (1-65535)`);
  return { address, port };
}

/** host:port with an IPv6 address bracketed, as a URL writes it. */
export function displayAddress(address: string, port: number): string {
  return `${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
}

function intOption(text: string | undefined, name: string, min: number, max: number, dflt: number, minHint?: string): number {
  if (text === undefined) return dflt;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(text)}`);
  if (n < min) throw new UsageError(`--${name} must be ${minHint ?? `at least ${min}`}, got ${n}`);
  if (n > max) throw new UsageError(`--${name} must be at most ${max}, got ${n}`);
  return n;
}

function durationOption(text: string | undefined, name: string, min: number, max: number, dflt: number): number {
  if (text === undefined) return dflt;
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`--${name} must be a duration like 2s or 500ms, got ${JSON.stringify(text)}`);
  if (ms < min || ms > max) throw new UsageError(`--${name} must be between ${min}ms and ${max / 1000}s, got ${text}`);
  return ms;
}
