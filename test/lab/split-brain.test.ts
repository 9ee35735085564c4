import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { needTools, PYTHON3 } from '../support/tools.js';
import { LAB } from './addresses.js';
import { run } from './exec.js';
import { iptablesArgv } from './iptables.js';
import { Lab, listNetns } from './lab.js';
import { labPreconditions } from './preconditions.js';
import { clientVipMac, neighProbe, nodeOfMac, rogueArpSysctls, SplitBrain, splitBrainDropRule, type NeighProbeResult } from './split-brain.js';

// The split-brain fault on the real kernel (issue 15): root, netns and python3 (raw ARP frames) only.
const { pre, labTools } = await labPreconditions('split-brain lab fault');
const python = needTools('split-brain lab fault (gratuitous ARP sender)', PYTHON3());
const N1 = LAB.nodes['node-1'].lanMac;
const N3 = LAB.nodes['node-3'].lanMac;

/** The MACs the probe saw, in order, consecutive repeats folded: n1, n3, n1, ... */
function macSequence(results: readonly NeighProbeResult[]): string[] {
  const seq: string[] = [];
  for (const r of results) {
    for (const m of [r.macBefore, r.macAfter]) if (m && seq[seq.length - 1] !== m) seq.push(m);
  }
  return seq;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(labTools.skip || python.skip)('split brain: node-3 answers ARP for the VIP too and drops what reaches it', () => {
  let lab: Lab;

  beforeAll(async () => {
    if (labTools.missing || python.missing) return;
    lab = new Lab({ iptables: pre.ok ? pre.iptables : undefined });
    await lab.setup();
  }, 120_000);

  afterAll(async () => {
    await lab?.teardown();
  }, 60_000);

  beforeEach(() => python.check());

  it('the client entry flips between node-1 and node-3; connects fail exactly while it names node-3; after stop() only node-1 and every connect works', async () => {
    // Before: the client resolves the VIP to the announcer, and every connect works (GARP only updates an existing entry).
    const before = await neighProbe(lab, { count: 5 });
    expect(before.every((r) => r.ok && (r.macBefore === N1 || r.macBefore === null) && r.macAfter === N1), JSON.stringify(before)).toBe(true);

    const fault = await SplitBrain.start(lab, { periodMs: 4_000 });
    const t0 = Date.now();
    let results: NeighProbeResult[];
    let pids: number[];
    try {
      expect(await rogueArpSysctls(lab, 'node-3')).toEqual([0, 0, 0, 0]);
      // About 20 s: 60 connects, 150 ms apart, about half the time on each MAC (eight flips or so). A connect gets 700 ms:
      // far above a healthy one (a few ms, even on a busy machine), below the SYN's first retransmission (1 s), and
      // short beside the 2 s between flips, so few connects straddle one.
      results = await neighProbe(lab, { count: 60, timeoutMs: 700, gapMs: 150 });
      pids = fault.senderPids;
    } finally {
      await fault.stop();
    }

    // Alternation within ~10 s of the start (the first round is sent 1 s after it): n1 -> n3 -> n1 or n3 -> n1 -> n3.
    const early = macSequence(results.filter((r) => r.at < t0 + 11_000));
    expect(early.length, early.join(' ')).toBeGreaterThanOrEqual(3);
    expect(new Set(early)).toEqual(new Set([N1, N3]));
    const seq = macSequence(results);
    expect(seq.every((m) => m === N1 || m === N3), seq.join(' ')).toBe(true);

    // Connects that saw one entry all along: success depends on whose MAC it was.
    const steady = results.filter((r) => r.macBefore !== null && r.macBefore === r.macAfter);
    const viaN1 = steady.filter((r) => r.macBefore === N1);
    const viaN3 = steady.filter((r) => r.macBefore === N3);
    const line = (rs: NeighProbeResult[]) => `${rs.filter((r) => r.ok).length}/${rs.length} ok`;
    console.info(`split brain (GARP period 4 s): ${seq.length - 1} flips seen in ${((results.at(-1)!.at - t0) / 1000).toFixed(1)} s; ` +
      `connects via node-1's MAC ${line(viaN1)}, via node-3's MAC ${line(viaN3)}, ${results.length - steady.length} straddled a flip (skipped); ` +
      `${fault.sends.length} GARP rounds sent`);
    expect(viaN1.length).toBeGreaterThanOrEqual(3);
    expect(viaN3.length).toBeGreaterThanOrEqual(3);
    expect(viaN1.filter((r) => !r.ok), 'connects via node-1 failed').toEqual([]);
    expect(viaN3.filter((r) => r.ok || r.error !== 'timeout'), 'connects via node-3 did not time out').toEqual([]);
    // Both senders ran, alternately: node-1 and node-3 rounds interleave.
    const order = fault.sends.map((s) => s.node).filter((n, i, a) => i === 0 || a[i - 1] !== n);
    expect(order.length).toBeGreaterThanOrEqual(4);

    // After stop(): the senders are gone, node-3 is back to arp_ignore 1 / arp_announce 2 without the drop, the
    // announcer's last gratuitous ARP took the entry back, and every connect works.
    expect(pids.filter(alive)).toEqual([]);
    expect(await rogueArpSysctls(lab, 'node-3')).toEqual([1, 1, 2, 2]);
    expect((await run(iptablesArgv(lab.nodeNs('node-3'), lab.iptables!, splitBrainDropRule('-C')), { allowFail: true })).code).not.toBe(0);
    expect(nodeOfMac(await clientVipMac(lab))).toBe('node-1');
    const after = await neighProbe(lab, { count: 15, gapMs: 200 });
    expect(after.filter((r) => !r.ok || r.macBefore !== N1 || r.macAfter !== N1), JSON.stringify(after)).toEqual([]);
  }, 90_000);

  it('the lab teardown with the fault still on leaves no sender and no namespace behind', async () => {
    const fault = await SplitBrain.start(lab, { periodMs: 1_000 });
    const pids = fault.senderPids;
    expect(pids).toHaveLength(2);
    expect(pids.every(alive)).toBe(true);
    await lab.teardown();
    expect(pids.filter(alive)).toEqual([]);
    expect((await listNetns()).filter((ns) => ns.startsWith(`${lab.names.prefix}-`))).toEqual([]);
  }, 60_000);
});
