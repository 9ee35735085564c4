import { ERR, type ErrorCode } from '../lib/error-codes.js';
import { VipwatchError } from '../lib/errors.js';
import { peerText } from '../lib/redact.js';

/** Stable codes for API answers, so callers branch on `code` (410 expired, 403 forbidden, …), never on text. */
const STATUS_CODES: Record<number, ErrorCode> = {
  401: ERR.KUBE_UNAUTHORIZED,
  403: ERR.KUBE_FORBIDDEN,
  404: ERR.KUBE_NOT_FOUND,
  410: ERR.KUBE_EXPIRED,
};

/** A non-2xx answer from the API server (or an ERROR watch event carrying a Status). */
export class KubeApiError extends VipwatchError {
  constructor(readonly status: number, readonly reason: string | undefined, message: string) {
    super(STATUS_CODES[status] ?? ERR.KUBE_HTTP, message);
    this.name = 'KubeApiError';
  }
}

/** Codes for failures that are not API answers: the ERR registry's, under the names the cluster files import. */
export const KUBE_UNREACHABLE = ERR.KUBE_UNREACHABLE;
export const KUBE_TIMEOUT = ERR.KUBE_TIMEOUT;
export const KUBE_TLS = ERR.KUBE_TLS;
export const KUBE_PROTOCOL = ERR.KUBE_PROTOCOL;
/** A list page or watch event line over kubernetes.maxResponseBytes: reading stopped there. */
export const KUBE_TOO_LARGE = ERR.KUBE_TOO_LARGE;
/** A watch the server ended (cleanly) before kubernetes.minWatchDuration: counted as a failure for the backoff. */
export const KUBE_WATCH_SHORT = ERR.KUBE_WATCH_SHORT;
export const KUBE_CREDENTIALS = ERR.KUBE_CREDENTIALS;
export const KUBECONFIG_INVALID = ERR.KUBECONFIG_INVALID;

/** Builds a KubeApiError from a Kubernetes Status object (or whatever the body was). */
export function statusError(httpStatus: number, body: unknown, what: string): KubeApiError {
  const s = (body ?? {}) as { code?: unknown; reason?: unknown; message?: unknown };
  const code = typeof s.code === 'number' ? s.code : httpStatus;
  const reason = typeof s.reason === 'string' ? s.reason : undefined;
  const msg = typeof s.message === 'string' ? peerText(s.message) : undefined; // may echo a token: scrubbed, bounded
  return new KubeApiError(code, reason, `${what}: HTTP ${code}${reason ? ` ${reason}` : ''}${msg ? `: ${msg}` : ''}`);
}
