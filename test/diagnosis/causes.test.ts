import { describe, expect, it } from 'vitest';
import { DIAGNOSIS_DEFAULTS } from '../../src/config/sections/diagnosis.js';
import type { TargetClusterView } from '../../src/cluster/types.js';
import { attributeFailure } from '../../src/diagnosis/attribution.js';
import { BLOCKS_MAX_CONFIDENCE } from '../../src/diagnosis/blocks.js';
import { diagnose } from '../../src/diagnosis/diagnose.js';
import { remediation } from '../../src/diagnosis/remediation.js';
import { context, run, Stream, web } from './helpers.js';

/** externalTrafficPolicy: Local, node-1 still announcing, its pod gone (the endpoints on node-2 and node-3). */
const localNoEndpoint = context({ externalTrafficPolicy: 'Local', endpointsPerNode: { 'node-2': 1, 'node-3': 1 }, viewVersion: 'v2' });

describe('diagnose: an outage that starts with a cluster view change (issue 15, part 3)', () => {
  it('judges the attempts after the change: all failing is never packet_loss, then an outage once minAttempts failed', () => {
    // 400 ms timeout: no room for a SYN retransmission, where loss and drops look alike (the lab's setting).
    const target = { ...web, timeoutMs: 400 };
    const s = new Stream({ timeoutMs: 400 }).add('123', 14).view(context({ announcerNode: 'node-2', viewVersion: 'v2' }));
    for (let k = 1; k <= 19; k++) {
      s.add('X');
      const d = run(s, { target });
      expect(d.verdict, `after ${k} failures under the new view`).not.toBe('packet_loss');
      if (k >= 4) {
        expect(d.verdict).toBe('insufficient_data');
        expect(d.summary).toContain(`all ${k} attempts since the cluster view changed failed`);
      }
    }
    s.add('X');
    const d = run(s, { target });
    expect(d.verdict).toBe('vip_unreachable');
    expect(d.confidence).toBeGreaterThan(0.999);
    expect(d.attempts).toBe(20);
    expect(d.failureRatio).toBe(1);
  });

  it('still calls a few failures right after a view change noise when the rest of the window is clean', () => {
    const d = run(new Stream().add('123', 14).view(context({ viewVersion: 'v2' })).add('X').add('123'));
    expect(d.verdict).toBe('healthy');
  });

  it('keeps judging random loss over the whole window when the attempts since the change are not all failing', () => {
    const d = run(new Stream().add('SS1 2 3 1 2 3 S 1 2 3 S X 1 2 3', 4).view(context({ viewVersion: 'v2' })).add('S1X'));
    expect(d.verdict).toBe('packet_loss');
    expect(d.evidence.join('\n')).toContain('judged over the whole window');
  });
});

