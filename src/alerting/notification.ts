import { randomBytes } from 'node:crypto';
import type { Incident, IncidentEvent, IncidentEventType } from '../incidents/types.js';

/**
 * One notification of one incident event, as queued in the outbox. Its `id` is the idempotency key: it is
 * fixed when the event is queued and sent with every retry, also after a restart.
 */
export interface Notification {
  id: string;
  /** Queue order; notifications of one incident are delivered in this order. */
  seq: number;
  event: IncidentEventType;
  /** Epoch ms of the incident event. */
  at: number;
  /** Epoch ms when it was queued (maxAge counts from here). */
  queuedAt: number;
  /** The vantage point that sent it (the vipwatch_instance label). */
  instance: string;
  incident: Incident;
  /** A sample from `vipwatch test-alert`, not a real incident. */
  test?: boolean;
}

/** Sortable, unique: time first so keys read in order in logs and receivers. */
export function newNotificationId(nowMs: number): string {
  return `${nowMs.toString(36).padStart(9, '0')}-${randomBytes(8).toString('hex')}`;
}

export function toNotification(event: IncidentEvent, opts: { seq: number; queuedAt: number; instance: string; test?: boolean }): Notification {
  const n: Notification = {
    id: newNotificationId(opts.queuedAt), seq: opts.seq, event: event.type, at: event.at, queuedAt: opts.queuedAt,
    instance: opts.instance, incident: event.incident,
  };
  if (opts.test) n.test = true;
  return n;
}

/** A short description for log lines. */
export function describe(n: Notification): Record<string, unknown> {
  return { notification: n.id, event: n.event, incident: n.incident.id, target: n.incident.target, kind: n.incident.kind };
}
