import type { Secret } from '../lib/secret.js';

/** Configured extra headers with secrets revealed: only ever handed to the HTTP client, never logged. */
export function revealHeaders(headers: Record<string, string | Secret>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = typeof v === 'string' ? v : v.reveal();
  return out;
}

/** A URL for logs: origin and path only (a query string may carry a token). */
export function redactUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
}
