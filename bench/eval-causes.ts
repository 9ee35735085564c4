/**
 * The evaluation of the other causes of "works sometimes" (issue 15): externalTrafficPolicy Local announced from a node
 * without a local endpoint, failures in blocks (an announcer or a path flapping, seen from a routed client, no ARP), and
 * two announcers seen through the VIP's neighbour entry (split brain: announcement_conflict, with a single failover and a
 * second announcer that serves as negatives). `causeFamilies` are families of eval.ts's confusion matrix; `flapping`
 * judges every attempt of a flapping stream and counts the verdicts, with independent loss at a like failure ratio as
 * the control.
 */
import type { DiagnosisConfig } from '../src/config/sections/diagnosis.js';
import type { TargetConfig } from '../src/config/targets.js';
import { diagnose } from '../src/diagnosis/diagnose.js';
import type { Verdict } from '../src/diagnosis/types.js';
import { DEFAULT_SCENARIO, rng, simulate, type Rng, type Scenario, type SimEvent } from './eval-sim.js';

/** The shape of eval.ts's families (kept here so this file does not import the entry point). */
export interface CauseFamily {
  name: string;
  truth: Verdict;
  runs: number;
  scenario(r: Rng): Partial<Scenario>;
  nodes?: string[];
  /** Verdicts to count the runs showing at any attempt (a negative's false alarms). */
  watch?: Verdict[];
  /** The target's interval and timeout are the scenario's. */
  scenarioTarget?: boolean;
}

/** Toggles of an outage from the onset on: failing for 10-60 attempts, working for 10-60, and so on. */
export function blockToggles(r: Rng, length: number, min = 10, max = 60): SimEvent[] {
  const out: SimEvent[] = [];
  for (let at = min + Math.floor(r() * (max - min + 1)); at < length; at += min + Math.floor(r() * (max - min + 1))) out.push({ at, kind: 'toggle' });
  return out;
}

const moveOff: SimEvent = { at: 0, kind: 'move', from: 'node-1', to: 'node-2' };

export function causeFamilies(n: (x: number) => number): CauseFamily[] {
  return [
    {
      name: 'eTP Local, the pod leaves the announcer node-1 (rolling update), the announcement stays', truth: 'etp_local_no_endpoint', runs: n(300), nodes: ['node-1'],
      scenario: (r) => ({ policy: 'Local', identity: r() < 0.5, events: [moveOff] }),
    },
    {
      name: 'eTP Local switched on while the announcer node-1 has no endpoint, the view changing with the outage', truth: 'etp_local_no_endpoint', runs: n(300), nodes: ['node-1'],
      scenario: (r) => ({ endpoints: { 'node-2': 1, 'node-3': 1 }, viewLag: 0, identity: r() < 0.5, events: [{ at: 0, kind: 'policy', to: 'Local' }] }),
    },
    {
      name: 'eTP Local, the pod leaves node-1, 1% loss, stalls, 400 ms timeout', truth: 'etp_local_no_endpoint', runs: n(300), nodes: ['node-1'],
      scenario: () => ({ policy: 'Local', loss: 0.01, stallRate: 0.03, timeoutMs: 400, events: [moveOff] }),
    },
    {
      name: 'eTP Local, the announcement moves with the pod (node-1 -> node-2), stalls', truth: 'healthy', runs: n(300),
      scenario: (r) => ({ policy: 'Local', stallRate: 0.05, identity: r() < 0.5, events: [moveOff, { at: 0, kind: 'failover', to: 'node-2', gap: 1 + Math.floor(r() * 3) }] }),
    },
    {
      name: 'announcer flapping unseen by the view, routed client: outage blocks of 10-60 attempts', truth: 'intermittent_blocks', runs: n(300),
      scenario: (r) => ({ fault: { kind: 'outage' }, identity: r() < 0.5, length: 200, events: blockToggles(r, 200) }),
    },
    {
      name: 'path flapping: blocks of 10-60, 1% loss, stalls, 400 ms timeout', truth: 'intermittent_blocks', runs: n(300),
      scenario: (r) => ({ fault: { kind: 'outage' }, identity: r() < 0.5, loss: 0.01, stallRate: 0.03, timeoutMs: 400, length: 200, events: blockToggles(r, 200) }),
    },
    ...splitBrainFamilies(n),
  ];
}

/** The entry holds each MAC 3-5 s, each period +-25% (the lab: gratuitous ARP from both nodes every 4 s). */
const flip = (r: Rng) => 3000 + r() * 2000;
const lab: Partial<Scenario> = { intervalMs: 500, timeoutMs: 400, length: 120 };

