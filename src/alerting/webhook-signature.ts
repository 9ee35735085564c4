import { createHmac } from 'node:crypto';

/**
 * Webhook signature: `sha256=` + hex HMAC-SHA256 over `<timestamp>.<raw body>`, where timestamp is the
 * X-Vipwatch-Timestamp header (unix seconds). Covering the timestamp lets a receiver refuse replays.
 */
export function signWebhook(secret: string, timestampSec: number, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampSec}.`).update(body).digest('hex')}`;
}
