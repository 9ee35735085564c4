import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Incident } from '../../src/incidents/types.js';
import { NODES } from './addresses.js';
import { LabError } from './exec.js';
import { Lab, type LabOptions } from './lab.js';
import { parsePromText, sumBy, type PromSample } from './prom-text.js';
import { LabServices } from './services-client.js';
import type { MailEvent, WebhookEvent } from './services-protocol.js';
import { LAB_LISTEN, LAB_TARGET, renderLabConfig, type LabConfigInput } from './vipwatch-config.js';
import { repoRoot, VipwatchProcess } from './vipwatch-process.js';

/** The node agents' port on every node's InternalIP (the DaemonSet's default). */
export const LAB_AGENT_PORT = 9465;

export interface ScenarioOptions {
  /** Progress lines of the lab and the harness. */
  log?: (line: string) => void;
  /** Passed to the Lab (prefix, iptables backend). */
  lab?: Omit<LabOptions, 'log'>;
  /** Overrides of the generated vipwatch config. */
  config?: Pick<LabConfigInput, 'intervalMs' | 'timeoutMs' | 'logLevel' | 'diagnosis' | 'defaultDiagnosis' | 'arp'>;
  /** Runs `vipwatch node-agent` in every node namespace and points vipwatch's agents.nodeUrlTemplate at them. */
  agents?: boolean;
}

/** A webhook request as the receiver got it, with its body read as the incident record it is. */
export interface WebhookDelivery {
  event: string;
  incident: Incident;
  signatureOk: boolean | null;
  headers: Record<string, string>;
  receivedAt: number;
}

/** Positions in the webhook and mail streams: a scenario reads only what arrived after its mark. */
export interface StreamMark {
  webhooks: number;
  mails: number;
}

/**
 * The lab cluster plus everything around it in the client namespace: the fake Kubernetes API describing the lab, a
 * webhook receiver, an SMTP server and the real `vipwatch run` configured for them. Reads what a user reads: webhook
 * bodies, mails, /metrics, /api/v1/incidents and /api/v1/targets. stop() (or stopSync() from an exit handler) removes
 * everything: processes, namespaces, temp files.
 */
export class Scenario {
  readonly lab: Lab;
  readonly dir: string;
  private _services?: LabServices;
  private _vipwatch?: VipwatchProcess;
  private runs = 0;
  private readonly token = randomBytes(16).toString('hex');
  private readonly webhookSecret = randomBytes(16).toString('hex');
  private readonly log: (line: string) => void;

  private constructor(private readonly opts: ScenarioOptions) {
    this.log = opts.log ?? (() => {});
    this.lab = new Lab({ ...opts.lab, log: this.log });
    this.dir = mkdtempSync(join(tmpdir(), 'vipwatch-lab-'));
  }

  /** Builds the lab, starts the services and vipwatch, and waits until vipwatch is ready. Cleans up when any step fails. */
  static async start(opts: ScenarioOptions = {}): Promise<Scenario> {
    const s = Scenario.create(opts);
    await s.begin();
    return s;
  }

  /** An unstarted scenario: lets a caller hold it (for stopSync in an exit handler) before begin() builds anything. */
  static create(opts: ScenarioOptions = {}): Scenario {
    return new Scenario(opts);
  }

