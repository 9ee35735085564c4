/**
 * The part of an attempt that repeats from one attempt to the next (target, outcome, flags, reason, detail, error
 * code, addresses, backend, status, certificate expiry, cluster view, and which optional keys it had): interned once
 * per history. What changes with every attempt (seq, startedAt, timings, source port, metadata age) is stored apart.
 */
import type { Attempt } from './attempt.js';
import { keyPart } from './intern.js';

// Which optional keys the attempt (and its timings) had, present even when their value is undefined.
export const P_REASON = 1 << 0;
export const P_DETAIL = 1 << 1;
export const P_ERROR_CODE = 1 << 2;
export const P_SOURCE_PORT = 1 << 3;
export const P_REMOTE = 1 << 4;
export const P_HTTP_STATUS = 1 << 5;
export const P_BACKEND = 1 << 6;
export const P_CERT = 1 << 7;
export const P_CLUSTER = 1 << 8;
export const P_BACKEND_NODE = 1 << 9;
export const P_CONNECT = 1 << 10;
export const P_TLS = 1 << 11;
export const P_FIRST_BYTE = 1 << 12;

const B_OK = 1;
const B_SYN = 2;
const B_STALLED = 4;
const B_BURST = 8;

/** Keys every attempt has: ok, timings, synRetransmit, seq, target, startedAt, stalled, burst. */
const REQUIRED_KEYS = 8;

export interface Shape {
  readonly presence: number;
  readonly bools: number;
  /** Interned cluster entry id; -1 without a cluster context. */
  readonly cluster: number;
  readonly target: string;
  readonly reason: Attempt['reason'];
  readonly detail: string | undefined;
  readonly errorCode: string | undefined;
  readonly remoteAddress: string | undefined;
  readonly httpStatus: number | undefined;
  readonly backend: string | undefined;
  readonly certNotAfter: number | undefined;
  readonly backendNode: string | undefined;
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
const optString = (v: unknown) => v === undefined || typeof v === 'string';
const optNumber = (v: unknown) => v === undefined || typeof v === 'number';

/**
 * The presence bits of an attempt whose every field the compact form holds exactly (a plain object with only known
 * keys of the declared types; the cluster context is checked when it is interned), or -1. Read key by key rather
 * than by enumerating and switching on names: this runs for every attempt recorded.
 */
export function presenceOf(a: Attempt): number {
  if (!isPlain(a)) return -1;
  const o = a as unknown as Record<string, unknown>;
  if (typeof o.ok !== 'boolean' || typeof o.synRetransmit !== 'boolean' || typeof o.stalled !== 'boolean' || typeof o.burst !== 'boolean') return -1;
  if (typeof o.seq !== 'number' || typeof o.startedAt !== 'number' || typeof o.target !== 'string') return -1;
  let p = timingsPresence(o.timings);
  if (p < 0) return -1;
  let n = REQUIRED_KEYS;
  if ('reason' in o) {
    if (!optString(o.reason)) return -1;
    p |= P_REASON;
    n++;
  }
  if ('detail' in o) {
    if (!optString(o.detail)) return -1;
    p |= P_DETAIL;
    n++;
  }
  if ('errorCode' in o) {
    if (!optString(o.errorCode)) return -1;
    p |= P_ERROR_CODE;
    n++;
  }
  if ('sourcePort' in o) {
    if (!optNumber(o.sourcePort)) return -1;
    p |= P_SOURCE_PORT;
    n++;
  }
  if ('remoteAddress' in o) {
    if (!optString(o.remoteAddress)) return -1;
    p |= P_REMOTE;
    n++;
  }
  if ('httpStatus' in o) {
    if (!optNumber(o.httpStatus)) return -1;
    p |= P_HTTP_STATUS;
    n++;
  }
  if ('backend' in o) {
    if (!optString(o.backend)) return -1;
    p |= P_BACKEND;
    n++;
  }
  if ('certNotAfter' in o) {
    if (!optNumber(o.certNotAfter)) return -1;
    p |= P_CERT;
    n++;
  }
  if ('cluster' in o) {
    if (o.cluster !== undefined && !isPlain(o.cluster)) return -1;
    p |= P_CLUSTER;
    n++;
  }
  if ('backendNode' in o) {
    if (!optString(o.backendNode)) return -1;
    p |= P_BACKEND_NODE;
    n++;
  }
  // Any other key: an attempt of another shape.
  return keyCount(o) === n ? p : -1;
}

function timingsPresence(t: unknown): number {
  if (!isPlain(t) || typeof t.totalMs !== 'number') return -1;
  let p = 0;
  let n = 1;
  if ('connectMs' in t) {
    if (!optNumber(t.connectMs)) return -1;
    p |= P_CONNECT;
    n++;
  }
  if ('tlsMs' in t) {
    if (!optNumber(t.tlsMs)) return -1;
    p |= P_TLS;
    n++;
  }
  if ('firstByteMs' in t) {
    if (!optNumber(t.firstByteMs)) return -1;
    p |= P_FIRST_BYTE;
    n++;
  }
  return keyCount(t) === n ? p : -1;
}

function keyCount(o: object): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
}

/** ok, synRetransmit, stalled and burst as bits. */
export function boolsOf(a: Attempt): number {
  return (a.ok ? B_OK : 0) | (a.synRetransmit ? B_SYN : 0) | (a.stalled ? B_STALLED : 0) | (a.burst ? B_BURST : 0);
}

/** True when `a` (with presence `p`, bools `b`, cluster entry `cluster`) has shape `s`. */
export function sameShape(s: Shape | undefined, a: Attempt, p: number, b: number, cluster: number): boolean {
  return (
    s !== undefined && s.presence === p && s.bools === b && s.cluster === cluster && s.target === a.target && s.reason === a.reason &&
    s.detail === a.detail && s.errorCode === a.errorCode && s.remoteAddress === a.remoteAddress && s.backend === a.backend &&
    s.backendNode === a.backendNode && Object.is(s.httpStatus, a.httpStatus) && Object.is(s.certNotAfter, a.certNotAfter)
  );
}

/** The interning key of an attempt's shape (presenceOf accepted it). */
export function shapeKey(a: Attempt, p: number, b: number, cluster: number): string {
  // Joined, not concatenated: the table keeps the key, and a join is one flat string where `+` and templates leave a
  // tree of a dozen string pieces (about 300 bytes more a key).
  return [
    p, '|', cluster, '|', b, '|', keyPart(a.target), keyPart(a.reason), keyPart(a.detail), keyPart(a.errorCode),
    keyPart(a.remoteAddress), keyPart(a.backend), keyPart(a.backendNode), keyPart(a.httpStatus), keyPart(a.certNotAfter),
  ].join('');
}

export function makeShape(a: Attempt, p: number, b: number, cluster: number): Shape {
  return {
    presence: p, bools: b, cluster, target: a.target, reason: a.reason, detail: a.detail, errorCode: a.errorCode,
    remoteAddress: a.remoteAddress, httpStatus: a.httpStatus, backend: a.backend, certNotAfter: a.certNotAfter, backendNode: a.backendNode,
  };
}

export const isOk = (s: Shape) => (s.bools & B_OK) !== 0;
export const isSyn = (s: Shape) => (s.bools & B_SYN) !== 0;
export const isStalled = (s: Shape) => (s.bools & B_STALLED) !== 0;
export const isBurst = (s: Shape) => (s.bools & B_BURST) !== 0;
