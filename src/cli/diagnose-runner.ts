/**
 * The attempts of `vipwatch diagnose`: up to `count` fresh connections with the real prober, started `spacingMs` apart
 * with at most `concurrency` in flight, never retried, each recorded as `vipwatch run` records one (cluster context,
 * backend node, stall flag) and followed by the same diagnosis. Stops early once the verdict is certain either way
 * (diagnose-stop.ts), or when the signal aborts (Ctrl-C); attempts still in flight then are abandoned, not recorded.
 */
import type { ClusterSource } from '../cluster/types.js';
import { contextToRecord } from '../cluster/view.js';
import { toProbeSpec } from '../config/probe-spec.js';
import type { DiagnosisConfig } from '../config/sections/diagnosis.js';
import type { TargetConfig } from '../config/targets.js';
import { diagnose } from '../diagnosis/diagnose.js';
import type { Diagnosis } from '../diagnosis/types.js';
import { makeAttempt, type Attempt } from '../history/attempt.js';
import { DeadlineError, sleep, type Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Prober } from '../probe/types.js';
import { certainty } from './diagnose-stop.js';

export type StopReason = 'count' | 'healthy' | 'problem' | 'interrupted';

export interface RunnerOptions {
  target: TargetConfig;
  prober: Prober;
  /** The cluster view, asked once per attempt as the scheduler asks it; none without --service. */
  cluster?: Pick<ClusterSource, 'snapshot'>;
  config: DiagnosisConfig;
  count: number;
  concurrency: number;
  spacingMs: number;
  clock: Clock;
  /** Aborts the run (Ctrl-C): no new attempt starts, those in flight are abandoned, the result holds what was recorded. */
  signal?: AbortSignal;
  /** Flags attempts made while the process itself stalled (they are left out of the diagnosis). */
  stalledBetween?: (fromMono: number, toMono: number) => boolean;
  /** After each recorded attempt, with the diagnosis it led to. */
  onAttempt?: (a: Attempt, d: Diagnosis, recorded: number) => void;
}

export interface RunOutcome {
  /** Recorded attempts, in the order they finished (as a target's history holds them). */
  attempts: Attempt[];
  /** The diagnosis of every recorded attempt. */
  diagnosis: Diagnosis;
  stop: StopReason;
  /** Attempts started; those in flight when the run stopped are `abandoned`. */
  started: number;
  abandoned: number;
  /** A prober that threw instead of returning a result: vipwatch's own bug, never the VIP's failure. */
  proberErrors: string[];
  /** Failed attempts whose response named its backend, by seq: the node it maps to (an observed attribution). */
  observedNodes: Map<number, string>;
  /** Epoch ms of the first start and of the end; wall time taken in ms (monotonic). */
  startedAt: number;
  endedAt: number;
  elapsedMs: number;
}

export async function runAttempts(o: RunnerOptions): Promise<RunOutcome> {
  const { target, clock, config } = o;
  const spec = toProbeSpec(target);
  const attempts: Attempt[] = [];
  const observedNodes = new Map<number, string>();
  const proberErrors: string[] = [];
  const inFlight = new Set<Promise<void>>();
  // Fires on an early stop and on Ctrl-C: stops the loop, its spacing wait, and every attempt in flight.
  const stopAll = new AbortController();
  let stop: StopReason = 'count';
  let latest: Diagnosis | undefined;
  let started = 0;
  let abandoned = 0;
  const onInterrupt = () => {
    if (stopAll.signal.aborted) return;
    stop = 'interrupted';
    stopAll.abort();
  };
  if (o.signal?.aborted) onInterrupt();
  else o.signal?.addEventListener('abort', onInterrupt, { once: true });
  const stopped = new Promise<void>((r) => stopAll.signal.addEventListener('abort', () => r(), { once: true }));
  const startedAt = clock.now();
  const t0 = clock.monotonic();

  const record = (a: Attempt, view: Parameters<typeof diagnose>[0]['view']) => {
    attempts.push(a);
    latest = diagnose({ target, attempts, view, now: clock.now(), config });
    o.onAttempt?.(a, latest, attempts.length);
    const certain = certainty(latest, config);
    if (certain && !stopAll.signal.aborted) {
      stop = certain;
      stopAll.abort();
    }
  };

  const attempt = () => {
    started++;
    const at = clock.now();
    const startMono = clock.monotonic();
    const snapshot = o.cluster?.snapshot(target);
    const ac = new AbortController();
    const deadline = clock.setTimeout(() => ac.abort(new DeadlineError(target.timeoutMs)), target.timeoutMs);
    const onStop = () => ac.abort(stopAll.signal.reason);
    stopAll.signal.addEventListener('abort', onStop, { once: true });
    const done = o.prober.probe(spec, ac.signal).then(
      (result) => {
        // Ended by the stop, or finished after it: the verdict was already given (or Ctrl-C asked for it).
        if (stopAll.signal.aborted) {
          abandoned++;
          return;
        }
        const a = makeAttempt(result, {
          seq: attempts.length + 1,
          target: target.name,
          startedAt: at,
          stalled: o.stalledBetween?.(startMono, clock.monotonic()) ?? false,
          burst: false,
          cluster: contextToRecord(snapshot),
          backendNode: result.ok && result.backend ? snapshot?.nodeOf(result.backend) : undefined,
        });
        const named = !result.ok && result.backend ? snapshot?.nodeOf(result.backend) : undefined;
        if (named !== undefined) observedNodes.set(a.seq, named);
        record(a, snapshot?.view);
      },
      (err: unknown) => {
        proberErrors.push(errorMessage(err));
      },
    ).finally(() => {
      clock.clearTimeout(deadline);
      stopAll.signal.removeEventListener('abort', onStop);
      inFlight.delete(done);
    });
    inFlight.add(done);
  };

  let lastStart = -Infinity;
  while (started < o.count && !stopAll.signal.aborted) {
    while (inFlight.size >= o.concurrency && !stopAll.signal.aborted) await Promise.race([stopped, ...inFlight]);
    if (stopAll.signal.aborted) break;
    const wait = lastStart + o.spacingMs - clock.monotonic();
    if (wait > 0) {
      try {
        await sleep(clock, wait, stopAll.signal);
      } catch {
        break;
      }
    }
    lastStart = clock.monotonic();
    attempt();
  }
  await Promise.all(inFlight);
  o.signal?.removeEventListener('abort', onInterrupt);
  const diagnosis = latest ?? diagnose({ target, attempts, view: o.cluster?.snapshot(target).view, now: clock.now(), config });
  return { attempts, diagnosis, stop, started, abandoned, proberErrors, observedNodes, startedAt, endedAt: clock.now(), elapsedMs: clock.monotonic() - t0 };
}
