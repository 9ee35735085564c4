import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AlertmanagerSinkConfig } from '../config/sections/alerting.js';
import { deadlineSignal, type Clock, type TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { revealed, SecretUrl } from '../lib/secret.js';
import { alertAnnotations, alertLabelSets, sameLabels, type AmAlert } from './alertmanager-alert.js';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { classifyError } from './delivery-error.js';
import { redactUrl, revealHeaders } from './headers.js';
import { HttpPoster } from './http-post.js';
import type { AlertMetrics } from './metrics.js';
import type { Notification } from './notification.js';
import { kindFilter, type Sink } from './sink.js';

/** One alert Alertmanager was last told about for an open incident: re-sent as is until the incident resolves. */
interface Firing {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
}

export interface AlertmanagerSinkOptions {
  config: AlertmanagerSinkConfig;
  clock: Clock;
  logger: Logger;
  metrics?: AlertMetrics;
  /** Where firing alerts are kept across restarts; none for one-off sends (test-alert). */
  stateFile?: string;
}

/**
 * Pushes to /api/v2/alerts. An incident fires one alert per suspected node (alertLabelSets). A firing alert carries
 * endsAt = now + 4 x resendInterval and is re-sent every resendInterval, so Alertmanager keeps it firing while
 * vipwatch runs and lets it lapse if vipwatch dies (as Prometheus does); a resolve sends every alert of the incident
 * with endsAt in the past. Whatever is not re-sent lapses: an alert whose end never reached Alertmanager (an update
 * dropped after maxAge) is resolved by Alertmanager within 4 x resendInterval at most.
 */
export class AlertmanagerSink implements Sink {
  readonly type = 'alertmanager';
  readonly name: string;
  readonly endpoint: string;
  readonly timeoutMs: number;
  readonly accepts: (n: Notification) => boolean;
  /** The full URL, revealed: only ever handed to the HTTP client. */
  private readonly url: string;
  private readonly http: HttpPoster;
  /** Incident id -> its alerts, one per suspected node. */
  private readonly firing = new Map<string, Firing[]>();
  /** Incidents whose resolve is being delivered: no longer re-sent as firing. */
  private readonly resolving = new Set<string>();
  /** One POST at a time: a re-send must never land after the resolve it raced with. */
  private chain: Promise<unknown> = Promise.resolve();
  private timer?: TimerHandle;
  private stopSignal?: AbortSignal;

  constructor(private readonly o: AlertmanagerSinkOptions) {
    this.name = o.config.name;
    this.url = alertsUrl(revealed(o.config.url));
    this.endpoint = o.config.url instanceof SecretUrl ? o.config.url.redacted : redactUrl(this.url);
    this.timeoutMs = o.config.timeoutMs;
    this.accepts = kindFilter(o.config.kinds);
    this.http = new HttpPoster(o.config.tls, o.config.timeoutMs);
  }

  /** How long a firing alert stays valid without a re-send. */
  get validForMs(): number {
    return 4 * this.o.config.resendIntervalMs;
  }

  firingCount(): number {
    return this.resendable().length;
  }

  private resendable(): Firing[] {
    return [...this.firing].filter(([id]) => !this.resolving.has(id)).flatMap(([, f]) => f);
  }

  async init(): Promise<void> {
    if (!this.o.stateFile) return;
    let text: string;
    try {
      text = await readFile(this.o.stateFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    try {
      // A state file from before per-node alerts holds one alert per incident.
      for (const [id, f] of Object.entries(JSON.parse(text) as Record<string, Firing | Firing[]>)) this.firing.set(id, Array.isArray(f) ? f : [f]);
    } catch (err) {
      this.o.logger.error('alertmanager state unreadable; firing alerts will be re-sent from the next incident events', { sink: this.name, file: this.o.stateFile, error: errorMessage(err) });
    }
  }

  send(n: Notification, signal: AbortSignal): Promise<void> {
    return this.serialize(() => this.post(this.alertsFor(n), signal));
  }

  /**
   * The alerts one notification becomes: one per suspected node, plus the end of every previous alert of the incident
   * whose labels left the set (a node no longer suspected, a changed kind or severity). A resolve ends them all: the
   * previous ones and, should vipwatch have lost them (state file gone), the ones the notification names.
   */
  alertsFor(n: Notification): AmAlert[] {
    const now = this.o.clock.now();
    const prev = this.firing.get(n.incident.id) ?? [];
    const current = this.current(n, prev);
    const out: AmAlert[] = [];
    if (n.event === 'resolved') {
      const resolvedAt = Date.parse(n.incident.resolvedAt ?? '') || n.at;
      const lost = current.filter((c) => !prev.some((p) => sameLabels(p.labels, c.labels)));
      for (const f of [...prev, ...lost]) out.push({ ...f, endsAt: endAt(f, Math.min(now, resolvedAt)) });
      // No more re-sends from now on, even before Alertmanager heard the resolve.
      this.resolving.add(n.incident.id);
      return out;
    }
    for (const p of prev) if (!current.some((c) => sameLabels(p.labels, c.labels))) out.push({ ...p, endsAt: endAt(p, now) });
    for (const c of current) out.push({ ...c, endsAt: iso(now + this.validForMs) });
    return out;
  }

  /** Dropped or delivered alike: a resolve ends re-sends, anything else is what should be firing. */
  async settled(n: Notification): Promise<void> {
    if (n.test) return;
    this.resolving.delete(n.incident.id);
    if (n.event === 'resolved') this.firing.delete(n.incident.id);
    else this.firing.set(n.incident.id, this.current(n, this.firing.get(n.incident.id) ?? []));
    await this.save();
  }

  /**
   * The alerts the notification says should fire. An alert that fired before keeps its startsAt; the first alerts of
   * an incident start when the incident did, a node suspected later starts with the event that named it.
   */
  private current(n: Notification, prev: Firing[]): Firing[] {
    const annotations = alertAnnotations(n);
    const fresh = prev.length ? iso(n.at) : n.incident.startedAt;
    return alertLabelSets(n).map((labels) => ({ labels, annotations, startsAt: prev.find((p) => sameLabels(p.labels, labels))?.startsAt ?? fresh }));
  }

  start(signal: AbortSignal): void {
    this.stopSignal = signal;
    const tick = () => {
      this.timer = undefined;
      if (signal.aborted) return;
      void this.resend().finally(() => {
        if (!signal.aborted) this.timer = this.o.clock.setTimeout(tick, this.o.config.resendIntervalMs);
      });
    };
    this.timer = this.o.clock.setTimeout(tick, this.o.config.resendIntervalMs);
    signal.addEventListener('abort', () => this.o.clock.clearTimeout(this.timer), { once: true });
  }

  /** Re-sends every firing alert with a fresh endsAt; a failure is logged and counted, the next tick tries again. */
  async resend(): Promise<void> {
    if (!this.firingCount()) return;
    const d = deadlineSignal(this.o.clock, this.timeoutMs, this.stopSignal);
    try {
      await this.serialize(() => {
        const endsAt = iso(this.o.clock.now() + this.validForMs);
        const alerts = this.resendable().map((f) => ({ ...f, endsAt }));
        return alerts.length ? this.post(alerts, d.signal) : Promise.resolve();
      });
      this.o.metrics?.success(this.name, 'resend', this.o.clock.now());
      this.o.logger.debug('firing alerts re-sent', { sink: this.name, alerts: this.firingCount() });
    } catch (err) {
      const e = classifyError(err, d.signal);
      if (e.reason === 'aborted') return;
      this.o.metrics?.failure(this.name, 'resend', e.reason);
      this.o.logger.warn('re-sending firing alerts failed; next try in resendInterval', {
        sink: this.name, endpoint: this.endpoint, code: e.code, reason: e.reason, error: e.message, alerts: this.firingCount(),
      });
    } finally {
      d.cancel();
    }
  }

  async close(): Promise<void> {
    this.o.clock.clearTimeout(this.timer);
    await this.chain.catch(() => {});
    await this.http.close();
  }

  private async post(alerts: AmAlert[], signal: AbortSignal): Promise<void> {
    const headers = { ...revealHeaders(this.o.config.headers), 'content-type': 'application/json' };
    await this.http.post(this.url, headers, JSON.stringify(alerts), signal);
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => {});
    return p;
  }

  private async save(): Promise<void> {
    if (!this.o.stateFile) return;
    await mkdir(dirname(this.o.stateFile), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.o.stateFile, JSON.stringify(Object.fromEntries(this.firing)));
  }
}

export function alertsUrl(base: string): string {
  const u = new URL(base);
  if (/\/api\/v2\/alerts\/?$/.test(u.pathname)) return u.toString();
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/api/v2/alerts`;
  return u.toString();
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** An end at `ms`, never before the alert's start (Alertmanager refuses endsAt < startsAt). */
function endAt(f: Firing, ms: number): string {
  return iso(Math.max(Date.parse(f.startsAt) || 0, ms));
}
