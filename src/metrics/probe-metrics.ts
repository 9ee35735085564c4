import { Gauge, type Registry } from 'prom-client';
import type { TargetClusterView } from '../cluster/types.js';
import type { TargetConfig } from '../config/targets.js';
import type { Attempt, FailureAttribution } from '../history/attempt.js';
import type { TargetHistory } from '../history/history.js';
import { WINDOWS, type WindowName } from '../history/windows.js';
import { CellCounter, CellHistogram, type CounterCell, type HistogramCell } from './cells.js';
import { FAILOVER_GAP_BUCKETS, FAILOVER_GAP_HELP } from './failover-metrics.js';
import { identifiesBackend, NodeSeeds, readyNodes } from './node-series.js';
import { phasesOf, type Phase } from './phases.js';
import { registerTargetState, type TargetState } from './target-state.js';

export interface ProbeMetricsSource {
  /** Current targets with their histories, read at scrape time. */
  targets(): { target: TargetConfig; history: TargetHistory | undefined }[];
  now(): number;
  /** Max event-loop lag (ms) since the previous scrape. */
  takeLagMs(): number;
  /**
   * The target's status from its history (schedule/target-status.ts targetStatus), for vipwatch_target_up and
   * vipwatch_target_state; without it those two export no series.
   */
  statusOf?(history: TargetHistory | undefined, now: number): TargetState;
  /**
   * The target's cluster view, read at scrape time: every node with ready endpoints gets its per-node series at 0
   * before the first event (backend successes only where a success can name its node: identifiesBackend). Without
   * it (or without a view) the series appear with their first event.
   */
  viewFor?(target: TargetConfig): TargetClusterView | undefined;
}

/**
 * The failure reason seeded at 0 per node: connect_timeout is the asymmetric-routing signal (SYN-ACKs lost on one
 * node's path), the one a "failures per node" panel and alert must see from the first event. The other reasons
 * appear with their first event: seeding all 10 would add 10 series per node and target for reasons most never see,
 * and `sum by (node)` is already complete with one series per node.
 */
const SEEDED_REASON = 'connect_timeout';

const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The cells one target touches on every attempt, looked up once. */
interface TargetCells {
  ok: CounterCell;
  fail: CounterCell;
  /** vipwatch's own fault (reason probe_error): neither a success nor a failure of the target. */
  probeError: CounterCell;
  connect: HistogramCell;
  /** Only for https (see phasesOf). */
  tls?: HistogramCell;
  /** Only where a response byte can arrive (see phasesOf). */
  firstByte?: HistogramCell;
  total: HistogramCell;
  /** protocol and phases: a reload that changes them rebuilds the target's cells. */
  shape: string;
  /** The target config the cells were last checked against: the same object needs no new check (the hot path). */
  target: TargetConfig;
}

/** The probe engine's metrics, on the registry given (never the global one). */
export class ProbeMetrics {
  private readonly attempts: CellCounter;
  private readonly failures: CellCounter;
  private readonly duration: CellHistogram;
  private readonly skipped: CellCounter;
  private readonly synRetransmits: CellCounter;
  private readonly stalled: CellCounter;
  private readonly backendSuccesses: CellCounter;
  private readonly certNotAfter: Gauge<'target'>;
  private readonly failoverGaps: CellHistogram;
  private readonly cached = new Map<string, TargetCells>();
  private readonly seeds: NodeSeeds[];

  constructor(registry: Registry, source: ProbeMetricsSource, version: string) {
    const registers = [registry];
    this.attempts = new CellCounter(registry, 'vipwatch_probe_attempts_total', 'Probe attempts by target, protocol and result: success, failure, or probe_error (vipwatch could not make the attempt itself: not the target\'s failure).', ['target', 'protocol', 'result']);
    this.failures = new CellCounter(registry, 'vipwatch_probe_failures_total', 'Failed attempts by target, exact reason and the node they are attributed to (a node, ambiguous or unknown).', ['target', 'reason', 'node']);
    this.duration = new CellHistogram(registry, 'vipwatch_probe_duration_seconds', 'Attempt phase durations: connect, tls (https only), first_byte (http, https, and tcp with expectRegex), total.', ['target', 'phase'], DURATION_BUCKETS);
    this.skipped = new CellCounter(registry, 'vipwatch_probe_skipped_total', 'Scheduled attempts skipped because the previous attempt of the target was still running.', ['target']);
    this.synRetransmits = new CellCounter(registry, 'vipwatch_probe_syn_retransmits_total', 'Attempts whose connect took at least 1 s, i.e. the kernel retransmitted the SYN.', ['target']);
    this.stalled = new CellCounter(registry, 'vipwatch_probe_stalled_attempts_total', 'Attempts made while the probe itself stalled; diagnosis ignores them.', ['target']);
    this.backendSuccesses = new CellCounter(registry, 'vipwatch_backend_successes_total', 'Successful attempts by the node of the backend that served them.', ['target', 'node']);
    this.failoverGaps = new CellHistogram(registry, 'vipwatch_failover_gap_seconds', FAILOVER_GAP_HELP, ['target'], FAILOVER_GAP_BUCKETS);
    this.certNotAfter = new Gauge({ name: 'vipwatch_probe_cert_not_after_timestamp_seconds', help: 'Expiry of the certificate the target presented (https).', labelNames: ['target'], registers });
    new Gauge({
      name: 'vipwatch_failure_ratio', help: 'Failed / total attempts over a sliding window (1m, 5m, 15m); absent while the window is empty.',
      labelNames: ['target', 'window'], registers,
      collect() {
        this.reset();
        const now = source.now();
        for (const { target, history } of source.targets()) {
          if (!history) continue;
          for (const w of Object.keys(WINDOWS) as WindowName[]) {
            const r = history.stats(w, now).ratio;
            if (r !== null) this.labels(target.name, w).set(r);
          }
        }
      },
    });
    new Gauge({
      name: 'vipwatch_event_loop_lag_seconds', help: 'Largest event-loop lag of the probe process since the previous scrape.', registers,
      collect() {
        this.set(source.takeLagMs() / 1000);
      },
    });
    new Gauge({ name: 'vipwatch_build_info', help: 'Build information; always 1.', labelNames: ['version', 'nodejs'], registers }).labels(version, process.version).set(1);
    registerTargetState(registry, {
      targets: () => (source.statusOf ? source.targets() : []), now: () => source.now(), statusOf: (h, now) => source.statusOf?.(h, now) ?? 'unknown',
    });
    const failureSeeds = new NodeSeeds(this.failures, (target, node) => [target, SEEDED_REASON, node]);
    const successSeeds = new NodeSeeds(this.backendSuccesses, (target, node) => [target, node]);
    this.seeds = [failureSeeds, successSeeds];
    const nodes = (only: (t: TargetConfig) => boolean) => {
      const viewFor = source.viewFor;
      return viewFor ? readyNodes(source.targets().map((e) => e.target).filter(only), (t) => viewFor(t)) : new Map<string, string[]>();
    };
    this.failures.onRead(() => failureSeeds.apply(nodes(() => true)));
    this.backendSuccesses.onRead(() => successSeeds.apply(nodes(identifiesBackend)));
  }

