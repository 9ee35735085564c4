/**
 * Diagnosis, attempt by attempt: for each recorded attempt it returns the target's verdict (when re-diagnosed), the node
 * the attempt is attributed to (a failure), a burst to ask for and the failover gap it closed. It holds only its own
 * memory (the latest verdict, the burst plan and the failover tracker per target); it does no I/O and calls nothing:
 * the pipeline hands its output on.
 */
import type { TargetClusterView } from '../cluster/types.js';
import type { DiagnosisConfig } from '../config/sections/diagnosis.js';
import type { TargetConfig } from '../config/targets.js';
import type { Attempt, FailureAttribution } from '../history/attempt.js';
import type { TargetHistory } from '../history/history.js';
import { attributeFailure } from './attribution.js';
import { BurstPlanner, type BurstRequest } from './burst.js';
import { diagnose } from './diagnose.js';
import { failoverGapsLine, FailoverGapTracker, gapsInWindow, type FailoverGap } from './failover-gaps.js';
import type { Diagnosis, KnownFix } from './types.js';

export interface DiagnosisStepInput {
  attempt: Attempt;
  target: TargetConfig;
  /** The target's history, the attempt already recorded in it. */
  history: TargetHistory;
  /** The cluster view the attempt was made under (its snapshot). */
  view: TargetClusterView | undefined;
  now: number;
  /** An incident is open for the target: keep diagnosing until it can resolve, even while attempts succeed. */
  incidentOpen: boolean;
}

export interface DiagnosisStep {
  /** The target's verdict after this attempt (the previous one when the attempt gave nothing new to diagnose). */
  diagnosis: Diagnosis | undefined;
  /** The verdict was computed for this attempt: hand it to incidents. */
  diagnosed: boolean;
  /** The verdict kind differs from the one before. */
  changed: boolean;
  /** The verdict kind before this attempt, if any. */
  previousVerdict: Diagnosis['verdict'] | undefined;
  /** For a failure: the node it is blamed on, and how that is known. */
  attribution: FailureAttribution | undefined;
  /** Extra attempts to ask the scheduler for; report what it accepted with burstAccepted(). */
  burst: BurstRequest | undefined;
  /** The failover gap this attempt closed (a success through a new announcer: see failover-gaps.ts), if any. */
  failoverGap?: FailoverGap;
}

export class DiagnosisEngine {
  private readonly bursts: BurstPlanner;
  private readonly latest = new Map<string, Diagnosis>();
  private readonly failovers = new Map<string, FailoverGapTracker>();
  private readonly fixes = new Map<string, KnownFix>();

  constructor(private readonly config: DiagnosisConfig) {
    this.bursts = new BurstPlanner(config);
  }

  step(input: DiagnosisStepInput): DiagnosisStep {
    const { attempt: a, target: t, view, now } = input;
    const prev = this.latest.get(t.name);
    let d = prev;
    const failoverGap = this.failoverGap(input);
    const diagnosed = this.worthDiagnosing(a, prev, input.incidentOpen);
    if (diagnosed) {
      const knownFix = this.fixes.get(t.name);
      d = this.withFailoverGaps(diagnose({ target: t, attempts: input.history.since(this.config.windowMs, now), view, now, config: this.config, knownFix }));
      this.latest.set(t.name, d);
      this.rememberFix(t.name, d);
    }
    // A probe_error never left vipwatch: no node is to blame (it keeps node "unknown" in metrics).
    const attribution = !a.ok && a.reason !== 'probe_error' ? attributeFailure(a, d, view) : undefined;
    // A blamed node serving again while an incident is open: verify the fix with a burst instead of waiting for the schedule.
    const verifyChangeAt = input.incidentOpen && d?.changePoint?.kind === 'served_again' ? d.changePoint.at : undefined;
    const burst = this.bursts.plan({ target: t.name, attempt: a, now, diagnosis: d, timeoutMs: t.timeoutMs, verifyChangeAt });
    const out: DiagnosisStep = { diagnosis: d, diagnosed, changed: diagnosed && (!prev || prev.verdict !== d!.verdict), previousVerdict: prev?.verdict, attribution, burst };
    if (failoverGap) out.failoverGap = failoverGap;
    return out;
  }

  /**
   * The newest fix the diagnosis judged from (served_again), kept for the next diagnosis: the attempts that proved it
   * age out of the window long before the fix itself does. A diagnosis without it (its attempt left the window) drops it.
   */
  private rememberFix(target: string, d: Diagnosis): void {
    const cp = d.changePoint;
    if (cp?.kind === 'served_again' && cp.node !== undefined) this.fixes.set(target, { at: cp.at, node: cp.node, blamed: cp.blamed ?? [cp.node] });
    else this.fixes.delete(target);
  }

  /** Feeds the attempt to the target's failover tracker; returns the gap it closed. */
  private failoverGap({ attempt, target, history, now }: DiagnosisStepInput): FailoverGap | undefined {
    let tracker = this.failovers.get(target.name);
    if (!tracker) this.failovers.set(target.name, (tracker = new FailoverGapTracker(this.config.windowMs)));
    return tracker.feed(attempt, () => history.since(this.config.windowMs, now));
  }

  /** The target's failover gaps in the window, as one more evidence line (the diagnosis itself is not changed). */
  private withFailoverGaps(d: Diagnosis): Diagnosis {
    const gaps = this.failovers.get(d.target)?.recent();
    const line = gaps && failoverGapsLine(gapsInWindow(gaps, this.config.windowMs, d.at));
    return line ? { ...d, evidence: [...d.evidence, line] } : d;
  }

  /** What the scheduler accepted of the burst just returned: 0 releases it (no cooldown), fewer shortens it. */
  burstAccepted(target: string, count: number): void {
    this.bursts.accepted(target, count);
  }

  latestFor(target: string): Diagnosis | undefined {
    return this.latest.get(target);
  }

  /** Forgets a target that is gone. */
  forget(target: string): void {
    this.latest.delete(target);
    this.bursts.forget(target);
    this.failovers.delete(target);
    this.fixes.delete(target);
  }

  /** Targets with a remembered verdict. */
  targets(): string[] {
    return [...this.latest.keys()];
  }

  /** Healthy targets with nothing in their window cost nothing: diagnose only when failures or an incident exist. */
  private worthDiagnosing(a: Attempt, prev: Diagnosis | undefined, incidentOpen: boolean): boolean {
    if ((!a.ok && a.reason !== 'probe_error') || a.synRetransmit) return true;
    if (prev && prev.verdict !== 'healthy') return true;
    if (prev && prev.failures > 0) return true;
    return incidentOpen;
  }
}