describe('diagnose: etp_local_no_endpoint (issue 15, part 4)', () => {
  it('names the announcer when the Service turned Local while the announcer had no endpoint and every attempt fails', () => {
    const s = new Stream({ timeoutMs: 400 }).add('123', 14).view(localNoEndpoint).add('X', 20);
    const d = run(s, { target: { ...web, timeoutMs: 400 } });
    expect(d.verdict).toBe('etp_local_no_endpoint');
    expect(d.suspectedNodes).toEqual(['node-1']);
    expect(d.candidateNodes).toEqual(['node-1']);
    expect(d.externalTrafficPolicy).toBe('Local');
    expect(d.expectedFailureRatio).toBe(1);
    expect(d.confidence).toBeGreaterThan(0.999);
    expect(d.summary).toContain('announcer node-1 has no ready local endpoint');
    const ev = d.evidence.join('\n');
    expect(ev).toContain('ready endpoints per node: node-2: 1, node-3: 1');
    expect(ev).toContain('the announcement did not move');
    const rem = d.remediation.join('\n');
    expect(rem).toContain('servicel2statuses');
    expect(rem).toContain('503');
    expect(rem).toContain('<healthCheckNodePort>');
    expect(rem).not.toMatch(/rp_filter\s*=\s*0/);
  });

  it('names the announcer after a rolling update moved its pod away, the outage starting a few attempts before the view saw it', () => {
    const d = run(new Stream().add('123', 14).add('X', 2).view(localNoEndpoint).add('X', 18));
    expect(d.verdict).toBe('etp_local_no_endpoint');
    expect(d.suspectedNodes).toEqual(['node-1']);
  });

  it('puts the healthCheckNodePort of the view into the remediation', () => {
    const view: TargetClusterView = {
      service: 'default/web', externalTrafficPolicy: 'Local', healthCheckNodePort: 31234, endpoints: [], endpointsPerNode: { 'node-2': 1 },
      announcer: { node: 'node-1', source: 'servicel2status' }, stale: false,
    };
    const s = new Stream({ cluster: null }).add('.', 14).add('X', 20);
    const d = diagnose({ target: web, attempts: s.attempts, view, now: s.now, config: DIAGNOSIS_DEFAULTS });
    expect(d.verdict).toBe('etp_local_no_endpoint');
    expect(d.remediation.join('\n')).toContain(':31234/');
  });

  it('is not the verdict when the announcer has a local endpoint, the policy is Cluster, the view is stale, or an attempt under the view succeeded', () => {
    const cases = {
      'announcer with endpoint': context({ externalTrafficPolicy: 'Local', viewVersion: 'v2' }),
      Cluster: context({ endpointsPerNode: { 'node-2': 1, 'node-3': 1 }, viewVersion: 'v2' }),
      stale: { ...localNoEndpoint, stale: true },
    };
    for (const [name, cluster] of Object.entries(cases)) {
      const d = run(new Stream().add('123', 14).view(cluster).add('X', 20));
      expect(d.verdict, name).toBe('vip_unreachable');
    }
    // A success under the Local view: kube-proxy did not drop everything (the view lags a pod that came back).
    const d = run(new Stream().add('123', 14).view(localNoEndpoint).add('2').add('X', 20));
    expect(d.verdict).not.toBe('etp_local_no_endpoint');
  });

  it('leaves refusals to backend_refused and healthy attempts healthy under the same placement', () => {
    expect(run(new Stream().add('123', 14).view(localNoEndpoint).add('R', 20)).verdict).toBe('backend_refused');
    expect(run(new Stream().add('123', 14).view(localNoEndpoint).add('23', 10)).verdict).toBe('healthy');
  });

  it('does not take the silence of endpoints on other nodes for a node split under Local: only the announcer\'s serve', () => {
    // L2 + Local: kube-proxy on node-1 forwards only to its own pod, so node-2 and node-3 never serve; 1 in 10 lost.
    const d = run(new Stream({ timeoutMs: 400 }).view(context({ externalTrafficPolicy: 'Local' })).add('111111111X', 5), { target: { ...web, timeoutMs: 400 } });
    expect(d.verdict).toBe('packet_loss');
    expect(d.suspectedNodes).toEqual([]);
    expect(Object.keys(d.nodes)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(d.nodes['node-2']).toMatchObject({ endpoints: 1, successes: 0 });
  });

  it('attributes the silent failures to the announcer, which holds no endpoint', () => {
    const s = new Stream().add('123', 14).view(localNoEndpoint).add('X', 20);
    const d = run(s);
    expect(attributeFailure(s.attempts[s.attempts.length - 1]!, d)).toEqual({ node: 'node-1', how: 'inferred' });
  });
});

describe('diagnose: intermittent_blocks (issue 15, part 5)', () => {
  it('calls failures in blocks intermittent_blocks with capped confidence, candidate causes and no node', () => {
    // Routed (no view.arp): blocks of 10 failures, 15 successes between, as when the router's neighbour entry flips.
    const s = new Stream({ timeoutMs: 400 }).add('123', 5).add('X', 10).add('123', 5).add('X', 10).add('12');
    const d = run(s, { target: { ...web, timeoutMs: 400 } });
    expect(d.verdict).toBe('intermittent_blocks');
    expect(d.confidence).toBe(BLOCKS_MAX_CONFIDENCE);
    expect(d.pValue).toBeLessThan(1e-4);
    expect(d.suspectedNodes).toEqual([]);
    expect(d.candidateNodes).toEqual([]);
    const ev = d.evidence.join('\n');
    expect(ev).toContain('2 blocks of 5 or more consecutive failures (longest 10; 20 of the 20 failures');
    expect(ev).toContain('No neighbour entry for the VIP');
    expect(ev).toMatch(/announcer flapping.*path flapping/);
    const rem = d.remediation.join('\n');
    expect(rem).toContain('Candidate: the announcer flapping');
    expect(rem).toContain('Candidate: the path flapping');
  });

  it('does not take interleaved timeouts (a path drop) or spread-out loss for blocks', () => {
    expect(run(new Stream().add('1X3', 24)).verdict).toBe('asymmetric_routing');
    const loss = run(new Stream().add('123S123X123S12S3', 6));
    expect(loss.verdict).not.toBe('intermittent_blocks');
  });

  it('does not call blocks while a node split may be forming: a node that served nothing since the first failure', () => {
    // node-2's connections time out and happen to come in runs (a burst's concurrent attempts): a flap would stop node-1
    // and node-3 too, so between its blocks every node serves.
    const d = run(new Stream().add('123', 10).add('XXXXX13XXXXX13').add('13', 3));
    expect(d.verdict).not.toBe('intermittent_blocks');
  });

  it('needs two blocks: one block that ends is a recovery or an onset, not flapping', () => {
    const d = run(new Stream().add('123', 10).add('X', 12).add('123', 3));
    expect(d.verdict).not.toBe('intermittent_blocks');
  });

  it('keeps the verdict through a working stretch no longer than those between the blocks, and yields to a longer recovery', () => {
    const s = new Stream().add('.', 30).add('X', 8).add('.', 30).add('X', 8).add('.', 30).add('X', 8).add('.', 30);
    expect(run(s).verdict).toBe('intermittent_blocks');
    // 70 successes after the last block: longer than any pause, yet not improbable enough at the failure rate before.
    s.add('.', 40);
    expect(run(s).verdict).toBe('intermittent_blocks');
    s.add('.', 20);
    const d = run(s);
    expect(d.verdict).toBe('healthy');
    expect(d.recovered).toBe(true);
  });

  it('mentions the neighbour entry when vipwatch has one', () => {
    const view: TargetClusterView = {
      endpoints: [], endpointsPerNode: { 'node-1': 1, 'node-2': 1, 'node-3': 1 }, stale: false,
      arp: { macs: ['02:00:00:00:00:01'], nodes: ['node-1'], changes: [] },
    };
    const s = new Stream({ cluster: null }).add('.', 5).add('X', 10).add('.', 5).add('X', 10).add('..');
    const d = diagnose({ target: web, attempts: s.attempts, view, now: s.now, config: DIAGNOSIS_DEFAULTS });
    expect(d.verdict).toBe('intermittent_blocks');
    expect(d.evidence.join('\n')).toContain("The VIP's neighbour entry: 02:00:00:00:00:01 (node-1)");
  });

  it('has remediation for both new kinds', () => {
    const base = { suspectedNodes: ['node-1'], candidateNodes: [], announcerNode: 'node-1', service: 'default/web', externalTrafficPolicy: 'Local' as const, address: '192.0.2.100', port: 80, allEndpointsRemote: true, synTransmissions: 1 };
    expect(remediation({ ...base, verdict: 'etp_local_no_endpoint' }).join('\n')).toContain('kube-proxy on node-1 forwards only to local endpoints');
    expect(remediation({ ...base, verdict: 'intermittent_blocks' }).length).toBeGreaterThan(2);
  });
});
