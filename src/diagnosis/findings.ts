/** The rules per failure class: each turns the diagnosis context into a finding (or declines). */
import type { Attempt } from '../history/attempt.js';
import { attributeFailure } from './attribution.js';
import type { Ctx, Finding } from './context.js';
import { list, pct, prob, ratio, reasonsText, topReason } from './format.js';
import { findNodeSplit, mostSilentNodeP, type NodeSplit } from './node-split.js';
import { pathDropTest, type PathDropTest } from './path-drop.js';
import { shareOf } from './sample.js';
import { binomLowerTail, binomUpperTail } from './stats.js';
import { failureClass } from './tally.js';

/** Without backend identity the evidence is indirect: its confidence never exceeds this. */
export const NO_IDENTITY_MAX_CONFIDENCE = 0.9;
/** Subset matching without identity is skipped above this many nodes (2^n subsets). */
const MAX_SUBSET_NODES = 12;

export function refusedFinding(c: Ctx, confidence: number): Finding {
  const { t } = c;
  const evidence = [`${t.byClass.refused} of ${t.failures} failures are refusals or resets (${reasonsText(t.reasons)}): something answered with RST, so not an rp_filter drop.`];
  const split = nodeSplit(c, (a) => failureClass(a) === 'refused', 0.5);
  let suspected: string[] = [];
  let expected: number | null = null;
  if (split?.holds) {
    suspected = split.nodes;
    expected = split.share;
    evidence.push(splitEvidence(split, 'refused'));
  } else {
    const only = singleNode(c);
    if (only) suspected = [only];
  }
  const where = suspected.length ? `, on ${list(suspected)}` : '';
  return {
    verdict: 'backend_refused', confidence, suspectedNodes: suspected, expectedFailureRatio: expected, pValue: split?.holds ? split.pEff : null,
    summary: `${c.name}: ${pct(t.failures / t.attempts)} of connections refused${where}`, evidence,
  };
}

export function httpFinding(c: Ctx, confidence: number): Finding {
  const { t, used } = c;
  const evidence = [`${t.byClass.app} of ${t.failures} failures connected fine, then failed the check (${reasonsText(t.reasons)}).`];
  // Responses that name their backend tell exactly where the errors come from; each node is judged from its first error on.
  const perNode = new Map<string, { errors: number; ok: number }>();
  for (const a of used) {
    const node = a.ok ? a.backendNode : failureClass(a) === 'app' ? attributeFailure(a, undefined, c.input.view).node : undefined;
    if (!node || node === 'unknown' || node === 'ambiguous') continue;
    const s = perNode.get(node);
    if (a.ok) {
      if (s) s.ok++;
    } else if (s) s.errors++;
    else perNode.set(node, { errors: 1, ok: 0 });
  }
  let suspected: string[] = [];
  if (perNode.size) {
    const bad = [...perNode.entries()].filter(([, s]) => s.errors >= 3 && s.errors / (s.errors + s.ok) >= 0.5).map(([n]) => n).sort();
    const servedElsewhere = used.some((a) => a.ok && a.backendNode !== undefined && !bad.includes(a.backendNode));
    if (bad.length && servedElsewhere) suspected = bad;
    evidence.push(`Errors by node, named by the responses (errors / responses since the node's first error): ${[...perNode.entries()].sort().map(([n, s]) => `${n} ${s.errors}/${s.errors + s.ok}`).join(', ')}.`);
  } else {
    const split = nodeSplit(c, (a) => failureClass(a) === 'app', 0.5);
    if (split?.holds) {
      suspected = split.nodes;
      evidence.push(splitEvidence(split, 'failed checks'));
    }
  }
  const where = suspected.length ? `, from ${list(suspected)}` : '';
  return { verdict: 'http_errors', confidence, suspectedNodes: suspected, summary: `${c.name}: ${pct(t.failures / t.attempts)} of responses fail the check (${topReason(t.reasons)})${where}`, evidence };
}

