import { resolve } from 'node:path';
import { errorMessage } from '../../lib/errors.js';
import { parseLabelSelector } from '../../lib/label-selector.js';
import { normalizeServer } from '../../lib/server-url.js';
import { arrayOf, bool, duration, field, int, INVALID, object, str, typeName, type Validator } from '../schema-dsl.js';

/** The default of kubernetes.maxResponseBytes: a list page or one watch event line. */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface KubernetesConfig {
  /** Defaults to true when kubeconfig, apiServer or inCluster is set. Enabled with none of them: in-cluster when
   * KUBERNETES_SERVICE_HOST is set, else $KUBECONFIG, else ~/.kube/config (resolved at start). */
  enabled: boolean;
  /** Absolute path, or "~"/"~/…" kept as written and expanded from HOME when the connection is resolved. */
  kubeconfig?: string;
  context?: string;
  inCluster: boolean;
  apiServer?: string;
  /**
   * Absolute path (or "~/…", as kubeconfig), re-read on every request (projected ServiceAccount tokens rotate); never
   * the token itself.
   */
  tokenFile?: string;
  /** Absolute path (or "~/…", as kubeconfig). */
  caFile?: string;
  insecureSkipTlsVerify: boolean;
  metallbNamespace: string;
  /**
   * Namespaces whose Services, EndpointSlices and events are listed and watched, one loop each (for a token limited to
   * them); never cluster-wide. Undefined (the default): cluster-wide. Nodes stay cluster-scoped, ServiceL2Status stays
   * in metallbNamespace.
   */
  namespaces?: string[];
  requestTimeoutMs: number;
  resyncIntervalMs: number;
  staleAfterMs: number;
  watchTimeoutMs: number;
  /** A watch that ends sooner counts as a failure for the backoff (0: off). Default 1s. */
  minWatchDurationMs: number;
  /** Largest list page and largest watch event line read; past it reading stops with VIPWATCH_KUBE_TOO_LARGE. */
  maxResponseBytes: number;
  backoff: { initialMs: number; maxMs: number };
  arp: { enabled: boolean; file: string; intervalMs: number };
  discovery: DiscoveryConfig;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const dnsLabel = str({ pattern: DNS_LABEL, patternHint: 'must be a Kubernetes namespace name (lowercase letters, digits and "-")' });

/**
 * A file path, kept absolute (its content may rotate); "~" and "~/…" are kept as written, for HOME to be read where
 * the connection is resolved (src/cluster/resolve-connection.ts). Validation reads no files (nor the environment):
 * whether it can be read (and, for a kubeconfig, whether its context resolves) is checked after validation by the
 * loader's `check` (check-config, start, reload) and again when the connection is resolved at start.
 */
const filePath: Validator<string> = (v, path, ctx) => {
  if (typeof v !== 'string' || v === '') return ctx.report(path, `must be a file path, got ${typeName(v)}`);
  if (v === '~' || v.startsWith('~/')) return v;
  return resolve(ctx.baseDir, v);
};

const apiServerUrl: Validator<string> = (v, path, ctx) => {
  const s = typeof v === 'string' ? normalizeServer(v) : undefined;
  return s ?? ctx.report(path, `must be an http(s) URL like "https://192.0.2.10:6443", got ${JSON.stringify(v) ?? typeName(v)}`);
};

const labelSelector: Validator<string> = (v, path, ctx) => {
  if (typeof v !== 'string' || v.trim() === '') return ctx.report(path, `must be a label selector string like "app=web,tier!=test", got ${typeName(v)}`);
  try {
    parseLabelSelector(v);
  } catch (err) {
    return ctx.report(path, errorMessage(err));
  }
  return v;
};

const backoff = object({
  initial: field(duration({ min: 10, max: 600_000 }), { default: 1000 }),
  max: field(duration({ min: 10, max: 3_600_000 }), { default: 30_000 }),
}, (v, path, ctx) => (v.initial > v.max ? ctx.report([...path, 'initial'], `must not exceed backoff.max (${v.max}ms)`) : { initialMs: v.initial, maxMs: v.max }));

const arp = object({
  enabled: field(bool(), { default: false }),
  file: field(str(), { default: '/proc/net/arp' }),
  interval: field(duration({ min: 100, max: 3_600_000 }), { default: 5000 }),
}, (v, _p, ctx) => ({ enabled: v.enabled, file: resolve(ctx.baseDir, v.file), intervalMs: v.interval }));

export interface DiscoveryConfig {
  enabled: boolean;
  labelSelector?: string;
  namespaces: string[];
}

const discovery = object({
  enabled: field(bool(), { default: false }),
  labelSelector: field(labelSelector),
  namespaces: field(arrayOf(dnsLabel), { default: () => [] as string[] }),
}, (v): DiscoveryConfig => ({ enabled: v.enabled, labelSelector: v.labelSelector, namespaces: v.namespaces }));

const shape = object({
  enabled: field(bool()),
  kubeconfig: field(filePath),
  context: field(str()),
  inCluster: field(bool(), { default: false }),
  apiServer: field(apiServerUrl),
  tokenFile: field(filePath),
  caFile: field(filePath),
  insecureSkipTlsVerify: field(bool(), { default: false }),
  metallbNamespace: field(dnsLabel, { default: 'metallb-system' }),
  namespaces: field(arrayOf(dnsLabel)),
  requestTimeout: field(duration({ min: 100, max: 600_000 }), { default: 30_000 }),
  resyncInterval: field(duration({ min: 1000, max: 86_400_000 }), { default: 600_000 }),
  staleAfter: field(duration({ min: 1000, max: 86_400_000 }), { default: 120_000 }),
  watchTimeout: field(duration({ min: 1000, max: 3_600_000 }), { default: 60_000 }),
  minWatchDuration: field(duration({ min: 0, max: 600_000 }), { default: 1000 }),
  maxResponseBytes: field(int({ min: 64 * 1024, max: 1024 * 1024 * 1024 }), { default: DEFAULT_MAX_RESPONSE_BYTES }),
  backoff: field(backoff, { default: () => ({ initialMs: 1000, maxMs: 30_000 }) }),
  arp: field(arp, { default: () => ({ enabled: false, file: '/proc/net/arp', intervalMs: 5000 }) }),
  discovery: field(discovery, { default: (): DiscoveryConfig => ({ enabled: false, namespaces: [] }) }),
}, (v, path, ctx, raw): KubernetesConfig | typeof INVALID => {
  let bad = false;
  const problem = (key: string, msg: string) => {
    ctx.report([...path, key], msg);
    bad = true;
  };
  if (v.kubeconfig !== undefined && v.apiServer !== undefined) problem('apiServer', 'set either kubeconfig or apiServer, not both');
  if (v.inCluster && (v.kubeconfig !== undefined || v.apiServer !== undefined)) problem('inCluster', 'inCluster cannot be combined with kubeconfig or apiServer');
  for (const k of ['tokenFile', 'caFile', 'insecureSkipTlsVerify'] as const)
    if (raw[k] !== undefined && v.apiServer === undefined) problem(k, 'only allowed with apiServer (a kubeconfig carries its own credentials)');
  if (v.context !== undefined && (v.apiServer !== undefined || v.inCluster)) problem('context', 'only allowed with a kubeconfig');
  if (v.staleAfter <= v.watchTimeout)
    problem('staleAfter', `must be longer than watchTimeout (${v.watchTimeout}ms): a quiet, healthy watch is only re-confirmed when it ends`);
  if (v.minWatchDuration >= v.watchTimeout)
    problem('minWatchDuration', `must be shorter than watchTimeout (${v.watchTimeout}ms): a watch the server ends on time would count as a failure`);
  if (v.namespaces !== undefined && v.namespaces.length === 0)
    problem('namespaces', 'must name at least one namespace; leave kubernetes.namespaces out to watch every namespace');
  // Discovery sees only the Services vipwatch watches: a namespace it names outside kubernetes.namespaces is a mistake.
  if (v.namespaces !== undefined) {
    v.discovery.namespaces.forEach((ns, i) => {
      if (!v.namespaces!.includes(ns)) {
        ctx.report([...path, 'discovery', 'namespaces', i], `"${ns}" is not in kubernetes.namespaces: vipwatch does not watch it, so nothing would be discovered there`);
        bad = true;
      }
    });
  }
  if (bad) return INVALID;
  return {
    enabled: v.enabled ?? (v.kubeconfig !== undefined || v.apiServer !== undefined || v.inCluster),
    kubeconfig: v.kubeconfig,
    context: v.context,
    inCluster: v.inCluster,
    apiServer: v.apiServer,
    tokenFile: v.tokenFile,
    caFile: v.caFile,
    insecureSkipTlsVerify: v.insecureSkipTlsVerify,
    metallbNamespace: v.metallbNamespace,
    ...(v.namespaces !== undefined ? { namespaces: [...new Set(v.namespaces)] } : {}),
    requestTimeoutMs: v.requestTimeout,
    resyncIntervalMs: v.resyncInterval,
    staleAfterMs: v.staleAfter,
    watchTimeoutMs: v.watchTimeout,
    minWatchDurationMs: v.minWatchDuration,
    maxResponseBytes: v.maxResponseBytes,
    backoff: v.backoff,
    arp: v.arp,
    discovery: v.discovery,
  };
});

export const kubernetesSection: Validator<KubernetesConfig> = shape;
