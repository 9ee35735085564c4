/**
 * The cluster view for `vipwatch diagnose --service NS/NAME`: the same read-only Kubernetes source `vipwatch run` uses
 * (createClusterSource from a `kubernetes` section with --kubeconfig/--context, else $KUBECONFIG, ~/.kube/config or
 * in-cluster), started once and kept watching while the attempts run. The view was asked for, so not getting it is
 * a could-not-run (exit 2): the API unreachable or refusing Services/EndpointSlices, or the Service not there.
 */
import { createClusterSource } from '../cluster/create.js';
import type { ManagedClusterSource, TargetClusterView } from '../cluster/types.js';
import { DecodeContext, INVALID } from '../config/schema-dsl.js';
import { kubernetesSection, type KubernetesConfig } from '../config/sections/kubernetes.js';
import type { TargetConfig } from '../config/targets.js';
import type { Clock } from '../lib/clock.js';
import { ERR } from '../lib/error-codes.js';
import { VipwatchError } from '../lib/errors.js';
import { silentLogger } from '../lib/logger.js';

/** A one-shot command should not wait the daemon's 30 s for an API answer. */
export const DIAGNOSE_KUBE_REQUEST_TIMEOUT_MS = 10_000;

/** The resources a view cannot do without (as the source's freshness rule has it). */
const ESSENTIAL = ['services', 'endpointslices'];

export interface ClusterViewOptions {
  target: TargetConfig;
  kubeconfig?: string;
  context?: string;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  /** Ctrl-C while the API is being read. */
  signal?: AbortSignal;
  requestTimeoutMs?: number;
}

export interface OpenClusterView {
  source: ManagedClusterSource;
  /** The view right after the first sync. */
  view: TargetClusterView;
  /** Where the connection came from (never a secret). */
  describe: string;
  close(): Promise<void>;
}

/** Throws VipwatchError (KUBECONFIG_INVALID, DIAGNOSE_NO_CLUSTER_VIEW) when the view cannot be had. */
export async function openClusterView(o: ClusterViewOptions): Promise<OpenClusterView> {
  const config = kubernetesConfig(o);
  const source = createClusterSource({ config, defaults: { intervalMs: 1000, timeoutMs: o.target.timeoutMs }, staticTargets: [o.target], clock: o.clock, logger: silentLogger, env: o.env });
  const ac = new AbortController();
  const onAbort = () => ac.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const close = async () => {
    o.signal?.removeEventListener('abort', onAbort);
    ac.abort();
    await source.done();
  };
  try {
    await Promise.race([source.start(ac.signal), new Promise((r) => ac.signal.addEventListener('abort', r, { once: true }))]);
    if (ac.signal.aborted) throw new VipwatchError(ERR.DIAGNOSE_NO_CLUSTER_VIEW, 'interrupted while reading the Kubernetes API');
    const service = o.target.service!;
    const broken = source.resources().filter((r) => ESSENTIAL.includes(r.resource) && r.state !== 'synced');
    if (broken.length) {
      const why = broken.map((r) => `${r.resource}${r.namespace ? ` in ${r.namespace}` : ''}: ${r.lastError ?? r.state}`).join('; ');
      throw new VipwatchError(ERR.DIAGNOSE_NO_CLUSTER_VIEW, `cannot read the cluster view of ${service}: ${why}`);
    }
    const view = source.viewFor(o.target);
    if (!view || view.serviceFound === false) throw new VipwatchError(ERR.DIAGNOSE_NO_CLUSTER_VIEW, `Service ${service} not found by the Kubernetes API`);
    return { source, view, describe: describeSource(o), close };
  } catch (err) {
    await close();
    throw err;
  }
}

function kubernetesConfig(o: ClusterViewOptions): KubernetesConfig {
  const ctx = new DecodeContext();
  const raw: Record<string, unknown> = { enabled: true };
  if (o.kubeconfig !== undefined) raw.kubeconfig = o.kubeconfig;
  if (o.context !== undefined) raw.context = o.context;
  const decoded = kubernetesSection(raw, ['kubernetes'], ctx);
  if (decoded === INVALID) throw new VipwatchError(ERR.KUBECONFIG_INVALID, ctx.problems.map((p) => p.message).join('; '));
  return { ...decoded, requestTimeoutMs: o.requestTimeoutMs ?? DIAGNOSE_KUBE_REQUEST_TIMEOUT_MS };
}

function describeSource(o: ClusterViewOptions): string {
  const from = o.kubeconfig ?? (o.env.KUBECONFIG ? '$KUBECONFIG' : o.env.KUBERNETES_SERVICE_HOST ? 'in-cluster' : '~/.kube/config');
  return `${from}${o.context ? ` (context ${o.context})` : ''}`;
}
