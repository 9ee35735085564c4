import type { Secret } from '../lib/secret.js';

/** What a request authenticates with: a bearer token and/or a client certificate (from an exec plugin). */
export interface Credentials {
  token?: Secret;
  cert?: string;
  key?: Secret;
}

/** Where credentials come from (a token file re-read per request, an exec plugin's cache, ...). */
export interface CredentialSource {
  get(signal: AbortSignal): Promise<Credentials>;
  /** The server answered 401: drop anything cached so the next request fetches fresh credentials. */
  invalidate(): void;
}
