import { errorMessage } from '../lib/errors.js';
import { EXIT, type CliIo } from './io.js';

/** What `vipwatch healthcheck` asks without --url: the container's own server (config/container.yaml listens on 9464). */
export const DEFAULT_HEALTH_URL = 'http://127.0.0.1:9464/-/healthy';

/** A healthy server answers well within this; a container HEALTHCHECK's own timeout is longer. */
export const HEALTHCHECK_DEADLINE_MS = 3000;

export interface HealthcheckOptions {
  deadlineMs?: number;
  /** Accept any server certificate (curl -k): for server.tls with a certificate not made out to 127.0.0.1. */
  insecure?: boolean;
}

/**
 * `vipwatch healthcheck [--url URL] [--insecure]`: the image's HEALTHCHECK, which needs no curl. Exit 0 when URL
 * answers 200 within the deadline; 1 otherwise, with one line on stderr saying why (status, refused, timed out, bad URL).
 */
export async function healthcheckCommand(url: string, io: CliIo, opts: HealthcheckOptions = {}): Promise<number> {
  const deadlineMs = opts.deadlineMs ?? HEALTHCHECK_DEADLINE_MS;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    io.err(`vipwatch healthcheck: unhealthy: "${url}" is not a URL`);
    return EXIT.failed;
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    io.err(`vipwatch healthcheck: unhealthy: ${target.protocol} is not http: or https:`);
    return EXIT.failed;
  }
  // Credentials in the URL go as basic auth, as curl sends them (fetch refuses a URL that holds them).
  const headers: Record<string, string> = { 'user-agent': 'vipwatch-healthcheck' };
  if (target.username || target.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  // Printed without credentials or query (either may carry a secret).
  const shown = `${target.origin}${target.pathname}`;
  const signal = AbortSignal.timeout(deadlineMs);
  try {
    const init = { signal, redirect: 'manual', headers } as const;
    const res = opts.insecure && target.protocol === 'https:' ? await insecureFetch(target, init) : await fetch(target, init);
    // The body is not needed; dropping it frees the socket at once.
    await res.body?.cancel().catch(() => {});
    if (res.status === 200) {
      io.out(`vipwatch healthcheck: ok (${shown} answered 200)`);
      return EXIT.ok;
    }
    io.err(`vipwatch healthcheck: unhealthy: ${shown} answered ${res.status}`);
    return EXIT.failed;
  } catch (err) {
    const why = signal.aborted ? `no answer within ${deadlineMs} ms` : describeFetchError(err).split(target.href).join(shown);
    io.err(`vipwatch healthcheck: unhealthy: ${shown}: ${why}`);
    return EXIT.failed;
  }
}

/** undici's own fetch with an agent that skips certificate checks (loaded only for --insecure). */
async function insecureFetch(target: URL, init: { signal: AbortSignal; redirect: 'manual'; headers: Record<string, string> }): Promise<Response> {
  const { Agent, fetch: undiciFetch } = await import('undici');
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
  try {
    const res = await undiciFetch(target, { ...init, dispatcher });
    await res.body?.cancel().catch(() => {});
    return new Response(null, { status: res.status });
  } finally {
    void dispatcher.close().catch(() => {});
  }
}

/** fetch() says only "fetch failed": the socket's own error (ECONNREFUSED 127.0.0.1:9464) is in its cause. */
function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (cause && typeof cause === 'object') {
    const c = cause as { code?: unknown; message?: unknown };
    if (typeof c.code === 'string') return typeof c.message === 'string' && c.message.includes(c.code) ? c.message : `${c.code}${typeof c.message === 'string' && c.message ? `: ${c.message}` : ''}`;
    if (typeof c.message === 'string') return c.message;
  }
  return errorMessage(err);
}
