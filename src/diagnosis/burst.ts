/**
 * Adaptive bursts: statistics set the number of attempts, not the wall time. When a target starts failing (a failed or
 * slow attempt, no verdict yet), ask the scheduler for a bounded burst of extra attempts so that the ~34 attempts a
 * node split needs arrive in seconds, while the steady rate stays low. While the verdict stays undecided (insufficient
 * data, or short of overwhelming so an incident would wait) the episode goes on with up to MAX_BURSTS_PER_EPISODE
 * bursts; a blamed node serving again while an incident is open gets one verification burst. A cooldown per target and
 * a global cap on concurrent bursts keep many failing targets from flooding anything. Time is passed in; no timers, no I/O.
 */
import type { DiagnosisConfig } from '../config/sections/diagnosis.js';
import type { Attempt } from '../history/attempt.js';
import { isDecided } from './strength.js';
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
  /** first: a target started failing; continuing: the same episode, still undecided; verifying: a change point. */
  why: 'first' | 'continuing' | 'verifying';
}

/** An episode: the first burst after a target starts failing, and the continuations within its cooldown. */
interface Episode {
  start: number;
  bursts: number;
}

/**
 * Bursts per episode at most (the first and its continuations): at the defaults 90 extra attempts per 5 minutes, enough
 * for an overwhelming verdict (p <= pValue^2) on a 1/3 share.
 */
export const MAX_BURSTS_PER_EPISODE = 3;

export class BurstPlanner {
  private readonly active = new Map<string, Active>();
  private readonly lastStart = new Map<string, number>();
  /** Per target: the change point last verified by a burst. */
  private readonly verified = new Map<string, number>();
  private readonly episodes = new Map<string, Episode>();

  constructor(private readonly config: Pick<DiagnosisConfig, 'burst' | 'minConfidence' | 'pValue'>) {}

  /** Call with every new attempt of a target; returns a burst to request, and reserves it, or undefined. */
  plan(input: BurstPlanInput): BurstRequest | undefined {
    const { target, attempt, now } = input;
    const b = this.config.burst;
    this.observe(target, attempt, now);
    if (b.count < 1 || b.maxConcurrent < 1) return undefined;
    // The probe's own stalls and resource faults say nothing about the target.
    if (attempt.stalled || attempt.reason === 'probe_error') return undefined;
    if (this.active.has(target)) return undefined;
    const last = this.lastStart.get(target);
    const verify = input.verifyChangeAt;
    if (verify !== undefined && this.verified.get(target) !== verify && !attempt.burst) {
      if (this.activeCount(now) >= b.maxConcurrent) return undefined;
      this.verified.set(target, verify);
      return this.start(target, now, last, input.timeoutMs, 'verifying');
    }
    // The episode's burst ended and the verdict is still undecided: go on (bounded) rather than wait on the schedule.
    const ep = this.episodes.get(target);
    if (ep && now - ep.start < b.cooldownMs && ep.bursts < MAX_BURSTS_PER_EPISODE && this.undecided(input.diagnosis)) {
      if (this.activeCount(now) >= b.maxConcurrent) return undefined;
      ep.bursts++;
      return this.start(target, now, last, input.timeoutMs, 'continuing');
    }
    // Burst attempts never start a new episode.
    if (attempt.burst) return undefined;
    if (attempt.ok && !attempt.synRetransmit) return undefined;
    if (last !== undefined && now - last < b.cooldownMs) return undefined;
    const d = input.diagnosis;
    if (d && d.verdict !== 'healthy' && d.verdict !== 'insufficient_data' && d.confidence >= this.config.minConfidence) return undefined;
    if (this.activeCount(now) >= b.maxConcurrent) return undefined;
    this.episodes.set(target, { start: now, bursts: 1 });
    return this.start(target, now, last, input.timeoutMs, 'first');
  }

  /** Still gathering evidence, or a verdict short of overwhelming (an incident would wait for it): more attempts help. */
  private undecided(d: Diagnosis | undefined): boolean {
    if (!d || d.verdict === 'healthy') return false;
    return d.verdict === 'insufficient_data' || !isDecided(d, this.config);
  }

  private start(target: string, now: number, last: number | undefined, timeoutMs: number | undefined, why: Active['why']): BurstRequest {
    const b = this.config.burst;
    // Waves of `concurrency` attempts: each takes the slots' worth of spacing, or a timeout when attempts time out.
    const concurrency = Math.max(1, b.concurrency);
    const wave = Math.max(b.spacingMs * concurrency, timeoutMs ?? 0);
    this.active.set(target, { left: b.count, until: now + Math.ceil(b.count / concurrency) * wave + b.spacingMs, previousStart: last, why });
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
    if (a.why === 'verifying') this.verified.delete(target);
    const ep = this.episodes.get(target);
    if (a.why === 'continuing' && ep) ep.bursts--;
    if (a.why === 'first') this.episodes.delete(target);
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
    this.episodes.delete(target);
  }

  private observe(target: string, attempt: Attempt, now: number): void {
    const a = this.active.get(target);
    if (!a) return;
    if (attempt.burst) a.left--;
    if (a.left <= 0 || a.until <= now) this.active.delete(target);
  }
}
