/**
 * `npm run eval`: feeds seeded simulated attempt streams to the real `diagnose` and prints JSON: a confusion matrix,
 * detection latency in attempts next to the statistical floor, and the false asymmetric_routing count over 10,000
 * healthy / random-loss windows, the transition scenarios attempt by attempt, and `wallTime`: seconds to the alert and
 * to the resolve through the whole decision chain in virtual time (eval-walltime.ts, in worker threads), and the other
 * causes of "works sometimes" (eval-causes.ts: eTP Local without a local endpoint, failures in blocks) as families of
 * the matrix plus `flapping`: the verdict attempt by attempt while failures come and go in blocks, and the split-brain
 * families (announcement_conflict, from the MAC each attempt went to).
 * Usage: node dist/bench/eval.js [seed] [--quick] [--walltime-runs=N]
 */
import { DIAGNOSIS_DEFAULTS, type DiagnosisConfig } from '../src/config/sections/diagnosis.js';
import type { TargetConfig } from '../src/config/targets.js';
import { diagnose } from '../src/diagnosis/diagnose.js';
import type { Diagnosis, Verdict } from '../src/diagnosis/types.js';
import { DEFAULT_SCENARIO, rng, simulate, type Rng, type Scenario, type SimEvent } from './eval-sim.js';
import { causeFamilies, flapping } from './eval-causes.js';
import { wallTime } from './eval-walltime.js';

interface Family {
  name: string;
  truth: Verdict;
  runs: number;
  scenario(r: Rng): Partial<Scenario>;
  /** Expected suspected nodes (exact set) for a detection to count; undefined: any. */
  nodes?: string[];
  /** Attempts after onset before which the evidence cannot exist yet (e.g. a failover restarts it). */
  countFrom?: number;
  floor?: { share: number };
  /** Only verdicts made under a newer cluster view than the one at onset count (the evidence must be rebuilt). */
  newView?: boolean;
  /** Verdicts to count the runs showing at any attempt (a negative's false alarms). */
  watch?: Verdict[];
  /** The target's interval and timeout are the scenario's (the families before the split-brain ones judge with 2 s). */
  scenarioTarget?: boolean;
}

const target: TargetConfig = {
  name: 'web', address: '192.0.2.100', port: 80, protocol: 'http', intervalMs: 2000, timeoutMs: 2000, service: 'default/web', origin: 'static',
};

const rp2: Partial<Scenario> = { fault: { kind: 'rp_filter', nodes: ['node-2'] } };

