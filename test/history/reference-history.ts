import type { Attempt, FailureAttribution } from '../../src/history/attempt.js';
import { NodeTally, type NodeCounts } from '../../src/history/node-tally.js';
import { Ring } from './ring.js';
import { FailureWindows, WINDOWS, type WindowName, type WindowStats } from '../../src/history/windows.js';

/**
 * The reference for the compact history: TargetHistory as it was when it kept the recorded objects themselves in a
 * plain ring (the version before the compact form, unchanged but for its name). Every read of the compact history
 * must equal this one's.
 */
export class ReferenceHistory {
  private readonly ring: Ring<Attempt>;
  private readonly windows = new FailureWindows();
  private readonly attributions = new Map<number, FailureAttribution>();
  private readonly nodes = new NodeTally();
  private seq = 0;

  constructor(readonly target: string, capacity: number) {
    this.ring = new Ring(capacity);
  }

  get capacity(): number {
    return this.ring.capacity;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  record(a: Attempt): void {
    const evicted = this.ring.push(a);
    if (evicted) this.forget(evicted);
    if (a.ok && a.backendNode !== undefined) this.nodes.addSuccess(a.backendNode);
    // An attempt vipwatch could not make itself (probe_error) is not the target's failure: kept out of the ratios.
    if (a.ok || a.reason !== 'probe_error') this.windows.record(a.startedAt, a.ok);
  }

  /** Records the node a held failed attempt is attributed to (once per attempt: later calls are ignored). */
  attribute(seq: number, at: FailureAttribution): void {
    if (this.attributions.has(seq) || !this.holds(seq)) return;
    this.attributions.set(seq, at);
    this.nodes.addFailure(at.node);
  }

  /** The node a failed attempt was attributed to when it was diagnosed, while the attempt is held. */
  attributionOf(seq: number): FailureAttribution | undefined {
    return this.attributions.get(seq);
  }

  /** Successes per serving node and failures per attributed node, over the attempts held. */
  nodeCounts(endpointsPerNode: Readonly<Record<string, number>> | undefined): Record<string, NodeCounts> {
    return this.nodes.counts(endpointsPerNode);
  }

  last(): Attempt | undefined {
    return this.ring.last();
  }

  /** Newest `n` attempts, oldest first. */
  recent(n?: number): Attempt[] {
    return this.ring.toArray(n);
  }

  /** Attempts that started within `ms` before `now`, oldest first. */
  since(ms: number, now: number): Attempt[] {
    const from = now - ms;
    return this.ring.takeWhileNewest((a) => a.startedAt >= from);
  }

  stats(window: WindowName, now: number): WindowStats {
    return this.windows.stats(window, now);
  }

  allStats(now: number): Record<WindowName, WindowStats> {
    const out = {} as Record<WindowName, WindowStats>;
    for (const w of Object.keys(WINDOWS) as WindowName[]) out[w] = this.windows.stats(w, now);
    return out;
  }

  private holds(seq: number): boolean {
    const last = this.ring.last();
    return last !== undefined && seq <= last.seq && seq > last.seq - this.ring.size;
  }

  private forget(a: Attempt): void {
    if (a.ok && a.backendNode !== undefined) this.nodes.addSuccess(a.backendNode, -1);
    const at = this.attributions.get(a.seq);
    if (!at) return;
    this.attributions.delete(a.seq);
    this.nodes.addFailure(at.node, -1);
  }
}
