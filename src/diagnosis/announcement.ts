/**
 * Two announcers for one VIP (split brain: a memberlist partition, IPVS without strictARP, a duplicate IP outside the
 * cluster). Several MACs answer ARP for the VIP; a client's neighbour entry follows whichever answered last, and the
 * attempts fail while it points at a node that cannot serve the VIP. Every attempt records the entry it went to
 * (Attempt.cluster.neighbour), so the evidence is direct: a 2x2 exact test of MAC x outcome.
 *
 * The attempts counted: every attempt of the window (all cluster views: when the announcer is known only from the
 * neighbour table, each MAC flip is a view change) that saw exactly one MAC, held steady until it ended. Left out: no
 * entry, an entry that changed during the attempt (which MAC its packets went to is unknown), several MACs at once,
 * stalled attempts (never in the sample).
 *
 * A single failover is not a conflict: its old MAC fails only around the switch-over (the gratuitous-ARP gap) and never
 * comes back. The rule asks a failing MAC to fail in two runs of its own: it answered, lost the entry, answered again
 * and failed again.
 */
import { steadyMac, type Attempt } from '../history/attempt.js';
import type { Ctx, Finding } from './context.js';
import { pct, prob, reasonsText } from './format.js';
import { fisherExact } from './stats.js';
import { recoveryStreak } from './streaks.js';
import { tally } from './tally.js';

/** A failing MAC no node is known to own: the cause is named by its MAC only and the confidence is capped at this. */
export const CONFLICT_UNKNOWN_MAX_CONFIDENCE = 0.9;
/**
 * Below this exact-test p (but not yet a conflict), a MAC that failed every attempt since the entry turned to it holds
 * the verdict at insufficient_data: the claim is only that the evidence is not loss yet.
 */
export const FORMING_P = 0.01;
/** The MAC timeline in the evidence shows this many of the newest runs. */
export const TIMELINE_RUNS = 10;

/** Consecutive counted attempts through one MAC. */
export interface MacRun {
  mac: string;
  nodes: string[];
  /** Start (epoch ms) of the first and the last attempt of the run. */
  from: number;
  to: number;
  attempts: number;
  failures: number;
  /** Index in the window's attempts of its first and last attempt. */
  first: number;
  last: number;
}

interface MacStats {
  attempts: number;
  failures: number;
  nodes: Set<string>;
  /** Runs of this MAC holding at least one failure. */
  failingRuns: number;
}

export interface ConflictOptions {
  /** wentDown() holds: the conflict outranks it only when no failure of its trailing run went through a working MAC. */
  down: boolean;
}

/** The table and the runs over the window's attempts (exported for the tests and the eval). */
export function macTable(all: readonly Attempt[]): { runs: MacRun[]; perMac: Map<string, MacStats>; noEntry: number; unsteady: number; several: number } {
  const runs: MacRun[] = [];
  const perMac = new Map<string, MacStats>();
  let noEntry = 0;
  let unsteady = 0;
  let several = 0;
  all.forEach((a, i) => {
    const nb = a.cluster?.neighbour;
    if (!nb || nb.macs.length === 0) return void noEntry++;
    if (!nb.steady) return void unsteady++;
    if (nb.macs.length > 1) return void several++;
    const mac = nb.macs[0]!;
    const s = perMac.get(mac) ?? { attempts: 0, failures: 0, nodes: new Set<string>(), failingRuns: 0 };
    perMac.set(mac, s);
    s.attempts++;
    for (const n of nb.nodes) s.nodes.add(n);
    let run = runs[runs.length - 1];
    if (!run || run.mac !== mac) {
      run = { mac, nodes: [...nb.nodes], from: a.startedAt, to: a.startedAt, attempts: 0, failures: 0, first: i, last: i };
      runs.push(run);
    }
    run.to = a.startedAt;
    run.last = i;
    run.attempts++;
    for (const n of nb.nodes) if (!run.nodes.includes(n)) run.nodes.push(n);
    if (!a.ok) {
      if (run.failures === 0) s.failingRuns++;
      run.failures++;
      s.failures++;
    }
  });
  for (const r of runs) r.nodes.sort();
  return { runs, perMac, noEntry, unsteady, several };
}