function families(quick: boolean): Family[] {
  const n = (x: number) => (quick ? Math.max(20, Math.round(x / 10)) : x);
  return [
    { name: 'rp_filter 1/3, identity', truth: 'asymmetric_routing', runs: n(2000), nodes: ['node-2'], floor: { share: 1 / 3 }, scenario: () => rp2 },
    { name: 'rp_filter 1/3, identity, fresh view', truth: 'asymmetric_routing', runs: n(1000), nodes: ['node-2'], floor: { share: 1 / 3 }, scenario: () => ({ ...rp2, warmup: 0 }) },
    { name: 'rp_filter 1/3, identity, 1% loss, stalls', truth: 'asymmetric_routing', runs: n(500), nodes: ['node-2'], floor: { share: 1 / 3 }, scenario: () => ({ ...rp2, loss: 0.01, stallRate: 0.03 }) },
    { name: 'rp_filter 2/3, identity', truth: 'asymmetric_routing', runs: n(1000), nodes: ['node-2', 'node-3'], floor: { share: 2 / 3 }, scenario: () => ({ fault: { kind: 'rp_filter', nodes: ['node-2', 'node-3'] } }) },
    { name: 'rp_filter 1/3, no identity', truth: 'asymmetric_routing', runs: n(500), nodes: ['node-2', 'node-3'], scenario: () => ({ ...rp2, identity: false, length: 150 }) },
    { name: 'rp_filter 2/3, no identity', truth: 'asymmetric_routing', runs: n(500), nodes: ['node-2', 'node-3'], scenario: () => ({ fault: { kind: 'rp_filter', nodes: ['node-2', 'node-3'] }, identity: false, length: 150 }) },
    {
      name: 'rp_filter 1/3, announcer failover at +30', truth: 'asymmetric_routing', runs: n(500), nodes: ['node-2'], countFrom: 30, newView: true, floor: { share: 1 / 3 },
      scenario: () => ({ ...rp2, length: 130, events: [{ at: 30, kind: 'failover', to: 'node-3' }] }),
    },
    {
      name: 'DSR, announcer failover node-1 -> node-2 at +30', truth: 'asymmetric_routing', runs: n(500), nodes: ['node-1', 'node-3'], countFrom: 30, newView: true, floor: { share: 2 / 3 },
      scenario: () => ({ fault: { kind: 'dsr' }, length: 130, events: [{ at: 30, kind: 'failover', to: 'node-2' }] }),
    },
    {
      name: 'rp_filter 1/3, endpoint moves node-3 -> node-2 at +30', truth: 'asymmetric_routing', runs: n(500), nodes: ['node-2'], countFrom: 30, newView: true, floor: { share: 2 / 3 },
      scenario: () => ({ ...rp2, length: 130, events: [{ at: 30, kind: 'move', from: 'node-3', to: 'node-2' }] }),
    },
    { name: 'outage', truth: 'vip_unreachable', runs: n(300), scenario: () => ({ fault: { kind: 'outage' } }) },
    { name: 'refusing pod on node-3', truth: 'backend_refused', runs: n(300), nodes: ['node-3'], scenario: () => ({ fault: { kind: 'refuse', node: 'node-3' } }) },
    { name: 'HTTP 500 from node-2', truth: 'http_errors', runs: n(300), nodes: ['node-2'], scenario: () => ({ fault: { kind: 'http500', node: 'node-2' } }) },
    ...([[0.005, 0.02], [0.02, 0.05], [0.05, 0.1]] as const).map(([lo, hi]): Family => ({
      name: `random loss ${lo * 100}-${hi * 100}%`, truth: 'packet_loss', runs: n(400),
      scenario: (r) => ({ fault: { kind: 'loss', rate: lo + r() * (hi - lo) }, identity: r() < 0.5 }),
    })),
    { name: 'healthy, stalls, failover, moves', truth: 'healthy', runs: n(500), scenario: (r) => ({ stallRate: 0.05, identity: r() < 0.5, events: randomEvents(r, 100) }) },
    // Appended, so the families above keep their seeds (eval-causes.ts).
    ...causeFamilies(n),
  ];
}

function randomEvents(r: Rng, length: number): SimEvent[] {
  const ev: SimEvent[] = [];
  if (r() < 0.3) ev.push({ at: Math.floor(r() * length), kind: 'failover', to: ['node-2', 'node-3'][Math.floor(r() * 2)]!, gap: 1 + Math.floor(r() * 3) });
  if (r() < 0.3) ev.push({ at: Math.floor(r() * length), kind: 'move', from: 'node-3', to: ['node-1', 'node-2'][Math.floor(r() * 2)]! });
  if (r() < 0.3) ev.push({ at: Math.floor(r() * length), kind: 'stall', length: 1 + Math.floor(r() * 10) });
  return ev;
}

interface RunResult {
  /** Attempts since the onset (or countFrom) at the first correct verdict; null when never. */
  latency: number | null;
  successesAtDetection: number | null;
  final: Verdict;
  finalNodesOk: boolean;
  /** The watched verdicts seen at any attempt. */
  seen: Verdict[];
}

