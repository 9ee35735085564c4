import type { BackoffConfig } from '../config/sections/alerting.js';
import { backoffDelay } from '../lib/backoff.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { DeliveryError } from './delivery-error.js';
import { boundedSend } from './send-once.js';
import type { AlertMetrics } from './metrics.js';
import type { DigestSender } from './digest-sender.js';
import type { DigestStore, PendingDigest } from './digest-store.js';

export interface DigestDeliveryOptions {
  sender: DigestSender;
  store: DigestStore;
  clock: Clock;
  logger: Logger;
  metrics: AlertMetrics;
  backoff: BackoffConfig;
  /** alerting.maxAge: a digest still refused after this long is dropped (with an error log and the dropped metric). */
  maxAgeMs: number;
  random: () => number;
}

/** The `event` label of digest deliveries on the alert delivery metrics. */
export const DIGEST_EVENT = 'digest';

/**
 * Delivers one sink's digests one at a time, oldest first, each retried with alerting.backoff until accepted or
 * alerting.maxAge old: the same retry policy and metrics as incident notifications, on a queue of its own.
 */
export class DigestDelivery {
  private readonly queue: PendingDigest[] = [];
  private readonly ac = new AbortController();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly log: Logger;
  private failures = 0;
  private timer?: TimerHandle;
  private running?: Promise<void>;
  private started = false;
  private stopped = false;

  constructor(private readonly o: DigestDeliveryOptions) {
    this.log = o.logger.child({ sink: o.sender.name, sinkType: o.sender.type });
  }

  pending(): number {
    return this.queue.length;
  }

  enqueue(p: PendingDigest): void {
    if (this.queue.some((q) => q.digest.id === p.digest.id)) return;
    this.queue.push(p);
    this.kick();
  }

  start(): void {
    this.started = true;
    this.kick();
  }

  /** Aborts a send in flight; what is pending stays in the store for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.ac.abort(new Error('digest delivery stopped'));
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.o.sender.close().catch(() => {});
  }

  whenIdle(): Promise<void> {
    return this.queue.length === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }

  private kick(): void {
    if (!this.started || this.stopped || this.running || this.timer || !this.queue.length) return;
    this.running = this.run()
      .catch((err) => this.log.error('digest delivery failed unexpectedly', { error: errorMessage(err) }))
      .finally(() => {
        this.running = undefined;
        if (!this.timer) this.kick();
      });
  }

  private async run(): Promise<void> {
    const { sender, clock, metrics } = this.o;
    while (!this.stopped && this.queue.length) {
      const p = this.queue[0]!;
      const start = clock.monotonic();
      const error = await this.sendOnce(p);
      if (this.stopped && error) return;
      const about = { digest: p.digest.id, date: p.digest.date };
      if (!error) {
        metrics.success(sender.name, DIGEST_EVENT, clock.now());
        this.log.info('digest delivered', { ...about, ms: Math.round(clock.monotonic() - start), attempts: this.failures + 1 });
        await this.retire(p);
        continue;
      }
      this.failures++;
      metrics.failure(sender.name, DIGEST_EVENT, error.reason);
      const age = clock.now() - p.queuedAt;
      if (age >= this.o.maxAgeMs) {
        metrics.dropped.inc({ sink: sender.name, event: DIGEST_EVENT });
        this.log.error('digest dropped: undelivered for longer than alerting.maxAge', {
          ...about, code: error.code, reason: error.reason, error: error.message, ageMs: age, maxAgeMs: this.o.maxAgeMs, failures: this.failures,
        });
        await this.retire(p);
        continue;
      }
      const delay = backoffDelay(this.o.backoff, this.failures, this.o.random);
      this.log.warn('digest delivery failed; will retry', {
        ...about, code: error.code, reason: error.reason, status: error.detail.status, error: error.message,
        failures: this.failures, retryInMs: delay, endpoint: sender.endpoint,
      });
      this.timer = clock.setTimeout(() => {
        this.timer = undefined;
        this.kick();
      }, delay);
      return;
    }
  }

  /** One send bounded by the sink's timeout; undefined when accepted. */
  private sendOnce(p: PendingDigest): Promise<DeliveryError | undefined> {
    return boundedSend(this.o.clock, this.o.sender.timeoutMs, this.ac.signal, (signal) => this.o.sender.send(p.digest, signal));
  }

  private async retire(p: PendingDigest): Promise<void> {
    await this.o.store.remove(p.digest.id).catch((err) =>
      this.log.error('cannot remove a delivered digest from state.dir; it will be sent again (same id) after a restart', { digest: p.digest.id, error: errorMessage(err) }));
    this.queue.shift();
    this.failures = 0;
    if (!this.queue.length) for (const w of this.idleWaiters.splice(0)) w();
  }
}
