import type { BackoffConfig } from '../config/sections/alerting.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { backoffDelay } from '../lib/backoff.js';
import type { AlertMetrics } from './metrics.js';
import { describe, type Notification } from './notification.js';
import type { OutboxStore } from './outbox.js';
import { sendOnce } from './send-once.js';
import type { Sink } from './sink.js';

export interface SinkDeliveryOptions {
  sink: Sink;
  store: OutboxStore;
  clock: Clock;
  logger: Logger;
  metrics: AlertMetrics;
  backoff: BackoffConfig;
  maxAgeMs: number;
  random: () => number;
  /** Sends in flight at once for this sink (one per incident at most). */
  concurrency: number;
}

/** One incident's queue on one sink: strictly in order; its failures back off without holding other incidents. */
interface Lane {
  queue: Notification[];
  failures: number;
  timer?: TimerHandle;
  running: boolean;
}

/** Delivers one sink's outbox: a lane per incident, retries with capped exponential backoff and jitter. */
export class SinkDelivery {
  private readonly lanes = new Map<string, Lane>();
  /** Ids queued and not yet retired: a restore at start must not queue what notify() already did. */
  private readonly queued = new Set<string>();
  private readonly ac = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private readonly waiters: (() => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private active = 0;
  private started = false;
  private stopped = false;
  private count = 0;
  private readonly log: Logger;

  constructor(private readonly o: SinkDeliveryOptions) {
    this.log = o.logger.child({ sink: o.sink.name, sinkType: o.sink.type });
    o.metrics.pending.set({ sink: o.sink.name }, 0);
  }

  get name(): string {
    return this.o.sink.name;
  }

  pending(): number {
    return this.count;
  }

  /** Adds a notification already written to the outbox (or restored from it). */
  enqueue(n: Notification): void {
    if (this.queued.has(n.id)) return;
    this.queued.add(n.id);
    const key = n.incident.id;
    let lane = this.lanes.get(key);
    if (!lane) this.lanes.set(key, (lane = { queue: [], failures: 0, running: false }));
    // Restored and new entries may interleave at start; the queue stays in seq order.
    let i = lane.queue.length;
    while (i > 0 && lane.queue[i - 1]!.seq > n.seq) i--;
    lane.queue.splice(i, 0, n);
    this.setCount(this.count + 1);
    this.kick(key);
  }

  start(): void {
    this.started = true;
    for (const key of this.lanes.keys()) this.kick(key);
  }

  /** Aborts sends in flight (they stay in the outbox) and waits for the lanes to settle. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.ac.abort(new Error('notifier stopped'));
    for (const lane of this.lanes.values()) this.o.clock.clearTimeout(lane.timer);
    for (const w of this.waiters.splice(0)) w();
    await Promise.allSettled([...this.running]);
  }

  /** Resolves when nothing is pending (tests, and a graceful drain). */
  whenIdle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }

  private kick(key: string): void {
    const lane = this.lanes.get(key);
    if (!lane || !this.started || this.stopped || lane.running || lane.timer) return;
    lane.running = true;
    const p = this.runLane(key, lane)
      .catch((err) => this.log.error('alert delivery lane failed unexpectedly', { incident: key, error: errorMessage(err) }))
      .finally(() => {
        lane.running = false;
        this.running.delete(p);
        if (!lane.queue.length && !lane.timer && this.lanes.get(key) === lane) this.lanes.delete(key);
        // Entries that arrived after the loop looked at the queue.
        else if (lane.queue.length && !lane.timer) this.kick(key);
      });
    this.running.add(p);
  }

  private async runLane(key: string, lane: Lane): Promise<void> {
    const { sink, clock, metrics } = this.o;
    while (!this.stopped && lane.queue.length) {
      const n = lane.queue[0]!;
      await this.acquire();
      if (this.stopped) return this.release();
      const result = await sendOnce(sink, n, clock, this.ac.signal).finally(() => this.release());
      if (this.stopped && !result.ok) return;
      if (result.ok) {
        metrics.success(sink.name, n.event, clock.now());
        this.log.info('notification delivered', { ...describe(n), ms: Math.round(result.ms), attempts: lane.failures + 1 });
        lane.failures = 0;
        await this.retire(lane, n, 'delivered');
        continue;
      }
      lane.failures++;
      metrics.failure(sink.name, n.event, result.error.reason);
      const age = clock.now() - n.queuedAt;
      if (age >= this.o.maxAgeMs) {
        metrics.dropped.inc({ sink: sink.name, event: n.event });
        this.log.error('notification dropped: undelivered for longer than alerting.maxAge', {
          ...describe(n), code: result.error.code, reason: result.error.reason, error: result.error.message,
          ageMs: age, maxAgeMs: this.o.maxAgeMs, failures: lane.failures, incidentRecord: n.incident,
        });
        lane.failures = 0;
        await this.retire(lane, n, 'dropped');
        continue;
      }
      const delay = backoffDelay(this.o.backoff, lane.failures, this.o.random);
      this.log.warn('notification delivery failed; will retry', {
        ...describe(n), code: result.error.code, reason: result.error.reason, status: result.error.detail.status,
        error: result.error.message, failures: lane.failures, retryInMs: delay, endpoint: sink.endpoint,
      });
      lane.timer = clock.setTimeout(() => {
        lane.timer = undefined;
        this.kick(key);
      }, delay);
      return;
    }
  }

  /** Off the queue and out of the outbox; a failed unlink only means a duplicate (same key) after a restart. */
  private async retire(lane: Lane, n: Notification, outcome: 'delivered' | 'dropped'): Promise<void> {
    await this.o.sink.settled?.(n, outcome).catch((err) => this.log.warn('sink could not record a settled notification', { ...describe(n), outcome, error: errorMessage(err) }));
    await this.o.store.remove(n).catch((err) =>
      this.log.error('cannot remove a delivered notification from the outbox; it will be sent again (same idempotency key) after a restart', { ...describe(n), error: errorMessage(err) }));
    lane.queue.shift();
    this.queued.delete(n.id);
    this.setCount(this.count - 1);
  }

  private setCount(c: number): void {
    this.count = c;
    this.o.metrics.pending.set({ sink: this.o.sink.name }, c);
    if (c === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private acquire(): Promise<void> {
    if (this.active < this.o.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((r) => this.waiters.push(() => {
      this.active++;
      r();
    }));
  }

  private release(): void {
    this.active--;
    const next = this.waiters.shift();
    if (next) next();
  }
}
