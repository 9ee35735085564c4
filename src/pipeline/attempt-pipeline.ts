/**
 * The one-way path of a recorded attempt: diagnosis (verdict, attribution, burst, failover gap) -> history's attribution
 * -> metrics -> incidents -> the scheduler's bursts -> logs and listeners. Each stage gets what the earlier ones produced as
 * arguments, so no order of calls elsewhere can label an attempt wrongly; nothing downstream calls back up.
 */
import type { ClusterSnapshot } from '../cluster/types.js';
import type { TargetConfig } from '../config/targets.js';
import type { BurstRequest } from '../diagnosis/burst.js';
import type { DiagnosisEngine, DiagnosisStep } from '../diagnosis/engine.js';
import type { Attempt, FailureAttribution } from '../history/attempt.js';
import { attemptJson } from '../history/attempt-json.js';
import type { TargetHistory } from '../history/history.js';
import { round, type IncidentService } from '../incidents/service.js';
import type { Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { ProbeMetrics } from '../metrics/probe-metrics.js';
import type { SelfErrorMonitor } from '../metrics/self-errors.js';
import { targetStatus, type TargetStatus } from '../schedule/target-status.js';

export interface AttemptPipelineOptions {
  clock: Clock;
  logger: Logger;
  diagnosis: DiagnosisEngine;
  incidents: Pick<IncidentService, 'update' | 'isOpen'>;
  metrics: Pick<ProbeMetrics, 'record' | 'failoverGap'>;
  selfErrors: Pick<SelfErrorMonitor, 'observe'>;
  /** Asks the scheduler for extra attempts; returns how many it accepted. */
  requestBurst(target: string, req: BurstRequest): number;
}

/** What one attempt produced, for listeners (tests, the bench). */
export interface AttemptOutcome {
  attempt: Attempt;
  target: TargetConfig;
  attribution: FailureAttribution | undefined;
}

export class AttemptPipeline {
  private readonly status = new Map<string, TargetStatus>();
  private readonly listeners: ((o: AttemptOutcome) => void)[] = [];

  constructor(private readonly o: AttemptPipelineOptions) {}

  onOutcome(listener: (o: AttemptOutcome) => void): void {
    this.listeners.push(listener);
  }

  /** Drops what the pipeline remembers of a target that is gone. */
  forget(target: string): void {
    this.status.delete(target);
    this.o.diagnosis.forget(target);
  }

  handle(attempt: Attempt, target: TargetConfig, history: TargetHistory, snapshot: ClusterSnapshot | undefined): void {
    const { clock, logger } = this.o;
    const now = clock.now();
    const step = this.diagnose(attempt, target, history, snapshot, now);
    const attribution = step?.attribution;
    if (attribution) history.attribute(attempt.seq, attribution);
    this.o.metrics.record(attempt, target, attribution);
    if (step?.failoverGap?.seconds != null) this.o.metrics.failoverGap(target, step.failoverGap.seconds);
    this.o.selfErrors.observe(attempt);
    if (step) this.forward(step, attempt, target);
    if (logger.enabled('debug')) logger.debug('attempt', { target: target.name, ...attemptJson(attempt, attribution) });
    this.logStatus(attempt, target, history, now);
    for (const l of this.listeners) l({ attempt, target, attribution });
  }

  /** A failing diagnosis must not lose the attempt: it is counted without a node label, and said so. */
  private diagnose(attempt: Attempt, target: TargetConfig, history: TargetHistory, snapshot: ClusterSnapshot | undefined, now: number): DiagnosisStep | undefined {
    try {
      return this.o.diagnosis.step({ attempt, target, history, view: snapshot?.view, now, incidentOpen: this.o.incidents.isOpen(target.name) });
    } catch (err) {
      this.o.logger.error('diagnosis failed for an attempt (counted without a node label)', { target: target.name, seq: attempt.seq, error: errorMessage(err) });
      return undefined;
    }
  }

  /** Verdicts to incidents, burst requests to the scheduler. */
  private forward(step: DiagnosisStep, attempt: Attempt, target: TargetConfig): void {
    const d = step.diagnosis;
    if (step.diagnosed && d) {
      if (step.changed) {
        this.o.logger.info('diagnosis changed', { target: target.name, from: step.previousVerdict ?? null, to: d.verdict, confidence: round(d.confidence), suspectedNodes: d.suspectedNodes, summary: d.summary });
      }
      this.o.incidents.update(target, d, attempt.seq);
    }
    if (step.burst) {
      const accepted = this.o.requestBurst(target.name, step.burst);
      this.o.diagnosis.burstAccepted(target.name, accepted);
      if (accepted) this.o.logger.info('burst started: more attempts to reach a verdict sooner', { target: target.name, count: accepted, spacingMs: step.burst.spacingMs });
    }
  }

  private logStatus(a: Attempt, t: TargetConfig, history: TargetHistory, now: number): void {
    const status = targetStatus(history, now);
    const prev = this.status.get(t.name) ?? 'unknown';
    if (status === prev) return;
    this.status.set(t.name, status);
    const s = history.stats('1m', now);
    this.o.logger.info('target status changed', { target: t.name, from: prev, to: status, failures1m: s.failures, attempts1m: s.attempts, lastReason: a.reason ?? null });
  }
}
