import { timingSafeEqual } from 'node:crypto';
import { signWebhook } from '../../src/alerting/webhook-signature.js';

export type VerifyResult = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/** What a receiver does (README): recompute, compare in constant time, reject timestamps outside the tolerance. */
export function verifyWebhook(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: string | Buffer,
  opts: { nowSec: number; toleranceSec?: number },
): VerifyResult {
  if (!headers.timestamp || !headers.signature) return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(headers.timestamp) || !/^sha256=[0-9a-f]{64}$/.test(headers.signature)) return { ok: false, reason: 'malformed' };
  const ts = Number(headers.timestamp);
  if (Math.abs(opts.nowSec - ts) > (opts.toleranceSec ?? 300)) return { ok: false, reason: 'stale' };
  const want = Buffer.from(signWebhook(secret, ts, body));
  const got = Buffer.from(headers.signature);
  return want.length === got.length && timingSafeEqual(want, got) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
