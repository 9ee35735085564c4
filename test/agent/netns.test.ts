/**
 * The built agent (bin/vipwatch.js node-agent) on the real kernel, inside a network namespace of its own: it must report
 * that namespace's sysctls and counters (what hostNetwork gives it on a node), and see a real reverse-path drop counted.
 * Needs root and iproute2; skipped (one line) only outside CI when they are missing, and `npm run build` first.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NodeReport } from '../../src/agent/types.js';
import { inNetns, run } from '../lab/exec.js';
import { parseNetstat } from '../lab/netstat.js';
import { IPROUTE2, needTools, ROOT } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { AgentNetns, NET } from './agent-netns.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const tools = needTools('node agent in a network namespace', ROOT(), IPROUTE2());
const PORT = 9465;
const AGENT = `http://127.0.0.1:${PORT}`;
/** An unprivileged user, as the DaemonSet runs it: no capabilities, no way to gain any. */
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--no-new-privs'];

describe.skipIf(tools.skip)('vipwatch node-agent in a network namespace (real kernel)', () => {
  const net = new AgentNetns();
  let agent: ReturnType<AgentNetns['spawnIn']> | undefined;
  let out = '';
  let asNobody = false;

  beforeAll(async () => {
    if (tools.missing) return;
    const main = join(REPO, 'dist/src/cli/node-agent.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
    await net.setup();
    const argv = [process.execPath, join(REPO, 'bin/vipwatch.js'), 'node-agent', '--listen', `127.0.0.1:${PORT}`];
    // Unprivileged when this checkout is readable to others (a checkout under a private home directory is not).
    asNobody = (await run([...NOBODY, process.execPath, join(REPO, 'bin/vipwatch.js'), '--version'], { allowFail: true })).code === 0;
    agent = net.spawnIn(net.node, asNobody ? [...NOBODY, ...argv] : argv, { ...process.env, NODE_NAME: 'netns-node' });
    agent.stdout!.on('data', (d) => (out += d));
    agent.stderr!.on('data', (d) => (out += d));
    await waitFor(() => out.includes('"node agent started"') || agent!.exitCode !== null, { timeoutMs: 15_000, what: 'the agent to start' });
    if (!out.includes('"node agent started"')) throw new Error(`the agent did not start: ${out}`);
  }, 60_000);

  afterAll(async () => {
    await net.teardown();
    // Nothing left behind.
    if (!tools.missing) for (const ns of [net.node, net.peer]) expect(await net.exists(ns), ns).toBe(false);
  });

  beforeEach(() => tools.check());

  async function nodeReport(): Promise<NodeReport> {
    const r = await net.httpGet(net.node, `${AGENT}/v1/node`);
    expect(r.status).toBe(200);
    return JSON.parse(r.body) as NodeReport;
  }

  /** The namespace's own counter, read by the kernel's file directly (not through the agent). */
  async function kernelDrops(): Promise<number> {
    const { stdout } = await run(inNetns(net.node, ['cat', '/proc/net/netstat']));
    return parseNetstat(stdout).TcpExt!.IPReversePathFilter!;
  }

  /** Udp NoPorts of the namespace (/proc/net/snmp has netstat's header/value layout). */
  async function udpNoPorts(): Promise<number> {
    const { stdout } = await run(inNetns(net.node, ['cat', '/proc/net/snmp']));
    return parseNetstat(stdout).Udp!.NoPorts!;
  }

  it('reports the namespace\'s interfaces, sysctls, addresses and MACs, not the host\'s', async () => {
    const r = await nodeReport();
    expect(r.node).toBe('netns-node');
    expect(r.errors).toEqual([]);
    expect(Object.keys(r.interfaces).sort()).toEqual(['eth0', 'eth1', 'lo']);
    const hostInterfaces = readdirSync('/proc/sys/net/ipv4/conf').filter((n) => n !== 'all' && n !== 'default').sort();
    expect(hostInterfaces).not.toEqual(['eth0', 'eth1', 'lo']);
    expect(r.interfaces.eth1!.rpFilter).toEqual({ all: 0, default: 2, interface: 1, effective: 1 });
    expect(r.interfaces.eth1!.logMartians).toEqual({ all: 0, default: expect.any(Number), interface: 1, effective: 1 });
    expect(r.interfaces.eth0!.rpFilter).toEqual({ all: 0, default: 2, interface: 2, effective: 2 });
    expect(r.interfaces.lo!.rpFilter.effective).toBe(0);
    expect(r.interfaces.eth1!.addresses).toContain(`${NET.nodeEth1}/25`);
    expect(r.interfaces.eth0!.addresses).toContain(`${NET.nodeEth0}/25`);
    expect(r.interfaces.lo!.addresses).toContain('127.0.0.1/8');
    // The MACs the kernel gave the veths (eth1's at creation, eth0's by ip link set ... address); lo has none.
    expect(r.interfaces.eth1!.mac).toBe(NET.nodeEth1Mac);
    expect(r.interfaces.eth0!.mac).toBe(NET.nodeEth0Mac);
    expect(r.interfaces.lo).not.toHaveProperty('mac');
    expect(r.reversePathDrops).toBe(await kernelDrops());
    const metrics = await net.httpGet(net.node, `${AGENT}/metrics`);
    expect(metrics.body.split('\n')).toContain('vipwatch_node_rp_filter{interface="eth1",scope="effective"} 1');
    // All of it read with no privilege, as the DaemonSet runs it: a non-root user with no capabilities.
    const status = readFileSync(`/proc/${agent!.pid}/status`, 'utf8');
    if (asNobody) {
      expect(status).toMatch(/^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
      expect(status).toMatch(/^CapEff:\s+0+$/m);
    } else console.warn('node agent netns test: this checkout is not readable by uid 65534, so the agent ran as root');
  });

  it('strict on eth1: packets from a source routed back over eth0 are dropped, and the agent sees IPReversePathFilter rise', async () => {
    const before = (await nodeReport()).reversePathDrops!;
    await net.sendSpoofed(20);
    const after = await waitFor(async () => {
      const d = (await nodeReport()).reversePathDrops!;
      return d >= before + 20 ? d : undefined;
    }, { timeoutMs: 10_000, what: 'IPReversePathFilter to rise by 20' });
    expect(after - before).toBe(20);
    expect(after).toBe(await kernelDrops());
    const metrics = await net.httpGet(net.node, `${AGENT}/metrics`);
    expect(metrics.body.split('\n')).toContain(`vipwatch_node_reverse_path_drops_total ${after}`);
  });

  it('loose on eth1 (the fix): the agent reports effective 2 and the counter stops rising', async () => {
    await net.setSysctls(net.node, [['net.ipv4.conf.eth1.rp_filter', 2]]);
    const r = await nodeReport();
    expect(r.interfaces.eth1!.rpFilter).toEqual({ all: 0, default: 2, interface: 2, effective: 2 });
    const noPorts = await udpNoPorts();
    await net.sendSpoofed(20);
    // The datagrams passed the check this time: all 20 reached UDP (port 9 has no listener, so each counts as NoPorts).
    await waitFor(async () => (await udpNoPorts()) >= noPorts + 20, { timeoutMs: 10_000, what: 'the 20 datagrams to reach UDP' });
    expect((await nodeReport()).reversePathDrops).toBe(r.reversePathDrops);
    expect(await kernelDrops()).toBe(r.reversePathDrops);
  });

  it('stops cleanly on SIGTERM (exit 0)', async () => {
    const exited = new Promise<number | null>((resolve) => agent!.once('exit', (code) => resolve(code)));
    // The agent is `ip netns exec`'s exec: the same process, so the signal reaches vipwatch.
    agent!.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('"node agent stopping"');
  });
});
