/**
 * Time-clustered failures: blocks of consecutive failed attempts with working stretches between them. Random loss is
 * independent per attempt and spreads its failures out; an asymmetric return path drops per connection and interleaves
 * them with successes. Blocks mean something switches on and off: the announcer flapping (two speakers, a memberlist
 * partition, a neighbour entry flipping between MACs) or the path flapping (routes, links). The attempts alone cannot
 * tell which, nor name a node: the kind names candidate causes and its confidence is capped.
 */
import type { Attempt } from '../history/attempt.js';
import type { Ctx, Finding } from './context.js';
import { pct, prob, reasonsText } from './format.js';
import { binomUpperTail, runsClusteringP } from './stats.js';
import { reachable } from './sample.js';
import { dominantClass } from './tally.js';

/** A run of at least this many consecutive failures is a block (failures independent at 10% start one at a given attempt with chance 1e-5). */
export const BLOCK_MIN_FAILURES = 5;
/** The cause is a candidate list, never a node: the verdict's confidence never exceeds this. */
export const BLOCKS_MAX_CONFIDENCE = 0.9;

interface Run {
  ok: boolean;
  length: number;
}

function runsOf(used: readonly Attempt[]): Run[] {
  const out: Run[] = [];
  for (const a of used) {
    const last = out[out.length - 1];
    if (last && last.ok === a.ok) last.length++;
    else out.push({ ok: a.ok, length: 1 });
  }
  return out;
}

/**
 * Holds when silent failures beyond noise come in at least two blocks that carry most of them, and the runs test says
 * failures independent per attempt would cluster this much with chance below pValue. `recoveredAfter`: the length of a
 * trailing success run the recovery rule accepts; blocks yield to it only when it is longer than every working stretch
 * seen between blocks (a stretch no longer than those is just the next pause of the flapping).
 */
export function intermittentBlocks(c: Ctx, recoveredAfter?: number): Finding | undefined {
  const { used, t, cfg } = c;
  if (used.length < cfg.minAttempts || t.failures === 0) return undefined;
  const cls = dominantClass(t);
  if (cls !== 'silent' && cls !== 'unreachable') return undefined;
  if (1 - binomUpperTail(t.failures, t.attempts, cfg.minFailureRatio) < cfg.minConfidence) return undefined;
  const runs = runsOf(used);
  const blockIdx = runs.flatMap((r, i) => (!r.ok && r.length >= BLOCK_MIN_FAILURES ? [i] : []));
  if (blockIdx.length < 2) return undefined;
  const inBlocks = blockIdx.reduce((s, i) => s + runs[i]!.length, 0);
  if (inBlocks * 2 < t.failures) return undefined;
  const first = blockIdx[0]!;
  const lastBlock = blockIdx[blockIdx.length - 1]!;
  let longestPause = 0;
  for (let i = first + 1; i < lastBlock; i++) if (runs[i]!.ok) longestPause = Math.max(longestPause, runs[i]!.length);
  if (recoveredAfter !== undefined && recoveredAfter > longestPause) return undefined;
  if (splitForming(c)) return undefined;
  const p = runsClusteringP(used.map((a) => a.ok));
  if (p >= cfg.pValue) return undefined;
  const longest = Math.max(...blockIdx.map((i) => runs[i]!.length));
  const evidence = [
    `${blockIdx.length} blocks of ${BLOCK_MIN_FAILURES} or more consecutive failures (longest ${longest}; ${inBlocks} of the ${t.failures} failures, ${reasonsText(t.reasons)}) with working stretches between them (longest ${longestPause} successes).`,
    `Runs test: failures independent per attempt would cluster this much with chance p=${prob(p)}: not random loss (independent per attempt), and not an asymmetric return path (a per-connection drop interleaves failures with successes).`,
    l2Evidence(c),
  ];
  const announcers = announcersSeen(c);
  if (announcers.length > 1) evidence.push(`The cluster view named ${announcers.length} announcers in the window (${announcers.join(', ')}): the announcement moved.`);
  evidence.push('Candidate causes: the announcer flapping (two speakers answering ARP, a memberlist partition, speaker restarts) or the path flapping (route, ECMP or link changes between vipwatch and the cluster).');
  return {
    verdict: 'intermittent_blocks', confidence: Math.min(BLOCKS_MAX_CONFIDENCE, 1 - p), suspectedNodes: [], candidateNodes: [], pValue: p,
    summary: `${c.name}: failures come in blocks (${blockIdx.length} blocks, ${pct(t.failures / t.attempts)} of attempts fail): something flaps, the announcer or the path, not random loss`,
    evidence,
  };
}

/**
 * With backend identity: a node that served nothing since the first failure while others served. That is a node split
 * forming (a per-connection drop to that node), which blocks can mimic by chance early on; a flap stops every node
 * alike, so between its blocks every node serves.
 */
function splitForming(c: Ctx): boolean {
  const p = reachable(c.placement);
  if (c.identity !== 'backend' || !c.placementKnown || !p) return false;
  const first = c.used.findIndex((a) => !a.ok);
  const served = new Set<string>();
  for (let i = Math.max(0, first); i < c.used.length; i++) {
    const a = c.used[i]!;
    if (a.ok && a.backendNode !== undefined) served.add(a.backendNode);
  }
  return served.size > 0 && Object.keys(p.endpointsPerNode).some((n) => !served.has(n));
}

function l2Evidence(c: Ctx): string {
  const arp = c.input.view?.arp;
  if (!arp || arp.macs.length === 0) {
    return 'No neighbour entry for the VIP (vipwatch is routed to it, or kubernetes.arp is off): which MAC each attempt went to is unknown, so an announcer flap cannot be told from a path flap here.';
  }
  return `The VIP's neighbour entry: ${arp.macs.join(', ')}${arp.nodes.length ? ` (${arp.nodes.join(', ')})` : ''}; ${arp.changes.length} MAC change(s) recorded.`;
}

function announcersSeen(c: Ctx): string[] {
  const seen = new Set<string>();
  for (const a of c.sample.all) if (a.cluster?.announcerNode) seen.add(a.cluster.announcerNode);
  return [...seen].sort();
}
