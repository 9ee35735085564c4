import type { SinkConfig } from '../config/sections/alerting.js';
import type { Notification } from './notification.js';

export type SinkType = SinkConfig['type'];

/**
 * One alert channel. `send` delivers one notification once: it resolves when the receiver accepted it and
 * rejects with a DeliveryError otherwise. Retrying, ordering and persistence belong to the outbox, not the sink.
 */
export interface Sink {
  readonly name: string;
  readonly type: SinkType;
  /** Where it sends, for log lines and test-alert output (no secrets). */
  readonly endpoint: string;
  /** Upper bound of one send; the caller aborts the signal after it. */
  readonly timeoutMs: number;
  /** Filter on incident kind (config `kinds`). */
  accepts(n: Notification): boolean;
  send(n: Notification, signal: AbortSignal): Promise<void>;
  /** Restores state kept across restarts (Alertmanager's firing alerts); called once before start. */
  init?(): Promise<void>;
  /**
   * A notification left the outbox, accepted or dropped after maxAge: sinks that keep state (Alertmanager
   * re-sends) learn from it. A dropped resolve must still stop the re-sends.
   */
  settled?(n: Notification, outcome: 'delivered' | 'dropped'): Promise<void>;
  /** Background work (Alertmanager re-sends) until the signal aborts. */
  start?(signal: AbortSignal): void;
  close(): Promise<void>;
}

export function kindFilter(kinds: readonly string[] | undefined): (n: Notification) => boolean {
  if (!kinds) return () => true;
  const set = new Set(kinds);
  return (n) => set.has(n.incident.kind);
}
