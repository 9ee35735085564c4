import { describe, expect, it } from 'vitest';
import { remediation, type RemediationInput } from '../../src/diagnosis/remediation.js';
import { INCIDENT_KINDS } from '../../src/incidents/types.js';

const base: RemediationInput = {
  verdict: 'asymmetric_routing', suspectedNodes: ['node-2'], candidateNodes: ['node-2'], announcerNode: 'node-1', service: 'default/web',
  externalTrafficPolicy: 'Cluster', address: '192.0.2.100', port: 80, allEndpointsRemote: false, synTransmissions: 2,
};

describe('remediation', () => {
  it('never mentions rp_filter=0 without the spoofing warning, for any verdict', () => {
    for (const verdict of INCIDENT_KINDS) {
      for (const etp of ['Cluster', 'Local', null] as const) {
        const text = remediation({ ...base, verdict, externalTrafficPolicy: etp, allEndpointsRemote: true, synTransmissions: 1 }).join('\n');
        if (/rp_filter\s*=\s*0/.test(text)) expect(text).toMatch(/spoof/);
      }
    }
  });

  it('names the suspected nodes and the service in the asymmetric-routing steps', () => {
    const text = remediation(base).join('\n');
    expect(text).toContain('On node-2: check reverse-path filtering');
    expect(text).toContain('TcpExtIPReversePathFilter');
    expect(text).toContain('on default/web');
    expect(text).toContain('90-metallb.conf');
  });

  it('points at the node itself when the Service already uses Local', () => {
    const text = remediation({ ...base, externalTrafficPolicy: 'Local' }).join('\n');
    expect(text).toContain('already uses externalTrafficPolicy: Local');
    expect(text).not.toContain('stock kube-proxy SNATs');
  });

  it('gives the "check other layers" list for an unreachable VIP', () => {
    const lines = remediation({ ...base, verdict: 'vip_unreachable', allEndpointsRemote: true });
    const text = lines.join('\n');
    expect(lines[0]).toContain('check the other layers first');
    for (const s of ['servicel2statuses', 'ip neigh show 192.0.2.100', 'Firewalls', 'Routed vs same-subnet', 'endpointslices', 'other than the announcer']) {
      expect(text).toContain(s);
    }
  });

  it('has nothing to say for healthy targets', () => {
    expect(remediation({ ...base, verdict: 'healthy' })).toEqual([]);
    expect(remediation({ ...base, verdict: 'insufficient_data' })).toEqual([]);
  });

  it('mentions a stateful firewall for handshake-then-stall', () => {
    expect(remediation({ ...base, verdict: 'http_errors', topReason: 'response_timeout' }).join('\n')).toContain('stateful firewall');
  });
});
