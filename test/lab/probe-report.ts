/** What the client-probe script prints: one JSON document with a result per attempt. Shared by the script and the lab. */
export type AttemptOutcome =
  | 'ok' // connected and got a full HTTP response
  | 'connect_timeout' // no SYN-ACK within the timeout: silent drop (rp_filter, loss, outage)
  | 'refused' // RST answered the SYN (ECONNREFUSED)
  | 'reset' // RST after the connection was up (ECONNRESET)
  | 'response_timeout' // connected, but the response did not complete in time
  | 'error'; // anything else, with its code

/** After connecting, the response gets its own deadline: a busy machine must not turn a slow reply into a connect failure. */
export const RESPONSE_TIMEOUT_MS = 5_000;

export interface AttemptResult {
  readonly i: number;
  readonly localPort: number;
  readonly outcome: AttemptOutcome;
  /** The socket error code (ECONNREFUSED, EHOSTUNREACH, ...) when there was one. */
  readonly code?: string;
  readonly connectMs?: number;
  readonly totalMs: number;
  readonly status?: number;
  /** From the X-Node header: the node that served the request. */
  readonly node?: string;
  readonly pod?: string;
}

export interface ProbeReport {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  readonly results: AttemptResult[];
}

export interface ProbeSummary {
  readonly total: number;
  readonly byOutcome: Record<string, number>;
  /** Successful attempts per serving node. */
  readonly byNode: Record<string, number>;
  /** Successful attempts whose connect took at least `slowMs` (a SYN retransmission, about 1 s). */
  readonly slowConnects: number;
  readonly maxConnectMs: number;
}

export function summarize(report: ProbeReport, slowMs = 800): ProbeSummary {
  const byOutcome: Record<string, number> = {};
  const byNode: Record<string, number> = {};
  let slowConnects = 0;
  let maxConnectMs = 0;
  for (const r of report.results) {
    byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + 1;
    if (r.outcome === 'ok' && r.node) byNode[r.node] = (byNode[r.node] ?? 0) + 1;
    if (r.connectMs !== undefined) {
      maxConnectMs = Math.max(maxConnectMs, r.connectMs);
      if (r.outcome === 'ok' && r.connectMs >= slowMs) slowConnects++;
    }
  }
  return { total: report.results.length, byOutcome, byNode, slowConnects, maxConnectMs };
}
