import type { Registry } from 'prom-client';
import type { KubernetesConfig } from '../config/sections/kubernetes.js';
import type { Defaults, TargetConfig } from '../config/targets.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { silentLogger, type Logger } from '../lib/logger.js';
import { KubeClusterSource } from './kube-cluster-source.js';
import { NoClusterSource } from './no-cluster-source.js';
import { resolveConnection } from './resolve-connection.js';
import type { ManagedClusterSource } from './types.js';

export interface ClusterSourceOptions {
  config: KubernetesConfig;
  defaults: Defaults;
  staticTargets?: TargetConfig[];
  clock?: Clock;
  logger?: Logger;
  /** When given, the cluster gauges are registered on it right away (else call attachMetrics later). */
  registry?: Registry;
  /** Read for in-cluster detection and $KUBECONFIG/$HOME; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** ServiceAccount mount for in-cluster config (tests point it elsewhere). */
  serviceAccountDir?: string;
  random?: () => number;
}

/**
 * The cluster source for `vipwatch run`: a KubeClusterSource when `kubernetes` is enabled, else a NoClusterSource.
 * Throws VipwatchError VIPWATCH_KUBECONFIG_INVALID when the connection cannot be resolved (bad or missing kubeconfig,
 * unreadable CA); nothing touches the network until start().
 */
export function createClusterSource(o: ClusterSourceOptions): ManagedClusterSource {
  const source: ManagedClusterSource = o.config.enabled
    ? new KubeClusterSource({
      config: o.config,
      connection: resolveConnection(o.config, { env: o.env ?? process.env, serviceAccountDir: o.serviceAccountDir }),
      defaults: o.defaults,
      staticTargets: o.staticTargets,
      clock: o.clock ?? systemClock,
      logger: o.logger ?? silentLogger,
      random: o.random,
    })
    : new NoClusterSource(o.staticTargets);
  if (o.registry) source.attachMetrics(o.registry);
  return source;
}
