import { Counter, Gauge, type Registry } from 'prom-client';
import type { DeliveryReason } from './delivery-error.js';

/** Alert delivery metrics. Reuses series already on the registry, so a Notifier rebuilt on reload does not collide. */
export class AlertMetrics {
  readonly notifications: Counter<'sink' | 'event' | 'result'>;
  readonly errors: Counter<'sink' | 'reason'>;
  readonly dropped: Counter<'sink' | 'event'>;
  readonly writeErrors: Counter<'sink'>;
  readonly pending: Gauge<'sink'>;
  readonly lastSuccess: Gauge<'sink'>;

  constructor(registry: Registry) {
    const registers = [registry];
    const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
    this.notifications = get('vipwatch_notifications_total', () => new Counter({
      name: 'vipwatch_notifications_total', help: 'Delivery attempts by sink, event (open, update, reminder, resolved; resend for Alertmanager re-sends) and result (success or failure).',
      labelNames: ['sink', 'event', 'result'], registers,
    }));
    this.errors = get('vipwatch_notification_errors_total', () => new Counter({
      name: 'vipwatch_notification_errors_total', help: 'Failed delivery attempts by sink and reason (timeout, connection_refused, connection_reset, tls, http_status, smtp_auth, smtp_rejected, other).',
      labelNames: ['sink', 'reason'], registers,
    }));
    this.dropped = get('vipwatch_notifications_dropped_total', () => new Counter({
      name: 'vipwatch_notifications_dropped_total', help: 'Notifications given up after alerting.maxAge of failed deliveries (each also logged as an error).',
      labelNames: ['sink', 'event'], registers,
    }));
    this.writeErrors = get('vipwatch_outbox_write_errors_total', () => new Counter({
      name: 'vipwatch_outbox_write_errors_total', help: 'Notifications that could not be written to the outbox (delivered from memory only, lost on a crash).',
      labelNames: ['sink'], registers,
    }));
    this.pending = get('vipwatch_outbox_pending', () => new Gauge({
      name: 'vipwatch_outbox_pending', help: 'Notifications waiting in the outbox for delivery, by sink.', labelNames: ['sink'], registers,
    }));
    this.lastSuccess = get('vipwatch_notification_last_success_timestamp_seconds', () => new Gauge({
      name: 'vipwatch_notification_last_success_timestamp_seconds', help: 'When a sink last accepted a notification (unix seconds).', labelNames: ['sink'], registers,
    }));
  }

  success(sink: string, event: string, nowMs: number): void {
    this.notifications.inc({ sink, event, result: 'success' });
    this.lastSuccess.set({ sink }, nowMs / 1000);
  }

  failure(sink: string, event: string, reason: DeliveryReason): void {
    this.notifications.inc({ sink, event, result: 'failure' });
    this.errors.inc({ sink, reason });
  }
}
