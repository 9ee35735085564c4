/**
 * Failover gaps: for each announcer change seen on a target's attempt stream, how long the VIP was out until the
 * first success through the new announcer.
 *
 * The announcer an attempt went to: the VIP's MAC when vipwatch reads the neighbour table (`cluster.neighbour`), but
 * only a steady entry with a single MAC (an entry that changed during the attempt, or that holds two MACs, does not say
 * where the packets went); otherwise the announcing node of the attempt's cluster view (`cluster.announcerNode`). A
 * target whose attempts carried a MAC in the last window is followed by MAC only: a failover shows on both (the view
 * moves, the MAC flips when the gratuitous ARP lands) and must count once, and the MAC is what the client used. An
 * attempt without a known announcer (no view, an unresolved or unsteady entry) neither makes nor closes a change.
 * Attempts the diagnosis leaves out (stalled: the probe's own loop was stuck; probe_error: vipwatch's own fault) are
 * not looked at at all.
 *
 * The definition. A change is an attempt whose announcer differs from the one of the newest attempt started before it.
 * The gap runs from "the change" to the start of the first successful attempt through the new announcer, where the
 * change is:
 *   - the start of the first of the failed attempts that came right before the first attempt under the new announcer
 *     (consecutive by start time, back to the newest success before it, within the diagnosis window): those failures
 *     show the old path had already stopped, and a client kept the old MAC until the gratuitous ARP landed. Counting
 *     from the first attempt under the new announcer would call such a failover instant;
 *   - the start of the first attempt under the new announcer when no attempt failed right before it.
 * Both ends are attempt starts, so the figure is good to the probe interval; a failover no attempt noticed is 0 s.
 * A change without a success through the new announcer is open (no figure, never 0): while it waits, when the next
 * change comes first (the new announcer never served), or when a window (diagnosis.window) passes after its first
 * attempt without one (it then leaves the evidence with the window). The run of failures is looked for in the window
 * only: a path that had stopped longer ago gives a gap that starts at the window's edge.
 *
 * Attempts arrive in completion order (burst attempts overlap), so everything is ordered by startedAt: an attempt
 * older than the newest one seen does not make a change, and the run of failures is found in the window's attempts
 * (changeStart) when the change is seen and again when it closes, so late completions count where they belong.
 */
import { steadyMac, type Attempt } from '../history/attempt.js';

export type FailoverSource = 'mac' | 'view';

/** Why a change has no figure yet. */
export type OpenReason = 'waiting' | 'superseded' | 'expired';

/** Recent gaps kept per target (the evidence line shows them). */
export const RECENT_GAPS = 10;

export interface FailoverGap {
  readonly source: FailoverSource;
  /** The old and new announcer as nodes: the announcing node (view), or the nodes owning the MAC (mac); null when unknown. */
  readonly from: string | null;
  readonly to: string | null;
  /** For a MAC change: the old and new MAC. */
  readonly fromMac?: string;
  readonly toMac?: string;
  /** The change, as defined above (epoch ms). */
  readonly at: number;
  /** Start of the first attempt under the new announcer (epoch ms). */
  readonly firstNewAt: number;
  /** Start of the first success through the new announcer (epoch ms); null while open. */
  readonly closedAt: number | null;
  /** closedAt - at in seconds; null while open. */
  readonly seconds: number | null;
  /** Why it is open; null once closed. */
  readonly open: OpenReason | null;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Announcer {
  source: FailoverSource;
  /** The MAC (mac) or the node (view). */
  key: string;
  /** The node(s) behind it; null when unknown. */
  node: string | null;
}

interface Last extends Announcer {
  /** Start of the newest attempt that showed it. */
  at: number;
}

/** Whether the attempt counts at all (the diagnosis leaves the others out). */
function counted(a: Attempt): boolean {
  return !a.stalled && a.reason !== 'probe_error';
}

/** The announcer the attempt went to (see the header), or undefined when it is not known. */
export function announcerOf(a: Attempt): Announcer | undefined {
  const c = a.cluster;
  if (!c) return undefined;
  const n = c.neighbour;
  if (n && n.macs.length) {
    const mac = steadyMac(a);
    return mac === undefined ? undefined : { source: 'mac', key: mac, node: n.nodes.length ? n.nodes.join('+') : null };
  }
  return c.announcerNode === undefined ? undefined : { source: 'view', key: c.announcerNode, node: c.announcerNode };
}

/**
 * The change before an announcer's first attempt at `firstNewAt` (see the header): the start of the first failed
 * attempt after the newest success started before `firstNewAt`, or `firstNewAt` when none failed in between.
 * `attempts` is the window, in any order.
 */
export function changeStart(attempts: readonly Attempt[], firstNewAt: number): number {
  let lastOk = -Infinity;
  for (const a of attempts) if (a.ok && counted(a) && a.startedAt < firstNewAt && a.startedAt > lastOk) lastOk = a.startedAt;
  let first = firstNewAt;
  for (const a of attempts) if (!a.ok && counted(a) && a.startedAt > lastOk && a.startedAt < first) first = a.startedAt;
  return first;
}

/** The gaps whose new announcer was first seen in the window ending at `now`, oldest first, at most RECENT_GAPS. */
export function gapsInWindow(gaps: readonly FailoverGap[], windowMs: number, now: number): FailoverGap[] {
  return gaps.filter((g) => g.firstNewAt >= now - windowMs).slice(-RECENT_GAPS);
}

const clock = (ms: number) => `${new Date(ms).toISOString().slice(11, 19)}Z`;

function side(node: string | null, mac: string | undefined): string {
  return node ?? (mac ? `unknown node (${mac})` : 'unknown node');
}

function gapText(g: FailoverGap): string {
  const to = side(g.to, g.toMac);
  const head = `${side(g.from, g.fromMac)} -> ${to} at ${clock(g.at)}: `;
  const mac = g.source === 'mac' ? ` (MAC ${g.fromMac} -> ${g.toMac})` : '';
  if (g.seconds !== null) return `${head}${g.seconds.toFixed(1)} s${mac}`;
  const why = g.open === 'superseded' ? `${to} served nothing before the next change` : g.open === 'expired' ? `no success through ${to} within the window` : `no success through ${to} yet`;
  return `${head}open, ${why}${mac}`;
}

/**
 * The evidence line for the gaps given (gapsInWindow), or undefined when there are none: each change with its gap,
 * and how the gap is measured.
 */
export function failoverGapsLine(gaps: readonly FailoverGap[]): string | undefined {
  if (!gaps.length) return undefined;
  return `Failover gaps (from the first of the failures right before an announcer change, or from the first attempt under the new announcer when none failed, to the first success through it; good to the probe interval): ${gaps.map(gapText).join('; ')}.`;
}

/** One target's changes, fed its attempts one at a time. */
export class FailoverGapTracker {
  private readonly last: Partial<Record<FailoverSource, Last>> = {};
  /** Start of the newest attempt that carried a MAC: the target is followed by MAC while it is within the window. */
  private macSeenAt = -Infinity;
  private pending: Mutable<FailoverGap> | undefined;
  private readonly gaps: Mutable<FailoverGap>[] = [];

