import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { Notifier } from './alerting/notifier.js';
import { createClusterSource } from './cluster/create.js';
import { DiagnosisRunner } from './diagnosis/runner.js';
import type { Diagnosis } from './diagnosis/types.js';
import type { ManagedClusterSource } from './cluster/types.js';
import { ringSize, schedulePeriodMs } from './config/ring-size.js';
import type { Config } from './config/schema.js';
import type { DiagnosisConfig } from './config/sections/diagnosis.js';
import type { TargetConfig } from './config/targets.js';
import type { Attempt } from './history/attempt.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createLogger, type Logger } from './lib/logger.js';
import { packageVersion } from './lib/version.js';
import { ProbeMetrics } from './metrics/probe-metrics.js';
import { renderMetrics } from './metrics/render.js';
import { SelfErrorMonitor } from './metrics/self-errors.js';
import { createProbers } from './probe/registry.js';
import type { Prober, Protocol } from './probe/types.js';
import { Scheduler } from './schedule/scheduler.js';
import { SelfMonitor } from './schedule/self-monitor.js';
import { targetStatus, type TargetStatus } from './schedule/target-status.js';
import { attemptJson } from './server/attempt-json.js';
import { HttpServer, json, text, type Reply } from './server/http-server.js';
import { statusPageHtml } from './server/status-page.js';

export interface AppOptions {
  config: Config;
  clock?: Clock;
  logger?: Logger;
  probers?: Record<Protocol, Prober>;
  /** Defaults to the source built from `config.kubernetes` (none when it is disabled). */
  cluster?: ManagedClusterSource;
  /** Size of each target's attempt ring; by default what the diagnosis window needs (historySizeFor). */
  historySize?: number;
}

/** Wires the engine together: scheduler -> probers -> history -> metrics/logs, and the HTTP server that reads them. */
export class App {
  readonly registry = new Registry();
  readonly clock: Clock;
  readonly logger: Logger;
  readonly scheduler: Scheduler;
  readonly selfMonitor: SelfMonitor;
  readonly metrics: ProbeMetrics;
  /** Attempts lost to vipwatch's own resources (probe_error): logged once per kind and episode, a gauge. */
  readonly selfErrors: SelfErrorMonitor;
  readonly server: HttpServer;
  readonly cluster: ManagedClusterSource;
  readonly notifier: Notifier;
  readonly diagnosis: DiagnosisRunner;
  /** Target removals resolve incidents only once the cluster has been heard from (discovered targets are known). */
  private clusterSettled = false;
  readonly version = packageVersion();
  private readonly stopping = new AbortController();
  private config: Config;
  private readonly status = new Map<string, TargetStatus>();
  private readonly attemptListeners: ((a: Attempt, t: TargetConfig) => void)[] = [];
  private ready = false;

  constructor(opts: AppOptions) {
    this.config = opts.config;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? createLogger({ level: opts.config.log.level });
    this.cluster = opts.cluster ?? createClusterSource({
      config: opts.config.kubernetes, defaults: opts.config.defaults, staticTargets: opts.config.targets, clock: this.clock, logger: this.logger.child({ component: 'cluster' }),
    });
    this.selfMonitor = new SelfMonitor({ clock: this.clock, logger: this.logger, stallThresholdMs: opts.config.selfMonitor.stallThresholdMs });
    this.scheduler = new Scheduler({
      clock: this.clock,
      logger: this.logger,
      probers: opts.probers ?? createProbers(),
      selfMonitor: this.selfMonitor,
      cluster: this.cluster,
      historySize: opts.historySize ?? ((t) => historySizeFor(t, opts.config.diagnosis)),
      onAttempt: (a, t) => this.handleAttempt(a, t),
      onSkip: (t) => {
        this.metrics.skip(t);
        this.logger.debug('attempt skipped: previous attempt still running', { target: t.name });
      },
    });
    this.metrics = new ProbeMetrics(this.registry, {
      targets: () => this.scheduler.targets().map((t) => ({ target: t, history: this.scheduler.history(t.name) })),
      now: () => this.clock.now(),
      takeLagMs: () => this.selfMonitor.takeMaxLagMs(),
    }, this.version);
    this.selfErrors = new SelfErrorMonitor(this.registry, { clock: this.clock, logger: this.logger });
    this.notifier = new Notifier({ config: opts.config.alerting, stateDir: opts.config.state.dir, registry: this.registry, clock: this.clock, logger: this.logger });
    this.diagnosis = new DiagnosisRunner({
      config: opts.config.diagnosis, dir: join(opts.config.state.dir, 'incidents'), clock: this.clock, logger: this.logger,
      registry: this.registry, cluster: this.cluster,
      notify: (ev) => this.notifier.notify(ev),
      requestBurst: (name, req) => this.scheduler.requestBurst(name, req),
    });
    this.cluster.attachMetrics(this.registry, () => this.scheduler.targets());
    this.cluster.onTargetsChanged(() => this.applyTargets());
    const srv = opts.config.server;
    this.server = new HttpServer(this.logger, { maxConnections: srv.maxConnections, headersTimeoutMs: srv.headersTimeoutMs, requestTimeoutMs: srv.requestTimeoutMs });
    this.routes();
  }

