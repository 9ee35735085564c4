import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { AlertingConfig } from '../config/sections/alerting.js';
import type { IncidentEvent } from '../incidents/types.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { ERR } from '../lib/error-codes.js';
import { errorMessage, VipwatchError } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/logger.js';
import { SinkDelivery } from './delivery.js';
import { AlertMetrics } from './metrics.js';
import { describe, toNotification, type Notification } from './notification.js';
import { OutboxStore } from './outbox.js';
import type { Sink } from './sink.js';
import { createSinks } from './sinks.js';

export interface NotifierOptions {
  config: AlertingConfig;
  /** state.dir: the outbox lives in <stateDir>/outbox/<sink>/. */
  stateDir: string;
  registry: Registry;
  clock?: Clock;
  logger?: Logger;
  /** The vipwatch_instance label; defaults to config.instance. */
  instance?: string;
  /** Jitter source, injectable for tests. */
  random?: () => number;
  /** Replaces the sinks built from config (tests). */
  sinks?: Sink[];
  /** Sends in flight at once per sink. */
  concurrency?: number;
}

/**
 * Turns incident events into notifications: each is written to every interested sink's outbox before
 * notify() returns, then delivered in the background, per sink and per incident in order, until accepted.
 */
export class Notifier {
  readonly metrics: AlertMetrics;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly instance: string;
  private readonly sinks: Sink[];
  private readonly deliveries = new Map<string, { sink: Sink; store: OutboxStore; delivery: SinkDelivery }>();
  private readonly ac = new AbortController();
  private lastSeq = 0;
  private started?: Promise<void>;
  private ready = false;

  constructor(private readonly o: NotifierOptions) {
    this.clock = o.clock ?? systemClock;
    this.logger = (o.logger ?? silentLogger).child({ component: 'alerting' });
    this.instance = o.instance ?? o.config.instance;
    this.metrics = new AlertMetrics(o.registry);
    this.sinks = o.sinks ?? createSinks(o.config, { clock: this.clock, logger: this.logger, metrics: this.metrics, stateDir: o.stateDir });
    for (const sink of this.sinks) {
      const store = new OutboxStore(join(this.outboxDir(), sink.name));
      const delivery = new SinkDelivery({
        sink, store, clock: this.clock, logger: this.logger, metrics: this.metrics, backoff: o.config.backoff,
        maxAgeMs: o.config.maxAgeMs, random: o.random ?? Math.random, concurrency: o.concurrency ?? 4,
      });
      this.deliveries.set(sink.name, { sink, store, delivery });
    }
  }

  outboxDir(): string {
    return join(this.o.stateDir, 'outbox');
  }

  sinkNames(): string[] {
    return [...this.deliveries.keys()];
  }

  /** Restores pending notifications and starts delivering; `signal` aborting stops it like stop(). */
  start(signal?: AbortSignal): Promise<void> {
    this.started ??= this.doStart(signal);
    return this.started;
  }

  private async doStart(signal?: AbortSignal): Promise<void> {
    signal?.addEventListener('abort', () => void this.stop(), { once: true });
    for (const { sink, store, delivery } of this.deliveries.values()) {
      await store.init();
      await sink.init?.().catch((err) => this.logger.error('sink state could not be restored', { sink: sink.name, error: errorMessage(err) }));
      const { entries, corrupt, errors } = await store.load(this.clock.now());
      corrupt.forEach((file, i) => this.logger.error('unreadable outbox entry set aside', { sink: sink.name, file, error: errors[i] }));
      for (const n of entries) {
        this.lastSeq = Math.max(this.lastSeq, n.seq);
        delivery.enqueue(n);
      }
      if (entries.length) this.logger.info('pending notifications restored from the outbox', { sink: sink.name, pending: entries.length });
    }
    await this.warnOrphans();
    if (this.ac.signal.aborted) return;
    for (const { sink, delivery } of this.deliveries.values()) {
      delivery.start();
      sink.start?.(this.ac.signal);
    }
    this.ready = true;
    this.logger.info('alert delivery started', { sinks: this.sinkNames(), instance: this.instance });
  }

  /**
   * Queues one incident event for every sink that accepts its kind. Resolves once it is durably in each
   * outbox, with the notification's idempotency key (undefined when no sink takes this kind). If a write
   * fails it is still delivered from memory, and this rejects (VIPWATCH_OUTBOX_WRITE).
   */
  async notify(event: IncidentEvent): Promise<string | undefined> {
    const n = toNotification(event, { seq: this.nextSeq(), queuedAt: this.clock.now(), instance: this.instance });
    const targets = [...this.deliveries.values()].filter(({ sink }) => sink.accepts(n));
    if (!targets.length) {
      this.logger.debug('incident event matches no sink', describe(n));
      return undefined;
    }
    if (this.started && !this.ready) await this.started.catch(() => {});
    const failed: string[] = [];
    await Promise.all(targets.map(async ({ sink, store, delivery }) => {
      try {
        await store.put(n);
      } catch (err) {
        failed.push(sink.name);
        this.metrics.writeErrors.inc({ sink: sink.name });
        this.logger.error('cannot write notification to the outbox; delivering from memory only', { sink: sink.name, ...describe(n), error: errorMessage(err) });
      }
      delivery.enqueue(n);
    }));
    this.logger.debug('notification queued', { ...describe(n), sinks: targets.map((t) => t.sink.name) });
    if (failed.length) throw new VipwatchError(ERR.OUTBOX_WRITE, `notification ${n.id} not persisted for sink(s) ${failed.join(', ')}`);
    return n.id;
  }

  /** Pending notifications, for one sink or all. */
  pending(sink?: string): number {
    if (sink !== undefined) return this.deliveries.get(sink)?.delivery.pending() ?? 0;
    let total = 0;
    for (const { delivery } of this.deliveries.values()) total += delivery.pending();
    return total;
  }

  /** Resolves when every outbox is empty. */
  async whenIdle(): Promise<void> {
    await Promise.all([...this.deliveries.values()].map(({ delivery }) => delivery.whenIdle()));
  }

  /** Stops delivering; whatever was not delivered stays in the outbox for the next start. */
  async stop(): Promise<void> {
    if (!this.ac.signal.aborted) this.ac.abort();
    await Promise.all([...this.deliveries.values()].map(async ({ sink, delivery }) => {
      await delivery.stop();
      await sink.close().catch(() => {});
    }));
  }

  private nextSeq(): number {
    // Above anything restored, and time-based so queue order reads naturally across restarts.
    this.lastSeq = Math.max(this.lastSeq + 1, this.clock.now() * 1000);
    return this.lastSeq;
  }

  private async warnOrphans(): Promise<void> {
    let dirs: string[];
    try {
      dirs = await readdir(this.outboxDir());
    } catch {
      return;
    }
    for (const d of dirs) {
      if (this.deliveries.has(d)) continue;
      const left = (await readdir(join(this.outboxDir(), d)).catch(() => [] as string[])).filter((f) => f.endsWith('.json'));
      if (left.length)
        this.logger.warn('outbox of a sink no longer configured still holds notifications; kept, not sent', { sink: d, pending: left.length, dir: join(this.outboxDir(), d) });
    }
  }
}

export type { Notification };
