/**
 * The wall-time evaluation (issue 12, part 4): per transition scenario, seconds from a fault's onset to the alert
 * (incident opened) and from the fix to the resolve, at the README's 2 s interval / 2 s timeout and the lab's 500 ms /
 * 400 ms, with simulated timeouts taking their real time, through the real chain (history, diagnosis engine with its
 * bursts, incident manager) with DIAGNOSIS_DEFAULTS; and the seconds the diagnosis spent in a wrong kind (goal 0).
 * One target of 3 nodes, one endpoint each, announcer node-1, backend identity; the fault is strict rp_filter on node-2
 * (every connection handed to its pod times out), starting after 2-3 min healthy. `npm run eval` prints it as
 * `wallTime`; nothing runs at import.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DIAGNOSIS_DEFAULTS, type DiagnosisConfig } from '../src/config/sections/diagnosis.js';
import type { RunFigures, WrongKind } from './walltime-measure.js';
import { runJob, SCENARIOS, TIMINGS, type JobResult, type RunCounts, type Timing, type WallJob, type WallScenario } from './walltime-scenarios.js';
import { WORKER_ROLE, type WorkerData, type WorkerReply } from './walltime-worker.js';

export interface WallTimeOptions {
  quick: boolean;
  seed: number;
  /**
   * Runs per scenario and timing; default 200 (30 with quick): 300 cost about 380 s of CPU on this machine's cores,
   * more than the whole eval may take.
   */
  runs?: number;
  /** Scenario names to run; default all. */
  only?: readonly string[];
  config?: DiagnosisConfig;
  /** Worker threads; 0 runs everything in this thread. Default: the CPUs, at most 2. */
  workers?: number;
}

export interface WallTimeRow {
  scenario: string;
  intervalMs: number;
  timeoutMs: number;
  runs: number;
  /** Onset -> incident open (while the fault first held); named: asymmetric_routing on node-2 alone. */
  alert: { medianS: number | null; p99S: number | null; alerted: number; namedNode2: number };
  /** Last fix -> incident resolved; openAtFix: share of runs with an incident open then, resolved: share of those. */
  resolve: { medianS: number | null; p99S: number | null; openAtFix: number; resolved: number };
  /** The diagnosis alone: onset -> first asymmetric_routing on node-2, last fix -> first healthy verdict. */
  diagnosis: { verdictMedianS: number | null; verdictP99S: number | null; healthyMedianS: number | null; healthyP99S: number | null };
  /** Wrong kinds (anything but asymmetric_routing, insufficient_data, healthy): totals over the runs. */
  wrongKind: { whileFaulty: WrongTotal; afterFix: WrongTotal; beforeOnset: WrongTotal };
  /** Incidents opened before the fault started (false alarms), over all runs. */
  opensBeforeOnset: number;
  perRun: {
    incidents: { median: number | null; max: number | null };
    /** Incident events: open (re-opens included), update, resolved, reminder. */
    notifications: { median: number | null; p99: number | null; max: number | null };
    opens: { median: number | null; max: number | null };
    /** Means per run. */
    attempts: number;
    burstAttempts: number;
    bursts: number;
    skipped: number;
  };
}

export interface WallTimeReport {
  runs: number;
  model: string;
  rows: WallTimeRow[];
}

/** Runs per job handed to a worker. */
const CHUNK = 25;

/**
 * Runs every scenario at every timing. The workers start before this returns (nothing here awaits first), so they run
 * while the caller keeps its thread busy. The incident records go to a temp dir, removed at the end.
 */
export function wallTime(opts: WallTimeOptions): Promise<WallTimeReport> {
  const runs = opts.runs ?? (opts.quick ? 30 : 200);
  const config = opts.config ?? DIAGNOSIS_DEFAULTS;
  const workers = opts.workers ?? Math.min(2, availableParallelism());
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'vipwatch-eval-walltime-'));
  const jobs: WallJob[] = [];
  SCENARIOS.forEach((s, scenario) => {
    if (opts.only && !opts.only.includes(s.name)) return;
    TIMINGS.forEach((_, timing) => {
      for (let from = 0; from < runs; from += CHUNK) {
        jobs.push({ scenario, timing, from, to: Math.min(runs, from + CHUNK), seed: opts.seed, config, dir: join(dir, `job-${jobs.length}`) });
      }
    });
  });
  const done = workers > 0 ? inWorkers(jobs, workers) : inThisThread(jobs);
  return done
    .then((results) => ({ runs, model: MODEL, rows: rows(jobs, results) }))
    .finally(() => rm(dir, { recursive: true, force: true }));
}

const MODEL =
  'one target, 3 nodes with one endpoint each, announcer node-1, backend identity; strict rp_filter on node-2 (its ' +
  'connections time out) after 2-3 min healthy; the real history, diagnosis engine (bursts included) and incident ' +
  'manager with the diagnosis defaults, in virtual time';

