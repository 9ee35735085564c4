/**
 * The few fields vipwatch reads from each kind, parsed defensively from the API's JSON:
 * a malformed object is skipped (undefined), never trusted.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  creationTimestamp?: number;
}

export interface ServicePort {
  name?: string;
  protocol: string;
  port: number;
}

export interface ServiceObj {
  meta: ObjectMeta;
  type?: string;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  healthCheckNodePort?: number;
  ports: ServicePort[];
  ingressIps: string[];
}

export interface SliceEndpoint {
  addresses: string[];
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName?: string;
  targetRef?: { kind?: string; namespace?: string; name?: string };
}

export interface SliceObj {
  meta: ObjectMeta;
  /** From the label kubernetes.io/service-name. */
  serviceName?: string;
  addressType?: string;
  endpoints: SliceEndpoint[];
}

export interface NodeObj {
  meta: ObjectMeta;
  internalIps: string[];
}

export interface L2StatusObj {
  meta: ObjectMeta;
  node?: string;
  serviceName?: string;
  serviceNamespace?: string;
  interfaces: string[];
}

export interface EventObj {
  meta: ObjectMeta;
  involved: { kind?: string; namespace?: string; name?: string };
  reason?: string;
  message?: string;
  /** Epoch ms of the latest occurrence. */
  time?: number;
}

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const bool = (v: unknown, dflt: boolean): boolean => (typeof v === 'boolean' ? v : dflt);

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj(v))) if (typeof x === 'string') out[k] = x;
  return out;
}

function time(v: unknown): number | undefined {
  const s = str(v);
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

export function parseMeta(raw: unknown): ObjectMeta | undefined {
  const m = obj(obj(raw).metadata);
  const name = str(m.name);
  if (!name) return undefined;
  return {
    name,
    namespace: str(m.namespace),
    labels: stringMap(m.labels),
    annotations: stringMap(m.annotations),
    creationTimestamp: time(m.creationTimestamp),
  };
}

/** The resourceVersion of any object (watch events and bookmarks carry one). */
export function resourceVersionOf(raw: unknown): string | undefined {
  return str(obj(obj(raw).metadata).resourceVersion);
}

export function objectKey(meta: ObjectMeta): string {
  return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
}

export function parseService(raw: unknown): ServiceObj | undefined {
  const meta = parseMeta(raw);
  if (!meta) return undefined;
  const spec = obj(obj(raw).spec);
  const etp = str(spec.externalTrafficPolicy);
  const ports: ServicePort[] = [];
  for (const p of arr(spec.ports)) {
    const port = num(obj(p).port);
    if (port !== undefined) ports.push({ name: str(obj(p).name), protocol: str(obj(p).protocol) ?? 'TCP', port });
  }
  const ingressIps = arr(obj(obj(obj(raw).status).loadBalancer).ingress).map((i) => str(obj(i).ip)).filter((x): x is string => !!x);
  return {
    meta,
    type: str(spec.type),
    externalTrafficPolicy: etp === 'Local' || etp === 'Cluster' ? etp : undefined,
    healthCheckNodePort: num(spec.healthCheckNodePort),
    ports,
    ingressIps,
  };
}

export function parseEndpointSlice(raw: unknown): SliceObj | undefined {
  const meta = parseMeta(raw);
  if (!meta) return undefined;
  const endpoints: SliceEndpoint[] = arr(obj(raw).endpoints).map((e) => {
    const c = obj(obj(e).conditions);
    const ready = bool(c.ready, true); // nil ready means ready
    const ref = obj(obj(e).targetRef);
    return {
      addresses: arr(obj(e).addresses).map(str).filter((x): x is string => !!x),
      ready,
      serving: bool(c.serving, ready),
      terminating: bool(c.terminating, false),
      nodeName: str(obj(e).nodeName),
      targetRef: obj(e).targetRef ? { kind: str(ref.kind), namespace: str(ref.namespace), name: str(ref.name) } : undefined,
    };
  });
  return { meta, serviceName: meta.labels['kubernetes.io/service-name'], addressType: str(obj(raw).addressType), endpoints };
}

export function parseNode(raw: unknown): NodeObj | undefined {
  const meta = parseMeta(raw);
  if (!meta) return undefined;
  const internalIps = arr(obj(obj(raw).status).addresses)
    .filter((a) => obj(a).type === 'InternalIP')
    .map((a) => str(obj(a).address))
    .filter((x): x is string => !!x);
  return { meta, internalIps };
}

export function parseL2Status(raw: unknown): L2StatusObj | undefined {
  const meta = parseMeta(raw);
  if (!meta) return undefined;
  const s = obj(obj(raw).status);
  return {
    meta,
    node: str(s.node) ?? meta.labels['metallb.io/node'],
    serviceName: str(s.serviceName) ?? meta.labels['metallb.io/service-name'],
    serviceNamespace: str(s.serviceNamespace) ?? meta.labels['metallb.io/service-namespace'],
    interfaces: arr(s.interfaces).map((i) => str(obj(i).name)).filter((x): x is string => !!x),
  };
}

export function parseEvent(raw: unknown): EventObj | undefined {
  const meta = parseMeta(raw);
  if (!meta) return undefined;
  const o = obj(raw);
  const io = obj(o.involvedObject);
  return {
    meta,
    involved: { kind: str(io.kind), namespace: str(io.namespace), name: str(io.name) },
    reason: str(o.reason),
    message: str(o.message),
    time: time(obj(o.series).lastObservedTime) ?? time(o.lastTimestamp) ?? time(o.eventTime) ?? time(o.firstTimestamp) ?? meta.creationTimestamp,
  };
}
