/**
 * NodeMacDirectory against real node agents on loopback: node-a on 127.0.0.2 and node-b on 127.0.0.3, one port (a
 * DaemonSet's `http://{nodeIP}:PORT`), each reading the strict-eth1 fixture /proc tree with fixture interfaces of its
 * own MACs. vipwatch's side runs on a fake clock; the agents and sockets are real.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startNodeAgent, type RunningNodeAgent } from '../../src/cli/node-agent.js';
import { AGENTS_DEFAULTS } from '../../src/config/sections/agents.js';
import { AgentClient } from '../../src/evidence/agent-client.js';
import { KEEP_MS, MAX_IN_FLIGHT, NodeMacDirectory, type NodeMacDirectoryOptions } from '../../src/evidence/node-macs.js';
import { ERR } from '../../src/lib/error-codes.js';
import { createLogger, silentLogger } from '../../src/lib/logger.js';
import { Secret } from '../../src/lib/secret.js';
import { fixtureInterfaces, fixtureRoot } from '../agent/fixtures.js';
import { PAIR_ADDR, startAgentPair } from './agent-pair.js';
import { FakeClock } from '../support/fake-clock.js';
import { waitFor } from '../support/wait.js';

const TOKEN = 'node-macs-token-7';
const ADDR = PAIR_ADDR;
/** eth0 is each node's own; eth1 carries one MAC on both (a cloned VM, a bond's MAC). */
const MAC = { aEth0: '0a:58:0a:f4:00:0a', bEth0: '0a:58:0a:f4:00:0b', shared: '02:00:5e:00:53:01' } as const;

interface Logged { level: string; msg: string; node?: string; code?: string }

/** Each node's eth0 MAC as its agent reads it at each request (a test may change it, like `ip link set ... address`). */
const eth0Of: Record<string, string> = {};

function agentOn(host: string, port: number, node: string, eth0: string): Promise<RunningNodeAgent> {
  eth0Of[node] = eth0;
  return startNodeAgent({
    listen: { host, port }, procRoot: fixtureRoot('strict-eth1'), node, token: new Secret(TOKEN), logger: silentLogger,
    networkInterfaces: () => fixtureInterfaces({ eth0: eth0Of[node], eth1: MAC.shared.toUpperCase() }),
  });
}

