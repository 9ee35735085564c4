import type { Secret } from '../lib/secret.js';

export type Protocol = 'tcp' | 'http' | 'https';

/** The closed set of failure reasons; each one is derived from a real error, never guessed. */
export const FAILURE_REASONS = [
  'connect_timeout', // no SYN-ACK within the timeout
  'refused', // RST to the SYN (ECONNREFUSED)
  'reset', // reset after connect (ECONNRESET / EPIPE)
  'unreachable', // EHOSTUNREACH / ENETUNREACH
  'tls', // handshake or verification failed
  'response_timeout', // connected, no complete response in time
  'http_status', // status not in expectStatus
  'body_mismatch', // bodyRegex / expectRegex did not match
  'protocol', // malformed response
  'dns', // name did not resolve
  'probe_error', // vipwatch itself ran out of a resource (fds, ephemeral ports, memory, buffers): not the VIP's failure
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** The reason of an attempt lost to vipwatch's own resources: counted apart, never diagnosed, never blamed on a node. */
export const PROBE_ERROR: FailureReason = 'probe_error';

export interface HttpCheck {
  path: string;
  method: string;
  headers: Record<string, string | Secret>;
  /** Accepted status codes; empty means 200-399. */
  expectStatus: number[];
  bodyRegex?: RegExp;
  maxBodyBytes: number;
  backendHeader?: string;
  backendJsonField?: string;
}

export interface TcpCheck {
  send?: string;
  expectRegex?: RegExp;
  maxBytes: number;
}

export interface TlsOptions {
  ca?: string;
  serverName?: string;
  insecureSkipVerify: boolean;
}

/** What a prober needs to make one attempt. */
export interface ProbeSpec {
  target: string;
  address: string;
  port: number;
  protocol: Protocol;
  timeoutMs: number;
  http?: HttpCheck;
  tcp?: TcpCheck;
  tls?: TlsOptions;
}

export interface Timings {
  /** Milliseconds from start to TCP established. */
  connectMs?: number;
  /** Milliseconds spent in the TLS handshake. */
  tlsMs?: number;
  /** Milliseconds from start to the first response byte. */
  firstByteMs?: number;
  totalMs: number;
}

export interface ProbeResult {
  ok: boolean;
  reason?: FailureReason;
  /** Human-readable detail of the real error behind the reason. */
  detail?: string;
  /** The system or library error code (ETIMEDOUT, ECONNREFUSED, UND_ERR_...). */
  errorCode?: string;
  timings: Timings;
  /** A connect that took >= 1 s: the kernel retransmitted the SYN at least once. */
  synRetransmit: boolean;
  sourcePort?: number;
  remoteAddress?: string;
  httpStatus?: number;
  /** Backend identity named by the response (node, pod or pod IP). */
  backend?: string;
  /** Epoch ms at which the peer certificate expires (https). */
  certNotAfter?: number;
}

/** One extension point: a prober per protocol. It never retries, and opens a fresh connection per call. */
export interface Prober {
  probe(spec: ProbeSpec, signal: AbortSignal): Promise<ProbeResult>;
}

export const SYN_RETRANSMIT_MS = 1000;
