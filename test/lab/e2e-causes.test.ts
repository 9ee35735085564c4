import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/incidents/types.js';
import { clusterPolicyObjects, etpLocalObjects, LAB_HEALTH_CHECK_NODE_PORT, setEtpLocalDrop } from './etp-local.js';
import { labPreconditions } from './preconditions.js';
import { sumBy } from './prom-text.js';
import { Scenario } from './scenario.js';
import { LAB_TARGET } from './vipwatch-config.js';

// Other causes of "works sometimes" (issue 15) with the real `vipwatch run` on the lab cluster: root and netns only.
const { pre, labTools } = await labPreconditions('lab end-to-end tests (other causes)');

/** Generous upper bounds on a shared 2-core machine (500 ms interval: 20 failing attempts take 10 s, then openAfter 5 s). */
const OPEN_WITHIN_MS = 90_000;
/** After the incident opened, the kind is watched this long more: the issue saw packet_loss kept for two minutes. */
const WATCH_AFTER_OPEN_MS = 20_000;
const TARGET = { target: LAB_TARGET };

describe.skipIf(labTools.missing)('vipwatch run on the lab cluster: externalTrafficPolicy Local without a local endpoint', () => {
  let s: Scenario;

  beforeAll(async () => {
    s = await Scenario.start({ lab: { iptables: pre.ok ? pre.iptables : undefined } });
  }, 120_000);

  afterAll(async () => {
    await s?.stop();
  }, 60_000);

  it('the Service turns Local while the announcer node-1 has no endpoint and drops the traffic: etp_local_no_endpoint naming node-1, never asymmetric_routing or packet_loss', async () => {
    // A healthy baseline under externalTrafficPolicy Cluster, every node serving.
    await s.everyNodeServed({ atLeast: 10, timeoutMs: 30_000 });
    expect(await s.incidents()).toEqual([]);
    const mark = s.mark();

    // The rolling update and the policy change land together: node-1's pod is gone, the Service is Local, and
    // node-1 (still announcing: the ServiceL2Status keeps naming it) drops the VIP's traffic as kube-proxy does there.
    const t0 = Date.now();
    await setEtpLocalDrop(s.lab, 'node-1', true);
    const kinds = new Set<string>();
    try {
      for (const o of etpLocalObjects('node-1')) await s.services.apply(o);
      const seen = async (): Promise<Incident[]> => {
        const list = await s.incidents();
        for (const i of list) kinds.add(i.kind);
        return list;
      };
      const inc = await s.waitFor(async () => (await seen()).find((i) => i.status === 'open' && i.kind === 'etp_local_no_endpoint'),
        { timeoutMs: OPEN_WITHIN_MS, intervalMs: 500, what: 'incident: open etp_local_no_endpoint naming node-1' });
      const openedAfter = (Date.now() - t0) / 1000;
      expect(inc).toMatchObject({ target: LAB_TARGET, service: 'default/web', announcerNode: 'node-1', suspectedNodes: ['node-1'], severity: 'critical' });
      expect(inc.confidence).toBeGreaterThanOrEqual(0.9);
      expect(inc.failureRatio).toBe(1);
      expect(inc.summary).toContain('announcer node-1 has no ready local endpoint');
      expect(inc.evidence.join('\n')).toMatch(/externalTrafficPolicy: Local/);
      const rem = inc.remediation.join('\n');
      expect(rem).toContain('servicel2statuses');
      expect(rem).toContain(`:${LAB_HEALTH_CHECK_NODE_PORT}/`);
      // The failures are attributed to node-1, the node that drops them though it holds no endpoint.
      const byNode = await s.waitFor(async () => {
        const m = sumBy(await s.metrics(), 'vipwatch_probe_failures_total', 'node', TARGET);
        return (m['node-1'] ?? 0) > 0 ? m : undefined;
      }, { timeoutMs: 30_000, what: 'a failure attributed to node-1 in /metrics' });
      expect(byNode['node-2'] ?? 0).toBe(0);
      expect(byNode['node-3'] ?? 0).toBe(0);
      const hook = await s.waitFor(() => s.webhooks(mark).find((d) => d.incident.id === inc.id), { timeoutMs: 30_000, intervalMs: 250, what: 'webhook: etp_local_no_endpoint' });
      expect(hook).toMatchObject({ event: 'open', signatureOk: true, incident: { kind: 'etp_local_no_endpoint', suspectedNodes: ['node-1'] } });

      const end = Date.now() + WATCH_AFTER_OPEN_MS;
      while (Date.now() < end) {
        const open = (await seen()).filter((i) => i.status === 'open');
        expect(open.map((i) => i.kind)).toEqual(['etp_local_no_endpoint']);
        await new Promise((r) => setTimeout(r, 1_000));
      }
      console.info(`eTP Local without a local endpoint: opened after ${openedAfter.toFixed(1)} s (seen at a 500 ms poll); incident kinds seen: ${[...kinds].join(', ')}`);
    } finally {
      await setEtpLocalDrop(s.lab, 'node-1', false);
      for (const o of clusterPolicyObjects()) await s.services.apply(o);
    }
    expect(kinds.has('asymmetric_routing')).toBe(false);
    expect(kinds.has('packet_loss')).toBe(false);
    expect(s.webhooks(mark).map((d) => d.incident.kind).filter((k) => k !== 'etp_local_no_endpoint')).toEqual([]);
  }, 30_000 + OPEN_WITHIN_MS + 60_000 + WATCH_AFTER_OPEN_MS + 30_000);
});
