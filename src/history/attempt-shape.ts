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

/** Keys every attempt has. */
const REQUIRED = (1 << 8) - 1;
const R = { ok: 1, timings: 2, synRetransmit: 4, seq: 8, target: 16, startedAt: 32, stalled: 64, burst: 128 } as const;

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
 * keys of the declared types; the cluster context is checked when it is interned), or -1.
 */
export function presenceOf(a: Attempt): number {
  if (!isPlain(a)) return -1;
  let p = 0;
  let required = 0;
  for (const k in a) {
    const v = (a as unknown as Record<string, unknown>)[k];
    switch (k) {
      case 'ok':
      case 'synRetransmit':
      case 'stalled':
      case 'burst':
        if (typeof v !== 'boolean') return -1;
        required |= R[k];
        break;
      case 'seq':
      case 'startedAt':
        if (typeof v !== 'number') return -1;
        required |= R[k];
        break;
      case 'target':
        if (typeof v !== 'string') return -1;
        required |= R.target;
        break;
      case 'timings': {
        const t = timingsPresence(v);
        if (t < 0) return -1;
        p |= t;
        required |= R.timings;
        break;
      }
      case 'reason':
        if (!optString(v)) return -1;
        p |= P_REASON;
        break;
      case 'detail':
        if (!optString(v)) return -1;
        p |= P_DETAIL;
        break;
      case 'errorCode':
        if (!optString(v)) return -1;
        p |= P_ERROR_CODE;
        break;
      case 'remoteAddress':
        if (!optString(v)) return -1;
        p |= P_REMOTE;
        break;
      case 'backend':
        if (!optString(v)) return -1;
        p |= P_BACKEND;
        break;
      case 'backendNode':
        if (!optString(v)) return -1;
        p |= P_BACKEND_NODE;
        break;
      case 'sourcePort':
        if (!optNumber(v)) return -1;
        p |= P_SOURCE_PORT;
        break;
      case 'httpStatus':
        if (!optNumber(v)) return -1;
        p |= P_HTTP_STATUS;
        break;
      case 'certNotAfter':
        if (!optNumber(v)) return -1;
        p |= P_CERT;
        break;
      case 'cluster':
        if (v !== undefined && !isPlain(v)) return -1;
        p |= P_CLUSTER;
        break;
      default:
        return -1;
    }
  }
  return required === REQUIRED ? p : -1;
}

function timingsPresence(t: unknown): number {
  if (!isPlain(t)) return -1;
  let p = 0;
  let total = false;
  for (const k in t) {
    const v = t[k];
    switch (k) {
      case 'totalMs':
        if (typeof v !== 'number') return -1;
        total = true;
        break;
      case 'connectMs':
        if (!optNumber(v)) return -1;
        p |= P_CONNECT;
        break;
      case 'tlsMs':
        if (!optNumber(v)) return -1;
        p |= P_TLS;
        break;
      case 'firstByteMs':
        if (!optNumber(v)) return -1;
        p |= P_FIRST_BYTE;
        break;
      default:
        return -1;
    }
  }
  return total ? p : -1;
}

function boolsOf(a: Attempt): number {
  return (a.ok ? B_OK : 0) | (a.synRetransmit ? B_SYN : 0) | (a.stalled ? B_STALLED : 0) | (a.burst ? B_BURST : 0);
}

/** True when `a` (with presence `p`, cluster entry `cluster`) has shape `s`. */
export function sameShape(s: Shape | undefined, a: Attempt, p: number, cluster: number): boolean {
  return (
    s !== undefined && s.presence === p && s.cluster === cluster && s.bools === boolsOf(a) && s.target === a.target && s.reason === a.reason &&
    s.detail === a.detail && s.errorCode === a.errorCode && s.remoteAddress === a.remoteAddress && s.backend === a.backend &&
    s.backendNode === a.backendNode && Object.is(s.httpStatus, a.httpStatus) && Object.is(s.certNotAfter, a.certNotAfter)
  );
}

/** The interning key of an attempt's shape (presenceOf accepted it). */
export function shapeKey(a: Attempt, p: number, cluster: number): string {
  return (
    `${p}|${cluster}|${boolsOf(a)}|${keyPart(a.target)}${keyPart(a.reason)}${keyPart(a.detail)}${keyPart(a.errorCode)}` +
    `${keyPart(a.remoteAddress)}${keyPart(a.backend)}${keyPart(a.backendNode)}${keyPart(a.httpStatus)}${keyPart(a.certNotAfter)}`
  );
}

export function makeShape(a: Attempt, p: number, cluster: number): Shape {
  return {
    presence: p, bools: boolsOf(a), cluster, target: a.target, reason: a.reason, detail: a.detail, errorCode: a.errorCode,
    remoteAddress: a.remoteAddress, httpStatus: a.httpStatus, backend: a.backend, certNotAfter: a.certNotAfter, backendNode: a.backendNode,
  };
}

export const isOk = (s: Shape) => (s.bools & B_OK) !== 0;
export const isSyn = (s: Shape) => (s.bools & B_SYN) !== 0;
export const isStalled = (s: Shape) => (s.bools & B_STALLED) !== 0;
export const isBurst = (s: Shape) => (s.bools & B_BURST) !== 0;