  /**
   * Records one attempt with the node its failure is attributed to (the diagnosis's output for it; undefined for a
   * success or a probe_error): the hot path, a handful of field updates on cached cells.
   */
  record(a: Attempt, t: TargetConfig, at: FailureAttribution | undefined): void {
    const c = this.children(t);
    (a.ok ? c.ok : a.reason === 'probe_error' ? c.probeError : c.fail).value++;
    const tm = a.timings;
    if (tm.connectMs !== undefined) c.connect.observe(tm.connectMs / 1000);
    if (tm.tlsMs !== undefined) c.tls?.observe(tm.tlsMs / 1000);
    if (tm.firstByteMs !== undefined) c.firstByte?.observe(tm.firstByteMs / 1000);
    c.total.observe(tm.totalMs / 1000);
    if (!a.ok) this.failures.cell(t.name, a.reason ?? 'unknown', at?.node ?? 'unknown').value++;
    if (a.synRetransmit) this.synRetransmits.cell(t.name).value++;
    if (a.stalled) this.stalled.cell(t.name).value++;
    if (a.ok && a.backendNode) this.backendSuccesses.cell(t.name, a.backendNode).value++;
    if (a.certNotAfter !== undefined) this.certNotAfter.labels(t.name).set(a.certNotAfter / 1000);
  }

  /** A failover gap the diagnosis closed for the target (DiagnosisStep.failoverGap), in seconds. */
  failoverGap(t: TargetConfig, seconds: number): void {
    this.failoverGaps.cell(t.name).observe(seconds);
  }

  skip(t: TargetConfig): void {
    this.skipped.cell(t.name).value++;
  }

  /** Deletes every series of a target that is gone. */
  forget(name: string): void {
    for (const m of [this.attempts, this.failures, this.duration, this.skipped, this.synRetransmits, this.stalled, this.backendSuccesses, this.failoverGaps]) m.removeWhere(0, name);
    this.cached.delete(name);
    this.certNotAfter.remove({ target: name });
    for (const s of this.seeds) s.forget(name);
  }

  /**
   * The target's cells, created on its first attempt: the attempt counters of its protocol and one histogram per
   * phase it can time (no empty `tls` histogram for tcp or http: see phasesOf). A reload that changes the protocol
   * or the phases drops the old attempt and duration series of the target and starts new ones.
   */
  private children(t: TargetConfig): TargetCells {
    let c = this.cached.get(t.name);
    if (c?.target === t) return c;
    // A new config object for the target (its first attempt, or a reload): check its shape once.
    const phases = phasesOf(t);
    const shape = `${t.protocol} ${phases.join(',')}`;
    if (c && c.shape !== shape) {
      this.attempts.removeWhere(0, t.name);
      this.duration.removeWhere(0, t.name);
      c = undefined;
    }
    if (c) c.target = t;
    else {
      const h = (phase: Phase) => this.duration.cell(t.name, phase);
      c = {
        ok: this.attempts.cell(t.name, t.protocol, 'success'),
        fail: this.attempts.cell(t.name, t.protocol, 'failure'),
        probeError: this.attempts.cell(t.name, t.protocol, 'probe_error'),
        connect: h('connect'),
        tls: phases.includes('tls') ? h('tls') : undefined,
        firstByte: phases.includes('first_byte') ? h('first_byte') : undefined,
        total: h('total'),
        shape,
        target: t,
      };
      this.cached.set(t.name, c);
    }
    return c;
  }
}
