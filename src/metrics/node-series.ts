import type { TargetClusterView } from '../cluster/types.js';
import type { TargetConfig } from '../config/targets.js';
import type { CellCounter } from './cells.js';

/** Target name -> nodes that should have a series now. */
export type NodesByTarget = Map<string, readonly string[]>;

/** The nodes with ready endpoints in each target's cluster view (targets without a view have none). */
export function readyNodes(targets: readonly TargetConfig[], viewFor: (t: TargetConfig) => TargetClusterView | undefined): NodesByTarget {
  const out: NodesByTarget = new Map();
  for (const t of targets) {
    const view = viewFor(t);
    if (view) out.set(t.name, Object.keys(view.endpointsPerNode).filter((n) => view.endpointsPerNode[n]! > 0));
  }
  return out;
}

/**
 * Whether a success can name the node that served it: only http(s) with backendHeader or backendJsonField. A tcp
 * target's vipwatch_backend_successes_total stays empty, so it gets no zero series that would read "no node serves".
 */
export function identifiesBackend(t: TargetConfig): boolean {
  return t.http?.backendHeader !== undefined || t.http?.backendJsonField !== undefined;
}

/**
 * Per-node counter series that exist at 0 before their first event, so a panel shows the healthy nodes too and
 * rate()/increase() see the first event (a counter that appears already at 1 hides it). Seeded at read time from the
 * nodes given; a seeded series whose node left (or whose target went) is removed again while it is still 0, so node
 * churn leaves no trail of zero series. A series that counted something stays, as any counter series does.
 */
export class NodeSeeds {
  /** Target -> nodes seeded and not yet removed. */
  private readonly seeded = new Map<string, Set<string>>();

  constructor(private readonly metric: CellCounter, private readonly labels: (target: string, node: string) => string[]) {}

  apply(current: NodesByTarget): void {
    for (const [target, nodes] of this.seeded) {
      const want = new Set(current.get(target));
      for (const node of nodes) {
        if (want.has(node)) continue;
        const l = this.labels(target, node);
        if (this.metric.peek(...l)?.value === 0) this.metric.remove(...l);
        nodes.delete(node);
      }
      if (!nodes.size) this.seeded.delete(target);
    }
    for (const [target, nodes] of current) {
      if (!nodes.length) continue;
      let s = this.seeded.get(target);
      if (!s) this.seeded.set(target, (s = new Set()));
      for (const node of nodes) {
        this.metric.cell(...this.labels(target, node));
        s.add(node);
      }
    }
  }

  /** The target's series are gone (ProbeMetrics.forget): nothing left to remove. */
  forget(target: string): void {
    this.seeded.delete(target);
  }
}
