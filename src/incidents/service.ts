/**
 * Incidents as the rest of vipwatch sees them: verdicts go in (update), events come out to the notifier, reminders are
 * checked on a timer, and the API lists incidents from here. Owns the manager (lifecycle and records) and the incident
 * and diagnosis gauges.
 */
import type { Registry } from 'prom-client';
import type { DiagnosisConfig } from '../config/sections/diagnosis.js';
import type { TargetConfig } from '../config/targets.js';
import type { Diagnosis } from '../diagnosis/types.js';
import type { KernelEvidenceSource } from '../evidence/types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { IncidentManager } from './manager.js';
import { IncidentMetrics } from './metrics.js';
import type { Incident, IncidentEvent } from './types.js';

export interface IncidentServiceOptions {
  config: DiagnosisConfig;
  /** Where incident records live: <state.dir>/incidents. */
  dir: string;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  /** Every incident event goes here (the notifier); must persist before resolving. */
  notify(event: IncidentEvent): Promise<unknown>;
  /** How often reminders are checked. */
  tickMs?: number;
  /** Kernel evidence from the node evidence agents, when configured. */
  kernel?: KernelEvidenceSource;
}

export class IncidentService {
  private readonly manager: IncidentManager;
  private readonly metrics: IncidentMetrics;
  private readonly pending = new Set<Promise<unknown>>();
  private timer?: TimerHandle;

  constructor(private readonly o: IncidentServiceOptions) {
    this.manager = new IncidentManager({ dir: o.dir, clock: o.clock, config: o.config, logger: o.logger.child({ component: 'incidents' }), kernel: o.kernel });
    this.metrics = new IncidentMetrics(o.registry, this.manager);
  }

  /** Restores the records, then checks reminders every tickMs. */
  async start(): Promise<void> {
    await this.manager.load();
    const tick = () => {
      this.track(this.manager.tick().then((events) => this.emit(events)));
      this.timer = this.o.clock.setTimeout(tick, this.o.tickMs ?? 30_000);
    };
    this.timer = this.o.clock.setTimeout(tick, this.o.tickMs ?? 30_000);
  }

  /** Waits for in-flight incident updates and notifications to be queued, then stops the reminder timer. */
  async stop(): Promise<void> {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  /** A target's new verdict: may open, update or resolve its incident. `seq` is the newest attempt's. */
  update(target: TargetConfig, d: Diagnosis, seq: number): void {
    this.metrics.recordDiagnosis(d);
    this.track(this.manager.update(target, d, { seq }).then((events) => this.emit(events)));
  }

  /** Resolves the incidents of targets that are gone (config reload, discovery) and drops their gauges. */
  retainTargets(names: string[], forgotten: readonly string[]): void {
    for (const n of forgotten) this.metrics.forget(n);
    this.track(this.manager.retainTargets(names).then((events) => this.emit(events)));
  }

  isOpen(target: string): boolean {
    return this.manager.openFor(target) !== undefined;
  }

  list(includeResolved = true): Incident[] {
    return this.manager.list({ includeResolved });
  }

  private async emit(events: IncidentEvent[]): Promise<void> {
    for (const ev of events) {
      const i = ev.incident;
      this.o.logger.info(`incident ${ev.type}`, {
        incident: i.id, target: i.target, kind: i.kind, severity: i.severity, suspectedNodes: i.suspectedNodes,
        confidence: round(i.confidence), failureRatio: round(i.failureRatio), summary: i.summary,
      });
      try {
        await this.o.notify(ev);
      } catch (err) {
        this.o.logger.error('notification could not be queued durably (it is still delivered from memory)', { incident: i.id, event: ev.type, error: errorMessage(err) });
      }
    }
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch((err) => this.o.logger.error('incident update failed', { error: errorMessage(err) }));
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }
}

/** Six decimals: enough for a log line. */
export function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
