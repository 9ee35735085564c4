import { errorCode } from '../lib/errors.js';
import { isTlsError } from '../lib/tls-errors.js';
import type { FailureReason } from './types.js';

/**
 * Where an attempt stood when it failed: the same error means different things in different phases.
 * `request`: connected (and TLS done), no response byte yet; `response`: response bytes arrived.
 */
export type Phase = 'resolve' | 'connect' | 'tls' | 'request' | 'response';

export interface Classified {
  reason: FailureReason;
  /** The original code (errno, UND_ERR_*, HPE_*, TLS code, or the deadline's code). */
  errorCode?: string;
  detail: string;
}

const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);
// A local policy refused the connect: the target could not be reached from here.
const LOCAL_BLOCK = new Set(['EPERM', 'EACCES']);
/**
 * vipwatch itself ran out of something: file descriptors (process or system), ephemeral ports, kernel memory or
 * socket buffers. Whatever the phase, the packet never left or the local stack dropped it: not the VIP's failure.
 */
export const SELF_ERRORS: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'EADDRNOTAVAIL', 'ENOBUFS', 'ENOMEM']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
const DNS = new Set([
  'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA', 'EAI_ADDRFAMILY', 'ENODATA', 'ESERVFAIL', 'EREFUSED',
  'EFORMERR', 'ENOTIMP', 'EBADNAME', 'EBADRESP', 'ETIMEOUT', 'ENONAME', 'EBADQUERY', 'EBADFAMILY', 'ECANCELLED',
]);
const RESPONSE_TIMEOUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Maps a real error to the closed reason set; the phase settles what an errno alone cannot. */
export function classifyError(err: unknown, phase: Phase): Classified {
  const code = errorCode(err) ?? nameOf(err);
  const msg = err instanceof Error ? err.message : String(err);
  const detail = code && !msg.includes(code) ? `${code}: ${msg}` : msg;
  // Before the phase: a resolver that cannot open its socket is as much our fault as a connect that cannot.
  if (code !== undefined && SELF_ERRORS.has(code)) return { reason: 'probe_error', errorCode: code, detail: `vipwatch's own resources: ${detail}` };
  if (phase === 'resolve') return { reason: 'dns', errorCode: code, detail };
  if (code === undefined) return { reason: fallback(phase), detail };
  if (code === 'ECONNREFUSED') return { reason: 'refused', errorCode: code, detail };
  if (UNREACHABLE.has(code) || LOCAL_BLOCK.has(code)) return { reason: 'unreachable', errorCode: code, detail };
  if (RESET.has(code)) return { reason: 'reset', errorCode: code, detail };
  // The kernel gave up retransmitting: on the SYN that is a connect timeout, later a stalled response.
  if (code === 'ETIMEDOUT') return { reason: phase === 'connect' ? 'connect_timeout' : 'response_timeout', errorCode: code, detail };
  if (DNS.has(code)) return { reason: 'dns', errorCode: code, detail };
  // EPROTO is a bare errno: a TLS record failure on some paths, but not only. The prober names it tls only in the
  // handshake phase (the fallback below), so a plain-HTTP target is never told its failure was TLS.
  if (code !== 'EPROTO' && isTlsError(code)) return { reason: 'tls', errorCode: code, detail };
  // undici's "other side closed": a FIN before the response was complete. Before any byte the peer refused
  // to answer (like a reset); after some bytes the response is truncated, i.e. malformed.
  if (code === 'UND_ERR_SOCKET') {
    return phase === 'response'
      ? { reason: 'protocol', errorCode: code, detail: `response truncated: peer closed the connection mid-response (${msg})` }
      : { reason: 'reset', errorCode: code, detail: `peer closed the connection without answering (${msg})` };
  }
  if (RESPONSE_TIMEOUT.has(code)) return { reason: 'response_timeout', errorCode: code, detail };
  // undici 7 leaves HTTPParserError.code unset (it looks the llhttp code up the wrong way round): the name is stable.
  if (code.startsWith('HPE_') || code === 'HTTPParserError' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return { reason: 'protocol', errorCode: code, detail };
  return { reason: fallback(phase), errorCode: code, detail };
}

/** The attempt's deadline (its AbortSignal) fired while in `phase`. */
export function classifyDeadline(abortReason: unknown, phase: Phase, elapsedMs: number): Classified {
  const code = errorCode(abortReason) ?? nameOf(abortReason) ?? 'ABORT_ERR';
  const ms = Math.round(elapsedMs);
  switch (phase) {
    case 'resolve':
      return { reason: 'dns', errorCode: code, detail: `name did not resolve within ${ms}ms` };
    case 'connect':
      return { reason: 'connect_timeout', errorCode: code, detail: `no SYN-ACK within ${ms}ms` };
    case 'tls':
      // Connected, but the handshake stalled: the same picture as a response that never comes.
      return { reason: 'response_timeout', errorCode: code, detail: `connected, TLS handshake not complete within ${ms}ms` };
    case 'request':
      return { reason: 'response_timeout', errorCode: code, detail: `connected, no response within ${ms}ms` };
    case 'response':
      return { reason: 'response_timeout', errorCode: code, detail: `connected, response started but not complete within ${ms}ms` };
  }
}

function fallback(phase: Phase): FailureReason {
  if (phase === 'connect') return 'unreachable';
  if (phase === 'tls') return 'tls';
  return 'protocol';
}

function nameOf(err: unknown): string | undefined {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name !== 'Error' ? name : undefined;
}
