/**
 * What vipwatch reads from the Kubernetes API, in one place: the informer loops are built from it (paths, namespaces)
 * and the RBAC manifests in deploy/kubernetes/ are tested against it, so code and manifests cannot drift apart.
 */

/** How Kubernetes scopes a resource: a namespaced one can be granted per namespace (Role), a cluster one cannot. */
export type ResourceScope = 'namespaced' | 'cluster';

export interface KubeResource {
  /** Plural name: the `resource` in logs, metrics and RBAC rules. */
  readonly resource: string;
  /** API group; '' is the core group. */
  readonly group: string;
  readonly version: string;
  readonly scope: ResourceScope;
  /** What vipwatch loses when the API refuses it (403), for the log line. */
  readonly withoutIt: string;
}

/** Where the RBAC manifests are in the repository. */
export const MANIFESTS = 'deploy/kubernetes';

/** The verbs vipwatch uses: it lists and watches collections, nothing else. */
export const REQUIRED_VERBS: readonly string[] = ['list', 'watch'];
/** What the shipped manifests grant on each resource: the usual read-only set. */
export const GRANTED_VERBS: readonly string[] = ['get', 'list', 'watch'];

export const SERVICES: KubeResource = {
  resource: 'services', group: '', version: 'v1', scope: 'namespaced',
  withoutIt: 'views of targets in it go stale and its Services are neither linked nor discovered',
};
export const ENDPOINTSLICES: KubeResource = {
  resource: 'endpointslices', group: 'discovery.k8s.io', version: 'v1', scope: 'namespaced',
  withoutIt: 'views of targets in it go stale and show no endpoints',
};
export const NODES: KubeResource = {
  resource: 'nodes', group: '', version: 'v1', scope: 'cluster',
  withoutIt: 'the neighbour-table (ARP) evidence is not mapped to nodes, and a backend naming a node is recognised only when that node has endpoints of the Service',
};
export const SERVICE_L2_STATUSES: KubeResource = {
  resource: 'servicel2statuses', group: 'metallb.io', version: 'v1beta1', scope: 'namespaced',
  withoutIt: 'the announcing node comes from nodeAssigned events or the neighbour table only',
};
/** Core events (not events.k8s.io): MetalLB's nodeAssigned events on Services, read with a field selector. */
export const EVENTS: KubeResource = {
  resource: 'events', group: '', version: 'v1', scope: 'namespaced',
  withoutIt: 'the announcing node comes from ServiceL2Status or the neighbour table only',
};

/** Every resource vipwatch reads, in the order its loops are reported. */
export const KUBE_RESOURCES: readonly KubeResource[] = [SERVICES, ENDPOINTSLICES, NODES, SERVICE_L2_STATUSES, EVENTS];

/** Resources followed per namespace when kubernetes.namespaces is set (else cluster-wide). */
const PER_WATCHED_NAMESPACE = new Set(['services', 'endpointslices', 'events']);

/** Whether kubernetes.namespaces splits this resource into one loop per watched namespace. */
export function followsWatchedNamespaces(kind: KubeResource): boolean {
  return PER_WATCHED_NAMESPACE.has(kind.resource);
}

/** One informer loop: a resource, in one namespace or (namespace undefined) across the cluster. */
export interface KubeAccess {
  readonly kind: KubeResource;
  /** Undefined: every namespace (a namespaced resource) or the cluster (a cluster-scoped one). */
  readonly namespace?: string;
}

export interface AccessOptions {
  /** kubernetes.namespaces: undefined watches Services, EndpointSlices and events cluster-wide. */
  namespaces?: readonly string[];
  metallbNamespace: string;
}

/**
 * The loops vipwatch runs for a config, in report order: Services, EndpointSlices, Nodes, ServiceL2Statuses (in
 * MetalLB's namespace), events; with kubernetes.namespaces, one loop per watched namespace for Services,
 * EndpointSlices and events (never cluster-wide).
 */
export function accessPlan(o: AccessOptions): KubeAccess[] {
  const out: KubeAccess[] = [];
  for (const kind of KUBE_RESOURCES) {
    if (kind === SERVICE_L2_STATUSES) out.push({ kind, namespace: o.metallbNamespace });
    else if (o.namespaces && followsWatchedNamespaces(kind)) for (const namespace of o.namespaces) out.push({ kind, namespace });
    else out.push({ kind });
  }
  return out;
}

/** /api/v1[/namespaces/NS]/PLURAL or /apis/GROUP/VERSION[/namespaces/NS]/PLURAL */
export function collectionPath(a: KubeAccess): string {
  const { group, version, resource } = a.kind;
  const base = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  return a.namespace === undefined ? `${base}/${resource}` : `${base}/namespaces/${a.namespace}/${resource}`;
}

/** "endpointslices.discovery.k8s.io", "services": the name kubectl and RBAC errors use. */
export function qualifiedName(kind: KubeResource): string {
  return kind.group ? `${kind.resource}.${kind.group}` : kind.resource;
}

/** Where the access applies, as a log line says it. */
export function whereText(a: KubeAccess): string {
  if (a.namespace !== undefined) return `in namespace "${a.namespace}"`;
  return a.kind.scope === 'cluster' ? '(cluster-scoped)' : 'in all namespaces (cluster-wide)';
}

/**
 * The 403 explained: which request was refused, which RBAC rule the token lacks, where the shipped manifest for it
 * is, and what vipwatch loses meanwhile.
 */
export function forbiddenText(a: KubeAccess, verb: string): string {
  const k = a.kind;
  const rule = `${GRANTED_VERBS.join('/')} on ${k.resource} (apiGroup ${k.group ? k.group : '"" (core)'})`;
  let needs: string;
  if (a.namespace !== undefined) {
    const template = k === SERVICE_L2_STATUSES ? `${MANIFESTS}/namespaced/role-metallb.yaml` : `${MANIFESTS}/namespaced/role-shop.yaml with "shop" replaced`;
    needs = `${rule} in "${a.namespace}" (a Role and RoleBinding: ${template})`;
  } else if (k.scope === 'cluster') needs = `${rule} (a ClusterRole and ClusterRoleBinding: ${MANIFESTS}/namespaced/nodes.yaml, or ${MANIFESTS}/cluster/)`;
  else needs = `${rule} cluster-wide (a ClusterRole and ClusterRoleBinding: ${MANIFESTS}/cluster/), or set kubernetes.namespaces to the namespaces the token may read (${MANIFESTS}/namespaced/)`;
  return `forbidden: ${verb} ${qualifiedName(k)} ${whereText(a)}: the token needs ${needs}; without it ${k.withoutIt}`;
}
