/**
 * Adaptive bursts: statistics set the number of attempts, not the wall time. When a target starts failing (a failed or
 * slow attempt, no verdict yet), ask the scheduler for a bounded burst of extra attempts so that the ~34 attempts a
 * node split needs arrive in seconds, while the steady rate stays low. A cooldown per target and a global cap on
 * concurrent bursts keep many failing targets from flooding anything. Time is passed in; no timers, no I/O.
 */
import type { DiagnosisConfig } from '../config/sections/diagnosis.js';
import type { Attempt } from '../history/attempt.js';
import type { Diagnosis } from './types.js';

export interface BurstRequest {
  count: number;
  spacingMs: number;
  /** Burst attempts in flight at once. */
  concurrency: number;
}

export interface BurstPlanInput {
  target: string;
  /** The target's newest attempt. */
  attempt: Attempt;
  now: number;
  /** The target's latest diagnosis: no burst when it already holds a confident verdict. */
  diagnosis?: Diagnosis;
  /** The target's probe timeout: bounds how long a burst can take. */
  timeoutMs?: number;
  /**
   * Start (epoch ms) of a change point to verify (a blamed node served again while an incident is open): one burst per
   * change point, whatever the cooldown, so the attempts that prove the fix arrive in seconds.
   */
  verifyChangeAt?: number;
}

interface Active {
  /** Burst attempts still expected. */
  left: number;
  /** The burst is over by then at the latest (attempts can be skipped or lost). */
  until: number;
  previousStart?: number;
  /** Started to verify a change point: if refused, the next attempt may ask again. */
  verifying?: boolean;
}

export class BurstPlanner {
  private readonly active = new Map<string, Active>();
  private readonly lastStart = new Map<string, number>();
  /** Per target: the change point last verified by a burst. */
  private readonly verified = new Map<string, number>();

  constructor(private readonly config: Pick<DiagnosisConfig, 'burst' | 'minConfidence'>) {}

  /** Call with every new attempt of a target; returns a burst to request, and reserves it, or undefined. */
  plan(input: BurstPlanInput): BurstRequest | undefined {
    const { target, attempt, now } = input;
    const b = this.config.burst;
    this.observe(target, attempt, now);
    if (b.count < 1 || b.maxConcurrent < 1) return undefined;
    // The probe's own stalls and resource faults say nothing about the target; burst attempts never trigger more bursts.
    if (attempt.stalled || attempt.burst || attempt.reason === 'probe_error') return undefined;
    if (this.active.has(target)) return undefined;
    const last = this.lastStart.get(target);
    const verify = input.verifyChangeAt;
    if (verify !== undefined && this.verified.get(target) !== verify) {
      if (this.activeCount(now) >= b.maxConcurrent) return undefined;
      this.verified.set(target, verify);
      const req = this.start(target, now, last, input.timeoutMs);
      this.active.get(target)!.verifying = true;
      return req;
    }
    if (attempt.ok && !attempt.synRetransmit) return undefined;
    if (last !== undefined && now - last < b.cooldownMs) return undefined;
    const d = input.diagnosis;
    if (d && d.verdict !== 'healthy' && d.verdict !== 'insufficient_data' && d.confidence >= this.config.minConfidence) return undefined;
    if (this.activeCount(now) >= b.maxConcurrent) return undefined;
    return this.start(target, now, last, input.timeoutMs);
  }

  private start(target: string, now: number, last: number | undefined, timeoutMs: number | undefined): BurstRequest {
    const b = this.config.burst;
    // Waves of `concurrency` attempts: each takes the slots' worth of spacing, or a timeout when attempts time out.
    const concurrency = Math.max(1, b.concurrency);
    const wave = Math.max(b.spacingMs * concurrency, timeoutMs ?? 0);
    this.active.set(target, { left: b.count, until: now + Math.ceil(b.count / concurrency) * wave + b.spacingMs, previousStart: last });
    this.lastStart.set(target, now);
    return { count: b.count, spacingMs: b.spacingMs, concurrency };
  }

  /** What the scheduler accepted for the burst just planned: 0 releases it (no cooldown), fewer shortens it. */
  accepted(target: string, count: number): void {
    const a = this.active.get(target);
    if (!a) return;
    if (count > 0) {
      a.left = Math.min(a.left, count);
      return;
    }
    this.active.delete(target);
    if (a.verifying) this.verified.delete(target);
    if (a.previousStart === undefined) this.lastStart.delete(target);
    else this.lastStart.set(target, a.previousStart);
  }

  /** Bursts running now (across all targets). */
  activeCount(now: number): number {
    let n = 0;
    for (const [t, a] of this.active) {
      if (a.until <= now || a.left <= 0) this.active.delete(t);
      else n++;
    }
    return n;
  }

  isBursting(target: string, now: number): boolean {
    this.activeCount(now);
    return this.active.has(target);
  }

  forget(target: string): void {
    this.active.delete(target);
    this.lastStart.delete(target);
    this.verified.delete(target);
  }

  private observe(target: string, attempt: Attempt, now: number): void {
    const a = this.active.get(target);
    if (!a) return;
    if (attempt.burst) a.left--;
    if (a.left <= 0 || a.until <= now) this.active.delete(target);
  }
}
