import { Gauge, type Registry } from 'prom-client';
import type { TargetConfig } from '../config/targets.js';
import type { ResourceStatus, TargetClusterView } from './types.js';

export interface ClusterMetricsSource {
  /** The targets to describe, read at scrape time (the list changes at runtime). */
  targets(): TargetConfig[];
  viewFor(target: TargetConfig): TargetClusterView | undefined;
  resources(): ResourceStatus[];
}

/**
 * Collect-style gauges: every scrape rebuilds them from the current targets and views, so removed targets and
 * moved announcers leave no stale series behind. (vipwatch_backend_successes_total lives in ProbeMetrics.)
 */
export function registerClusterMetrics(registry: Registry, source: ClusterMetricsSource): void {
  const registers = [registry];
  new Gauge({
    name: 'vipwatch_target_info', help: 'Targets with their address, port and linked Service ("namespace/name", empty when none); always 1.',
    labelNames: ['target', 'address', 'port', 'service'], registers,
    collect() {
      this.reset();
      for (const t of source.targets()) {
        this.labels(t.name, t.address, String(t.port), t.service ?? source.viewFor(t)?.service ?? '').set(1);
      }
    },
  });
  new Gauge({
    name: 'vipwatch_announcer_info', help: 'Node announcing each target\'s VIP and how it is known (servicel2status, event, arp, config); always 1.',
    labelNames: ['target', 'node', 'source'], registers,
    collect() {
      this.reset();
      for (const t of source.targets()) {
        const a = source.viewFor(t)?.announcer;
        if (a) this.labels(t.name, a.node, a.source).set(1);
      }
    },
  });
  new Gauge({
    name: 'vipwatch_endpoints', help: 'Ready endpoints behind each target per node (0: the node has only unready endpoints).',
    labelNames: ['target', 'node'], registers,
    collect() {
      this.reset();
      for (const t of source.targets()) {
        const v = source.viewFor(t);
        if (!v) continue;
        for (const [node, n] of Object.entries(v.endpointsPerNode)) this.labels(t.name, node).set(n);
      }
    },
  });
  new Gauge({
    name: 'vipwatch_kube_up', help: 'Whether each Kubernetes resource is listed and watched (0: failing, including 3 watches in a row that ended before minWatchDuration; disabled by 403/404; or not yet synced).',
    labelNames: ['resource'], registers,
    collect() {
      this.reset();
      for (const r of source.resources()) this.labels(r.resource).set(r.state === 'synced' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'vipwatch_kube_last_sync_timestamp_seconds', help: 'Last time the API confirmed each resource (list, watch open, event, bookmark or clean watch end).',
    labelNames: ['resource'], registers,
    collect() {
      this.reset();
      for (const r of source.resources()) if (r.lastSyncAt !== undefined) this.labels(r.resource).set(r.lastSyncAt / 1000);
    },
  });
}