  async start(): Promise<AddressInfo> {
    const { host, port } = this.config.server.listen;
    const addr = await this.server.listen(host, port);
    this.selfMonitor.start();
    await this.notifier.start(this.stopping.signal);
    await this.diagnosis.start();
    void this.cluster.start(this.stopping.signal).then(() => {
      this.clusterSettled = true;
      if (!this.stopping.signal.aborted) this.applyTargets();
    });
    this.applyTargets();
    this.scheduler.start();
    this.ready = true;
    this.logger.info('vipwatch started', { version: this.version, listen: `${addr.address}:${addr.port}`, targets: this.config.targets.length });
    return addr;
  }

  async stop(): Promise<void> {
    this.ready = false;
    this.stopping.abort();
    await this.scheduler.stop();
    await this.cluster.done();
    await this.diagnosis.stop();
    await this.notifier.stop();
    this.selfMonitor.stop();
    await this.server.close();
    this.logger.info('vipwatch stopped');
  }

  /** Observes every recorded attempt (after metrics and attribution). */
  onAttempt(listener: (a: Attempt, t: TargetConfig) => void): void {
    this.attemptListeners.push(listener);
  }

  /** Applies a new, already validated config's targets without a restart. */
  reload(config: Config): void {
    this.config = config;
    this.cluster.setStaticTargets(config.targets);
    this.applyTargets();
  }

  /** Static targets plus those discovered from the cluster. */
  private applyTargets(): void {
    const targets = [...this.config.targets, ...this.cluster.discoveredTargets()];
    if (this.clusterSettled) this.diagnosis.retainTargets(targets.map((t) => t.name));
    const before = new Set(this.scheduler.targets().map((t) => t.name));
    this.scheduler.setTargets(targets);
    const after = new Set(targets.map((t) => t.name));
    for (const name of before) {
      if (after.has(name)) continue;
      this.metrics.forget(name);
      this.status.delete(name);
      this.logger.info('target removed', { target: name });
    }
    for (const t of targets) if (!before.has(t.name)) this.logger.info('target added', { target: t.name, address: t.address, port: t.port, protocol: t.protocol });
  }

  private handleAttempt(a: Attempt, t: TargetConfig): void {
    this.diagnosis.onAttempt(a, t, this.scheduler.history(t.name)!);
    this.metrics.record(a, t);
    this.selfErrors.observe(a);
    if (this.logger.enabled('debug')) this.logger.debug('attempt', { target: t.name, ...attemptJson(a) });
    const now = this.clock.now();
    const status = targetStatus(this.scheduler.history(t.name), now);
    const prev = this.status.get(t.name) ?? 'unknown';
    if (status !== prev) {
      this.status.set(t.name, status);
      const s = this.scheduler.history(t.name)!.stats('1m', now);
      this.logger.info('target status changed', { target: t.name, from: prev, to: status, failures1m: s.failures, attempts1m: s.attempts, lastReason: a.reason ?? null });
    }
    for (const l of this.attemptListeners) l(a, t);
  }

  targetsJson() {
    const now = this.clock.now();
    return this.scheduler.targets().map((t) => this.targetJson(t, now));
  }

  /** One target as /api/v1/targets shows it. */
  targetJson(t: TargetConfig, now: number) {
    const h = this.scheduler.history(t.name);
    const view = this.cluster.viewFor(t);
    return {
      name: t.name,
      address: t.address,
      port: t.port,
      protocol: t.protocol,
      service: t.service ?? null,
      origin: t.origin,
      interval: t.intervalMs ?? null,
      schedule: t.schedule ?? null,
      timeout: t.timeoutMs,
      status: targetStatus(h, now),
      skipped: this.scheduler.skipped(t.name),
      windows: h?.allStats(now) ?? null,
      cluster: view ?? null,
      diagnosis: diagnosisJson(this.diagnosis.latestFor(t.name)),
      nodes: perNode(h?.recent() ?? [], view?.endpointsPerNode),
      attempts: (h?.recent(50) ?? []).map(attemptJson),
    };
  }