  constructor(private readonly windowMs: number) {}

  /**
   * Feeds one attempt (already in the window `window` returns, read only when a change opens or closes); returns the
   * gap it closed, if any.
   */
  feed(a: Attempt, window: () => readonly Attempt[]): FailoverGap | undefined {
    if (!counted(a)) return undefined;
    const t = a.startedAt;
    if (a.cluster?.neighbour?.macs.length) this.macSeenAt = Math.max(this.macSeenAt, t);
    const p = this.pending;
    if (p && t - p.firstNewAt > this.windowMs) {
      p.open = 'expired';
      this.pending = undefined;
    }
    const now = announcerOf(a);
    if (!now || (now.source === 'view' && t - this.macSeenAt <= this.windowMs)) {
      if (now) this.remember(now, t);
      return undefined;
    }
    const prev = this.last[now.source];
    if (prev && t > prev.at && prev.key !== now.key) this.open(prev, now, t, window);
    this.remember(now, t);
    return this.close(a, now, window);
  }

  /** The recent gaps (closed and open), oldest first. */
  recent(): readonly FailoverGap[] {
    return this.gaps;
  }

  private remember(now: Announcer, t: number): void {
    const prev = this.last[now.source];
    if (prev && t <= prev.at) return;
    // The same announcer again (nearly every attempt): no new object.
    if (prev && prev.key === now.key && prev.node === now.node) prev.at = t;
    else this.last[now.source] = { ...now, at: t };
  }

  private open(prev: Last, now: Announcer, t: number, window: () => readonly Attempt[]): void {
    if (this.pending) this.pending.open = 'superseded';
    const g: Mutable<FailoverGap> = {
      source: now.source, from: prev.node, to: now.node, at: changeStart(window(), t), firstNewAt: t, closedAt: null, seconds: null, open: 'waiting',
    };
    if (now.source === 'mac') Object.assign(g, { fromMac: prev.key, toMac: now.key });
    this.pending = g;
    this.gaps.push(g);
    if (this.gaps.length > RECENT_GAPS) this.gaps.shift();
  }

  /** A success through the pending change's new announcer closes it. */
  private close(a: Attempt, now: Announcer, window: () => readonly Attempt[]): FailoverGap | undefined {
    const p = this.pending;
    if (!p || now.source !== p.source || now.key !== (p.source === 'mac' ? p.toMac : p.to)) return undefined;
    // A late completion under the new announcer that started earlier moves the first attempt under it back.
    if (a.startedAt < p.firstNewAt) p.firstNewAt = a.startedAt;
    if (!a.ok) return undefined;
    p.at = changeStart(window(), p.firstNewAt);
    p.closedAt = a.startedAt;
    p.seconds = Math.max(0, a.startedAt - p.at) / 1000;
    p.open = null;
    this.pending = undefined;
    return { ...p };
  }
}
