import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TargetConfig } from '../config/targets.js';
import type { Attempt } from '../history/attempt.js';
import type { TargetHistory } from '../history/history.js';
import { WINDOWS, type WindowName } from '../history/windows.js';

export interface ProbeMetricsSource {
  /** Current targets with their histories, read at scrape time. */
  targets(): { target: TargetConfig; history: TargetHistory | undefined }[];
  now(): number;
  /** Max event-loop lag (ms) since the previous scrape. */
  takeLagMs(): number;
}

const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The probe engine's metrics, on the registry given (never the global one). */
export class ProbeMetrics {
  private readonly attempts: Counter<'target' | 'protocol' | 'result'>;
  private readonly failures: Counter<'target' | 'reason' | 'node'>;
  private readonly duration: Histogram<'target' | 'phase'>;
  private readonly skipped: Counter<'target'>;
  private readonly synRetransmits: Counter<'target'>;
  private readonly stalled: Counter<'target'>;
  private readonly certNotAfter: Gauge<'target'>;
  private readonly backendSuccesses: Counter<'target' | 'node'>;
  /** Label sets used per target, so a removed target's series can be deleted. */
  private readonly used = new Map<string, { metric: { remove(labels: Record<string, string>): void }; labels: Record<string, string> }[]>();
  private readonly cached = new Map<string, { ok: Counter.Internal; fail: Counter.Internal; hist: Record<string, Histogram.Internal<'target' | 'phase'>> }>();

  constructor(registry: Registry, source: ProbeMetricsSource, version: string) {
    const registers = [registry];
    this.attempts = new Counter({ name: 'vipwatch_probe_attempts_total', help: 'Probe attempts by target, protocol and result (success or failure).', labelNames: ['target', 'protocol', 'result'], registers });
    this.failures = new Counter({ name: 'vipwatch_probe_failures_total', help: 'Failed attempts by target, exact reason and the node they are attributed to (a node, ambiguous or unknown).', labelNames: ['target', 'reason', 'node'], registers });
    this.duration = new Histogram({ name: 'vipwatch_probe_duration_seconds', help: 'Attempt phase durations: connect, tls, first_byte, total.', labelNames: ['target', 'phase'], buckets: DURATION_BUCKETS, registers });
    this.skipped = new Counter({ name: 'vipwatch_probe_skipped_total', help: 'Scheduled attempts skipped because the previous attempt of the target was still running.', labelNames: ['target'], registers });
    this.synRetransmits = new Counter({ name: 'vipwatch_probe_syn_retransmits_total', help: 'Attempts whose connect took at least 1 s, i.e. the kernel retransmitted the SYN.', labelNames: ['target'], registers });
    this.stalled = new Counter({ name: 'vipwatch_probe_stalled_attempts_total', help: 'Attempts made while the probe itself stalled; diagnosis ignores them.', labelNames: ['target'], registers });
    this.certNotAfter = new Gauge({ name: 'vipwatch_probe_cert_not_after_timestamp_seconds', help: 'Expiry of the certificate the target presented (https).', labelNames: ['target'], registers });
    this.backendSuccesses = new Counter({ name: 'vipwatch_backend_successes_total', help: 'Successful attempts by the node of the backend that served them.', labelNames: ['target', 'node'], registers });
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
  }

  /** Records one attempt. Hot path: label children are cached per target. */
  record(a: Attempt, t: TargetConfig): void {
    const c = this.children(t);
    (a.ok ? c.ok : c.fail).inc();
    const tm = a.timings;
    if (tm.connectMs !== undefined) c.hist.connect!.observe(tm.connectMs / 1000);
    if (tm.tlsMs !== undefined) c.hist.tls!.observe(tm.tlsMs / 1000);
    if (tm.firstByteMs !== undefined) c.hist.first_byte!.observe(tm.firstByteMs / 1000);
    c.hist.total!.observe(tm.totalMs / 1000);
    if (!a.ok) this.inc(this.failures, t.name, { target: t.name, reason: a.reason ?? 'unknown', node: a.node ?? 'unknown' });
    if (a.synRetransmit) this.inc(this.synRetransmits, t.name, { target: t.name });
    if (a.stalled) this.inc(this.stalled, t.name, { target: t.name });
    if (a.ok && a.backendNode) this.inc(this.backendSuccesses, t.name, { target: t.name, node: a.backendNode });
    if (a.certNotAfter !== undefined) this.certNotAfter.labels(t.name).set(a.certNotAfter / 1000);
  }

  skip(t: TargetConfig): void {
    this.inc(this.skipped, t.name, { target: t.name });
  }

  /** Deletes every series of a target that is gone. */
  forget(name: string): void {
    for (const u of this.used.get(name) ?? []) u.metric.remove(u.labels);
    this.used.delete(name);
    const c = this.cached.get(name);
    if (c) {
      this.cached.delete(name);
      for (const phase of Object.keys(c.hist)) this.duration.remove({ target: name, phase });
    }
    this.certNotAfter.remove({ target: name });
  }

  private children(t: TargetConfig) {
    let c = this.cached.get(t.name);
    if (!c) {
      const hist: Record<string, Histogram.Internal<'target' | 'phase'>> = {};
      for (const phase of ['connect', 'tls', 'first_byte', 'total']) hist[phase] = this.duration.labels(t.name, phase);
      c = { ok: this.attempts.labels(t.name, t.protocol, 'success'), fail: this.attempts.labels(t.name, t.protocol, 'failure'), hist };
      this.cached.set(t.name, c);
      this.track(this.attempts, t.name, { target: t.name, protocol: t.protocol, result: 'success' });
      this.track(this.attempts, t.name, { target: t.name, protocol: t.protocol, result: 'failure' });
    }
    return c;
  }

  private inc<L extends string>(metric: Counter<L>, name: string, labels: Record<L, string>): void {
    metric.inc(labels);
    this.track(metric as unknown as { remove(l: Record<string, string>): void }, name, labels);
  }

  private track(metric: { remove(labels: Record<string, string>): void }, name: string, labels: Record<string, string>): void {
    let list = this.used.get(name);
    if (!list) this.used.set(name, (list = []));
    const key = JSON.stringify(labels);
    if (!list.some((u) => u.metric === metric && JSON.stringify(u.labels) === key)) list.push({ metric, labels });
  }
}
