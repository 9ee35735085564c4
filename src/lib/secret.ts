import { rememberSecret, REDACTED } from './redact.js';

/**
 * A secret value that never prints: toString, toJSON and inspect all redact it. Every Secret made is also known
 * to the process-wide scrubber (src/lib/redact.ts), so a peer echoing it back is redacted on the way out too.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    rememberSecret(value);
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return this.toString();
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Secret(${this.toString()})`;
  }
}

/**
 * A URL from the config with a secret in it (`https://hooks.example.com/services/${TOKEN}`): it prints as its
 * scheme and host with the path and query replaced (`https://hooks.example.com/[redacted]`); only the HTTP client
 * gets `reveal()`.
 */
export class SecretUrl extends Secret {
  readonly redacted: string;
  constructor(url: string) {
    super(url);
    this.redacted = redactedUrl(url);
  }
  override toString(): string {
    return this.redacted;
  }
}

/** Scheme, host and port of a URL, the rest replaced. */
export function redactedUrl(url: string): string {
  try {
    return `${new URL(url).origin}/${REDACTED}`;
  } catch {
    return REDACTED;
  }
}

/** The value to send. */
export function revealed(v: string | Secret): string {
  return typeof v === 'string' ? v : v.reveal();
}
