/**
 * One target in virtual time, for the wall-time evaluation: the scheduler's timing (the steady attempt every interval,
 * one in flight, skipped while the previous one runs; bursts of `count` attempts started `spacingMs` apart with at most
 * `concurrency` in flight; a silent drop holds its slot for the whole timeout) driving the real decision chain:
 * makeAttempt -> TargetHistory -> DiagnosisEngine.step (verdict, attribution, burst requests) -> IncidentManager.
 * Connections get eval-sim's outcome model at their own start time. Returns what happened, with times in ms since
 * the run started; eval-walltime.ts turns it into figures.
 */
import type { TargetClusterView } from '../src/cluster/types.js';
import { contextFromView } from '../src/cluster/view.js';
import { ringSize } from '../src/config/ring-size.js';
import type { DiagnosisConfig } from '../src/config/sections/diagnosis.js';
import type { TargetConfig } from '../src/config/targets.js';
import type { BurstRequest } from '../src/diagnosis/burst.js';
import { DiagnosisEngine } from '../src/diagnosis/engine.js';
import { synTransmissions } from '../src/diagnosis/tally.js';
import type { Verdict } from '../src/diagnosis/types.js';
import { makeAttempt } from '../src/history/attempt.js';
import { TargetHistory } from '../src/history/history.js';
import { IncidentManager } from '../src/incidents/manager.js';
import type { IncidentEventType } from '../src/incidents/types.js';
import { silentLogger } from '../src/lib/logger.js';
import type { ProbeResult } from '../src/probe/types.js';
import { DEFAULT_SCENARIO, outcome, pickNode, type Placement, type Rng, type Scenario } from './eval-sim.js';
import { VirtualClock } from './virtual-clock.js';

export interface WallRunSpec {
  intervalMs: number;
  timeoutMs: number;
  /** When strict rp_filter on node-2 starts (ms since the run started). */
  onsetMs: number;
  /** Later instants at which the fault toggles: fixed, back, fixed, ... (ms since the run started). */
  toggles: number[];
  /** The run ends here (ms since the run started). */
  endMs: number;
  /** Background per-packet loss (SYN and SYN-ACK each). */
  loss: number;
  config: DiagnosisConfig;
  /** Directory for the incident records (the caller creates and removes it). */
  dir: string;
}

export interface RunEvent {
  type: IncidentEventType;
  at: number;
  id: string;
  kind: string;
  suspectedNodes: string[];
}

/** A diagnosis made for an attempt: when, what it said, and the oldest attempts it judged. */
export interface RunVerdict {
  at: number;
  verdict: Verdict;
  suspectedNodes: string[];
  /** Start of the attempts judged: a node serving again cuts the window there, else the window's start. */
  judgedFrom: number;
}

export interface RunTrace {
  events: RunEvent[];
  /** Every diagnosis made, oldest first (the verdict holds until the next one). */
  verdicts: RunVerdict[];
  attempts: number;
  burstAttempts: number;
  bursts: number;
  /** Scheduled attempts skipped because the previous one still ran. */
  skipped: number;
}

const EPOCH = Date.UTC(2026, 0, 1);
const NODES = ['node-1', 'node-2', 'node-3'];

/** The target: an HTTP VIP whose responses name the backend (identity), linked to its Service. */
export function walltimeTarget(intervalMs: number, timeoutMs: number): TargetConfig {
  return { name: 'web', address: '192.0.2.100', port: 80, protocol: 'http', intervalMs, timeoutMs, service: 'default/web', origin: 'static' };
}

function clusterView(): TargetClusterView {
  return {
    service: 'default/web',
    externalTrafficPolicy: 'Cluster',
    announcer: { node: 'node-1', source: 'servicel2status', since: EPOCH - 3_600_000 },
    endpoints: NODES.map((n, i) => ({ addresses: [`10.244.${i}.10`], node: n, pod: `${n}-pod`, ready: true, serving: true, terminating: false })),
    endpointsPerNode: Object.fromEntries(NODES.map((n) => [n, 1])),
    syncedAt: EPOCH,
    stale: false,
    serviceFound: true,
  };
}