describe('NodeMacDirectory: MAC -> node from real node agents (fake clock for vipwatch)', () => {
  const agents: Record<string, RunningNodeAgent> = {};
  let port = 0;
  const made: NodeMacDirectory[] = [];

  beforeAll(async () => {
    const pair = await startAgentPair((node, host, p) => agentOn(host, p, node, node === 'node-a' ? MAC.aEth0 : MAC.bEth0));
    Object.assign(agents, pair.agents);
    port = pair.port;
  });
  afterAll(async () => {
    await Promise.all(Object.values(agents).map((a) => a.close()));
  });
  afterEach(async () => {
    await Promise.all(made.splice(0).map((d) => d.stop()));
  });

  function directory(o: { nodes?: () => string[]; intervalMs?: number; template?: string; addresses?: (n: string) => string[]; client?: NodeMacDirectoryOptions['client'] } = {}) {
    const clock = new FakeClock();
    const logs: Logged[] = [];
    const d = new NodeMacDirectory({
      config: { ...AGENTS_DEFAULTS, intervalMs: o.intervalMs ?? AGENTS_DEFAULTS.intervalMs, nodeUrlTemplate: o.template ?? `http://{nodeIP}:${port}`, token: new Secret(TOKEN) },
      clock, logger: createLogger({ write: (l) => logs.push(JSON.parse(l) as Logged) }),
      nodes: o.nodes ?? (() => ['node-b', 'node-a']),
      nodeAddresses: o.addresses ?? ((n) => (ADDR[n] ? [ADDR[n]] : [])), client: o.client,
    });
    made.push(d);
    /** Moves the fake clock by `ms` and waits for the round its timer started (the agents answer in real time). */
    const step = async (ms: number) => {
      await clock.advance(ms);
      await d.idle();
    };
    return { d, clock, logs, step };
  }

  it('reads every node at start: each node\'s own MAC names it, a MAC both report names both, an unknown one none', async () => {
    const { d } = directory();
    expect(d.nodesForMac(MAC.aEth0)).toEqual([]);
    d.start();
    await d.refresh(); // joins the round start() began
    expect(d.nodesForMac(MAC.aEth0)).toEqual(['node-a']);
    expect(d.nodesForMac(MAC.bEth0)).toEqual(['node-b']);
    expect(d.nodesForMac(MAC.bEth0.toUpperCase())).toEqual(['node-b']);
    // Reported upper-case by the interfaces, lower-case by the agent; both nodes, sorted.
    expect(d.nodesForMac(MAC.shared)).toEqual(['node-a', 'node-b']);
    expect(d.nodesForMac('02:00:5e:00:53:99')).toEqual([]);
    // lo's all-zero MAC names nobody; docker0 is not in the agent's report (no conf entry).
    expect(d.nodesForMac('00:00:00:00:00:00')).toEqual([]);
    expect(d.nodesForMac('02:42:ac:11:00:01')).toEqual([]);
  });

  it('re-reads every agents.interval x 12 (at least a minute) on vipwatch\'s clock: follows a node list that grows and a MAC that changes', async () => {
    let nodes = ['node-a'];
    const { d, step } = directory({ nodes: () => nodes, intervalMs: 10_000 });
    expect(d.refreshMs).toBe(120_000);
    expect(directory({ intervalMs: 1000 }).d.refreshMs).toBe(60_000);
    d.start();
    await d.refresh();
    expect(d.nodesForMac(MAC.shared)).toEqual(['node-a']);
    nodes = ['node-a', 'node-b'];
    const renumbered = '0a:58:0a:f4:00:aa';
    eth0Of['node-a'] = renumbered;
    try {
      await step(119_999);
      expect(d.nodesForMac(MAC.shared)).toEqual(['node-a']);
      expect(d.nodesForMac(MAC.aEth0)).toEqual(['node-a']);
      await step(1);
      expect(d.nodesForMac(MAC.shared)).toEqual(['node-a', 'node-b']);
      // The newest report decides: the old MAC no longer names node-a, the new one does.
      expect(d.nodesForMac(MAC.aEth0)).toEqual([]);
      expect(d.nodesForMac(renumbered)).toEqual(['node-a']);
    } finally {
      eth0Of['node-a'] = MAC.aEth0;
    }
  });

  it('an empty node list at start (the cluster not listed yet) is asked again after agents.interval, not a whole period', async () => {
    let nodes: string[] = [];
    const { d, step } = directory({ nodes: () => nodes });
    d.start();
    await d.refresh();
    nodes = ['node-b'];
    await step(AGENTS_DEFAULTS.intervalMs);
    expect(d.nodesForMac(MAC.bEth0)).toEqual(['node-b']);
  });

  it('an agent that goes away keeps its node\'s MACs 10 minutes after its last report, then not; one warn with the code; back when it answers', async () => {
    const { d, step, logs, clock } = directory({ nodes: () => ['node-a', 'node-b', 'node-c'] });
    d.start();
    await d.refresh();
    const lastReport = clock.now();
    expect(d.nodesForMac(MAC.shared)).toEqual(['node-a', 'node-b']);
    // node-c has no InternalIP for {nodeIP}: warned once with its code, never invented.
    expect(logs.filter((l) => l.node === 'node-c' && l.level === 'warn').map((l) => l.code)).toEqual([ERR.AGENT_NO_ADDRESS]);

    await agents['node-b']!.close();
    for (let t = 60_000; t < KEEP_MS; t += 60_000) {
      await step(60_000);
      expect(d.nodesForMac(MAC.bEth0), `${t / 1000}s after node-b's last report`).toEqual(['node-b']);
    }
    // Rounds at 60 s steps: the 10th lands exactly KEEP_MS after the last report.
    await step(60_000);
    expect(clock.now() - lastReport).toBe(KEEP_MS);
    expect(d.nodesForMac(MAC.bEth0)).toEqual([]);
    expect(d.nodesForMac(MAC.shared)).toEqual(['node-a']);
    expect(d.nodesForMac(MAC.aEth0)).toEqual(['node-a']);
    const warns = logs.filter((l) => l.level === 'warn' && l.node === 'node-b');
    expect(warns).toHaveLength(1);
    expect(warns[0]!.code).toBe(ERR.AGENT_UNREACHABLE);
    expect(logs.filter((l) => l.level === 'warn' && l.node === 'node-c')).toHaveLength(1);

    agents['node-b'] = await agentOn(ADDR['node-b']!, port, 'node-b', MAC.bEth0);
    await step(60_000);
    expect(d.nodesForMac(MAC.shared)).toEqual(['node-a', 'node-b']);
    expect(logs.filter((l) => l.node === 'node-b' && l.level === 'info').map((l) => l.msg)).toEqual(['node MAC directory: the node evidence agent answers again']);
  });

  it('a node that leaves the cluster view keeps its MACs 10 minutes after its last report too', async () => {
    let nodes = ['node-a', 'node-b'];
    const { d, step } = directory({ nodes: () => nodes });
    d.start();
    await d.refresh();
    nodes = ['node-a'];
    await step(KEEP_MS - 60_000);
    expect(d.nodesForMac(MAC.bEth0)).toEqual(['node-b']);
    await step(60_000);
    expect(d.nodesForMac(MAC.bEth0)).toEqual([]);
    expect(d.nodesForMac(MAC.aEth0)).toEqual(['node-a']);
  });

  it(`at most ${MAX_IN_FLIGHT} agents asked at once, each given up at agents.timeout on vipwatch's clock; nodesForMac never waits`, async () => {
    // Requests the silent agent has received (connections are undici's business: it may open one ahead).
    const open = new Set<Socket>();
    let seen = 0;
    const silent: Server = createServer((s) => {
      open.add(s);
      s.once('data', () => seen++);
      s.on('close', () => open.delete(s));
      s.on('error', () => {});
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const nodes = Array.from({ length: 10 }, (_, i) => `n${i}`);
      // The real client, counted: how many of its requests are open at once.
      const real = new AgentClient({ token: new Secret(TOKEN), timeoutMs: AGENTS_DEFAULTS.timeoutMs });
      let inFlight = 0;
      let most = 0;
      const client = {
        async read(url: string, signal: AbortSignal) {
          most = Math.max(most, ++inFlight);
          try {
            return await real.read(url, signal);
          } finally {
            inFlight--;
          }
        },
        close: () => real.close(),
      };
      const { d, clock, logs } = directory({
        nodes: () => nodes, template: `http://{nodeIP}:${(silent.address() as { port: number }).port}`, addresses: () => ['127.0.0.1'], client,
      });
      d.start();
      const round = d.refresh();
      // Ten nodes, four at a time: 4 open, given up at the deadline, the next 4, then the last 2.
      for (const [want, batch] of [[4, 4], [8, 4], [10, 2]] as const) {
        await waitFor(() => seen >= want, { what: `${want} requests` });
        expect(seen).toBe(want);
        expect(inFlight).toBe(batch);
        expect(d.nodesForMac(MAC.aEth0)).toEqual([]);
        await clock.advance(AGENTS_DEFAULTS.timeoutMs);
      }
      await round;
      expect(most).toBeLessThanOrEqual(MAX_IN_FLIGHT);
      expect(seen).toBe(10);
      const warns = logs.filter((l) => l.level === 'warn');
      expect(warns.map((l) => l.node).sort()).toEqual([...nodes].sort());
      expect(new Set(warns.map((l) => l.code))).toEqual(new Set([ERR.AGENT_UNREACHABLE]));
    } finally {
      for (const s of open) s.destroy();
      silent.close();
    }
  });
});
