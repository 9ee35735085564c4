/**
 * The wall-time evaluation's scenarios and timings, and one job: a range of seeded runs of one scenario at one timing,
 * each measured. A run's seed depends only on the eval seed, the scenario and the run's index, so results do not
 * depend on how runs are split between workers (and both timings see the same onsets and fix times).
 */
import type { DiagnosisConfig } from '../src/config/sections/diagnosis.js';
import { rng, type Rng } from './eval-sim.js';
import { measure, type RunFigures } from './walltime-measure.js';
import { runTarget } from './walltime-run.js';

export interface WallScenario {
  name: string;
  /** Fault toggles after the onset (ms after it): fixed, back, fixed, ...; an odd count ends fixed. */
  toggles(r: Rng): number[];
  /** Background per-packet loss. */
  loss?: number;
}

export interface Timing {
  intervalMs: number;
  timeoutMs: number;
}

/** The README's default interval and timeout, and the lab's. */
export const TIMINGS: readonly Timing[] = [
  { intervalMs: 2000, timeoutMs: 2000 },
  { intervalMs: 500, timeoutMs: 400 },
];

const MIN = 60_000;
/** How long the flapping scenario flaps. */
export const FLAP_FOR_MS = 12 * MIN;

/** Toggles every 1-5 min for FLAP_FOR_MS after the onset, ending fixed. */
function flaps(r: Rng): number[] {
  const out: number[] = [];
  let at = 0;
  while (at < FLAP_FOR_MS || out.length % 2 === 0) {
    at += MIN + Math.floor(r() * 4 * MIN);
    out.push(at);
  }
  return out;
}

export const SCENARIOS: readonly WallScenario[] = [
  { name: 'fixed after 1 min', toggles: () => [1 * MIN] },
  { name: 'fixed after 2 min', toggles: () => [2 * MIN] },
  { name: 'fixed after 4 min', toggles: () => [4 * MIN] },
  { name: 'fixed after 2 min, 1% background loss', toggles: () => [2 * MIN], loss: 0.01 },
  { name: `flapping every 1-5 min for ${FLAP_FOR_MS / MIN} min`, toggles: flaps },
];

export interface WallJob {
  scenario: number;
  timing: number;
  /** Run indexes [from, to). */
  from: number;
  to: number;
  seed: number;
  config: DiagnosisConfig;
  /** Directory for the incident records of this job's runs. */
  dir: string;
}

export interface RunCounts {
  attempts: number;
  burstAttempts: number;
  bursts: number;
  skipped: number;
}

export interface JobResult {
  figures: RunFigures[];
  counts: RunCounts;
}

/** Healthy for 2-3 min, then the scenario's fault; each run lasts until the window has forgotten the last fix. */
export async function runJob(job: WallJob): Promise<JobResult> {
  const s = SCENARIOS[job.scenario]!;
  const t = TIMINGS[job.timing]!;
  const figures: RunFigures[] = [];
  const counts: RunCounts = { attempts: 0, burstAttempts: 0, bursts: 0, skipped: 0 };
  for (let k = job.from; k < job.to; k++) {
    const r = rng((job.seed * 9_000_011 + job.scenario * 1_000_003 + k) >>> 0);
    const onset = 2 * MIN + Math.floor(r() * MIN);
    const toggles = s.toggles(r).map((x) => onset + x);
    const endMs = (toggles.length % 2 === 1 ? toggles[toggles.length - 1]! : onset) + job.config.windowMs + 30_000;
    const trace = await runTarget({ ...t, onsetMs: onset, toggles, endMs, loss: s.loss ?? 0, config: job.config, dir: job.dir }, r);
    figures.push(measure(trace, onset, toggles, endMs));
    counts.attempts += trace.attempts;
    counts.burstAttempts += trace.burstAttempts;
    counts.bursts += trace.bursts;
    counts.skipped += trace.skipped;
  }
  return { figures, counts };
}
