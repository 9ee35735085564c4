import type { WebhookSinkConfig } from '../config/sections/alerting.js';
import type { Clock } from '../lib/clock.js';
import { revealed } from '../lib/secret.js';
import type { Digest } from './digest.js';
import type { DigestSender } from './digest-sender.js';
import { redactUrl, revealHeaders } from './headers.js';
import { HttpPoster } from './http-post.js';
import { signWebhook } from './webhook-signature.js';

/** The webhook body of a digest: the digest record as is (its fields are documented on `Digest`). */
export function digestWebhookBody(d: Digest): string {
  return JSON.stringify(d);
}

/**
 * POSTs the digest to a webhook sink with the headers of every webhook (X-Vipwatch-Event: digest, the digest id as
 * Idempotency-Key and X-Vipwatch-Delivery) and, with a secret, the same signature. The sink's `kinds` filter is about
 * incidents and does not apply; alerting.digest.sinks chooses who gets it.
 */
export class DigestWebhook implements DigestSender {
  readonly type = 'webhook';
  readonly name: string;
  readonly endpoint: string;
  readonly timeoutMs: number;
  private readonly http: HttpPoster;

  constructor(private readonly config: WebhookSinkConfig, private readonly clock: Clock) {
    this.name = config.name;
    this.endpoint = redactUrl(config.url);
    this.timeoutMs = config.timeoutMs;
    this.http = new HttpPoster(config.tls, config.timeoutMs);
  }

  async send(d: Digest, signal: AbortSignal): Promise<void> {
    const body = digestWebhookBody(d);
    // Signed per attempt, like incident notifications: a retry carries a fresh timestamp.
    const ts = Math.floor(this.clock.now() / 1000);
    const headers: Record<string, string> = {
      ...revealHeaders(this.config.headers),
      'content-type': 'application/json',
      'x-vipwatch-event': 'digest',
      'x-vipwatch-delivery': d.id,
      'idempotency-key': d.id,
      'x-vipwatch-instance': d.instance,
      'x-vipwatch-timestamp': String(ts),
    };
    if (this.config.secret) headers['x-vipwatch-signature'] = signWebhook(this.config.secret.reveal(), ts, body);
    await this.http.post(revealed(this.config.url), headers, body, signal);
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
