/**
 * Kernel evidence from the node evidence agents: reads the agents of the nodes that verdicts and open incidents name
 * (want), every agents.interval with the agents.timeout deadline each, and answers what each node's kernel says now
 * and how its reverse-path drop counter moved since a point in time (evidence). An agent that cannot be reached is
 * reported as such; nothing here ever blocks the diagnosis (reads run beside it, answers come from memory).
 */
import type { AgentsConfig } from '../config/sections/agents.js';
import { deadlineSignal, type Clock, type TimerHandle } from '../lib/clock.js';
import { ERR } from '../lib/error-codes.js';
import { errorCode, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { AgentClient, type AgentReport } from './agent-client.js';
import { agentUrl } from './agent-url.js';
import type { KernelEvidenceSource, KernelInterface, KernelNodeEvidence } from './types.js';

export interface KernelEvidenceOptions {
  config: AgentsConfig & { nodeUrlTemplate: string };
  clock: Clock;
  logger: Logger;
  /** A node's InternalIPs from the cluster view (empty when unknown). */
  nodeAddresses(node: string): string[];
  client?: AgentClient;
}

/** Counter readings kept per node: a day at the default 5 s interval would be 17,280; the oldest are thinned out. */
const MAX_READINGS = 2048;

interface Reading {
  at: number;
  drops: number | null;
}

interface NodeState {
  readings: Reading[];
  report?: AgentReport;
  /** The newest read failed: why (code: message). */
  error?: string;
  lastRiseAt?: number;
  inFlight?: Promise<void>;
}

export class KernelEvidence implements KernelEvidenceSource {
  private readonly client: AgentClient;
  private readonly wanted = new Map<string, Set<string>>();
  private readonly nodes = new Map<string, NodeState>();
  private timer?: TimerHandle;
  private stopped = true;
  private readonly stopAc = new AbortController();

  constructor(private readonly o: KernelEvidenceOptions) {
    this.client = o.client ?? new AgentClient({ token: o.config.token, timeoutMs: o.config.timeoutMs });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
    this.stopAc.abort();
    await Promise.allSettled([...this.nodes.values()].map((n) => n.inFlight));
    await this.client.close().catch(() => {});
  }

  /** The nodes `owner` (a target) needs evidence about now; a node not wanted before is read at once. */
  want(owner: string, nodes: readonly string[]): void {
    const before = this.allWanted();
    if (nodes.length) this.wanted.set(owner, new Set(nodes));
    else this.wanted.delete(owner);
    for (const n of nodes) if (!before.has(n) && !this.stopped) void this.read(n);
  }

  /** What each node's kernel says, with the drop counter's rise since `since` (epoch ms). */
  evidence(nodes: readonly string[], since: number): Record<string, KernelNodeEvidence> {
    const out: Record<string, KernelNodeEvidence> = {};
    for (const n of [...new Set(nodes)].sort()) out[n] = this.evidenceOf(n, since);
    return out;
  }

  /** Reads one node's agent now (also used by tests); resolves when the reading is in. */
  read(node: string): Promise<void> {
    const st = this.state(node);
    if (st.inFlight) return st.inFlight;
    st.inFlight = this.readOnce(node, st).finally(() => (st.inFlight = undefined));
    return st.inFlight;
  }

  private async readOnce(node: string, st: NodeState): Promise<void> {
    const { clock, config } = this.o;
    const d = deadlineSignal(clock, config.timeoutMs, this.stopAc.signal);
    try {
      const report = await this.client.read(this.urlFor(node), d.signal);
      const at = clock.now();
      const last = st.readings[st.readings.length - 1];
      if (last && last.drops !== null && report.reversePathDrops !== null && report.reversePathDrops > last.drops) st.lastRiseAt = at;
      st.readings.push({ at, drops: report.reversePathDrops });
      if (st.readings.length > MAX_READINGS) st.readings.splice(1, 1); // keep the oldest (the baseline of long incidents)
      if (st.error) this.o.logger.info('node evidence agent answers again', { node });
      st.report = report;
      st.error = undefined;
    } catch (err) {
      const why = `${errorCode(err) ?? ERR.AGENT_UNREACHABLE}: ${errorMessage(err)}`;
      if (!st.error) this.o.logger.warn('node evidence agent cannot be read (the diagnosis goes on without it)', { node, error: why });
      st.error = why;
    } finally {
      d.cancel();
    }
  }

  private urlFor(node: string): string {
    return agentUrl(this.o.config.nodeUrlTemplate, node, (n) => this.o.nodeAddresses(n));
  }

  private evidenceOf(node: string, since: number): KernelNodeEvidence {
    const st = this.nodes.get(node);
    const interfaces: Record<string, KernelInterface> = {};
    const strict: string[] = [];
    for (const [name, i] of Object.entries(st?.report?.interfaces ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      // Forwarded SYNs arrive on interfaces with an IPv4 address; loopback never takes one from another host.
      if (name === 'lo' || !i.addresses.some((a) => !a.includes(':'))) continue;
      interfaces[name] = { rpFilter: { all: i.rpFilter.all, default: i.rpFilter.default, interface: i.rpFilter.interface, effective: i.rpFilter.effective } };
      if (i.rpFilter.effective === 1) strict.push(name);
    }
    const latest = st?.readings[st.readings.length - 1];
    const base = st ? baseline(st.readings, since) : undefined;
    const e: KernelNodeEvidence = {
      agent: st?.report && !st.error ? 'ok' : 'unreachable',
      interfaces,
      strictInterfaces: strict,
      reversePathDrops: latest?.drops ?? null,
      reversePathDropsSinceOpen: latest && base && base !== latest && latest.drops !== null && base.drops !== null ? Math.max(0, latest.drops - base.drops) : null,
    };
    if (st?.report) e.readAt = new Date(latest!.at).toISOString();
    if (st?.lastRiseAt !== undefined) e.lastRiseAt = new Date(st.lastRiseAt).toISOString();
    if (st?.error) e.error = st.error;
    else if (!st) e.error = `${ERR.AGENT_UNREACHABLE}: not read yet`;
    return e;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => {
      for (const n of this.allWanted()) void this.read(n);
      this.prune();
      this.schedule();
    }, this.o.config.intervalMs);
  }

  /** Forgets nodes nobody has wanted for a day. */
  private prune(): void {
    const wanted = this.allWanted();
    const dayAgo = this.o.clock.now() - 24 * 3_600_000;
    for (const [n, st] of this.nodes) {
      const last = st.readings[st.readings.length - 1];
      if (!wanted.has(n) && !st.inFlight && (!last || last.at < dayAgo)) this.nodes.delete(n);
    }
  }

  private allWanted(): Set<string> {
    const out = new Set<string>();
    for (const s of this.wanted.values()) for (const n of s) out.add(n);
    return out;
  }

  private state(node: string): NodeState {
    let s = this.nodes.get(node);
    if (!s) this.nodes.set(node, (s = { readings: [] }));
    return s;
  }
}

/** The last reading at or before `since`, else the first after it. */
function baseline(readings: readonly Reading[], since: number): Reading | undefined {
  let before: Reading | undefined;
  for (const r of readings) {
    if (r.at <= since) before = r;
    else return before ?? r;
  }
  return before;
}
