/**
 * Which node owns a MAC, from the node evidence agents' own reports (interfaces.<name>.mac): the second way, beside
 * the neighbour entries of Node InternalIPs, to name the node behind a VIP's neighbour entry, and the only one when
 * the VIP sits on a NIC other than the InternalIP's. While started it reads every known node's agent, first at once,
 * then every agents.interval x 12 (at least a minute: interface MACs rarely change), each request with the
 * agents.timeout deadline, at most MAX_IN_FLIGHT at a time. A node's MACs are those of its newest successful report;
 * when its agent stops answering (or the node leaves the cluster view) they are kept KEEP_MS after that report, then
 * forgotten. nodesForMac answers from memory: nothing here ever waits on an agent.
 */
import type { AgentsConfig } from '../config/sections/agents.js';
import { deadlineSignal, type Clock, type TimerHandle } from '../lib/clock.js';
import { ERR } from '../lib/error-codes.js';
import { errorCode, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { normalMac } from '../lib/mac.js';
import { AgentClient, type AgentReport } from './agent-client.js';
import { agentUrl } from './agent-url.js';

/** How often the agents are read: agents.interval x REFRESH_FACTOR, never more often than MIN_REFRESH_MS. */
export const REFRESH_FACTOR = 12;
export const MIN_REFRESH_MS = 60_000;
/** How long a node's MACs outlive its agent's last successful report once the agent no longer answers. */
export const KEEP_MS = 10 * 60_000;
/** Requests to agents in flight at once. */
export const MAX_IN_FLIGHT = 4;

export interface NodeMacDirectoryOptions {
  config: AgentsConfig & { nodeUrlTemplate: string };
  clock: Clock;
  logger: Logger;
  /** The nodes to read (the cluster view's Node names); read at each round. */
  nodes(): string[];
  /** A node's InternalIPs from the cluster view (empty when unknown), for `{nodeIP}`. */
  nodeAddresses(node: string): string[];
  client?: Pick<AgentClient, 'read' | 'close'>;
}

interface NodeMacs {
  macs: Set<string>;
  /** Clock time of the newest successful report. */
  okAt: number;
}

export class NodeMacDirectory {
  private readonly client: Pick<AgentClient, 'read' | 'close'>;
  private readonly known = new Map<string, NodeMacs>();
  /** MAC -> nodes whose newest successful report lists it (updated per node: pods' veths come and go). */
  private readonly byMac = new Map<string, Set<string>>();
  /** Nodes whose newest read failed, with why (one warn per node and episode). */
  private readonly failing = new Map<string, string>();
  /** Nodes listed at the newest round. */
  private listed = new Set<string>();
  private timer?: TimerHandle;
  private round?: Promise<void>;
  private stopped = true;
  private readonly stopAc = new AbortController();

  constructor(private readonly o: NodeMacDirectoryOptions) {
    this.client = o.client ?? new AgentClient({ token: o.config.token, timeoutMs: o.config.timeoutMs });
  }

  /** Milliseconds between rounds. */
  get refreshMs(): number {
    return Math.max(MIN_REFRESH_MS, this.o.config.intervalMs * REFRESH_FACTOR);
  }

  /** Reads every node's agent now, then every refreshMs. */
  start(): void {
    if (!this.stopped || this.stopAc.signal.aborted) return;
    this.stopped = false;
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
    this.stopAc.abort();
    await this.round?.catch(() => {});
    await this.client.close().catch(() => {});
  }

  /** The nodes whose agents report `mac` on one of their interfaces, sorted; [] when none does (the MAC is unknown). */
  nodesForMac(mac: string): string[] {
    const owners = this.byMac.get(mac.toLowerCase());
    if (!owners) return [];
    const now = this.o.clock.now();
    return [...owners].filter((n) => this.current(n, now)).sort();
  }

  /** Resolves when no round is in flight (the one the timer started, if any, has ended). */
  idle(): Promise<void> {
    return this.round ?? Promise.resolve();
  }

  /** One round over every node (what the timer runs; reads nothing unless started); joins the round in flight. Never rejects. */
  refresh(): Promise<void> {
    this.round ??= this.readAll().catch((err: unknown) => {
      this.o.logger.warn('node MAC directory: a round failed', { error: errorMessage(err) });
    }).finally(() => (this.round = undefined));
    return this.round;
  }

  /**
   * One round, then the next refreshMs after this one began; while the node list is empty (the cluster view not
   * listed yet at start) the next after agents.interval instead, so the first MACs do not wait a whole period.
   */
  private tick(): void {
    if (this.stopped) return;
    const began = this.o.clock.monotonic();
    void this.refresh().then(() => {
      if (this.stopped) return;
      const period = this.listed.size === 0 ? this.o.config.intervalMs : this.refreshMs;
      this.timer = this.o.clock.setTimeout(() => this.tick(), Math.max(0, began + period - this.o.clock.monotonic()));
    });
  }

  private async readAll(): Promise<void> {
    let nodes: string[];
    try {
      nodes = [...new Set(this.o.nodes())];
    } catch (err) {
      this.o.logger.warn('node MAC directory: the node list is not available (this round skipped)', { error: errorMessage(err) });
      return;
    }
    this.listed = new Set(nodes);
    let next = 0;
    const worker = async () => {
      while (next < nodes.length && !this.stopped) await this.readOne(nodes[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(MAX_IN_FLIGHT, nodes.length) }, worker));
    this.prune();
  }

  private async readOne(node: string): Promise<void> {
    const { clock, config, logger } = this.o;
    const d = deadlineSignal(clock, config.timeoutMs, this.stopAc.signal);
    try {
      const report = await this.client.read(agentUrl(config.nodeUrlTemplate, node, (n) => this.o.nodeAddresses(n)), d.signal);
      if (this.stopped) return;
      this.record(node, macsOf(report));
      if (this.failing.delete(node)) logger.info('node MAC directory: the node evidence agent answers again', { node });
    } catch (err) {
      if (this.stopped) return;
      const code = errorCode(err) ?? ERR.AGENT_UNREACHABLE;
      if (!this.failing.has(node)) {
        logger.warn(`node MAC directory: the node evidence agent cannot be read (its MACs are kept ${KEEP_MS / 60_000} minutes after its last report; logged again only after it recovers)`, { node, code, error: errorMessage(err) });
      }
      this.failing.set(node, code);
    } finally {
      d.cancel();
    }
  }

  private record(node: string, macs: Set<string>): void {
    const before = this.known.get(node)?.macs ?? new Set<string>();
    this.known.set(node, { macs, okAt: this.o.clock.now() });
    for (const mac of before) if (!macs.has(mac)) this.unindex(mac, node);
    for (const mac of macs) {
      if (before.has(mac)) continue;
      const owners = this.byMac.get(mac);
      if (owners) owners.add(node);
      else this.byMac.set(mac, new Set([node]));
    }
  }

  /** A node's MACs count while its newest read succeeded and it is listed, else KEEP_MS after its last report. */
  private current(node: string, now: number): boolean {
    const k = this.known.get(node);
    if (!k) return false;
    if (!this.failing.has(node) && this.listed.has(node)) return true;
    return now - k.okAt < KEEP_MS;
  }

  /** Forgets nodes whose MACs no longer count, and the failures of nodes no longer listed. */
  private prune(): void {
    const now = this.o.clock.now();
    for (const [n, k] of this.known) {
      if (this.current(n, now)) continue;
      this.known.delete(n);
      for (const mac of k.macs) this.unindex(mac, n);
    }
    for (const n of this.failing.keys()) if (!this.listed.has(n) && !this.known.has(n)) this.failing.delete(n);
  }

  private unindex(mac: string, node: string): void {
    const owners = this.byMac.get(mac);
    owners?.delete(node);
    if (owners?.size === 0) this.byMac.delete(mac);
  }
}

/** The report's interface MACs, lower-case; malformed and all-zero ones left out. */
function macsOf(report: AgentReport): Set<string> {
  const out = new Set<string>();
  for (const i of Object.values(report.interfaces)) {
    const mac = normalMac(i.mac);
    if (mac) out.add(mac);
  }
  return out;
}
