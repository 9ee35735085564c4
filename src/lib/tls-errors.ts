import { errorCode } from './errors.js';

/**
 * Which error codes mean "TLS failed", for the prober, alert delivery and the Kubernetes client alike. Only codes are
 * read, never message text. A code is a TLS code when it
 *  - starts with one of TLS_CODE_PREFIXES: Node's own TLS checks (ERR_TLS_CERT_ALTNAME_INVALID, …), OpenSSL's errors
 *    as Node names them (ERR_SSL_WRONG_VERSION_NUMBER, ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: a handshake or an
 *    alert from the peer; ERR_OSSL_*: a key or certificate that does not load) and OpenSSL's certificate verification
 *    results, X509_V_ERR_* without the prefix (CERT_HAS_EXPIRED, UNABLE_TO_VERIFY_LEAF_SIGNATURE,
 *    DEPTH_ZERO_SELF_SIGNED_CERT, SELF_SIGNED_CERT_IN_CHAIN, HOSTNAME_MISMATCH, INVALID_CA, …);
 *  - is one of TLS_ERRNOS: EPROTO, the errno a TLS record failure surfaces as on some paths;
 *  - or has one of TLS_CODE_WORDS anywhere in it (nodemailer's ETLS, undici's UND_ERR_PRX_TLS).
 * This is the union of what those three modules each recognised before they shared it.
 */
export const TLS_CODE_PREFIXES = [
  'ERR_TLS_', 'ERR_SSL_', 'ERR_OSSL_', 'CERT_', 'UNABLE_TO_', 'DEPTH_ZERO_', 'SELF_SIGNED_', 'HOSTNAME_MISMATCH',
  'INVALID_CA', 'INVALID_PURPOSE', 'PATH_LENGTH_EXCEEDED',
] as const;
export const TLS_ERRNOS = ['EPROTO'] as const;
export const TLS_CODE_WORDS = ['CERT', 'SSL', 'TLS', 'SELF_SIGNED', 'VERIFY', 'ALTNAME'] as const;

/** How many errors down a cause chain an error's TLS code is looked for (the error itself and four causes). */
const MAX_CAUSE_DEPTH = 5;

const ERRNOS: ReadonlySet<string> = new Set(TLS_ERRNOS);

function isTlsCode(code: string): boolean {
  return TLS_CODE_PREFIXES.some((p) => code.startsWith(p)) || ERRNOS.has(code) || TLS_CODE_WORDS.some((w) => code.includes(w));
}

/**
 * A code string: whether it is a TLS code. Anything else: whether its `code`, or that of an error in its `cause`
 * chain, is one.
 */
export function isTlsError(errOrCode: unknown): boolean {
  if (typeof errOrCode === 'string') return isTlsCode(errOrCode);
  for (let e: unknown = errOrCode, depth = 0; e && depth < MAX_CAUSE_DEPTH; e = (e as { cause?: unknown }).cause, depth++) {
    const code = errorCode(e);
    if (code !== undefined && isTlsCode(code)) return true;
  }
  return false;
}
