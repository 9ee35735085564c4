import type { Registry } from 'prom-client';
import type { KubernetesConfig } from '../config/sections/kubernetes.js';
import type { Defaults, TargetConfig } from '../config/targets.js';
import type { Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { ArpWatcher } from './arp.js';
import { registerClusterMetrics } from './cluster-metrics.js';
import type { KubeConnection } from './connection.js';
import { credentialSource, type CredentialSource } from './credentials.js';
import { discoverTargets } from './discovery.js';
import { Informer, type InformerTiming } from './informer.js';
import { KubeClient } from './kube-client.js';
import { parseLabelSelector, type LabelRequirement } from '../lib/label-selector.js';
import {
  parseEndpointSlice, parseEvent, parseL2Status, parseNode, parseService,
  type EventObj, type L2StatusObj, type NodeObj, type ObjectMeta, type ServiceObj, type SliceObj,
} from './objects.js';
import { summarizeByResource } from './resource-summary.js';
import {
  accessPlan, collectionPath, ENDPOINTSLICES, EVENTS, followsWatchedNamespaces, forbiddenText, NODES, SERVICE_L2_STATUSES, SERVICES,
  type KubeAccess,
} from './resources.js';
import { IndexedStore } from './store.js';
import type { ArpEvidence, ClusterSnapshot, EndpointInfo, ManagedClusterSource, ResourceStatus, TargetClusterView } from './types.js';
import { contextFromView, endpointsFromSlices, endpointsPerNode, resolveAnnouncer, settleNeighbour, viewVersion } from './view.js';

export interface KubeClusterSourceOptions {
  config: KubernetesConfig;
  connection: KubeConnection;
  defaults: Defaults;
  staticTargets?: TargetConfig[];
  clock: Clock;
  logger: Logger;
  /** Jitter source for backoff (tests pin it). */
  random?: () => number;
  /** Overrides the credentials built from the connection (tests count exec runs through it). */
  credentials?: CredentialSource;
}

interface Loop {
  readonly resource: string;
  /** Set on a per-namespace loop of kubernetes.namespaces: it matters only to views of Services in that namespace. */
  readonly watchedNamespace?: string;
  readonly settled: Promise<void>;
  status(): ResourceStatus;
  run(signal: AbortSignal): Promise<void>;
}

const ESSENTIAL = ['services', 'endpointslices'];

/** A target's view without its freshness, cached while the stores it comes from are unchanged. */
interface Placement {
  view: TargetClusterView;
  /** Resources whose sync state decides freshness; undefined for a view that needs none (a pinned announcer). */
  relevant?: string[];
  /** The Service's namespace: of the per-namespace loops, only its own decide freshness. */
  namespace?: string;
  version: string;
  /** Backend identity (lower case) -> node: node names, pod names, namespace/pod, pod IPs. */
  backends: Map<string, string>;
}

/** Which node each backend identity of a Service's endpoints is on; the first endpoint naming an identity wins. */
function backendIndex(endpoints: readonly EndpointInfo[], namespace: string): Map<string, string> {
  const m = new Map<string, string>();
  const add = (id: string, node: string) => {
    if (!m.has(id)) m.set(id, node);
  };
  for (const e of endpoints) if (e.node) add(e.node, e.node);
  for (const e of endpoints) if (e.node && e.pod !== undefined) {
    add(e.pod, e.node);
    add(`${namespace}/${e.pod}`, e.node);
  }
  for (const e of endpoints) if (e.node) for (const a of e.addresses) add(a.toLowerCase(), e.node);
  return m;
}

/**
 * Cluster metadata from the Kubernetes API (read-only): Services, EndpointSlices, Nodes, MetalLB ServiceL2Status and
 * nodeAssigned Events, plus the neighbour table. Views are computed on demand from indexed stores; nothing here throws
 * at the caller when the API is down: views go stale and recover by themselves.
 */
export class KubeClusterSource implements ManagedClusterSource {
  private readonly services = new IndexedStore<ServiceObj>((s) => s.ingressIps);
  private readonly slices = new IndexedStore<SliceObj>((s) => (s.serviceName ? [`${s.meta.namespace}/${s.serviceName}`] : []));
  private readonly nodes = new IndexedStore<NodeObj>();
  private readonly l2 = new IndexedStore<L2StatusObj>((s) => (s.serviceName ? [`${s.serviceNamespace ?? s.meta.namespace}/${s.serviceName}`] : []));
  private readonly events = new IndexedStore<EventObj>((e) =>
    e.involved.kind === 'Service' && e.involved.name ? [`${e.involved.namespace ?? e.meta.namespace}/${e.involved.name}`] : []);
  private readonly loops: Loop[] = [];
  private readonly client: KubeClient;
  private readonly arp?: ArpWatcher;
  private macOwners: (mac: string) => readonly string[] = () => [];
  private readonly selector: LabelRequirement[];
  private readonly listeners: (() => void)[] = [];
  private readonly warned = new Set<string>();
  private readonly registries = new WeakSet<Registry>();
  private readonly placements = new Map<string, { key: string; placement: Placement }>();
  private staticTargets: TargetConfig[];
  private discovered: TargetConfig[] = [];
  private discoveredSig = '[]';
  private running: Promise<void>[] = [];
  private started?: Promise<void>;

  constructor(private readonly o: KubeClusterSourceOptions) {
    const { config, clock, logger } = o;
    this.staticTargets = o.staticTargets ?? [];
    this.selector = config.discovery.labelSelector ? parseLabelSelector(config.discovery.labelSelector) : [];
    this.client = new KubeClient(o.connection, o.credentials ?? credentialSource(o.connection.auth, clock), config.requestTimeoutMs, {
      maxResponseBytes: config.maxResponseBytes,
    });
    const timing: InformerTiming = {
      requestTimeoutMs: config.requestTimeoutMs,
      watchTimeoutMs: config.watchTimeoutMs,
      resyncIntervalMs: config.resyncIntervalMs,
      minWatchDurationMs: config.minWatchDurationMs,
      backoff: config.backoff,
    };
    // One loop per resource, or with kubernetes.namespaces one per resource and namespace; all of a resource's loops
    // feed one store (each owns its namespace's part of it), so views read the same stores either way.
    const add = <T extends { meta: ObjectMeta }>(access: KubeAccess, parse: (raw: unknown) => T | undefined, store: IndexedStore<T>, query?: Record<string, string>, onChange?: () => void) => {
      const namespace = access.namespace;
      const informer = new Informer<T>({
        resource: access.kind.resource, namespace, path: collectionPath(access), query, parse,
        store: namespace === undefined ? store : store.partition(namespace),
        client: this.client, clock, logger, timing, random: o.random, onChange: onChange ?? (() => {}),
        forbidden: (verb) => forbiddenText(access, verb),
      });
      this.loops.push({
        resource: informer.resource,
        watchedNamespace: followsWatchedNamespaces(access.kind) ? namespace : undefined,
        settled: informer.settled,
        status: () => informer.status(),
        run: (signal) => informer.run(signal),
      });
    };
    for (const access of accessPlan({ namespaces: config.namespaces, metallbNamespace: config.metallbNamespace })) {
      switch (access.kind) {
        case SERVICES: add(access, parseService, this.services, undefined, () => this.rediscover()); break;
        case ENDPOINTSLICES: add(access, parseEndpointSlice, this.slices); break;
        case NODES: add(access, parseNode, this.nodes); break;
        case SERVICE_L2_STATUSES: add(access, parseL2Status, this.l2); break;
        // Field selectors keep the event stream to MetalLB's announcements on Services.
        case EVENTS: add(access, parseEvent, this.events, { fieldSelector: 'involvedObject.kind=Service,reason=nodeAssigned' }); break;
      }
    }
    if (config.arp.enabled) {
      this.arp = new ArpWatcher({
        file: config.arp.file, intervalMs: config.arp.intervalMs, clock, logger,
        vips: () => this.allTargets().map((t) => t.address),
        nodesForMac: (mac) => this.nodesForMac(mac),
      });
    }
  }

  /** Starts every watch loop; resolves once each resource had a first outcome (synced, failing or disabled). Never rejects. */
  start(signal: AbortSignal): Promise<void> {
    if (this.started) return this.started;
    this.o.logger.info('kubernetes cluster source starting', {
      connection: this.o.connection.describe, namespaces: this.o.config.namespaces ?? 'all', discovery: this.o.config.discovery.enabled, arp: this.o.config.arp.enabled,
    });
    this.warnUnwatched();
    for (const loop of this.loops) this.running.push(loop.run(signal));
    if (this.arp) this.running.push(this.arp.run(signal));
    this.started = Promise.all(this.loops.map((l) => l.settled)).then(() => {});
    return this.started;
  }

  async done(): Promise<void> {
    await Promise.all(this.running);
    await this.client.close();
  }

  resources(): ResourceStatus[] {
    return this.loops.map((l) => l.status());
  }

  setStaticTargets(targets: TargetConfig[]): void {
    this.staticTargets = targets;
    if (this.started) this.warnUnwatched();
    this.rediscover();
  }

  attachMetrics(registry: Registry, targets?: () => TargetConfig[]): void {
    if (this.registries.has(registry)) return;
    this.registries.add(registry);
    // The gauges keep one series per resource: the per-namespace loops of a resource are summed up into one status.
    registerClusterMetrics(registry, { targets: targets ?? (() => this.allTargets()), viewFor: (t) => this.viewFor(t), resources: () => summarizeByResource(this.resources()) });
  }

  discoveredTargets(): TargetConfig[] {
    return [...this.discovered];
  }

  onTargetsChanged(listener: () => void): void {
    this.listeners.push(listener);
  }

  viewFor(target: TargetConfig): TargetClusterView | undefined {
    return this.snapshotOf(target).view;
  }

  /** Asked at an attempt's start: the neighbour table is read fresh, and again by contextAtEnd when the attempt ends. */
  snapshot(target: TargetConfig): ClusterSnapshot {
    this.arp?.refresh();
    const snap = this.snapshotOf(target);
    const context = snap.context;
    if (!context?.neighbour || !this.arp) return snap;
    const arp = this.arp;
    return {
      ...snap,
      contextAtEnd: () => {
        arp.refresh();
        return settleNeighbour(context, arp.macsFor(target.address));
      },
    };
  }

  private snapshotOf(target: TargetConfig): ClusterSnapshot {
    const p = this.placementFor(target);
    if (!p) return { nodeOf: (identity) => this.nodeOf(undefined, identity) };
    let view = p.view;
    if (p.relevant) {
      const fresh = this.freshness(p.relevant, p.namespace);
      view = { ...p.view, syncedAt: fresh.syncedAt, stale: fresh.stale };
    }
    const context = contextFromView(view, this.o.clock.now(), p.version);
    return { view, context, nodeOf: (identity) => this.nodeOf(p, identity) };
  }

  /**
   * The placement part of a target's view (Service, endpoints, announcer, ARP evidence) with its version and backend
   * index, rebuilt only when a store it reads from changed; freshness is added per call.
   */
  private placementFor(target: TargetConfig): Placement | undefined {
    const arp = this.arpEvidence(target.address);
    const key = [this.services.generation, this.slices.generation, this.l2.generation, this.events.generation, target.service ?? '', target.address, target.announcerNode ?? '', arp ? JSON.stringify(arp) : ''].join('|');
    const cached = this.placements.get(target.name);
    if (cached?.key === key) return cached.placement;
    const placement = this.buildPlacement(target, arp);
    if (placement) this.placements.set(target.name, { key, placement });
    else this.placements.delete(target.name);
    return placement;
  }

  private buildPlacement(target: TargetConfig, arp: ArpEvidence | undefined): Placement | undefined {
    const key = this.serviceKeyFor(target);
    if (!key) {
      if (!target.announcerNode && !arp?.macs.length) return undefined;
      const announcer = resolveAnnouncer({ l2Statuses: [], events: [], arpNodes: arp?.nodes ?? [], arpSince: this.arp?.sinceFor(target.address), pinned: target.announcerNode });
      const view: TargetClusterView = { announcer, endpoints: [], endpointsPerNode: {}, stale: false, ...(arp ? { arp } : {}) };
      return { view, version: viewVersion(view), backends: new Map() };
    }
    const svc = this.services.get(key);
    const endpoints = endpointsFromSlices(this.slices.byIndex(key));
    const announcer = resolveAnnouncer({
      l2Statuses: this.l2.byIndex(key),
      events: this.events.byIndex(key),
      arpNodes: arp?.nodes ?? [],
      arpSince: this.arp?.sinceFor(target.address),
      pinned: target.announcerNode,
    });
    const relevant = [...ESSENTIAL];
    if (announcer?.source === 'servicel2status') relevant.push('servicel2statuses');
    if (announcer?.source === 'event') relevant.push('events');
    if (announcer?.source === 'arp') relevant.push('nodes');
    const view: TargetClusterView = {
      service: key,
      externalTrafficPolicy: svc?.externalTrafficPolicy,
      announcer,
      endpoints,
      endpointsPerNode: endpointsPerNode(endpoints),
      syncedAt: undefined,
      stale: true,
      serviceFound: svc !== undefined,
    };
    if (svc?.healthCheckNodePort !== undefined) view.healthCheckNodePort = svc.healthCheckNodePort;
    if (arp) view.arp = arp;
    const namespace = key.split('/')[0]!;
    return { view, relevant, namespace, version: viewVersion(view), backends: backendIndex(endpoints, namespace) };
  }

  nodeNames(): string[] {
    return [...this.nodes.values()].map((n) => n.meta.name).sort();
  }

  nodeAddresses(node: string): string[] {
    return [...(this.nodes.get(node)?.internalIps ?? [])];
  }

  /** Node names first, then pod names (bare or namespace/name), then pod IPs. */
  private nodeOf(p: Placement | undefined, identity: string): string | undefined {
    const id = identity.trim().replace(/^\[(.*)\]$/, '$1').toLowerCase();
    if (!id) return undefined;
    if (this.nodes.get(id)) return id;
    return p?.backends.get(id);
  }

  /** The Service behind a target: `service: ns/name`, else the one LoadBalancer Service whose ingress IP is the address. */
  private serviceKeyFor(target: TargetConfig): string | undefined {
    if (target.service) return target.service;
    const matches = this.services.byIndex(target.address).filter((s) => s.type === 'LoadBalancer');
    return matches.length === 1 ? `${matches[0]!.meta.namespace}/${matches[0]!.meta.name}` : undefined;
  }

  /**
   * A view is fresh while every loop it depends on is synced and recent: each relevant resource's loop, or with
   * kubernetes.namespaces the loop of the Service's namespace (a namespace nobody watches is never fresh).
   */
  private freshness(resources: string[], namespace: string | undefined): { syncedAt?: number; stale: boolean } {
    let syncedAt: number | undefined;
    let stale = false;
    let neverSynced = false;
    for (const r of resources) {
      const essential = ESSENTIAL.includes(r);
      const loops = this.loops.filter((l) => l.resource === r && (l.watchedNamespace === undefined || l.watchedNamespace === namespace));
      if (!loops.length && essential) neverSynced = true;
      for (const loop of loops) {
        const st = loop.status();
        if (st.state === 'disabled' && !essential) continue;
        if (st.state !== 'synced') stale = true;
        if (st.lastSyncAt === undefined) {
          if (essential) neverSynced = true;
          continue;
        }
        syncedAt = syncedAt === undefined ? st.lastSyncAt : Math.min(syncedAt, st.lastSyncAt);
      }
    }
    if (neverSynced) syncedAt = undefined;
    if (syncedAt === undefined || this.o.clock.now() - syncedAt > this.o.config.staleAfterMs) stale = true;
    return { syncedAt, stale };
  }

  private arpEvidence(address: string): ArpEvidence | undefined {
    if (!this.arp) return undefined;
    const macs = this.arp.macsFor(address);
    const nodes = [...new Set(macs.flatMap((m) => this.nodesForMac(m)))].sort();
    return { macs, nodes, changes: this.arp.changesFor(address) };
  }

  setMacOwners(owners: (mac: string) => readonly string[]): void {
    this.macOwners = owners;
  }

  /** Nodes owning a MAC: an InternalIP whose neighbour entry has it, or an agent reporting it on an interface. */
  private nodesForMac(mac: string): string[] {
    if (!this.arp) return [];
    const out = new Set<string>();
    for (const n of this.nodes.values()) if (n.internalIps.some((ip) => this.arp!.macsFor(ip).includes(mac))) out.add(n.meta.name);
    for (const n of this.macOwners(mac)) out.add(n);
    return [...out].sort();
  }

  /**
   * With kubernetes.namespaces, a target whose Service is in a namespace vipwatch does not watch can never get a
   * fresh view: said once per target and namespace.
   */
  private warnUnwatched(): void {
    const watched = this.o.config.namespaces;
    if (!watched) return;
    for (const t of this.staticTargets) {
      const ns = t.service?.split('/')[0];
      if (ns === undefined || watched.includes(ns) || this.warned.has(`unwatched ${t.name} ${ns}`)) continue;
      this.warned.add(`unwatched ${t.name} ${ns}`);
      this.o.logger.warn('target\'s Service is in a namespace kubernetes.namespaces leaves out: its view stays stale', { target: t.name, service: t.service, namespaces: watched });
    }
  }

  private allTargets(): TargetConfig[] {
    return [...this.staticTargets, ...this.discovered];
  }

  private rediscover(): void {
    if (!this.o.config.discovery.enabled) return;
    const taken = new Set(this.staticTargets.map((t) => `${t.address}|${t.port}`));
    const next = discoverTargets(this.services.values(), {
      selector: this.selector,
      namespaces: this.o.config.discovery.namespaces,
      defaults: this.o.defaults,
      taken: (address, port) => taken.has(`${address}|${port}`),
      warn: (service, message) => {
        if (this.warned.has(`${service} ${message}`)) return;
        this.warned.add(`${service} ${message}`);
        this.o.logger.warn('bad vipwatch annotation on a discovered Service', { service, problem: message });
      },
    });
    const sig = JSON.stringify(next);
    if (sig === this.discoveredSig) return;
    const before = new Set(this.discovered.map((t) => t.name));
    const after = new Set(next.map((t) => t.name));
    this.discovered = next;
    this.discoveredSig = sig;
    this.o.logger.info('discovered targets changed', {
      count: next.length,
      added: [...after].filter((n) => !before.has(n)),
      removed: [...before].filter((n) => !after.has(n)),
    });
    for (const l of this.listeners) {
      try {
        l();
      } catch (err) {
        this.o.logger.error('targets-changed listener failed', { error: errorMessage(err) });
      }
    }
  }
}
