import type { AlertingConfig } from '../config/sections/alerting.js';
import type { Clock } from '../lib/clock.js';
import type { Digest } from './digest.js';
import { DigestMailer } from './digest-email.js';
import { DigestWebhook } from './digest-webhook.js';

/**
 * One channel a digest goes to: an email or webhook sink's settings, its own message. `send` delivers once: it
 * resolves when the receiver accepted the digest and rejects otherwise (a DeliveryError, or what the transport threw).
 */
export interface DigestSender {
  readonly name: string;
  readonly type: 'email' | 'webhook';
  /** Where it sends, for log lines (no secrets). */
  readonly endpoint: string;
  /** Upper bound of one send. */
  readonly timeoutMs: number;
  send(d: Digest, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** The senders of the sinks named in alerting.digest.sinks, in config order. */
export function createDigestSenders(config: AlertingConfig, clock: Clock): DigestSender[] {
  const names = new Set(config.digest?.sinks ?? []);
  return [
    ...config.webhooks.filter((s) => names.has(s.name)).map((s) => new DigestWebhook(s, clock)),
    ...config.email.filter((s) => names.has(s.name)).map((s) => new DigestMailer(s)),
  ];
}
