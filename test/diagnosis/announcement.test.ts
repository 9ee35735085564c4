import { describe, expect, it } from 'vitest';
import { DIAGNOSIS_DEFAULTS } from '../../src/config/sections/diagnosis.js';
import { CONFLICT_UNKNOWN_MAX_CONFIDENCE, TIMELINE_RUNS } from '../../src/diagnosis/announcement.js';
import { fisherExact } from '../../src/diagnosis/stats.js';
import type { Diagnosis } from '../../src/diagnosis/types.js';
import type { AttemptClusterContext, AttemptNeighbour } from '../../src/history/attempt.js';
import { context, run, Stream } from './helpers.js';

const MAC1 = '02:00:00:00:00:01';
const MAC3 = '02:00:00:00:00:03';
const STRANGER = '02:00:00:00:00:99';

function nb(mac: string | string[], nodes: string[], steady = true): AttemptNeighbour {
  return { macs: Array.isArray(mac) ? mac : [mac], nodes, steady };
}

/** The announcer node-1 (ServiceL2Status) with the neighbour entry given. */
function at(neighbour: AttemptNeighbour | undefined, over: Partial<AttemptClusterContext> = {}): AttemptClusterContext {
  return neighbour ? context({ neighbour, ...over }) : context(over);
}

const good = at(nb(MAC1, ['node-1']));
const rogue = at(nb(MAC3, ['node-3']));
const flipping = at(nb(MAC1, ['node-1'], false));

/**
 * The lab's split brain: node-1 announces, node-3 also answers ARP and drops the VIP's traffic; the client's entry flips
 * between their MACs. `turns` alternations after a healthy warmup, each attempt judged; returns every verdict.
 */
function splitBrain(s: Stream, turns: number, bad = rogue, run4 = 4): Diagnosis[] {
  const out: Diagnosis[] = [];
  const judge = () => out.push(run(s));
  for (let k = 0; k < turns; k++) {
    s.view(flipping).add('X');
    judge();
    for (let i = 0; i < run4; i++) {
      s.view(bad).add('X');
      judge();
    }
    s.view(flipping).add('1');
    judge();
    for (let i = 0; i < run4; i++) {
      s.view(good).add(String(1 + (i % 3)));
      judge();
    }
  }
  return out;
}