function rows(jobs: WallJob[], results: JobResult[]): WallTimeRow[] {
  const out: WallTimeRow[] = [];
  SCENARIOS.forEach((s, si) => {
    TIMINGS.forEach((t, ti) => {
      const mine = jobs.map((j, i) => [j, results[i]!] as const).filter(([j]) => j.scenario === si && j.timing === ti);
      if (!mine.length) return;
      const counts: RunCounts = { attempts: 0, burstAttempts: 0, bursts: 0, skipped: 0 };
      for (const [, r] of mine) for (const k of Object.keys(counts) as (keyof RunCounts)[]) counts[k] += r.counts[k];
      out.push(row(s, t, mine.flatMap(([, r]) => r.figures), counts));
    });
  });
  return out;
}

async function inThisThread(jobs: WallJob[]): Promise<JobResult[]> {
  const out: JobResult[] = [];
  for (const j of jobs) out.push(await runJob(j));
  return out;
}

/**
 * Each worker gets its share of the jobs when it starts (costliest first, dealt round-robin: flapping and background
 * loss diagnose the most), so the workers run even while this thread is busy.
 */
async function inWorkers(jobs: WallJob[], n: number): Promise<JobResult[]> {
  const order = jobs.map((_, i) => i).sort((a, b) => jobs[b]!.scenario - jobs[a]!.scenario || a - b);
  const shares = Array.from({ length: Math.min(n, jobs.length) }, (_, w) => order.filter((_, k) => k % n === w));
  const results: JobResult[] = new Array(jobs.length);
  await Promise.all(shares.map(async (share) => {
    const got = await inWorker(share.map((i) => jobs[i]!));
    share.forEach((i, k) => (results[i] = got[k]!));
  }));
  return results;
}

function inWorker(jobs: WallJob[]): Promise<JobResult[]> {
  const data: WorkerData = { role: WORKER_ROLE, jobs };
  const w = new Worker(new URL('./walltime-worker.js', import.meta.url), { workerData: data });
  return new Promise<JobResult[]>((resolve, reject) => {
    w.once('message', (m: WorkerReply) => (m.ok ? resolve(m.results) : reject(new Error(`wall-time jobs failed in a worker: ${m.error}`))));
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`wall-time worker exited (code ${code}) before reporting`)));
  }).finally(() => void w.terminate());
}

function row(s: WallScenario, t: Timing, figs: RunFigures[], sums: RunCounts): WallTimeRow {
  const n = figs.length;
  const vals = (f: (x: RunFigures) => number | null) => figs.map(f).filter((x): x is number => x !== null);
  const alerts = vals((f) => f.alertS);
  const resolves = vals((f) => f.resolveS);
  const openAtFix = figs.filter((f) => f.openAtLastFix).length;
  const verdicts = vals((f) => f.verdictS);
  const healthy = vals((f) => f.healthyS);
  const inc = figs.map((f) => f.incidents);
  const notes = figs.map((f) => f.notifications);
  const opens = figs.map((f) => f.opens);
  const mean = (x: number) => Math.round((x / n) * 10) / 10;
  return {
    scenario: s.name, intervalMs: t.intervalMs, timeoutMs: t.timeoutMs, runs: n,
    alert: { medianS: q(alerts, 0.5), p99S: q(alerts, 0.99), alerted: alerts.length / n, namedNode2: figs.filter((f) => f.namedNode2).length / n },
    resolve: { medianS: q(resolves, 0.5), p99S: q(resolves, 0.99), openAtFix: openAtFix / n, resolved: openAtFix ? resolves.length / openAtFix : 0 },
    diagnosis: { verdictMedianS: q(verdicts, 0.5), verdictP99S: q(verdicts, 0.99), healthyMedianS: q(healthy, 0.5), healthyP99S: q(healthy, 0.99) },
    wrongKind: { whileFaulty: total(figs.map((f) => f.wrongWhileFaulty)), afterFix: total(figs.map((f) => f.wrongAfterFix)), beforeOnset: total(figs.map((f) => f.wrongBeforeOnset)) },
    opensBeforeOnset: figs.reduce((a, f) => a + f.opensBeforeOnset, 0),
    perRun: {
      incidents: { median: q(inc, 0.5), max: q(inc, 1) },
      notifications: { median: q(notes, 0.5), p99: q(notes, 0.99), max: q(notes, 1) },
      opens: { median: q(opens, 0.5), max: q(opens, 1) },
      attempts: mean(sums.attempts), burstAttempts: mean(sums.burstAttempts), bursts: mean(sums.bursts), skipped: mean(sums.skipped),
    },
  };
}

type WrongTotal = WrongKind & { runsWithAny: number };

function total(ws: WrongKind[]): WrongTotal {
  const out: WrongTotal = { seconds: 0, diagnoses: 0, byKind: {}, readingPreFix: 0, runsWithAny: 0 };
  for (const w of ws) {
    out.seconds += w.seconds;
    out.diagnoses += w.diagnoses;
    out.readingPreFix += w.readingPreFix;
    if (w.diagnoses) out.runsWithAny++;
    for (const [k, v] of Object.entries(w.byKind)) out.byKind[k] = (out.byKind[k] ?? 0) + v;
  }
  out.seconds = Math.round(out.seconds * 10) / 10;
  return out;
}

/** The q-quantile (nearest rank), seconds rounded to 0.1. */
function q(xs: number[], p: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]! * 10) / 10;
}
