/**
 * Runs the pure diagnosis engine as attempts arrive, and turns its verdicts into incident events, notifications and
 * adaptive bursts. The only stateful glue between the engine (pure), the incident manager and the scheduler.
 */
import type { Registry } from 'prom-client';
import type { ClusterSource } from '../cluster/types.js';
import type { DiagnosisConfig } from '../config/sections/diagnosis.js';
import type { TargetConfig } from '../config/targets.js';
import type { Attempt } from '../history/attempt.js';
import type { TargetHistory } from '../history/history.js';
import { IncidentManager } from '../incidents/manager.js';
import { IncidentMetrics } from '../incidents/metrics.js';
import type { Incident, IncidentEvent } from '../incidents/types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { attributeFailure } from './attribution.js';
import { BurstPlanner, type BurstRequest } from './burst.js';
import { diagnose } from './diagnose.js';
import type { Diagnosis } from './types.js';

export interface DiagnosisRunnerOptions {
  config: DiagnosisConfig;
  /** Where incident records live: <state.dir>/incidents. */
  dir: string;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  cluster: ClusterSource;
  /** Every incident event goes here (the notifier); must persist before resolving. */
  notify(event: IncidentEvent): Promise<unknown>;
  /** Asks the scheduler for extra attempts; returns how many it accepted. */
  requestBurst(target: string, req: BurstRequest): number;
  /** How often reminders are checked. */
  tickMs?: number;
}

export class DiagnosisRunner {
  readonly incidents: IncidentManager;
  private readonly metrics: IncidentMetrics;
  private readonly bursts: BurstPlanner;
  private readonly latest = new Map<string, Diagnosis>();
  private readonly pending = new Set<Promise<unknown>>();
  private timer?: TimerHandle;
  private config: DiagnosisConfig;

  constructor(private readonly o: DiagnosisRunnerOptions) {
    this.config = o.config;
    this.incidents = new IncidentManager({ dir: o.dir, clock: o.clock, config: o.config, logger: o.logger.child({ component: 'incidents' }) });
    this.metrics = new IncidentMetrics(o.registry, this.incidents);
    this.bursts = new BurstPlanner(o.config);
  }

  async start(): Promise<void> {
    await this.incidents.load();
    const tick = () => {
      this.track(this.incidents.tick().then((events) => this.emit(events)));
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

  /** Resolves the incidents of targets that are gone (config reload, discovery). */
  retainTargets(names: string[]): void {
    for (const n of [...this.latest.keys()]) {
      if (names.includes(n)) continue;
      this.latest.delete(n);
      this.bursts.forget(n);
      this.metrics.forget(n);
    }
    this.track(this.incidents.retainTargets(names).then((events) => this.emit(events)));
  }

  latestFor(target: string): Diagnosis | undefined {
    return this.latest.get(target);
  }

  list(includeResolved = true): Incident[] {
    return this.incidents.list({ includeResolved });
  }

  /**
   * Called for every attempt before it is counted in metrics: diagnoses the target when there is something to
   * diagnose, labels a failure with its node, drives incidents and plans a burst.
   */
  onAttempt(a: Attempt, t: TargetConfig, history: TargetHistory): void {
    const now = this.o.clock.now();
    const prev = this.latest.get(t.name);
    const view = this.o.cluster.viewFor(t);
    let d = prev;
    if (this.worthDiagnosing(a, prev, t.name)) {
      d = diagnose({ target: t, attempts: history.since(this.config.windowMs, now), view, now, config: this.config });
      this.latest.set(t.name, d);
      this.metrics.recordDiagnosis(d);
      if (!prev || prev.verdict !== d.verdict) {
        this.o.logger.info('diagnosis changed', { target: t.name, from: prev?.verdict ?? null, to: d.verdict, confidence: round(d.confidence), suspectedNodes: d.suspectedNodes, summary: d.summary });
      }
      const seq = a.seq;
      this.track(this.incidents.update(t, d, { seq }).then((events) => this.emit(events)));
    }
    // A probe_error never left vipwatch: no node is to blame (it keeps node "unknown" in metrics).
    if (!a.ok && a.reason !== 'probe_error') {
      const at = attributeFailure(a, d, view);
      a.node = at.node;
      a.nodeHow = at.how;
    }
    const req = this.bursts.plan({ target: t.name, attempt: a, now, diagnosis: d, timeoutMs: t.timeoutMs });
    if (req) {
      const accepted = this.o.requestBurst(t.name, req);
      this.bursts.accepted(t.name, accepted);
      if (accepted) this.o.logger.info('burst started: more attempts to reach a verdict sooner', { target: t.name, count: accepted, spacingMs: req.spacingMs });
    }
  }

  /** Healthy targets with nothing in their window cost nothing: diagnose only when failures or an incident exist. */
  private worthDiagnosing(a: Attempt, prev: Diagnosis | undefined, target: string): boolean {
    if ((!a.ok && a.reason !== 'probe_error') || a.synRetransmit) return true;
    if (prev && prev.verdict !== 'healthy') return true;
    if (prev && prev.failures > 0) return true;
    return this.incidents.openFor(target) !== undefined;
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

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
