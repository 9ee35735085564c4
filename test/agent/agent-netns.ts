/**
 * Two network namespaces for the agent's real-kernel test, nothing in the host's: NODE (where the agent runs) and PEER,
 * joined by two veth pairs, the same asymmetry as the lab's node-2:
 *
 *   PEER eth1 192.0.2.2/25   ── NODE eth1 192.0.2.1/25     (rp_filter 1: the interface under test)
 *   PEER eth0 192.0.2.130/25 ── NODE eth0 192.0.2.129/25   NODE routes 203.0.113.0/24 back over eth0
 *
 * PEER sends from 203.0.113.7 into NODE's eth1: the route back is eth0, so strict mode drops it (IPReversePathFilter
 * rises) and loose mode lets it in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { inNetns, run } from '../lab/exec.js';
import { deleteNetns, listNetns } from '../lab/lab.js';
import { sysctlArgv } from '../lab/sysctl.js';

export const NET = {
  nodeEth1: '192.0.2.1', peerEth1: '192.0.2.2', nodeEth0: '192.0.2.129', peerEth0: '192.0.2.130',
  /** The source PEER sends from: not on NODE's eth1 side, so a strict check fails. */
  spoofed: '203.0.113.7',
  nodeEth1Mac: '02:00:5e:a9:00:01',
  /** Set after the link exists (ip link set ... address), as an operator would: the agent must report this one. */
  nodeEth0Mac: '02:00:5e:a9:00:81',
} as const;

export class AgentNetns {
  readonly node: string;
  readonly peer: string;
  private readonly children = new Set<ChildProcess>();

  constructor(tag = `${process.pid % 100_000}`) {
    // Not the lab's vwNNNN- prefix: the lab's stale cleanup must never take these for its own.
    this.node = `vwagent${tag}-node`;
    this.peer = `vwagent${tag}-peer`;
  }

  async setup(): Promise<void> {
    await this.teardown();
    try {
      const n = this.node;
      const p = this.peer;
      for (const ns of [n, p]) {
        await run(['ip', 'netns', 'add', ns]);
        await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      }
      await run(['ip', '-n', n, 'link', 'add', 'eth1', 'address', NET.nodeEth1Mac, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', p]);
      await run(['ip', '-n', n, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p]);
      await run(['ip', '-n', n, 'link', 'set', 'eth0', 'address', NET.nodeEth0Mac]);
      // NODE's sysctls before its addresses: strict on eth1, loose elsewhere, default 2 (as many distributions ship it).
      await this.setSysctls(n, [
        ['net.ipv4.conf.all.rp_filter', 0], ['net.ipv4.conf.default.rp_filter', 2], ['net.ipv4.conf.lo.rp_filter', 0],
        ['net.ipv4.conf.eth0.rp_filter', 2], ['net.ipv4.conf.eth1.rp_filter', 1],
        ['net.ipv4.conf.all.log_martians', 0], ['net.ipv4.conf.eth1.log_martians', 1],
      ]);
      await run(['ip', '-n', n, 'addr', 'add', `${NET.nodeEth1}/25`, 'dev', 'eth1']);
      await run(['ip', '-n', n, 'addr', 'add', `${NET.nodeEth0}/25`, 'dev', 'eth0']);
      await run(['ip', '-n', p, 'addr', 'add', `${NET.peerEth1}/25`, 'dev', 'eth1']);
      await run(['ip', '-n', p, 'addr', 'add', `${NET.peerEth0}/25`, 'dev', 'eth0']);
      await run(['ip', '-n', p, 'addr', 'add', `${NET.spoofed}/32`, 'dev', 'lo']);
      for (const ns of [n, p]) for (const dev of ['eth0', 'eth1']) await run(['ip', '-n', ns, 'link', 'set', dev, 'up']);
      await run(['ip', '-n', n, 'route', 'add', '203.0.113.0/24', 'via', NET.peerEth0, 'dev', 'eth0']);
      // No ARP for NODE's eth1: a request from 203.0.113.7 would fail the same strict check before any packet is sent.
      await run(['ip', '-n', p, 'neigh', 'replace', NET.nodeEth1, 'lladdr', NET.nodeEth1Mac, 'dev', 'eth1', 'nud', 'permanent']);
    } catch (err) {
      await this.teardown();
      throw err;
    }
  }

  setSysctls(ns: string, entries: ReadonlyArray<readonly [string, number]>): Promise<unknown> {
    return run(sysctlArgv(ns, entries));
  }

  /** Starts argv inside `ns`; killed on teardown. */
  spawnIn(ns: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
    const child = spawn('ip', inNetns(ns, argv).slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** An HTTP GET from inside `ns` (its 127.0.0.1 is not the host's): status and body. */
  async httpGet(ns: string, url: string): Promise<{ status: number; body: string }> {
    const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(5000) })
      .then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })))
      .catch((e) => { console.error(String(e)); process.exit(1); });`;
    const r = await run(inNetns(ns, [process.execPath, '-e', script]), { timeoutMs: 10_000 });
    return JSON.parse(r.stdout) as { status: number; body: string };
  }

  /** `count` UDP datagrams from PEER, source 203.0.113.7, to NODE's eth1 address. */
  async sendSpoofed(count: number): Promise<void> {
    const script = `const s = require('node:dgram').createSocket('udp4');
      s.bind({ address: ${JSON.stringify(NET.spoofed)} }, async () => {
        for (let i = 0; i < ${count}; i++) await new Promise((ok, ko) => s.send('vipwatch', 9, ${JSON.stringify(NET.nodeEth1)}, (e) => (e ? ko(e) : ok())));
        s.close();
      });`;
    await run(inNetns(this.peer, [process.execPath, '-e', script]), { timeoutMs: 10_000 });
  }

  async teardown(): Promise<void> {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const ns of [this.node, this.peer]) await deleteNetns(ns);
  }

  /** True when the namespace exists (for the cleanup check). */
  async exists(ns: string): Promise<boolean> {
    return (await listNetns()).includes(ns);
  }
}

