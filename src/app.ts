import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { createDigest, type DigestScheduler } from './alerting/digest-scheduler.js';
import { Notifier } from './alerting/notifier.js';
import { createClusterSource } from './cluster/create.js';
import { DiagnosisEngine } from './diagnosis/engine.js';
import type { ManagedClusterSource } from './cluster/types.js';
import { ringSize, schedulePeriodMs } from './config/ring-size.js';
import type { Config } from './config/schema.js';
import type { DiagnosisConfig } from './config/sections/diagnosis.js';
import type { TargetConfig } from './config/targets.js';
import { KernelEvidence } from './evidence/kernel-evidence.js';
import { NodeMacDirectory } from './evidence/node-macs.js';
import { IncidentService } from './incidents/service.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createLogger, type Logger } from './lib/logger.js';
import { packageVersion } from './lib/version.js';
import { ProbeMetrics } from './metrics/probe-metrics.js';
import { renderMetrics } from './metrics/render.js';
import { SelfErrorMonitor } from './metrics/self-errors.js';
import { createProbers } from './probe/registry.js';
import type { Prober, Protocol } from './probe/types.js';
import { AttemptPipeline, type AttemptOutcome } from './pipeline/attempt-pipeline.js';
import { Scheduler, type StopOptions } from './schedule/scheduler.js';
import { SelfMonitor } from './schedule/self-monitor.js';
import { targetStatus } from './schedule/target-status.js';
import { authGuard } from './server/auth.js';
import { HttpServer, json, text } from './server/http-server.js';
import { seriesReply } from './server/series-api.js';
import { statusPageHtml } from './server/status-page.js';
import { summaryReply } from './server/summary-api.js';
import { targetsReply, type TargetsApiSource } from './server/targets-api.js';

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
  readonly diagnosis: DiagnosisEngine;
  readonly incidents: IncidentService;
  /** alerting.digest: the daily summary, when configured. */
  readonly digest?: DigestScheduler;
  /** Kernel evidence from the node evidence agents (agents.nodeUrlTemplate set). */
  readonly kernel?: KernelEvidence;
  /** Node interface MACs from the node evidence agents (agents.nodeUrlTemplate set and kubernetes.arp.enabled). */
  readonly nodeMacs?: NodeMacDirectory;
  readonly pipeline: AttemptPipeline;
  /** What /api/v1/targets reads, at request time. */
  readonly targetsApi: TargetsApiSource;
  /** Target removals resolve incidents only once the cluster has been heard from (discovered targets are known). */
  private clusterSettled = false;
  readonly version = packageVersion();
  private readonly stopping = new AbortController();
  private config: Config;
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
      onAttempt: (a, t, history, snapshot) => this.pipeline.handle(a, t, history, snapshot),
      onSkip: (t) => {
        this.metrics.skip(t);
        this.logger.debug('attempt skipped: previous attempt still running', { target: t.name });
      },
    });
    this.metrics = new ProbeMetrics(this.registry, {
      targets: () => this.scheduler.targets().map((t) => ({ target: t, history: this.scheduler.history(t.name) })),
      now: () => this.clock.now(),
      takeLagMs: () => this.selfMonitor.takeMaxLagMs(),
      statusOf: targetStatus,
      viewFor: (t) => this.cluster.viewFor(t),
    }, this.version);
    this.selfErrors = new SelfErrorMonitor(this.registry, { clock: this.clock, logger: this.logger });
    this.notifier = new Notifier({ config: opts.config.alerting, stateDir: opts.config.state.dir, registry: this.registry, clock: this.clock, logger: this.logger });
    this.diagnosis = new DiagnosisEngine(opts.config.diagnosis);
    const { nodeUrlTemplate } = opts.config.agents;
    if (nodeUrlTemplate !== undefined) {
      // What the kernel evidence and the MAC directory share: the agents' config, their log component, the node addresses.
      const agents = {
        config: { ...opts.config.agents, nodeUrlTemplate }, clock: this.clock, logger: this.logger.child({ component: 'agents' }),
        nodeAddresses: (node: string) => this.cluster.nodeAddresses?.(node) ?? [],
      };
      this.kernel = new KernelEvidence(agents);
      if (opts.config.kubernetes.arp.enabled) {
        const macs = new NodeMacDirectory({ ...agents, nodes: () => this.cluster.nodeNames?.() ?? [] });
        this.nodeMacs = macs;
        this.cluster.setMacOwners?.((mac) => macs.nodesForMac(mac));
      }
    }
    this.incidents = new IncidentService({
      config: opts.config.diagnosis, dir: join(opts.config.state.dir, 'incidents'), clock: this.clock, logger: this.logger,
      registry: this.registry, notify: (ev) => this.notifier.notify(ev), kernel: this.kernel,
    });
    this.digest = createDigest({
      config: opts.config.alerting, stateDir: opts.config.state.dir, registry: this.registry, clock: this.clock, logger: this.logger,
      sources: { targets: () => this.scheduler.targets(), history: (n) => this.scheduler.history(n), incidents: () => this.incidents.list(true) },
    });
    this.pipeline = new AttemptPipeline({
      clock: this.clock, logger: this.logger, diagnosis: this.diagnosis, incidents: this.incidents, metrics: this.metrics, selfErrors: this.selfErrors,
      requestBurst: (name, req) => this.scheduler.requestBurst(name, req),
    });
    this.targetsApi = this.targetsSource();
    this.cluster.attachMetrics(this.registry, () => this.scheduler.targets());
    this.cluster.onTargetsChanged(() => this.applyTargets());
    const srv = opts.config.server;
    this.server = new HttpServer(this.logger, { maxConnections: srv.maxConnections, headersTimeoutMs: srv.headersTimeoutMs, requestTimeoutMs: srv.requestTimeoutMs, tls: srv.tls });
    // Read at each request: a reload's new credentials apply at once.
    this.server.guard(authGuard(() => this.config.server));
    this.routes();
  }

  async start(): Promise<AddressInfo> {
    const { host, port } = this.config.server.listen;
    const addr = await this.server.listen(host, port);
    this.selfMonitor.start();
    await this.notifier.start(this.stopping.signal);
    await this.incidents.start();
    await this.digest?.start(this.stopping.signal);
    this.kernel?.start();
    this.nodeMacs?.start();
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

  /**
   * Stops probing (with `drainMs`, attempts in flight first end by their deadline and are recorded: see StopOptions),
   * then the cluster source, incident updates and alert delivery (what was not delivered stays in the outbox), then
   * the server. Not ready from the first moment.
   */
  async stop(opts: StopOptions = {}): Promise<void> {
    this.ready = false;
    const inFlight = await this.scheduler.stop(opts);
    if (opts.drainMs) this.logger.info('attempts in flight at stop', { finished: inFlight.finished, aborted: inFlight.aborted });
    this.stopping.abort();
    await this.cluster.done();
    await this.incidents.stop();
    await this.kernel?.stop();
    await this.nodeMacs?.stop();
    await this.notifier.stop();
    await this.digest?.stop();
    this.selfMonitor.stop();
    await this.server.close();
    this.logger.info('vipwatch stopped');
  }

  /** Observes every recorded attempt with its attribution, after metrics, incidents and bursts had it. */
  onAttempt(listener: (o: AttemptOutcome) => void): void {
    this.pipeline.onOutcome(listener);
  }

  /**
   * Applies a new, already validated config without a restart: the static targets, server.auth and
   * server.metricsAuth, and (when already serving HTTPS) server.tls's files. Everything else keeps running as it
   * started until a restart (src/cli/reload-diff.ts names those keys; keep the two in step).
   */
  reload(config: Config): void {
    this.config = config;
    if (config.server.tls) this.server.setTlsFiles(config.server.tls);
    this.cluster.setStaticTargets(config.targets);
    this.applyTargets();
  }

  /** Static targets plus those discovered from the cluster. */
  private applyTargets(): void {
    const targets = [...this.config.targets, ...this.cluster.discoveredTargets()];
    const before = new Set(this.scheduler.targets().map((t) => t.name));
    this.scheduler.setTargets(targets);
    const after = new Set(targets.map((t) => t.name));
    if (this.clusterSettled) {
      const gone = this.diagnosis.targets().filter((n) => !after.has(n));
      for (const n of gone) this.diagnosis.forget(n);
      this.incidents.retainTargets([...after], gone);
    }
    for (const name of before) {
      if (after.has(name)) continue;
      this.metrics.forget(name);
      this.pipeline.forget(name);
      this.logger.info('target removed', { target: name });
    }
    for (const t of targets) if (!before.has(t.name)) this.logger.info('target added', { target: t.name, address: t.address, port: t.port, protocol: t.protocol });
  }

  /** What /api/v1/targets reads. */
  private targetsSource(): TargetsApiSource {
    return {
      targets: () => this.scheduler.targets(),
      history: (name) => this.scheduler.history(name),
      skipped: (name) => this.scheduler.skipped(name),
      viewFor: (t) => this.cluster.viewFor(t),
      diagnosis: (name) => this.diagnosis.latestFor(name),
      now: () => this.clock.now(),
    };
  }

  private routes(): void {
    const api = this.targetsApi;
    this.server
      .get('/', () => text(statusPageHtml(this.version), 200, 'text/html; charset=utf-8'))
      // Streamed: at thousands of targets the exposition is megabytes (see renderMetrics).
      .get('/metrics', () => ({ status: 200, contentType: this.registry.contentType, body: renderMetrics(this.registry) }))
      .get('/-/healthy', () => text('ok\n'))
      .get('/-/ready', () => (this.ready ? text('ready\n') : text('not ready\n', 503)))
      .get('/api/v1/targets', (_req, url) => targetsReply(api, url))
      .get('/api/v1/summary', () => summaryReply(api, () => this.incidents.list()))
      .get('/api/v1/series', (_req, url) => seriesReply(api, url))
      .get('/api/v1/incidents', (_req, url) => json({ incidents: this.incidents.list(url.searchParams.get('status') !== 'open') }));
  }
}

/** Each target's ring holds what its diagnosis window needs (config/ring-size.ts); load refuses what would not fit. */
export function historySizeFor(t: TargetConfig, d: DiagnosisConfig): number {
  return ringSize(schedulePeriodMs(t), d.windowMs, d.burst.count);
}
