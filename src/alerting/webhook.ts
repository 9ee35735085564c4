import type { WebhookSinkConfig } from '../config/sections/alerting.js';
import type { Clock } from '../lib/clock.js';
import { revealed } from '../lib/secret.js';
import { redactUrl, revealHeaders } from './headers.js';
import { HttpPoster } from './http-post.js';
import type { Notification } from './notification.js';
import { kindFilter, type Sink } from './sink.js';
import { signWebhook } from './webhook-signature.js';

/** POSTs the incident record as is; the event, idempotency key and signature travel in headers. */
export class WebhookSink implements Sink {
  readonly type = 'webhook';
  readonly name: string;
  readonly endpoint: string;
  readonly timeoutMs: number;
  readonly accepts: (n: Notification) => boolean;
  private readonly http: HttpPoster;

  constructor(private readonly config: WebhookSinkConfig, private readonly clock: Clock) {
    this.name = config.name;
    this.endpoint = redactUrl(config.url);
    this.timeoutMs = config.timeoutMs;
    this.accepts = kindFilter(config.kinds);
    this.http = new HttpPoster(config.tls, config.timeoutMs);
  }

  async send(n: Notification, signal: AbortSignal): Promise<void> {
    const body = JSON.stringify(n.incident);
    // Signed per attempt: a retry carries a fresh timestamp, so receivers can keep a tight replay window.
    const ts = Math.floor(this.clock.now() / 1000);
    const headers: Record<string, string> = {
      ...revealHeaders(this.config.headers),
      'content-type': 'application/json',
      'x-vipwatch-event': n.event,
      'x-vipwatch-delivery': n.id,
      'idempotency-key': n.id,
      'x-vipwatch-incident': n.incident.id,
      'x-vipwatch-instance': n.instance,
      'x-vipwatch-timestamp': String(ts),
    };
    if (n.test) headers['x-vipwatch-test'] = 'true';
    if (this.config.secret) headers['x-vipwatch-signature'] = signWebhook(this.config.secret.reveal(), ts, body);
    await this.http.post(revealed(this.config.url), headers, body, signal);
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