export function asymmetric(c: Ctx): { finding?: Finding; evidence: string[] } {
  const { cfg, t } = c;
  const evidence: string[] = [];
  if (t.timeouts / t.failures < cfg.timeoutShare) {
    evidence.push(`Only ${pct(t.timeouts / t.failures)} of failures are connect timeouts (needs ${pct(cfg.timeoutShare)} for asymmetric routing).`);
    return { evidence };
  }
  if (c.identity === 'backend' && c.placementKnown) {
    const split = nodeSplit(c, (a) => a.reason === 'connect_timeout', cfg.timeoutShare);
    if (!split) return { evidence };
    if (!split.holds) {
      evidence.push(`Closest node split: ${list(split.nodes)} served none of the last ${split.successes} successes (p=${prob(split.p)}, ${prob(split.pEff)} given the failure count, needs < ${prob(cfg.pValue)}${split.interleaved ? '' : '; failures come in blocks'}).`);
      return { evidence };
    }
    const sig = pathDropTest(c.used, c.tx, cfg.pValue, cfg.consistencyAlpha);
    const ev = [
      splitEvidence(split, 'connect timeout'),
      `Failures are connect timeouts (SYN sent, no SYN-ACK, no RST): a silent drop, not a refusal.`,
      `Successes and failures interleave: it works sometimes (intermittent), unlike an outage.`,
    ];
    if (sig) ev.push(slowEvidence(sig));
    ev.push(...placementEvidence(c, split.nodes));
    return {
      finding: {
        verdict: 'asymmetric_routing', confidence: 1 - split.pEff, suspectedNodes: split.nodes, candidateNodes: split.nodes,
        expectedFailureRatio: split.share, pValue: split.pEff,
        summary: `${c.name}: ${pct(t.failures / t.attempts)} of connections time out, only to backends on ${list(split.nodes)} (p=${prob(split.pEff)}): asymmetric return path, likely rp_filter on ${list(split.nodes)}`,
        evidence: ev,
      },
      evidence,
    };
  }
  // No backend identity (or no fresh placement): the path-drop signature, with the candidates whose share matches.
  const sig = pathDropTest(c.used, c.tx, cfg.pValue, cfg.consistencyAlpha);
  if (!sig) {
    evidence.push(c.tx < 2 ? 'The probe timeout leaves no room for a SYN retransmission, so a path drop cannot be told from loss without backend identity.' : 'No connect timeout to test.');
    return { evidence };
  }
  if (!(sig.p < cfg.pValue && sig.interleaved && sig.timeoutShare >= cfg.timeoutShare)) {
    evidence.push(`Path-drop signature not (yet) conclusive: ${sig.timeouts} timeouts, ${sig.slow} slow connects in ${sig.successes} successes (p=${prob(sig.p)}, needs < ${prob(cfg.pValue)}${sig.interleaved ? '' : '; failures come in blocks'}).`);
    return { evidence };
  }
  const m = c.placementKnown ? matchShares(c, sig) : { candidates: [] as string[], expected: null as number | null, matched: true };
  if (!m.matched) {
    evidence.push(`The failure ratio ${ratio(sig.timeouts / sig.attempts)} matches no set of non-announcing nodes' endpoint share.`);
    return { evidence };
  }
  const ev = [
    'Backends do not name themselves (no backend identity or no fresh cluster view): the evidence is the failure pattern only.',
    slowEvidence(sig),
    `Successes and failures interleave: it works sometimes (intermittent), unlike an outage.`,
  ];
  if (m.candidates.length) ev.push(`The failure ratio ${ratio(sig.timeouts / sig.attempts)} matches the share of endpoints on ${list(m.candidates)} (candidates; identity would isolate the node: set http.backendHeader).`);
  ev.push(...placementEvidence(c, m.candidates));
  const where = m.candidates.length ? `, candidates ${list(m.candidates)}` : '';
  return {
    finding: {
      verdict: 'asymmetric_routing', confidence: Math.min(NO_IDENTITY_MAX_CONFIDENCE, 1 - sig.p), suspectedNodes: m.candidates, candidateNodes: m.candidates,
      expectedFailureRatio: m.expected, pValue: sig.p,
      summary: `${c.name}: ${pct(t.failures / t.attempts)} of connections time out with no SYN-retransmission recoveries: likely an asymmetric return path (rp_filter)${where}`,
      evidence: ev,
    },
    evidence,
  };
}

/** Without identity: which sets of non-announcing nodes have an endpoint share matching the failure ratio. */
function matchShares(c: Ctx, sig: PathDropTest): { candidates: string[]; expected: number | null; matched: boolean } {
  const p = c.placement!;
  const pool = Object.keys(p.endpointsPerNode).filter((n) => n !== p.announcerNode).sort();
  if (pool.length === 0) return { candidates: [], expected: null, matched: false };
  if (pool.length > MAX_SUBSET_NODES) return { candidates: pool, expected: null, matched: true };
  const n = sig.attempts;
  const f = sig.attempts - sig.successes;
  const all = Object.keys(p.endpointsPerNode).length;
  const union = new Set<string>();
  const shares: number[] = [];
  for (let mask = 1; mask < 1 << pool.length; mask++) {
    const k = pool.filter((_, i) => mask & (1 << i));
    if (k.length === all) continue;
    const share = shareOf(p, k);
    if (binomLowerTail(f, n, share) >= c.cfg.consistencyAlpha && binomUpperTail(f, n, share) >= c.cfg.consistencyAlpha) {
      for (const x of k) union.add(x);
      shares.push(share);
    }
  }
  if (!union.size) return { candidates: [], expected: null, matched: false };
  const same = shares.every((s) => Math.abs(s - shares[0]!) < 1e-9);
  return { candidates: [...union].sort(), expected: same ? shares[0]! : null, matched: true };
}