  async begin(): Promise<void> {
    try {
      await this.lab.setup();
      if (this.opts.agents) await this.lab.startNodeAgents(LAB_AGENT_PORT, join(repoRoot(), 'bin', 'vipwatch.js'));
      writeFileSync(join(this.dir, 'token'), `${this.token}\n`, { mode: 0o600 });
      writeFileSync(join(this.dir, 'webhook-secret'), this.webhookSecret, { mode: 0o600 });
      this._services = await LabServices.start(this.lab, { token: this.token, webhookSecret: this.webhookSecret });
      const r = this._services.ready;
      this.log(`fake Kubernetes API ${r.kubeApi}, webhook receiver ${r.webhookUrl}, SMTP server 127.0.0.1:${r.smtpPort} (client namespace)`);
      await this.startVipwatch();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  get services(): LabServices {
    if (!this._services) throw new LabError('LAB_NOT_READY', 'the scenario is not started');
    return this._services;
  }

  get vipwatch(): VipwatchProcess {
    if (!this._vipwatch) throw new LabError('LAB_NOT_READY', 'vipwatch is not started');
    return this._vipwatch;
  }

  /** The config file of the current vipwatch run. */
  get configFile(): string {
    return join(this.dir, `vipwatch-${this.runs}.yaml`);
  }

  /** Writes a config with a fresh state dir (no incidents carried over) and starts `vipwatch run`; resolves once /-/ready is 200. */
  async startVipwatch(): Promise<VipwatchProcess> {
    const svc = this.services;
    this.runs++;
    const stateDir = join(this.dir, `state-${this.runs}`);
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(this.configFile, renderLabConfig({
      ...this.opts.config,
      stateDir,
      kubeApi: svc.ready.kubeApi,
      tokenFile: join(this.dir, 'token'),
      webhookUrl: svc.ready.webhookUrl,
      webhookSecretFile: join(this.dir, 'webhook-secret'),
      smtpPort: svc.ready.smtpPort,
      ...(this.opts.agents ? { agentUrlTemplate: `http://{nodeIP}:${LAB_AGENT_PORT}` } : {}),
    }));
    const vw = VipwatchProcess.start(this.lab, this.configFile);
    this._vipwatch = vw;
    await this.waitFor(async () => (await this.get('/-/ready')).status === 200, { timeoutMs: 30_000, what: 'vipwatch /-/ready' });
    this.log(`vipwatch running in ${this.lab.names.client} (pid ${vw.pid}), config ${this.configFile}`);
    return vw;
  }

  /** Stops the running vipwatch and starts a new one with a fresh state dir. */
  async restartVipwatch(): Promise<VipwatchProcess> {
    await this._vipwatch?.stop();
    return this.startVipwatch();
  }

  /** Every fault switched off: rp_filter 0 on every node, no SYN loss, no outage, nobody refusing. */
  async clearFaults(): Promise<void> {
    await this.lab.setOutage(false);
    await this.lab.setSynLoss(0);
    for (const n of NODES) {
      await this.lab.setRpFilter(n, 0);
      await this.lab.setRefusing(n, false);
    }
  }

  /** GET a path of vipwatch's server (from inside the client namespace). */
  get(path: string): Promise<{ status: number; contentType: string; body: string }> {
    return this.services.fetch(`http://${LAB_LISTEN.host}:${LAB_LISTEN.port}${path}`);
  }

  async json<T>(path: string): Promise<T> {
    const r = await this.get(path);
    if (r.status !== 200) throw new LabError('LAB_API_STATUS', `GET ${path}: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
    return JSON.parse(r.body) as T;
  }

  async metrics(): Promise<PromSample[]> {
    const r = await this.get('/metrics');
    if (r.status !== 200) throw new LabError('LAB_API_STATUS', `GET /metrics: HTTP ${r.status}`);
    return parsePromText(r.body);
  }

  /** GET /api/v1/incidents: open and recently resolved incidents (accepts a bare array or `{ incidents: [...] }`). */
  async incidents(): Promise<Incident[]> {
    const v = await this.json<unknown>('/api/v1/incidents');
    if (Array.isArray(v)) return v as Incident[];
    const list = (v as { incidents?: unknown }).incidents;
    if (!Array.isArray(list)) throw new LabError('LAB_API_SHAPE', `GET /api/v1/incidents: no incident list in ${JSON.stringify(v).slice(0, 300)}`);
    return list as Incident[];
  }

  async targets(): Promise<Record<string, unknown>[]> {
    return (await this.json<{ targets: Record<string, unknown>[] }>('/api/v1/targets')).targets;
  }

  /**
   * Waits until /metrics shows a success from every lab node, and at least `atLeast` in all: the healthy cluster a
   * scenario starts from.
   */
  async everyNodeServed(opts: { atLeast?: number; timeoutMs: number }): Promise<void> {
    const atLeast = opts.atLeast ?? 1;
    await this.waitFor(async () => {
      const served = sumBy(await this.metrics(), 'vipwatch_backend_successes_total', 'node', { target: LAB_TARGET });
      return NODES.every((n) => (served[n] ?? 0) > 0) && Object.values(served).reduce((a, b) => a + b, 0) >= atLeast;
    }, { timeoutMs: opts.timeoutMs, what: `${atLeast > 1 ? `${atLeast} successes, ` : ''}a success from each of ${NODES.join(', ')} in /metrics` });
  }

  mark(): StreamMark {
    return { webhooks: this.services.webhooks.length, mails: this.services.mails.length };
  }

  /** Webhook requests since `from`, read as a receiver reads them (event header, incident record body). */
  webhooks(from?: StreamMark): WebhookDelivery[] {
    return this.services.webhooks.slice(from?.webhooks ?? 0).map(toDelivery).filter((d): d is WebhookDelivery => !!d);
  }

  mails(from?: StreamMark): MailEvent[] {
    return this.services.mails.slice(from?.mails ?? 0);
  }

  /**
   * Polls `check` until it returns a truthy value. `timeoutMs` is a generous upper bound, never a performance claim.
   * Fails at once, with vipwatch's last output, when vipwatch has exited.
   */
  async waitFor<T>(check: () => T | Promise<T>, opts: { timeoutMs: number; intervalMs?: number; what: string }): Promise<NonNullable<T>> {
    const deadline = Date.now() + opts.timeoutMs;
    let last: unknown;
    for (;;) {
      const exit = this._vipwatch?.exited;
      if (exit) throw new LabError('LAB_VIPWATCH_EXITED', `vipwatch exited (code ${exit.code}, signal ${exit.signal}) while waiting for ${opts.what}:\n${this._vipwatch!.tail()}`);
      try {
        const v = await check();
        if (v) return v as NonNullable<T>;
        last = undefined;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline) {
        throw new LabError('LAB_WAIT_TIMEOUT', `not within ${opts.timeoutMs} ms: ${opts.what}${last ? `: ${last instanceof Error ? last.message : String(last)}` : ''}\nvipwatch output:\n${this._vipwatch?.tail() ?? '(not started)'}`);
      }
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
    }
  }

  /** Stops vipwatch and the services, removes the lab and the temp dir. Safe to repeat. */
  async stop(): Promise<void> {
    await this._vipwatch?.stop().catch(() => {});
    await this._services?.stop().catch(() => {});
    await this.lab.teardown();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The same, synchronously, for a process 'exit' handler. */
  stopSync(): void {
    this.lab.teardownSync();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function toDelivery(w: WebhookEvent): WebhookDelivery | undefined {
  try {
    return {
      event: w.headers['x-vipwatch-event'] ?? '',
      incident: JSON.parse(w.body) as Incident,
      signatureOk: w.signatureOk,
      headers: w.headers,
      receivedAt: w.receivedAt,
    };
  } catch {
    return undefined;
  }
}
