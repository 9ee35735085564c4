import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { AlertingConfig, DigestConfig } from '../config/sections/alerting.js';
import { systemClock, type Clock, type TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/logger.js';
import { buildDigest, type Digest, type DigestSources } from './digest.js';
import { ZonedCron } from './digest-cron.js';
import { DigestDelivery } from './digest-delivery.js';
import type { DigestSender } from './digest-sender.js';
import { createDigestSenders } from './digest-senders.js';
import { DigestStore } from './digest-store.js';
import { zonedStamp } from './digest-zone.js';
import { AlertMetrics } from './metrics.js';
import { newNotificationId } from './notification.js';

/** The timer wakes at least this often and reads the wall clock again, so a stepped clock moves the digest with it. */
const RECHECK_MS = 3_600_000;

export interface DigestSchedulerOptions {
  /** alerting, with its digest section set. */
  config: AlertingConfig & { digest: DigestConfig };
  /** state.dir: pending digests live in <stateDir>/digest/<sink>/. */
  stateDir: string;
  registry: Registry;
  sources: DigestSources;
  clock?: Clock;
  logger?: Logger;
  /** Jitter source, injectable for tests. */
  random?: () => number;
  /** Replaces the senders built from config (tests). */
  senders?: DigestSender[];
}

/**
 * The daily digest: at each fire time of alerting.digest.schedule in its time zone (on the injected clock), sums up
 * the last 24 h, skips it when nothing happened (skipWhenQuiet), writes it to each sink's pending folder and delivers
 * it there with retries. Started and stopped with the app; a digest pending at stop goes out after the next start.
 */
export class DigestScheduler {
  readonly cron: ZonedCron;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly metrics: AlertMetrics;
  private readonly deliveries: { delivery: DigestDelivery; store: DigestStore; name: string }[];
  private readonly digest: DigestConfig;
  private timer?: TimerHandle;
  private dueAt = 0;
  private stopped = false;
  private started?: Promise<void>;
  private readonly firing = new Set<Promise<unknown>>();

  constructor(private readonly o: DigestSchedulerOptions) {
    this.digest = o.config.digest;
    this.clock = o.clock ?? systemClock;
    this.logger = (o.logger ?? silentLogger).child({ component: 'digest' });
    this.metrics = new AlertMetrics(o.registry);
    this.cron = new ZonedCron(this.digest.schedule, this.digest.timezone);
    const senders = o.senders ?? createDigestSenders(o.config, this.clock);
    this.deliveries = senders.map((sender) => {
      const store = new DigestStore(join(o.stateDir, 'digest', sender.name));
      const delivery = new DigestDelivery({
        sender, store, clock: this.clock, logger: this.logger, metrics: this.metrics, backoff: o.config.backoff,
        maxAgeMs: o.config.maxAgeMs, random: o.random ?? Math.random,
      });
      return { delivery, store, name: sender.name };
    });
  }

  /** Restores digests a stop or crash left pending, starts delivering them, and arms the schedule. */
  start(signal?: AbortSignal): Promise<void> {
    this.started ??= this.doStart(signal);
    return this.started;
  }

  private async doStart(signal?: AbortSignal): Promise<void> {
    signal?.addEventListener('abort', () => void this.stop(), { once: true });
    for (const { delivery, store, name } of this.deliveries) {
      const { entries, corrupt } = await store.load(this.clock.now()).catch((err: unknown) => {
        this.logger.error('pending digests could not be read', { sink: name, dir: store.dir, error: errorMessage(err) });
        return { entries: [], corrupt: [] };
      });
      for (const c of corrupt) this.logger.error('unreadable pending digest set aside', { sink: name, file: c.file, error: c.error });
      for (const p of entries) delivery.enqueue(p);
      if (entries.length) this.logger.info('pending digests restored', { sink: name, pending: entries.length });
    }
    if (this.stopped) return;
    for (const { delivery } of this.deliveries) delivery.start();
    this.dueAt = this.cron.next(this.clock.now());
    this.arm();
    this.logger.info('daily digest scheduled', {
      schedule: this.digest.schedule, timezone: this.digest.timezone, next: new Date(this.dueAt).toISOString(),
      nextLocal: zonedStamp(this.dueAt, this.digest.timezone), sinks: this.deliveries.map((d) => d.name),
    });
  }

  /** Epoch ms of the next scheduled digest (0 before start). */
  nextAt(): number {
    return this.dueAt;
  }

  /** Digests waiting for a sink, for one or all. */
  pending(sink?: string): number {
    return this.deliveries.filter((d) => sink === undefined || d.name === sink).reduce((s, d) => s + d.delivery.pending(), 0);
  }

  /** Resolves when every sink has taken (or dropped) every digest. */
  async whenIdle(): Promise<void> {
    await Promise.all([...this.firing]);
    await Promise.all(this.deliveries.map((d) => d.delivery.whenIdle()));
  }

  /**
   * Makes the digest of the 24 h before now and queues it for every sink; undefined when it was skipped as quiet.
   * Resolves once it is written to each sink's pending folder (delivery goes on in the background).
   */
  async runNow(scheduledAt = this.clock.now()): Promise<Digest | undefined> {
    const now = this.clock.now();
    const digest = buildDigest(this.o.sources, { id: `digest-${newNotificationId(scheduledAt)}`, instance: this.o.config.instance, timezone: this.digest.timezone, now });
    const about = { digest: digest.id, date: digest.date, targets: digest.totals.targets, failures: digest.totals.failures, incidents: digest.totals.incidents };
    if (digest.quiet && this.digest.skipWhenQuiet) {
      this.logger.info('daily digest skipped: no failure and no incident in the last 24 h (alerting.digest.skipWhenQuiet)', about);
      return undefined;
    }
    const pending = { queuedAt: now, digest };
    await Promise.all(this.deliveries.map(async ({ delivery, store, name }) => {
      try {
        await store.put(pending);
      } catch (err) {
        this.metrics.writeErrors.inc({ sink: name });
        this.logger.error('cannot write the digest to state.dir; delivering from memory only', { sink: name, digest: digest.id, error: errorMessage(err) });
      }
      delivery.enqueue(pending);
    }));
    this.logger.info('daily digest queued', { ...about, sinks: this.deliveries.map((d) => d.name) });
    return digest;
  }

  /** Stops the schedule and delivery; a digest not yet accepted stays pending for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.firing]);
    await Promise.all(this.deliveries.map((d) => d.delivery.stop()));
  }

  private arm(): void {
    if (this.stopped) return;
    const wait = Math.max(0, Math.min(this.dueAt - this.clock.now(), RECHECK_MS));
    this.timer = this.clock.setTimeout(() => this.tick(), wait);
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const now = this.clock.now();
    if (now < this.dueAt) return this.arm();
    const scheduledAt = this.dueAt;
    // Fire times the process slept through (a suspended VM, a stepped clock) make one digest, not several.
    this.dueAt = this.cron.next(Math.max(now, scheduledAt));
    this.arm();
    const p = this.runNow(scheduledAt)
      .catch((err) => this.logger.error('daily digest failed', { error: errorMessage(err) }))
      .finally(() => this.firing.delete(p));
    this.firing.add(p);
  }
}

/** The digest scheduler when alerting.digest is configured, else undefined. */
export function createDigest(o: Omit<DigestSchedulerOptions, 'config'> & { config: AlertingConfig }): DigestScheduler | undefined {
  const digest = o.config.digest;
  return digest ? new DigestScheduler({ ...o, config: { ...o.config, digest } }) : undefined;
}