export function lossFinding(c: Ctx): Finding | undefined {
  const { cfg, t } = c;
  const impaired = t.timeouts + t.byClass.unreachable + t.slow;
  if (impaired === 0) return undefined;
  const conf = 1 - binomUpperTail(impaired, t.attempts, cfg.lossRatio);
  if (conf < cfg.minConfidence) return undefined;
  // Random loss is mostly recovered by the retransmitted SYN; drops that repeat on it are something else.
  const lossLike = c.tx < 2 || t.slow >= t.timeouts;
  if (!lossLike) return undefined;
  if (c.identity === 'backend' && c.placementKnown) {
    if (mostSilentNodeP(c.used, c.placement!) < Math.sqrt(cfg.pValue)) return undefined;
    // "Not tied to a node" needs every node to have served since the drops began: at the onset of a path drop the
    // blamed node has not served since, and the few attempts so far cannot make its silence significant yet.
    if (!everyNodeServedSinceFirstTimeout(c.used, c.placement!)) return undefined;
  }
  const evidence = [
    `${t.timeouts} connect timeouts and ${t.slow} slow connects (SYN retransmitted, then answered) in ${t.attempts} attempts: ${pct(impaired / t.attempts)} impaired.`,
  ];
  if (c.identity === 'backend' && c.placementKnown) evidence.push('Every node with endpoints keeps serving successes: the loss is not tied to a node.');
  else evidence.push('Most lost SYNs were recovered on retransmission: random loss, not a path drop.');
  const candidates: string[] = [];
  if (c.tx < 2) {
    evidence.push('The probe timeout is too short to see SYN retransmissions: loss and path drops look alike here.');
    if (c.placementKnown && t.timeouts > 0) {
      const m = matchShares(c, { attempts: t.attempts, timeouts: t.timeouts, successes: t.successes, slow: t.slow, p: 1, interleaved: true, timeoutShare: 1 });
      if (m.matched) candidates.push(...m.candidates);
    }
  }
  return {
    verdict: 'packet_loss', confidence: conf, candidateNodes: candidates,
    summary: `${c.name}: packet loss: ${pct(impaired / t.attempts)} of connects lost packets (${t.timeouts} timeouts, ${t.slow} slow connects), not tied to a node`,
    evidence,
  };
}

function everyNodeServedSinceFirstTimeout(used: readonly Attempt[], placement: NonNullable<Ctx['placement']>): boolean {
  const first = used.findIndex((a) => a.reason === 'connect_timeout');
  if (first < 0) return true;
  const served = new Set<string>();
  for (let i = first + 1; i < used.length; i++) {
    const a = used[i]!;
    if (a.ok && a.backendNode !== undefined) served.add(a.backendNode);
  }
  return Object.keys(placement.endpointsPerNode).every((n) => served.has(n));
}

function nodeSplit(c: Ctx, isClassFailure: (a: Attempt) => boolean, classShare: number): NodeSplit | undefined {
  if (c.identity !== 'backend' || !c.placementKnown) return undefined;
  return findNodeSplit(c.used, c.placement!, { pValue: c.cfg.pValue, interleaveAlpha: c.cfg.pValue, classShare, isClassFailure });
}

function singleNode(c: Ctx): string | undefined {
  if (!c.placementKnown) return undefined;
  const nodes = Object.keys(c.placement!.endpointsPerNode);
  return nodes.length === 1 ? nodes[0] : undefined;
}

function splitEvidence(s: NodeSplit, what: string): string {
  return `${list(s.nodes)} (share ${ratio(s.share)} of ready endpoints) served none of the last ${s.successes} successes while the other nodes served them all; ` +
    `if ${list(s.nodes)} were healthy the chance of that is (1 - ${ratio(s.share)})^${s.successes} = ${prob(s.p)}. ` +
    `Since then ${s.failures} of ${s.attempts} attempts failed (ratio ${ratio(s.failures / Math.max(1, s.attempts))}, expected ${ratio(s.share)}; ${s.classFailures} ${what})` +
    (s.pEff > s.p * 1.01 ? `; allowing for random failures at that ratio, p=${prob(s.pEff)}.` : '.');
}

function slowEvidence(s: PathDropTest): string {
  return `${s.timeouts} connect timeouts but ${s.slow} slow (~1 s, SYN retransmitted) connects in ${s.successes} successes: drops repeat on the retransmitted SYN (a path drop); random loss would mostly give slow connects (chance of this few under random loss: ${prob(s.p)}).`;
}

export function placementEvidence(c: Ctx, nodes: readonly string[]): string[] {
  const p = c.sample.placement ?? c.placement;
  if (!p) return ['No cluster view: nodes cannot be named.'];
  const out: string[] = [];
  const eps = Object.entries(p.endpointsPerNode).sort().map(([n, k]) => `${n}: ${k}`).join(', ');
  out.push(`Ready endpoints per node: ${eps || '(none)'}; announcer: ${p.announcerNode ?? 'unknown'}; externalTrafficPolicy: ${p.externalTrafficPolicy ?? 'unknown'}.`);
  if (p.announcerNode && nodes.includes(p.announcerNode)) out.push(`The announcer ${p.announcerNode} is among the suspected nodes: check the interface the VIP is announced on.`);
  if (c.sample.otherView) out.push(`${c.sample.otherView} attempts made under an earlier cluster view were left out.`);
  return out;
}
