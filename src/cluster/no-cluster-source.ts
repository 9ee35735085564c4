import type { Registry } from 'prom-client';
import type { TargetConfig } from '../config/targets.js';
import { registerClusterMetrics } from './cluster-metrics.js';
import type { ClusterSnapshot, ManagedClusterSource, ResourceStatus, TargetClusterView } from './types.js';

/**
 * The source when `kubernetes` is not configured: no per-attempt context, no discovery, no backend mapping.
 * A target's pinned announcerNode still shows in its view and in vipwatch_announcer_info.
 */
export class NoClusterSource implements ManagedClusterSource {
  private readonly registries = new WeakSet<Registry>();

  constructor(private staticTargets: TargetConfig[] = []) {}

  async start(_signal: AbortSignal): Promise<void> {}

  async done(): Promise<void> {}

  viewFor(target: TargetConfig): TargetClusterView | undefined {
    if (!target.announcerNode) return undefined;
    return { announcer: { node: target.announcerNode, source: 'config' }, endpoints: [], endpointsPerNode: {}, stale: false };
  }

  /** A pinned announcer only: no context is recorded on attempts, no backend is mapped to a node. */
  snapshot(target: TargetConfig): ClusterSnapshot {
    return { view: this.viewFor(target), nodeOf: () => undefined };
  }

  discoveredTargets(): TargetConfig[] {
    return [];
  }

  onTargetsChanged(_listener: () => void): void {}

  setStaticTargets(targets: TargetConfig[]): void {
    this.staticTargets = targets;
  }

  resources(): ResourceStatus[] {
    return [];
  }

  attachMetrics(registry: Registry, targets?: () => TargetConfig[]): void {
    if (this.registries.has(registry)) return;
    this.registries.add(registry);
    registerClusterMetrics(registry, { targets: targets ?? (() => this.staticTargets), viewFor: (t) => this.viewFor(t), resources: () => [] });
  }
}
