/**
 * The cluster view of an attempt minus its per-attempt `metadataAgeMs`: what many attempts in a row share, interned
 * once per history. Which optional keys the recorded context had is kept, so a context reads back deep-equal.
 */
import type { AttemptClusterContext, AttemptNeighbour } from './attempt.js';
import { sameList } from '../lib/same-list.js';
import { keyPart } from './intern.js';

const C_NODE = 1;
const C_SOURCE = 2;
const C_POLICY = 4;
/** The recorded context had a metadataAgeMs key (its value lives beside each attempt). */
export const C_AGE = 8;
const C_NEIGHBOUR = 16;
const C_ALL = C_NODE | C_SOURCE | C_POLICY | C_AGE;

export interface ClusterEntry {
  readonly presence: number;
  /** Number of keys the recorded context had. */
  readonly keyCount: number;
  readonly announcerNode: AttemptClusterContext['announcerNode'];
  readonly announcerSource: AttemptClusterContext['announcerSource'];
  readonly externalTrafficPolicy: AttemptClusterContext['externalTrafficPolicy'];
  readonly stale: boolean;
  readonly viewVersion: string;
  /** A frozen copy, shared by every attempt read back with this entry. */
  readonly endpointsPerNode: Readonly<Record<string, number>>;
  readonly nodes: readonly string[];
  readonly counts: readonly number[];
  /** A frozen copy of the neighbour entry (present only with C_NEIGHBOUR). */
  readonly neighbour: AttemptNeighbour | undefined;
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
const optString = (v: unknown) => v === undefined || typeof v === 'string';

/** True when `c` reads back exactly as `e` (apart from metadataAgeMs, which only has to be a number or undefined). */
export function clusterMatches(e: ClusterEntry | undefined, c: AttemptClusterContext): boolean {
  if (!e || !isPlain(c)) return false;
  const p = e.presence;
  if (c.stale !== e.stale || c.viewVersion !== e.viewVersion || c.announcerNode !== e.announcerNode || c.announcerSource !== e.announcerSource) return false;
  if (c.externalTrafficPolicy !== e.externalTrafficPolicy || (c.metadataAgeMs !== undefined && typeof c.metadataAgeMs !== 'number')) return false;
  if ('announcerNode' in c !== ((p & C_NODE) !== 0) || 'announcerSource' in c !== ((p & C_SOURCE) !== 0)) return false;
  if ('externalTrafficPolicy' in c !== ((p & C_POLICY) !== 0) || 'metadataAgeMs' in c !== ((p & C_AGE) !== 0)) return false;
  if ('neighbour' in c !== ((p & C_NEIGHBOUR) !== 0) || !sameNeighbour(e.neighbour, c.neighbour)) return false;
  if (!sameCounts(e, c.endpointsPerNode)) return false;
  let n = 0;
  for (const _ in c) n++;
  return n === e.keyCount;
}

function sameCounts(e: ClusterEntry, r: unknown): boolean {
  if (!isPlain(r)) return false;
  let i = 0;
  for (const k in r) {
    if (k !== e.nodes[i] || !Object.is(r[k], e.counts[i])) return false;
    i++;
  }
  return i === e.nodes.length;
}

function sameNeighbour(a: AttemptNeighbour | undefined, b: AttemptNeighbour | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.steady === b.steady && sameList(a.macs, b.macs) && sameList(a.nodes, b.nodes) && neighbourHolds(b);
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && Object.getPrototypeOf(v) === Array.prototype && v.every((x) => typeof x === 'string');

/** True when the compact form holds the neighbour entry exactly: {macs, nodes, steady} in that order, nothing else. */
function neighbourHolds(v: unknown): v is AttemptNeighbour {
  if (!isPlain(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 3 && keys[0] === 'macs' && keys[1] === 'nodes' && keys[2] === 'steady'
    && isStrings(v.macs) && isStrings(v.nodes) && typeof v.steady === 'boolean';
}

/** The interning key of a context, or undefined when the compact form cannot hold it exactly. */
export function clusterKey(c: AttemptClusterContext): string | undefined {
  const p = presenceOf(c);
  if (p < 0) return undefined;
  const r = c.endpointsPerNode as Record<string, unknown>;
  // Joined into one flat string, as shapeKey: the table keeps the key.
  const key = [p, '|', Object.keys(c).length, '|', keyPart(c.announcerNode), keyPart(c.announcerSource), keyPart(c.externalTrafficPolicy), keyPart(c.stale), keyPart(c.viewVersion), '|'];
  for (const k in r) key.push(keyPart(k), keyPart(r[k]));
  const n = c.neighbour;
  if (n) key.push('|', keyPart(n.steady), n.macs.length, ':', ...n.macs.map(keyPart), ...n.nodes.map(keyPart));
  return key.join('');
}

/** Presence bits of a context the compact form can hold, or -1. */
function presenceOf(c: AttemptClusterContext): number {
  if (!isPlain(c)) return -1;
  let p = 0;
  let required = 0;
  for (const k in c) {
    const v = (c as unknown as Record<string, unknown>)[k];
    switch (k) {
      case 'announcerNode':
        if (!optString(v)) return -1;
        p |= C_NODE;
        break;
      case 'announcerSource':
        if (!optString(v)) return -1;
        p |= C_SOURCE;
        break;
      case 'externalTrafficPolicy':
        if (!optString(v)) return -1;
        p |= C_POLICY;
        break;
      case 'metadataAgeMs':
        if (v !== undefined && typeof v !== 'number') return -1;
        p |= C_AGE;
        break;
      case 'stale':
        if (typeof v !== 'boolean') return -1;
        required |= 1;
        break;
      case 'viewVersion':
        if (typeof v !== 'string') return -1;
        required |= 2;
        break;
      case 'neighbour':
        if (v !== undefined && !neighbourHolds(v)) return -1;
        p |= C_NEIGHBOUR;
        break;
      case 'endpointsPerNode':
        if (!isPlain(v)) return -1;
        for (const n in v) if (typeof v[n] !== 'number') return -1;
        required |= 4;
        break;
      default:
        return -1;
    }
  }
  return required === 7 ? p : -1;
}

/** An entry for a context `clusterKey` accepted. */
export function makeClusterEntry(c: AttemptClusterContext): ClusterEntry {
  const epn: Record<string, number> = {};
  const nodes: string[] = [];
  const counts: number[] = [];
  for (const k in c.endpointsPerNode) {
    epn[k] = c.endpointsPerNode[k]!;
    nodes.push(k);
    counts.push(c.endpointsPerNode[k]!);
  }
  return {
    presence: presenceOf(c),
    keyCount: Object.keys(c).length,
    announcerNode: c.announcerNode,
    announcerSource: c.announcerSource,
    externalTrafficPolicy: c.externalTrafficPolicy,
    stale: c.stale,
    viewVersion: c.viewVersion,
    endpointsPerNode: Object.freeze(epn),
    nodes,
    counts,
    neighbour: c.neighbour && Object.freeze({ macs: Object.freeze([...c.neighbour.macs]), nodes: Object.freeze([...c.neighbour.nodes]), steady: c.neighbour.steady }),
  };
}

/** The context as recorded, with the attempt's own metadataAgeMs (used only when the recorded context had the key). */
export function materialiseCluster(e: ClusterEntry, metadataAgeMs: number | undefined): AttemptClusterContext {
  const p = e.presence;
  if (p === C_ALL) {
    // As the cluster source builds it (every key present): one literal, one hidden class.
    return {
      announcerNode: e.announcerNode, announcerSource: e.announcerSource, endpointsPerNode: e.endpointsPerNode, externalTrafficPolicy: e.externalTrafficPolicy,
      metadataAgeMs, stale: e.stale, viewVersion: e.viewVersion,
    };
  }
  if (p === (C_ALL | C_NEIGHBOUR)) {
    // The same, with the neighbour table read (kubernetes.arp.enabled).
    return {
      announcerNode: e.announcerNode, announcerSource: e.announcerSource, endpointsPerNode: e.endpointsPerNode, externalTrafficPolicy: e.externalTrafficPolicy,
      metadataAgeMs, stale: e.stale, viewVersion: e.viewVersion, neighbour: e.neighbour,
    };
  }
  const c: { -readonly [K in keyof AttemptClusterContext]: AttemptClusterContext[K] } = {} as AttemptClusterContext;
  if (p & C_NODE) c.announcerNode = e.announcerNode;
  if (p & C_SOURCE) c.announcerSource = e.announcerSource;
  c.endpointsPerNode = e.endpointsPerNode;
  if (p & C_POLICY) c.externalTrafficPolicy = e.externalTrafficPolicy;
  if (p & C_AGE) c.metadataAgeMs = metadataAgeMs;
  c.stale = e.stale;
  c.viewVersion = e.viewVersion;
  if (p & C_NEIGHBOUR) c.neighbour = e.neighbour;
  return c;
}