  /**
   * /api/v1/targets, streamed one target at a time (a 2,000-target answer is tens of MB of JSON: built in one piece it
   * would hold the event loop far longer than the stall threshold). `?offset=N&limit=M` pages through the targets
   * (in config order, then discovered ones) and adds `total`, `offset` and `limit`; without them the shape is
   * `{"targets": [...]}`, every target.
   */
  private targetsReply(url: URL): Reply {
    const page = pageOf(url);
    if ('error' in page) return json({ error: page.error, code: 'VIPWATCH_BAD_QUERY' }, 400);
    const all = this.scheduler.targets();
    const now = this.clock.now();
    const targets = page.paged ? all.slice(page.offset, page.offset + page.limit) : all;
    const head = page.paged ? `{"total":${all.length},"offset":${page.offset},"limit":${page.limit},"targets":[` : '{"targets":[';
    const self = this;
    function* body(): Generator<string> {
      yield head;
      for (let i = 0; i < targets.length; i++) yield (i ? ',\n' : '\n') + JSON.stringify(self.targetJson(targets[i]!, now));
      yield '\n]}\n';
    }
    return { status: 200, contentType: 'application/json; charset=utf-8', body: body() };
  }

  private routes(): void {
    this.server
      .get('/', () => text(statusPageHtml(this.version), 200, 'text/html; charset=utf-8'))
      // Streamed: at thousands of targets the exposition is megabytes (see renderMetrics).
      .get('/metrics', () => ({ status: 200, contentType: this.registry.contentType, body: renderMetrics(this.registry) }))
      .get('/-/healthy', () => text('ok\n'))
      .get('/-/ready', () => (this.ready ? text('ready\n') : text('not ready\n', 503)))
      .get('/api/v1/targets', (_req, url) => this.targetsReply(url))
      .get('/api/v1/incidents', (_req, url) => json({ incidents: this.diagnosis.list(url.searchParams.get('status') !== 'open') }));
  }
}

/** Most targets per page: the default page size when only `offset` is given. */
const MAX_PAGE = 10_000;

function pageOf(url: URL): { paged: boolean; offset: number; limit: number } | { error: string } {
  const q = url.searchParams;
  if (!q.has('offset') && !q.has('limit')) return { paged: false, offset: 0, limit: Infinity };
  const offset = q.has('offset') ? Number(q.get('offset')) : 0;
  const limit = q.has('limit') ? Number(q.get('limit')) : MAX_PAGE;
  if (!Number.isSafeInteger(offset) || offset < 0) return { error: `offset must be an integer >= 0, got ${JSON.stringify(q.get('offset'))}` };
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) return { error: `limit must be an integer from 1 to ${MAX_PAGE}, got ${JSON.stringify(q.get('limit'))}` };
  return { paged: true, offset, limit };
}

/** Successes by the node that served them and failures by the node they are attributed to, over the attempts held. */
function perNode(attempts: readonly Attempt[], endpoints: Record<string, number> | undefined) {
  const out: Record<string, { endpoints: number; successes: number; failures: number }> = {};
  const get = (n: string) => (out[n] ??= { endpoints: endpoints?.[n] ?? 0, successes: 0, failures: 0 });
  for (const n of Object.keys(endpoints ?? {})) get(n);
  for (const a of attempts) {
    if (a.ok && a.backendNode) get(a.backendNode).successes++;
    else if (!a.ok && a.node) get(a.node).failures++;
  }
  return out;
}

function diagnosisJson(d: Diagnosis | undefined) {
  if (!d) return null;
  return {
    verdict: d.verdict, confidence: d.confidence, suspectedNodes: d.suspectedNodes, candidateNodes: d.candidateNodes,
    identity: d.identity, attempts: d.attempts, failures: d.failures, failureRatio: d.failureRatio,
    expectedFailureRatio: d.expectedFailureRatio, pValue: d.pValue, summary: d.summary, at: new Date(d.at).toISOString(),
  };
}

/** Each target's ring holds what its diagnosis window needs (config/ring-size.ts); load refuses what would not fit. */
export function historySizeFor(t: TargetConfig, d: DiagnosisConfig): number {
  return ringSize(schedulePeriodMs(t), d.windowMs, d.burst.count);
}