function runOnce(f: Family, seed: number, cfg: DiagnosisConfig): RunResult {
  const r = rng(seed);
  const s: Scenario = { ...DEFAULT_SCENARIO, ...f.scenario(r) };
  const attempts = simulate(s, r);
  const from = s.warmup + (f.countFrom ?? 0);
  let latency: number | null = null;
  let successes: number | null = null;
  let last: Diagnosis | undefined;
  const seen = new Set<Verdict>();
  const t: TargetConfig = f.scenarioTarget ? { ...target, intervalMs: s.intervalMs, timeoutMs: s.timeoutMs } : target;
  for (let i = s.warmup; i < attempts.length; i++) {
    const d = diagnose({ target: t, attempts: attempts.slice(0, i + 1), now: attempts[i]!.startedAt + 1, config: cfg });
    last = d;
    if (f.watch?.includes(d.verdict)) seen.add(d.verdict);
    if (latency === null && i >= from && correct(f, d)) {
      latency = i - from + 1;
      successes = attempts.slice(from, i + 1).filter((a) => a.ok && !a.stalled).length;
    }
  }
  return { latency, successesAtDetection: successes, final: last!.verdict, finalNodesOk: correct(f, last!), seen: [...seen] };
}

function correct(f: Family, d: Diagnosis): boolean {
  if (d.verdict !== f.truth) return false;
  if (f.newView && d.viewVersion === 'v1') return false;
  if (!f.nodes) return true;
  return sameSet(d.suspectedNodes, f.nodes);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}