export function announcementConflict(c: Ctx, opts: ConflictOptions): Finding | undefined {
  const { cfg } = c;
  const all = c.sample.all;
  if (all.length < cfg.minAttempts || !all.some((a) => a.cluster?.neighbour)) return undefined;
  const { runs, perMac, noEntry, unsteady, several } = macTable(all);
  if (perMac.size < 2) return undefined;
  const { attempts: n, failures: f } = sum([...perMac.values()]);
  if (f === 0) return undefined;
  // The MACs failing more than the table as a whole, against the rest.
  const failing = [...perMac.entries()].filter(([, s]) => s.failures * n > f * s.attempts).map(([m]) => m).sort();
  if (failing.length === 0 || failing.length === perMac.size) return undefined;
  const g = sum(failing.map((m) => perMac.get(m)!));
  const p = fisherExact(g.failures, g.attempts - g.failures, f - g.failures, n - g.attempts - (f - g.failures));
  if (p >= cfg.pValue || !failing.some((m) => perMac.get(m)!.failingRuns >= 2)) return opts.down || p >= FORMING_P ? undefined : forming(c, runs, failing, p);
  if (opts.down && downThroughWorkingMac(all, failing)) return undefined;
  if (recoveredSince(c, runs, failing)) return undefined;

  const owners = [...new Set(failing.flatMap((m) => [...perMac.get(m)!.nodes]))].sort();
  const unknown = failing.filter((m) => perMac.get(m)!.nodes.size === 0);
  const working = [...perMac.keys()].filter((m) => !failing.includes(m)).sort();
  const w = sum(working.map((m) => perMac.get(m)!));
  const macText = (m: string) => {
    const nodes = [...perMac.get(m)!.nodes].sort();
    return `${m} (${nodes.length ? nodes.join(', ') : 'no known node'})`;
  };
  const failedThrough = tally(all.filter((a) => !a.ok && failing.includes(steadyMac(a) ?? '')));
  const evidence = [
    `${perMac.size} MACs answered for the VIP in the window (${[...perMac.keys()].sort().map(macText).join('; ')}): more than one announcer.`,
    `Attempts through ${failing.map(macText).join(', ')} failed ${g.failures} of ${g.attempts} (${pct(g.failures / g.attempts)}; ${reasonsText(failedThrough.reasons)}), through ${working.map(macText).join(', ')} ${w.failures} of ${w.attempts} (${pct(w.failures / w.attempts)}). Fisher's exact test, MAC x outcome: failures independent of the MAC would split this unevenly with chance p=${prob(p)}.`,
    `Failure ratio per MAC: ${[...perMac.entries()].sort(([x], [y]) => x.localeCompare(y)).map(([m, s]) => `${m} ${s.failures}/${s.attempts} (${pct(s.failures / s.attempts)}, failing in ${s.failingRuns} of ${runs.filter((r) => r.mac === m).length} runs)`).join('; ')}.`,
    timelineText(runs),
  ];
  const left: string[] = [];
  if (noEntry) left.push(`${noEntry} without a neighbour entry`);
  if (unsteady) left.push(`${unsteady} whose entry changed during the attempt`);
  if (several) left.push(`${several} that saw several MACs at once`);
  if (c.sample.stalled) left.push(`${c.sample.stalled} made while the probe stalled`);
  if (left.length) evidence.push(`Left out of the table: ${left.join(', ')}.`);
  const announcer = legitimateAnnouncer(c);
  if (announcer) {
    const own = [...perMac.entries()].filter(([, s]) => s.nodes.has(announcer.node)).map(([m]) => m).sort();
    const ownFails = own.some((m) => failing.includes(m));
    evidence.push(`MetalLB's announcer (${announcer.source}): ${announcer.node}${own.length ? `, MAC ${own.join(', ')}` : ' (its MAC not seen in the window)'}: ${ownFails ? 'its own MAC is a failing one, so it is suspected too' : 'the other MAC(s) are not MetalLB\'s choice; it is not suspected'}.`);
  }
  for (const m of unknown) evidence.push(`No node is known to own ${m} (neither a Node InternalIP's neighbour entry nor a node agent's interface): a host outside the cluster, or a node vipwatch cannot see, answers ARP for the VIP; no node is named for it.`);
  const confidence = unknown.length ? Math.min(CONFLICT_UNKNOWN_MAX_CONFIDENCE, 1 - p) : 1 - p;
  const through = owners.length ? `${owners.join(', ')} (MAC ${failing.join(', ')})` : `MAC ${failing.join(', ')}, owned by no known node`;
  return {
    verdict: 'announcement_conflict', confidence, suspectedNodes: owners, candidateNodes: owners, pValue: p,
    summary: `${c.name}: ${perMac.size} MACs answer for the VIP (split brain): connections through ${through} fail (${g.failures} of ${g.attempts}), through ${working.join(', ')} ${w.failures} of ${w.attempts}`,
    evidence,
  };
}

function sum(xs: readonly MacStats[]): { attempts: number; failures: number } {
  let attempts = 0;
  let failures = 0;
  for (const s of xs) {
    attempts += s.attempts;
    failures += s.failures;
  }
  return { attempts, failures };
}