describe('diagnose: announcement_conflict (issue 15, part 2)', () => {
  it('names the node whose MAC fails, the announcer apart, with the MAC timeline, the ratios and the p-value', () => {
    const s = new Stream().view(good).add('123', 14);
    const all = splitBrain(s, 12);
    expect(all.map((d) => d.verdict)).not.toContain('asymmetric_routing');
    expect(all.map((d) => d.verdict)).not.toContain('packet_loss');
    const d = all[all.length - 1]!;
    expect(d.verdict).toBe('announcement_conflict');
    expect(d.suspectedNodes).toEqual(['node-3']);
    expect(d.candidateNodes).toEqual(['node-3']);
    expect(d.announcerNode).toBe('node-1');
    expect(d.confidence).toBeGreaterThan(0.9999);
    expect(d.pValue).toBeLessThan(1e-10);
    expect(d.summary).toContain(`connections through node-3 (MAC ${MAC3}) fail (48 of 48)`);
    const ev = d.evidence.join('\n');
    expect(ev).toContain(`Failure ratio per MAC: ${MAC1} 0/78 (0%, failing in 0 of 13 runs); ${MAC3} 48/48 (100%, failing in 12 of 12 runs)`);
    expect(ev).toMatch(/Fisher's exact test, MAC x outcome: .* p=\d\.\de-\d+\./);
    expect(ev).toContain(`MAC timeline (the last ${TIMELINE_RUNS} of 25 runs, consecutive attempts per MAC): `);
    expect(ev).toMatch(new RegExp(`\\d\\d:\\d\\d:\\d\\d\\.\\d{3}-\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z ${MAC3} \\(node-3\\): 4/4 failed`));
    expect(ev).toContain('Left out of the table: 24 whose entry changed during the attempt.');
    expect(ev).toContain(`MetalLB's announcer (servicel2status): node-1, MAC ${MAC1}: the other MAC(s) are not MetalLB's choice; it is not suspected.`);
    const fix = d.remediation.join('\n');
    for (const part of ['servicel2statuses', 'kubectl -n metallb-system logs ds/speaker', 'strictARP: true', 'l2advertisements', `arping -D -I <interface> -c 3 ${'192.0.2.100'}`]) expect(fix).toContain(part);
  });

  it('is found by the second run of the failing MAC, within a minute at 500 ms', () => {
    const s = new Stream().view(good).add('123', 14);
    const all = splitBrain(s, 3);
    // Warmup, then per turn: 1 unsteady + 4 through node-3 + 1 unsteady + 4 through node-1. The first hit is the first
    // failure of the second turn through node-3: 10 + 2 attempts from the onset, 6 s at 500 ms.
    const first = all.findIndex((d) => d.verdict === 'announcement_conflict');
    expect(first).toBe(11);
    // Before: gathering evidence (from the third failure through node-3 on, about the MACs), never loss or a node split.
    expect(all.slice(0, first).map((d) => d.verdict)).toEqual(Array(11).fill('insufficient_data'));
    expect(all[3]!.summary).toBe(`web: every connection through ${MAC3} (node-3) failed (3) while the VIP's neighbour entry held it after ${MAC1} (node-1); gathering evidence to tell a second announcer from a failover`);
    expect(all.slice(first).every((d) => d.verdict === 'announcement_conflict' && d.suspectedNodes.join() === 'node-3')).toBe(true);
  });

  it('says the MAC is unknown when no node owns it: no node invented, the MAC named, confidence capped', () => {
    const s = new Stream().view(good).add('123', 14);
    const d = splitBrain(s, 8, at(nb(STRANGER, []))).pop()!;
    expect(d.verdict).toBe('announcement_conflict');
    expect(d.suspectedNodes).toEqual([]);
    expect(d.confidence).toBe(CONFLICT_UNKNOWN_MAX_CONFIDENCE);
    expect(d.summary).toContain(`MAC ${STRANGER}, owned by no known node`);
    expect(d.evidence.join('\n')).toContain(`No node is known to own ${STRANGER}`);
    expect(d.remediation.join('\n')).toContain('the host whose MAC the evidence names (no node owns it)');
  });

  it('suspects the announcer when its own MAC is the failing one', () => {
    // node-3 answers too and serves; MetalLB's own announcer node-1 drops.
    const s = new Stream().view(good).add('123', 14);
    const out: Diagnosis[] = [];
    for (let k = 0; k < 8; k++) {
      s.view(rogue).add('3132');
      s.view(good).add('XXXX');
      out.push(run(s));
    }
    const d = out.pop()!;
    expect(d.verdict).toBe('announcement_conflict');
    expect(d.suspectedNodes).toEqual(['node-1']);
    expect(d.evidence.join('\n')).toContain('its own MAC is a failing one, so it is suspected too');
  });

  it('is found when the announcer is known only from the neighbour table, each flip a new cluster view', () => {
    // Without ServiceL2Status the view follows the MAC: every flip changes the view version (the packet_loss).
    const viaArp = (mac: string, node: string, v: string) => context({ announcerNode: node, announcerSource: 'arp', viewVersion: v, neighbour: nb(mac, [node]) });
    const s = new Stream().view(viaArp(MAC1, 'node-1', 'a1')).add('123', 14);
    const verdicts: string[] = [];
    for (let k = 0; k < 10; k++) {
      s.view(viaArp(MAC3, 'node-3', `b${k}`)).add('XXXX');
      verdicts.push(run(s).verdict);
      s.view(viaArp(MAC1, 'node-1', `a${k}`)).add('1231');
      verdicts.push(run(s).verdict);
    }
    expect(verdicts).not.toContain('packet_loss');
    const d = run(s);
    expect(d.verdict).toBe('announcement_conflict');
    expect(d.suspectedNodes).toEqual(['node-3']);
    expect(d.evidence.join('\n')).not.toContain("MetalLB's announcer");
  });

  it('never calls a single failover a conflict, even with a gap long enough for the exact test alone', () => {
    // node-1 fails over to node-3; clients keep node-1's MAC until the gratuitous ARP lands: 18 timeouts through it.
    const s = new Stream().view(good).add('123', 14).add('X', 18);
    const moved = context({ announcerNode: 'node-3', viewVersion: 'v2', neighbour: nb(MAC3, ['node-3']) });
    const verdicts: string[] = [];
    for (let k = 0; k < 40; k++) {
      s.view(moved).add(String(1 + (k % 3)));
      verdicts.push(run(s).verdict);
    }
    // MAC1: 18 of 60 failed, MAC3: 0 of 40 (at the end): the exact test alone would call it.
    expect(fisherExact(18, 42, 0, 40)).toBeLessThan(DIAGNOSIS_DEFAULTS.pValue);
    expect(verdicts).not.toContain('announcement_conflict');
    expect(verdicts[verdicts.length - 1]).toBe('healthy');
  });

  it('lets a failover to a node that drops everything become an outage', () => {
    const s = new Stream().view(good).add('123', 14);
    const moved = context({ announcerNode: 'node-3', viewVersion: 'v2', neighbour: nb(MAC3, ['node-3']) });
    const verdicts: string[] = [];
    for (let k = 0; k < 20; k++) verdicts.push(run(s.view(moved).add('X')).verdict);
    expect(verdicts.slice(0, 19)).not.toContain('announcement_conflict');
    expect(verdicts[19]).toBe('vip_unreachable');
  });

  it('never fires on one MAC, and leaves out attempts without an entry, with an unsteady entry or several MACs', () => {
    const one = new Stream().view(good).add('123X', 40);
    expect(run(one).verdict).not.toBe('announcement_conflict');
    // The split brain's failures seen only through unsteady or double entries: no table, no conflict.
    const blind = new Stream().view(good).add('123', 14);
    for (let k = 0; k < 10; k++) blind.view(at(nb([MAC1, MAC3], ['node-1', 'node-3']))).add('XXXX').view(flipping).add('1231');
    expect(run(blind).verdict).not.toBe('announcement_conflict');
    // Counted in the evidence when the table does hold a conflict.
    const s = new Stream().view(at(undefined)).add('123', 5).view(good).add('123', 10);
    const d = splitBrain(s.view(at(nb([MAC1, MAC3], ['node-1', 'node-3']))).add('X'), 8).pop()!;
    expect(d.verdict).toBe('announcement_conflict');
    expect(d.evidence.join('\n')).toContain('Left out of the table: 15 without a neighbour entry, 16 whose entry changed during the attempt, 1 that saw several MACs at once.');
  });

  it('leaves the verdict as before when attempts carry no entry or only one MAC', () => {
    const patterns = ['1231X3', '12X', '1S23', 'XXXX1111', '1c3'];
    for (const p of patterns) {
      const plain = new Stream().add('123', 10).add(p, 20);
      const oneMac = new Stream().view(good).add('123', 10).add(p, 20);
      expect(run(oneMac), p).toEqual(run(plain));
    }
    // The split brain's stream without entries is not a conflict (whatever the older rules make of it).
    const blind = new Stream().add('123', 14);
    for (let k = 0; k < 12; k++) blind.add('XXXXX12312');
    expect(run(blind).verdict).not.toBe('announcement_conflict');
  });

  it('yields to an outage through every MAC, and to a recovery once the second MAC is gone', () => {
    const down = new Stream().view(good).add('123', 14);
    splitBrain(down, 6);
    down.view(good).add('X', 20);
    expect(run(down).verdict).toBe('vip_unreachable');
    // The entry stuck at the dropping node: still the conflict, naming it.
    const stuck = new Stream().view(good).add('123', 14);
    splitBrain(stuck, 6);
    stuck.view(rogue).add('X', 20);
    expect(run(stuck)).toMatchObject({ verdict: 'announcement_conflict', suspectedNodes: ['node-3'] });
    // node-3 stops answering ARP: only node-1's MAC, and its attempts succeed.
    const fixed = new Stream().view(good).add('123', 14);
    splitBrain(fixed, 6);
    let k = 0;
    let d = run(fixed);
    for (; k < 100 && d.verdict === 'announcement_conflict'; k++) d = run(fixed.view(good).add(String(1 + (k % 3))));
    // Not at a stretch as long as the flipping's pauses (4 attempts); once the recovery rule's own test holds (43 here).
    expect(k).toBeGreaterThan(4);
    expect(k).toBeLessThan(50);
    expect(d.verdict).toBe('healthy');
    expect(d.recovered).toBe(true);
  });
});
