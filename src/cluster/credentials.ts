import { readFile } from 'node:fs/promises';
import type { Clock } from '../lib/clock.js';
import { VipwatchError } from '../lib/errors.js';
import { Secret } from '../lib/secret.js';
import type { KubeAuth } from './connection.js';
import { ExecCredentialSource } from './exec-credential.js';
import { KUBE_CREDENTIALS } from './kube-errors.js';

/** What a request authenticates with: a bearer token and/or a client certificate (from an exec plugin). */
export interface Credentials {
  token?: Secret;
  cert?: string;
  key?: Secret;
}

export interface CredentialSource {
  get(signal: AbortSignal): Promise<Credentials>;
  /** The server answered 401: drop anything cached so the next request fetches fresh credentials. */
  invalidate(): void;
}

export function credentialSource(auth: KubeAuth, clock: Clock): CredentialSource {
  switch (auth.kind) {
    case 'none':
      return { get: async () => ({}), invalidate() {} };
    case 'token':
      return { get: async () => ({ token: auth.token }), invalidate() {} };
    case 'tokenFile':
      return {
        async get(signal) {
          try {
            const text = await readFile(auth.path, { encoding: 'utf8', signal });
            return { token: new Secret(text.trim()) };
          } catch (err) {
            throw new VipwatchError(KUBE_CREDENTIALS, `cannot read token file ${auth.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
          }
        },
        invalidate() {},
      };
    case 'exec':
      return new ExecCredentialSource(auth.exec, clock);
  }
}