/** The trailing run of failures holds one through a MAC that otherwise works: the VIP is down, whichever MAC answers. */
function downThroughWorkingMac(all: readonly Attempt[], failing: readonly string[]): boolean {
  for (let i = all.length - 1; i >= 0 && !all[i]!.ok; i--) {
    const m = steadyMac(all[i]!);
    if (m !== undefined && !failing.includes(m)) return true;
  }
  return false;
}

/**
 * The split brain stopped: the attempts since the last one through a failing MAC all succeeded, are a recovery by the
 * recovery rule's test, and outlast every working stretch between the failing MAC's runs (a stretch no longer than
 * those is just the next turn of the flipping).
 */
function recoveredSince(c: Ctx, runs: readonly MacRun[], failing: readonly string[]): boolean {
  const all = c.sample.all;
  const rec = recoveryStreak(all, c.cfg.minAttempts, c.cfg.pValue, c.cfg.consistencyAlpha);
  if (!rec) return false;
  const bad = runs.filter((r) => failing.includes(r.mac));
  let longestPause = 0;
  for (let k = 1; k < bad.length; k++) longestPause = Math.max(longestPause, bad[k]!.first - bad[k - 1]!.last - 1);
  return rec.length > longestPause;
}

/**
 * The first turns of a split brain: the entry turned to a MAC and every attempt through it failed, while the MAC before
 * it worked (the exact test below FORMING_P). A failover does the opposite (the old MAC fails in the gap, the new one
 * works); a failover to a node that drops everything becomes an outage (wentDown, which this yields to). Until the MAC
 * fails again after the entry left it, at pValue, the older rules would call its blocks of failures loss: say that
 * evidence is being gathered instead, up to a recovery by the recovery rule's test.
 */
function forming(c: Ctx, runs: readonly MacRun[], failing: readonly string[], p: number): Finding | undefined {
  let fresh: MacRun | undefined;
  for (let k = runs.length - 1; k > 0 && !fresh; k--) if (failing.includes(runs[k]!.mac) && runs[k]!.failures === runs[k]!.attempts) fresh = runs[k];
  if (!fresh || recoveryStreak(c.sample.all, c.cfg.minAttempts, c.cfg.pValue, c.cfg.consistencyAlpha)) return undefined;
  const before = runs[runs.indexOf(fresh) - 1]!;
  const who = (r: MacRun) => `${r.mac}${r.nodes.length ? ` (${r.nodes.join(', ')})` : ' (no known node)'}`;
  return {
    verdict: 'insufficient_data', confidence: 0,
    summary: `${c.name}: every connection through ${who(fresh)} failed (${fresh.failures}) while the VIP's neighbour entry held it after ${who(before)}; gathering evidence to tell a second announcer from a failover`,
    evidence: [
      `${fresh.failures} of ${fresh.attempts} attempts through ${who(fresh)} failed, from the first on, after ${before.attempts} through ${who(before)} with ${before.failures} failures (Fisher's exact test, MAC x outcome: p=${prob(p)}).`,
      'Failures tied to the MAC the attempts went to are not random loss. A second announcer (split brain) shows when that MAC holds the entry again and fails again; a failover that keeps failing becomes an outage.',
    ],
  };
}

/** The announcer MetalLB itself reports (ServiceL2Status, nodeAssigned events): never one inferred from the neighbour table. */
function legitimateAnnouncer(c: Ctx): { node: string; source: string } | undefined {
  const newest = c.sample.all[c.sample.all.length - 1]?.cluster;
  const fromAttempt = newest?.announcerNode && (newest.announcerSource === 'servicel2status' || newest.announcerSource === 'event')
    ? { node: newest.announcerNode, source: newest.announcerSource } : undefined;
  if (fromAttempt) return fromAttempt;
  const a = c.input.view?.announcer;
  return a && (a.source === 'servicel2status' || a.source === 'event') ? { node: a.node, source: a.source } : undefined;
}

function timelineText(runs: readonly MacRun[]): string {
  const shown = runs.slice(-TIMELINE_RUNS);
  const time = (t: number) => new Date(t).toISOString().slice(11, 23);
  const parts = shown.map((r) => `${time(r.from)}-${time(r.to)}Z ${r.mac}${r.nodes.length ? ` (${r.nodes.join(', ')})` : ''}: ${r.failures}/${r.attempts} failed`);
  return `MAC timeline (${shown.length < runs.length ? `the last ${shown.length} of ${runs.length} runs` : `${runs.length} runs`}, consecutive attempts per MAC): ${parts.join('; ')}.`;
}
