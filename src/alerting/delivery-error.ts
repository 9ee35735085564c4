import { DeadlineError } from '../lib/clock.js';
import { ERR, type ErrorCode } from '../lib/error-codes.js';
import { errorCode, errorMessage, VipwatchError } from '../lib/errors.js';
import { PEER_TEXT_LIMIT, peerText } from '../lib/redact.js';
import { isTlsError } from '../lib/tls-errors.js';

/** Why a delivery failed: a bounded set, used as a metric label. */
export type DeliveryReason =
  | 'timeout' | 'connection_refused' | 'connection_reset' | 'tls' | 'http_status' | 'smtp_auth' | 'smtp_rejected' | 'aborted' | 'other';

const CODES: Record<DeliveryReason, ErrorCode> = {
  timeout: ERR.ALERT_TIMEOUT,
  connection_refused: ERR.ALERT_CONNECTION_REFUSED,
  connection_reset: ERR.ALERT_CONNECTION_RESET,
  tls: ERR.ALERT_TLS,
  http_status: ERR.ALERT_HTTP_STATUS,
  smtp_auth: ERR.ALERT_SMTP_AUTH,
  smtp_rejected: ERR.ALERT_SMTP_REJECTED,
  aborted: ERR.ALERT_ABORTED,
  other: ERR.ALERT_FAILED,
};

/** Every delivery error's message is scrubbed of secret values and bounded: it may quote what a receiver sent back. */
export class DeliveryError extends VipwatchError {
  constructor(readonly reason: DeliveryReason, message: string, readonly detail: { status?: number; cause?: unknown } = {}) {
    super(CODES[reason], peerText(message, 2 * PEER_TEXT_LIMIT), { cause: detail.cause });
    this.name = 'DeliveryError';
  }
}

/**
 * Maps what a send threw to a DeliveryError. `signal` tells our own deadline (timeout) apart from a stop
 * (aborted); everything else is read from the error's code, walking causes, never from message text.
 */
export function classifyError(err: unknown, signal: AbortSignal): DeliveryError {
  if (err instanceof DeliveryError) return err;
  if (signal.aborted) {
    return signal.reason instanceof DeadlineError
      ? new DeliveryError('timeout', `no answer within ${signal.reason.ms}ms`, { cause: err })
      : new DeliveryError('aborted', 'stopped before the receiver answered', { cause: err });
  }
  const codes = chainCodes(err);
  const has = (re: RegExp) => codes.some((c) => re.test(c));
  const msg = errorMessage(err);
  if (has(/^ECONNREFUSED$/)) return new DeliveryError('connection_refused', `connection refused: ${msg}`, { cause: err });
  if (codes.some((c) => isTlsError(c))) return new DeliveryError('tls', `TLS failed: ${msg}`, { cause: err });
  if (has(/^EAUTH$/)) return new DeliveryError('smtp_auth', `SMTP authentication failed: ${msg}`, { cause: err });
  if (has(/^(EENVELOPE|EMESSAGE)$/)) return new DeliveryError('smtp_rejected', `SMTP server rejected the message: ${msg}`, { cause: err });
  if (has(/^(ECONNRESET|EPIPE|UND_ERR_SOCKET)$/)) return new DeliveryError('connection_reset', `connection reset: ${msg}`, { cause: err });
  return new DeliveryError('other', `${codes[0] ? `${codes[0]}: ` : ''}${msg}`, { cause: err });
}

function chainCodes(err: unknown): string[] {
  const out: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const c = errorCode(e);
    if (c) out.push(c);
  }
  return out;
}