/** Split brain (issue 15, part 2): a second MAC holds the VIP's neighbour entry in turns with the announcer node-1's. */
function splitBrainFamilies(n: (x: number) => number): CauseFamily[] {
  const conflict = 'announcement_conflict' as const;
  const fams: CauseFamily[] = [
    {
      name: 'split brain: node-3 also answers ARP and drops, the entry flips every 3-5 s, 500 ms / 400 ms (the lab)', truth: conflict, runs: n(300), nodes: ['node-3'],
      scenario: (r) => ({ ...lab, identity: r() < 0.5, splitBrain: { node: 'node-3', flipMs: flip(r), jitter: 0.25, drops: true } }),
    },
    {
      name: 'split brain: node-3 drops, flips every 3-5 s, 2 s / 2 s', truth: conflict, runs: n(300), nodes: ['node-3'],
      scenario: (r) => ({ identity: r() < 0.5, splitBrain: { node: 'node-3', flipMs: flip(r), jitter: 0.25, drops: true } }),
    },
    {
      name: 'split brain: the second MAC is no node\'s (a duplicate IP outside the cluster), 500 ms / 400 ms', truth: conflict, runs: n(300), nodes: [],
      scenario: (r) => ({ ...lab, identity: r() < 0.5, splitBrain: { flipMs: flip(r), jitter: 0.25, drops: true } }),
    },
    {
      name: 'split brain: node-3 drops, 1% loss, stalls, 2 s interval, 400 ms timeout', truth: conflict, runs: n(300), nodes: ['node-3'],
      scenario: (r) => ({ identity: r() < 0.5, loss: 0.01, stallRate: 0.03, timeoutMs: 400, splitBrain: { node: 'node-3', flipMs: flip(r), jitter: 0.25, drops: true } }),
    },
    {
      name: 'split brain: node-3 drops, no ServiceL2Status (the view follows the MAC), 500 ms / 400 ms', truth: conflict, runs: n(300), nodes: ['node-3'],
      scenario: (r) => ({ ...lab, identity: r() < 0.5, splitBrain: { node: 'node-3', flipMs: flip(r), jitter: 0.25, drops: true, viewFollowsMac: true } }),
    },
    {
      name: 'negative: a single failover node-1 -> node-2 with a gap of 3-20 attempts, 500 ms / 400 ms', truth: 'healthy', runs: n(300), watch: [conflict],
      scenario: (r) => ({ ...lab, identity: r() < 0.5, events: [{ at: 10 + Math.floor(r() * 30), kind: 'failover', to: 'node-2', gap: 3 + Math.floor(r() * 18) }] }),
    },
    {
      name: 'negative: node-3 also answers ARP but serves, 1% loss, 500 ms / 400 ms', truth: 'healthy', runs: n(300), watch: [conflict],
      scenario: (r) => ({ ...lab, identity: r() < 0.5, loss: 0.01, splitBrain: { node: 'node-3', flipMs: flip(r), jitter: 0.25, drops: false } }),
    },
  ];
  // The conflict must never be called asymmetric_routing or packet_loss on the way either.
  return fams.map((f) => ({ ...f, scenarioTarget: true, watch: f.truth === conflict ? ['asymmetric_routing', 'packet_loss'] : f.watch }));
}

interface FlapFamily {
  name: string;
  runs: number;
  scenario(r: Rng): Partial<Scenario>;
  /** Blocks are the truth (else independent loss is). */
  blocks: boolean;
}

/**
 * Every attempt judged from the second block's onset on (before it no test can see blocks); verdict shares over those
 * attempts. For the independent-loss control every attempt from minAttempts on counts, and intermittent_blocks is wrong.
 */
export function flapping(quick: boolean, cfg: DiagnosisConfig, seed: number, target: TargetConfig) {
  const n = (x: number) => (quick ? Math.max(20, Math.round(x / 10)) : x);
  const fams: FlapFamily[] = [
    { name: 'announcer flapping (unseen), blocks of 10-60, 2 s / 2 s', runs: n(200), blocks: true, scenario: (r) => ({ fault: { kind: 'outage' }, identity: r() < 0.5, length: 300, events: blockToggles(r, 300) }) },
    { name: 'announcer flapping (gratuitous ARP every few s), blocks of 5-15, 500 ms / 400 ms', runs: n(200), blocks: true, scenario: (r) => ({ fault: { kind: 'outage' }, identity: r() < 0.5, length: 300, intervalMs: 500, timeoutMs: 400, events: blockToggles(r, 300, 5, 15) }) },
    { name: 'path flapping, blocks of 10-60, 1% loss, stalls', runs: n(200), blocks: true, scenario: (r) => ({ fault: { kind: 'outage' }, identity: r() < 0.5, loss: 0.01, stallRate: 0.03, length: 300, events: blockToggles(r, 300) }) },
    { name: 'control: independent loss 10-25% per packet, 400 ms timeout (no retransmission seen)', runs: n(200), blocks: false, scenario: (r) => ({ fault: { kind: 'loss', rate: 0.1 + r() * 0.15 }, identity: r() < 0.5, length: 300, timeoutMs: 400 }) },
    { name: 'control: independent loss 10-25% per packet, 2 s timeout', runs: n(200), blocks: false, scenario: (r) => ({ fault: { kind: 'loss', rate: 0.1 + r() * 0.15 }, identity: r() < 0.5, length: 300 }) },
  ];
  const out: Record<string, unknown>[] = [];
  let seedN = seed * 9_000_011;
  for (const f of fams) {
    const counts: Record<string, number> = {};
    let judged = 0;
    let runsWithBlocksVerdict = 0;
    for (let k = 0; k < f.runs; k++) {
      const r = rng(seedN++);
      const s: Scenario = { ...DEFAULT_SCENARIO, ...f.scenario(r) };
      const t: TargetConfig = { ...target, intervalMs: s.intervalMs, timeoutMs: s.timeoutMs };
      const attempts = simulate(s, r);
      const toggles = s.events.filter((e) => e.kind === 'toggle').map((e) => e.at);
      const from = s.warmup + (f.blocks ? (toggles[1] ?? s.length) : 0);
      let any = false;
      for (let i = Math.max(from, s.warmup + cfg.minAttempts - 1); i < attempts.length; i++) {
        const d = diagnose({ target: t, attempts: attempts.slice(0, i + 1), now: attempts[i]!.startedAt + 1, config: cfg });
        counts[d.verdict] = (counts[d.verdict] ?? 0) + 1;
        judged++;
        if (d.verdict === 'intermittent_blocks') any = true;
      }
      if (any) runsWithBlocksVerdict++;
    }
    const share = Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([v, c]) => [v, Math.round((c / Math.max(1, judged)) * 1000) / 1000]));
    out.push({ family: f.name, runs: f.runs, judgedAttempts: judged, verdictShare: share, runsWithIntermittentBlocks: runsWithBlocksVerdict });
  }
  return out;
}
