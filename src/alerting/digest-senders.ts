import type { AlertingConfig } from '../config/sections/alerting.js';
import type { Clock } from '../lib/clock.js';
import { DigestMailer } from './digest-email.js';
import type { DigestSender } from './digest-sender.js';
import { DigestWebhook } from './digest-webhook.js';

/** The senders of the sinks named in alerting.digest.sinks, in config order. */
export function createDigestSenders(config: AlertingConfig, clock: Clock): DigestSender[] {
  const names = new Set(config.digest?.sinks ?? []);
  return [
    ...config.webhooks.filter((s) => names.has(s.name)).map((s) => new DigestWebhook(s, clock)),
    ...config.email.filter((s) => names.has(s.name)).map((s) => new DigestMailer(s)),
  ];
}
