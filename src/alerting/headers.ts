import { revealed, SecretUrl, type Secret } from '../lib/secret.js';

/** Configured extra headers with secrets revealed: only ever handed to the HTTP client, never logged. */
export function revealHeaders(headers: Record<string, string | Secret>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = revealed(v);
  return out;
}

/**
 * A URL for logs, the API and test-alert: a URL with a secret in it shows its scheme and host only; any other
 * shows origin and path (a query string may carry a token, so it never shows).
 */
export function redactUrl(url: string | SecretUrl): string {
  if (url instanceof SecretUrl) return url.redacted;
  const u = new URL(url);
  return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
}
