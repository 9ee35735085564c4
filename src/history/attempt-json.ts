import type { Attempt, FailureAttribution } from './attempt.js';

/** The public JSON shape of an attempt in /api/v1/targets and debug logs, with the node a failure is attributed to. */
export function attemptJson(a: Attempt, at: FailureAttribution | undefined) {
  return {
    seq: a.seq,
    startedAt: new Date(a.startedAt).toISOString(),
    ok: a.ok,
    reason: a.reason ?? null,
    detail: a.detail ?? null,
    errorCode: a.errorCode ?? null,
    timings: a.timings,
    synRetransmit: a.synRetransmit,
    sourcePort: a.sourcePort ?? null,
    remoteAddress: a.remoteAddress ?? null,
    httpStatus: a.httpStatus ?? null,
    backend: a.backend ?? null,
    backendNode: a.backendNode ?? null,
    node: at?.node ?? null,
    nodeHow: at?.how ?? null,
    stalled: a.stalled,
    burst: a.burst,
    cluster: a.cluster ?? null,
  };
}