export async function runTarget(spec: WallRunSpec, random: Rng): Promise<RunTrace> {
  const cfg = spec.config;
  const clock = new VirtualClock(EPOCH);
  const target = walltimeTarget(spec.intervalMs, spec.timeoutMs);
  const view = clusterView();
  const context = contextFromView(view, EPOCH + 1000);
  const history = new TargetHistory(target.name, ringSize(spec.intervalMs, cfg.windowMs, cfg.burst.count));
  const engine = new DiagnosisEngine(cfg);
  const incidents = new IncidentManager({ dir: spec.dir, clock, config: cfg, logger: silentLogger });
  const sim: Scenario = { ...DEFAULT_SCENARIO, fault: { kind: 'rp_filter', nodes: ['node-2'] }, loss: spec.loss, intervalMs: spec.intervalMs, timeoutMs: spec.timeoutMs };
  const real: Placement = { endpoints: { ...view.endpointsPerNode }, announcer: 'node-1' };
  const tx = synTransmissions(spec.timeoutMs);
  const trace: RunTrace = { events: [], verdicts: [], attempts: 0, burstAttempts: 0, bursts: 0, skipped: 0 };

  let faultOn = false;
  for (const at of [spec.onsetMs, ...spec.toggles]) clock.setTimeout(() => (faultOn = !faultOn), at);

  let steadyRunning = false;
  const burst = { left: 0, spacingMs: 0, concurrency: 1, inFlight: 0 };

  const finish = async (result: ProbeResult, node: string, startedAt: number, isBurst: boolean): Promise<void> => {
    if (isBurst) burst.inFlight--;
    else steadyRunning = false;
    const a = makeAttempt(result, {
      seq: history.nextSeq(), target: target.name, startedAt, stalled: false, burst: isBurst, cluster: context, backendNode: result.ok ? node : undefined,
    });
    history.record(a);
    trace.attempts++;
    if (isBurst) trace.burstAttempts++;
    const now = clock.now();
    const step = engine.step({ attempt: a, target, history, view, now, incidentOpen: incidents.openFor(target.name) !== undefined });
    if (step.attribution) history.attribute(a.seq, step.attribution);
    // The pipeline's order: the verdict goes to incidents, then the burst request to the scheduler.
    const d = step.diagnosis;
    const update = step.diagnosed && d ? incidents.update(target, d, { seq: a.seq }) : undefined;
    if (step.diagnosed && d) {
      const from = d.changePoint?.kind === 'served_again' ? d.changePoint.at : now - cfg.windowMs;
      trace.verdicts.push({ at: now - EPOCH, verdict: d.verdict, suspectedNodes: d.suspectedNodes, judgedFrom: Math.max(0, from - EPOCH) });
    }
    if (step.burst) engine.burstAccepted(target.name, requestBurst(step.burst));
    for (const e of (await update) ?? []) {
      trace.events.push({ type: e.type, at: e.at - EPOCH, id: e.incident.id, kind: e.incident.kind, suspectedNodes: e.incident.suspectedNodes });
    }
  };

  const start = (isBurst: boolean): void => {
    const startedAt = clock.now();
    const node = pickNode(real.endpoints, random);
    const o = outcome(sim, faultOn, node, real, tx, random);
    const result: ProbeResult = { ok: o.ok!, synRetransmit: o.synRetransmit!, timings: o.timings! };
    if (o.reason) result.reason = o.reason;
    if (o.errorCode) result.errorCode = o.errorCode;
    if (result.ok) result.backend = `${node}-pod`;
    // A silent drop holds its slot until the deadline; anything else ends when its exchange does.
    const took = result.reason === 'connect_timeout' ? spec.timeoutMs : result.timings.totalMs;
    if (isBurst) burst.inFlight++;
    else steadyRunning = true;
    clock.setTimeout(() => finish(result, node, startedAt, isBurst), Math.min(took, spec.timeoutMs));
  };

  const tick = (): void => {
    if (steadyRunning) trace.skipped++;
    else start(false);
    clock.setTimeout(tick, spec.intervalMs);
  };

  const burstTick = (): void => {
    if (burst.left <= 0) return;
    // A tick with every slot taken starts nothing: the spacing, not the slots, bounds the rate at the VIP.
    if (burst.inFlight < burst.concurrency) {
      burst.left--;
      start(true);
    }
    if (burst.left > 0) clock.setTimeout(burstTick, burst.spacingMs);
  };

  /** Scheduler.requestBurst: 0 while a burst is still going. */
  const requestBurst = (req: BurstRequest): number => {
    if (burst.left > 0 || req.count < 1) return 0;
    burst.left = Math.floor(req.count);
    burst.spacingMs = Math.max(10, req.spacingMs);
    burst.concurrency = Math.max(1, Math.floor(req.concurrency));
    trace.bursts++;
    clock.setTimeout(burstTick, burst.spacingMs);
    return burst.left;
  };

  // The loop's phase within its interval is arbitrary.
  clock.setTimeout(tick, Math.floor(random() * spec.intervalMs));
  await clock.run(spec.endMs);
  return trace;
}
