import type { ProbeSpec } from '../probe/types.js';
import type { TargetConfig } from './targets.js';

export function toProbeSpec(t: TargetConfig): ProbeSpec {
  return { target: t.name, address: t.address, port: t.port, protocol: t.protocol, timeoutMs: t.timeoutMs, http: t.http, tcp: t.tcp, tls: t.tls };
}
