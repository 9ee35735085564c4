import { execFile } from 'node:child_process';
import { isAbsolute, resolve } from 'node:path';
import type { Clock } from '../lib/clock.js';
import { VipwatchError } from '../lib/errors.js';
import { Secret } from '../lib/secret.js';
import type { ExecConfig } from './connection.js';
import type { CredentialSource, Credentials } from './credential-source.js';
import { KUBE_CREDENTIALS } from './kube-errors.js';

/**
 * Runs a kubeconfig exec plugin and caches its ExecCredential until `expirationTimestamp` (forever when absent,
 * until a 401 invalidates it). Concurrent callers share one run. The plugin's output is never logged: it holds secrets.
 */
export class ExecCredentialSource implements CredentialSource {
  private cached?: { creds: Credentials; expiresAt?: number };
  private inflight?: Promise<Credentials>;
  /** Runs so far (for tests and logs). */
  runs = 0;

  constructor(private readonly exec: ExecConfig, private readonly clock: Clock) {}

  async get(signal: AbortSignal): Promise<Credentials> {
    const c = this.cached;
    if (c && (c.expiresAt === undefined || this.clock.now() < c.expiresAt)) return c.creds;
    this.inflight ??= this.run(signal).finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private async run(signal: AbortSignal): Promise<Credentials> {
    const { command, args, env, apiVersion, baseDir } = this.exec;
    const cmd = !isAbsolute(command) && command.includes('/') ? resolve(baseDir, command) : command;
    const fail = (msg: string, cause?: unknown) => new VipwatchError(KUBE_CREDENTIALS, `exec credential plugin ${cmd}: ${msg}`, { cause });
    const childEnv: NodeJS.ProcessEnv = { ...process.env };
    for (const e of env) childEnv[e.name] = e.value;
    childEnv.KUBERNETES_EXEC_INFO = JSON.stringify({ apiVersion, kind: 'ExecCredential', spec: { interactive: false } });
    this.runs++;
    const stdout = await new Promise<string>((res, rej) => {
      execFile(cmd, args, { env: childEnv, signal, maxBuffer: 1024 * 1024, encoding: 'utf8' }, (err, out, errText) => {
        if (err) {
          const first = String(errText ?? '').trim().split('\n')[0]?.slice(0, 200);
          return rej(fail(`${(err as NodeJS.ErrnoException).code ?? 'failed'}${first ? `: ${first}` : ''}`, err));
        }
        res(out);
      });
    });
    let doc: { apiVersion?: unknown; kind?: unknown; status?: Record<string, unknown> };
    try {
      doc = JSON.parse(stdout) as typeof doc;
    } catch {
      throw fail('output is not JSON');
    }
    if (doc.kind !== 'ExecCredential' || doc.apiVersion !== apiVersion) throw fail(`expected an ExecCredential of ${apiVersion}, got kind ${String(doc.kind)} ${String(doc.apiVersion)}`);
    const s = doc.status ?? {};
    const creds: Credentials = {};
    if (typeof s.token === 'string' && s.token !== '') creds.token = new Secret(s.token);
    if (typeof s.clientCertificateData === 'string' && typeof s.clientKeyData === 'string') {
      creds.cert = s.clientCertificateData;
      creds.key = new Secret(s.clientKeyData);
    }
    if (!creds.token && !creds.cert) throw fail('status has neither token nor clientCertificateData/clientKeyData');
    let expiresAt: number | undefined;
    if (typeof s.expirationTimestamp === 'string') {
      expiresAt = Date.parse(s.expirationTimestamp);
      if (Number.isNaN(expiresAt)) throw fail(`invalid expirationTimestamp ${JSON.stringify(s.expirationTimestamp)}`);
    }
    this.cached = { creds, expiresAt };
    return creds;
  }
}