function quantile(xs: number[], q: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** (1 - share)^S < pValue: the successes (and expected attempts) needed to tell a node split from chance. */
function floor(share: number, pValue: number) {
  const successes = Math.ceil(Math.log(pValue) / Math.log(1 - share));
  return { successes, attempts: Math.round((successes / (1 - share)) * 10) / 10 };
}

/** Healthy or random-loss windows (<= 10%), every one evaluated after every attempt. */
function falseAlarms(windows: number, seed: number, cfg: DiagnosisConfig) {
  const r = rng(seed);
  let asym = 0;
  // Kinds that must never show in these windows either (issue 15): windows with any such verdict.
  const otherKinds: Record<string, number> = { etp_local_no_endpoint: 0, intermittent_blocks: 0, announcement_conflict: 0 };
  const verdicts: Record<string, number> = {};
  const byLoss: Record<string, { windows: number; asymmetric: number; packetLossFinal: number }> = {};
  for (let w = 0; w < windows; w++) {
    const loss = r() < 0.2 ? 0 : r() * 0.1;
    const eps = { 'node-1': 1 + Math.floor(r() * 3), 'node-2': 1 + Math.floor(r() * 3), 'node-3': 1 + Math.floor(r() * 3) };
    const s: Scenario = {
      ...DEFAULT_SCENARIO, warmup: 0, length: 150, endpoints: eps, loss, identity: r() < 0.5, stallRate: r() < 0.3 ? 0.03 : 0,
      events: r() < 0.5 ? randomEvents(r, 150) : [],
    };
    const attempts = simulate(s, rng(Math.floor(r() * 2 ** 31)));
    let hit = false;
    const seen = new Set<string>();
    let last: Diagnosis | undefined;
    for (let i = cfg.minAttempts - 1; i < attempts.length; i++) {
      const d = diagnose({ target, attempts: attempts.slice(0, i + 1), now: attempts[i]!.startedAt + 1, config: cfg });
      last = d;
      if (d.verdict === 'asymmetric_routing') hit = true;
      seen.add(d.verdict);
    }
    if (hit) asym++;
    for (const k of Object.keys(otherKinds)) if (seen.has(k)) otherKinds[k]!++;
    verdicts[last!.verdict] = (verdicts[last!.verdict] ?? 0) + 1;
    const bucket = loss === 0 ? '0' : loss < 0.01 ? '0-1%' : loss < 0.02 ? '1-2%' : loss < 0.05 ? '2-5%' : '5-10%';
    const b = (byLoss[bucket] ??= { windows: 0, asymmetric: 0, packetLossFinal: 0 });
    b.windows++;
    if (hit) b.asymmetric++;
    if (last!.verdict === 'packet_loss') b.packetLossFinal++;
  }
  return {
    windows, evaluatedEveryAttempt: true, attemptsPerWindow: 150, asymmetricRoutingWindows: asym, finalVerdicts: verdicts, byLossRate: byLoss,
    windowsWithVerdict: otherKinds,
  };
}

interface TransitionFamily {
  name: string;
  runs: number;
  scenario?: Partial<Scenario>;
  /** Kinds the scenario itself supports besides the fault's (background loss makes packet_loss a right answer). */
  alsoRight?: Verdict[];
  /** Attempts from onset at which the fault toggles (off, on, off, ...). */
  toggles(r: Rng): number[];
  length: number;
}

/** Wrong kinds: anything but the fault's own kind, insufficient_data or healthy. */
function wrongKind(v: Verdict): boolean {
  return v !== 'asymmetric_routing' && v !== 'insufficient_data' && v !== 'healthy';
}

/**
 * The fault starting mid-window, fixed mid-window, and flapping: per run, attempts from the onset to the first correct
 * verdict, from the fix to the first healthy one, and how many attempts were judged as a wrong kind (goal 0). Seconds
 * follow at a given interval (the simulated timeouts fit in the interval, as the config requires).
 */
function transitions(quick: boolean, cfg: DiagnosisConfig, seed: number) {
  const n = (x: number) => (quick ? Math.max(20, Math.round(x / 10)) : x);
  const fams: TransitionFamily[] = [
    { name: 'rp_filter 1/3, starts after 40 healthy, fixed after 60', runs: n(300), length: 160, toggles: () => [60] },
    { name: 'rp_filter 1/3, starts after 40 healthy, fixed after 120', runs: n(300), length: 220, toggles: () => [120] },
    {
      name: 'rp_filter 1/3, fixed after 120, 500 ms interval, 400 ms timeout (the lab)', runs: n(300), length: 400, toggles: () => [120],
      scenario: { intervalMs: 500, timeoutMs: 400 },
    },
    {
      name: 'rp_filter 1/3, fixed after 120, 1% background loss', runs: n(300), length: 220, toggles: () => [120], scenario: { loss: 0.01 },
      alsoRight: ['packet_loss'],
    },
    {
      name: 'rp_filter 1/3, flapping every 30-150 attempts (1-5 min at 2 s)', runs: n(300), length: 400,
      toggles: (r) => {
        const out: number[] = [];
        for (let at = 30 + Math.floor(r() * 120); at < 400; at += 30 + Math.floor(r() * 120)) out.push(at);
        return out;
      },
    },
  ];
  const out: Record<string, unknown>[] = [];
  let seedN = seed * 7_000_003;
  for (const f of fams) {
    const toDetect: number[] = [];
    const toHealthy: number[] = [];
    let wrong = 0;
    let runsWithWrong = 0;
    let wrongOnset = 0;
    let runsWithWrongOnset = 0;
    for (let k = 0; k < f.runs; k++) {
      const r = rng(seedN++);
      const toggles = f.toggles(r);
      const s: Scenario = { ...DEFAULT_SCENARIO, ...rp2, ...f.scenario, length: f.length, events: toggles.map((at) => ({ at, kind: 'toggle' as const })) };
      const t: TargetConfig = { ...target, intervalMs: s.intervalMs, timeoutMs: s.timeoutMs };
      const attempts = simulate(s, r);
      let detectedAt: number | null = null;
      const fix = toggles[0]!;
      let healthyAt: number | null = null;
      let w = 0;
      let wo = 0;
      for (let i = s.warmup; i < attempts.length; i++) {
        const d = diagnose({ target: t, attempts: attempts.slice(0, i + 1), now: attempts[i]!.startedAt + 1, config: cfg });
        const rel = i - s.warmup;
        if (detectedAt === null && rel < fix && d.verdict === 'asymmetric_routing' && sameSet(d.suspectedNodes, ['node-2'])) detectedAt = rel + 1;
        if (healthyAt === null && rel >= fix && (toggles[1] === undefined || rel < toggles[1]) && d.verdict === 'healthy') healthyAt = rel - fix + 1;
        if (wrongKind(d.verdict) && !f.alsoRight?.includes(d.verdict)) {
          if (rel < fix) wo++;
          else w++;
        }
      }
      if (detectedAt !== null) toDetect.push(detectedAt);
      if (healthyAt !== null) toHealthy.push(healthyAt);
      wrong += w;
      if (w) runsWithWrong++;
      wrongOnset += wo;
      if (wo) runsWithWrongOnset++;
    }
    const secs = (xs: number[], ms: number) => ({ median: sec(quantile(xs, 0.5), ms), p99: sec(quantile(xs, 0.99), ms) });
    out.push({
      family: f.name, runs: f.runs,
      attemptsToVerdict: { median: quantile(toDetect, 0.5), p99: quantile(toDetect, 0.99), detected: toDetect.length / f.runs },
      attemptsFromFixToHealthy: { median: quantile(toHealthy, 0.5), p99: quantile(toHealthy, 0.99), reached: toHealthy.length / f.runs },
      secondsToVerdict: { at2s: secs(toDetect, 2000), at500ms: secs(toDetect, 500) },
      secondsFromFixToHealthy: { at2s: secs(toHealthy, 2000), at500ms: secs(toHealthy, 500) },
      wrongKindAfterFix: { attempts: wrong, runsWithAny: runsWithWrong },
      wrongKindBeforeFix: { attempts: wrongOnset, runsWithAny: runsWithWrongOnset },
    });
  }
  return out;
}

function sec(attempts: number | null, intervalMs: number): number | null {
  return attempts === null ? null : (attempts * intervalMs) / 1000;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const seed = Number(args.find((a) => /^\d+$/.test(a)) ?? 1);
  const cfg = DIAGNOSIS_DEFAULTS;
  const t0 = performance.now();
  // Started first: the wall-time runs go to worker threads and run while this thread judges the attempt streams.
  const wallRuns = args.find((a) => a.startsWith('--walltime-runs='))?.split('=')[1];
  const wall = wallTime({ quick, seed, config: cfg, ...(wallRuns ? { runs: Math.max(1, Number(wallRuns) || 1) } : {}) });
  wall.catch(() => {});
  const matrix: Record<string, Record<string, number>> = {};
  const detection: Record<string, unknown>[] = [];
  let seedN = seed * 1_000_003;
  for (const f of families(quick)) {
    const lat: number[] = [];
    const succ: number[] = [];
    let within50 = 0;
    let detected = 0;
    let finalOk = 0;
    const runsWith: Record<string, number> = Object.fromEntries((f.watch ?? []).map((v) => [v, 0]));
    const row = (matrix[`${f.truth} <- ${f.name}`] ??= {});
    for (let i = 0; i < f.runs; i++) {
      const res = runOnce(f, seedN++, cfg);
      row[res.final] = (row[res.final] ?? 0) + 1;
      if (res.finalNodesOk) finalOk++;
      for (const v of res.seen) runsWith[v]!++;
      if (res.latency !== null) {
        detected++;
        lat.push(res.latency);
        succ.push(res.successesAtDetection!);
        if (res.latency <= 50) within50++;
      }
    }
    const fl = f.floor ? floor(f.floor.share, cfg.pValue) : undefined;
    detection.push({
      family: f.name, truth: f.truth, nodes: f.nodes ?? null, runs: f.runs,
      detected: detected / f.runs, within50Attempts: within50 / f.runs, finalCorrect: finalOk / f.runs,
      latencyAttempts: { median: quantile(lat, 0.5), p99: quantile(lat, 0.99), max: quantile(lat, 1) },
      successesAtDetection: { median: quantile(succ, 0.5) },
      ...(fl ? { floor: fl, medianVsFloor: lat.length ? Math.round((quantile(lat, 0.5)! / fl.attempts) * 1000) / 1000 : null } : {}),
      ...(f.watch ? { runsWithVerdict: runsWith } : {}),
    });
  }
  const fa = falseAlarms(quick ? 1000 : 10_000, seed + 7, cfg);
  const tr = transitions(quick, cfg, seed);
  const fl = flapping(quick, cfg, seed, target);
  const out = {
    seed, quick, config: { pValue: cfg.pValue, minAttempts: cfg.minAttempts, window: cfg.windowMs, timeoutMs: target.timeoutMs },
    confusionMatrix: matrix, detection, falseAlarms: fa, transitions: tr, flapping: fl, wallTime: await wall, seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`eval failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
