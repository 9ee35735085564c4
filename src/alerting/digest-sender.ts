import type { Digest } from './digest.js';

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
