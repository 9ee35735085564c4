import { Agent, request } from 'undici';
import type { ClientTlsConfig } from '../config/sections/alerting.js';
import { PEER_TEXT_LIMIT, peerText } from '../lib/redact.js';
import { DeliveryError } from './delivery-error.js';

/**
 * How much of an error response body is read: more than goes into the log line (PEER_TEXT_LIMIT bytes), so that a
 * secret the receiver echoes across the cut is still recognised and scrubbed whole.
 */
const ERROR_BODY_READ = 4 * PEER_TEXT_LIMIT;

/** POSTs to one receiver through its own connection pool, so a sink's TLS settings stay its own. */
export class HttpPoster {
  private readonly agent: Agent;

  constructor(tls: ClientTlsConfig | undefined, timeoutMs: number) {
    // undici's own timers are only a backstop: the caller's deadline signal (on the injected clock) decides.
    const backstop = timeoutMs + 1000;
    this.agent = new Agent({
      connect: {
        ca: tls?.ca,
        servername: tls?.serverName,
        rejectUnauthorized: !(tls?.insecureSkipVerify ?? false),
        timeout: backstop,
      },
      headersTimeout: backstop,
      bodyTimeout: backstop,
      keepAliveTimeout: 4000,
    });
  }

  /** Resolves on 2xx; rejects with DeliveryError('http_status') on any other status, carrying the start of the body (scrubbed). */
  async post(url: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<number> {
    const res = await request(url, { method: 'POST', headers, body, signal, dispatcher: this.agent });
    if (res.statusCode >= 200 && res.statusCode < 300) {
      await res.body.dump();
      return res.statusCode;
    }
    const text = await readStart(res.body, ERROR_BODY_READ).catch(() => '');
    throw new DeliveryError('http_status', `HTTP ${res.statusCode}${text ? `: ${text}` : ''}`, { status: res.statusCode });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

async function readStart(body: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number): Promise<string> {
  let out = '';
  for await (const chunk of body) {
    out += chunk.toString('utf8');
    if (out.length >= limit) break;
  }
  body.destroy();
  return peerText(out.slice(0, limit).replace(/\s+/g, ' ').trim());
}
