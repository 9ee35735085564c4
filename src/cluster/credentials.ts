import { readFile } from 'node:fs/promises';
import type { Clock } from '../lib/clock.js';
import { VipwatchError } from '../lib/errors.js';
import { Secret } from '../lib/secret.js';
import type { KubeAuth } from './connection.js';
import type { CredentialSource, Credentials } from './credential-source.js';
import { ExecCredentialSource } from './exec-credential.js';
import { KUBE_CREDENTIALS } from './kube-errors.js';

export type { CredentialSource, Credentials } from './credential-source.js';

/** The credential source for the configured auth. */
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
