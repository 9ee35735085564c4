import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEndpointSlice, parseL2Status, parseNode, parseService } from '../../src/cluster/objects.js';
import { loadConfigFile } from '../../src/config/load.js';
import type { Incident } from '../../src/incidents/types.js';
import { LAB, NODES } from './addresses.js';
import { labClusterObjects } from './cluster-objects.js';
import { parsePromText, sumBy, sumOf } from './prom-text.js';
import { formatIncident, formatLog, StatusLine } from './status-format.js';
import { renderLabConfig } from './vipwatch-config.js';

// The pure parts of the end-to-end harness, checked against vipwatch's own config loader and object parsers (no root needed).
describe('lab harness', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vw-harness-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a vipwatch config that the real loader accepts, with the lab target, cluster API and both alert channels', () => {
    writeFileSync(join(dir, 'token'), 'abc\n');
    writeFileSync(join(dir, 'secret'), 'shh');
    const file = join(dir, 'vipwatch.yaml');
    writeFileSync(file, renderLabConfig({
      stateDir: join(dir, 'state'), kubeApi: 'http://127.0.0.1:6443', tokenFile: join(dir, 'token'),
      webhookUrl: 'http://127.0.0.1:8080/hook', webhookSecretFile: join(dir, 'secret'), smtpPort: 2525,
    }));
    const c = loadConfigFile(file);
    expect(c.server.listen).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(c.targets).toHaveLength(1);
    expect(c.targets[0]).toMatchObject({
      name: 'web', address: LAB.vip, port: 80, protocol: 'http', intervalMs: 500, timeoutMs: 400, service: 'default/web',
      http: { backendHeader: 'X-Node' },
    });
    expect(c.kubernetes).toMatchObject({ enabled: true, apiServer: 'http://127.0.0.1:6443', tokenFile: join(dir, 'token'), metallbNamespace: 'metallb-system' });
    expect(c.diagnosis).toMatchObject({ windowMs: 30_000, openAfterMs: 5_000, resolveAfterMs: 10_000, pValue: 1e-4, minAttempts: 20 });
    expect(c.alerting.webhooks[0]).toMatchObject({ url: 'http://127.0.0.1:8080/hook' });
    expect(c.alerting.webhooks[0]!.secret?.reveal()).toBe('shh');
    expect(c.alerting.email[0]).toMatchObject({ smtp: { host: '127.0.0.1', port: 2525, secure: false, requireTLS: false }, to: ['oncall@example.com'] });
  });

  it('describes the lab cluster in objects vipwatch\'s parsers read as the lab: VIP, one ready endpoint per node, InternalIPs, announcer', () => {
    const objs = labClusterObjects(new Date('2026-01-01T00:00:00Z'));
    const svc = parseService(objs.find((o) => o.kind === 'Service'))!;
    expect(svc).toMatchObject({ type: 'LoadBalancer', externalTrafficPolicy: 'Cluster', ingressIps: [LAB.vip], meta: { namespace: 'default', name: 'web' } });
    const slice = parseEndpointSlice(objs.find((o) => o.kind === 'EndpointSlice'))!;
    expect(slice.serviceName).toBe('web');
    expect(slice.endpoints.map((e) => [e.nodeName, e.targetRef?.name, e.addresses[0], e.ready])).toEqual(
      NODES.map((n) => [n, LAB.nodes[n].pod, LAB.nodes[n].clusterIp, true]),
    );
    const nodes = objs.filter((o) => o.kind === 'Node').map((o) => parseNode(o)!);
    expect(nodes.map((n) => [n.meta.name, n.internalIps])).toEqual(NODES.map((n) => [n, [LAB.nodes[n].lanIp]]));
    const l2 = parseL2Status(objs.find((o) => o.kind === 'ServiceL2Status'))!;
    expect(l2).toMatchObject({ node: 'node-1', serviceName: 'web', serviceNamespace: 'default', meta: { namespace: 'metallb-system' } });
    expect(l2.meta.creationTimestamp).toBe(Date.parse('2026-01-01T00:00:00Z'));
  });

  it('reads /metrics text as a user\'s scraper does (labels with escapes, sums by label)', () => {
    const m = parsePromText([
      '# HELP vipwatch_backend_successes_total x',
      '# TYPE vipwatch_backend_successes_total counter',
      'vipwatch_backend_successes_total{target="web",node="node-1"} 4',
      'vipwatch_backend_successes_total{target="web",node="node-2"} 3',
      'vipwatch_probe_failures_total{target="web",reason="connect_timeout",node="node-2"} 2',
      'vipwatch_probe_failures_total{target="we\\"b",reason="refused",node="ambiguous"} 1',
      'vipwatch_event_loop_lag_seconds 0.002',
    ].join('\n'));
    expect(sumOf(m, 'vipwatch_backend_successes_total', { target: 'web' })).toBe(7);
    expect(sumBy(m, 'vipwatch_probe_failures_total', 'node')).toEqual({ 'node-2': 2, ambiguous: 1 });
    expect(m.find((s) => s.labels.target === 'we"b')?.value).toBe(1);
    expect(sumOf(m, 'vipwatch_event_loop_lag_seconds')).toBe(0.002);

    const line = new StatusLine('web');
    line.next(m);
    const later = parsePromText([
      'vipwatch_probe_attempts_total{target="web",protocol="http",result="success"} 9',
      'vipwatch_probe_attempts_total{target="web",protocol="http",result="failure"} 3',
      'vipwatch_probe_failures_total{target="web",reason="connect_timeout",node="node-2"} 5',
      'vipwatch_backend_successes_total{target="web",node="node-1"} 8',
      'vipwatch_backend_successes_total{target="web",node="node-2"} 3',
      'vipwatch_incident_open{target="web",kind="asymmetric_routing"} 1',
    ].join('\n'));
    expect(line.next(later)).toBe('web  +12 attempts, 3 failed (connect_timeout 3)  |  served by node-1 4  |  open incidents: asymmetric_routing');
  });

  it('prints logs and incidents in a form a person reads', () => {
    expect(formatLog({ time: '2026-01-01T07:46:17.245Z', level: 'info', msg: 'target status changed', target: 'web', from: 'healthy', to: 'degraded', lastReason: null }))
      .toBe('07:46:17  target status changed  target=web from=healthy to=degraded');
    const inc = {
      status: 'open', kind: 'asymmetric_routing', severity: 'critical', confidence: 0.99995, target: 'web', address: LAB.vip, port: 80,
      suspectedNodes: ['node-2'], announcerNode: 'node-1', failures: 12, attempts: 36, failureRatio: 1 / 3, reasons: { connect_timeout: 12 },
      summary: 'node-2 drops', nodes: { 'node-2': { endpoints: 1, successes: 0, failures: 12 } }, evidence: ['e1'], remediation: ['r1'],
    } as unknown as Incident;
    expect(formatIncident(inc)).toEqual([
      `OPEN asymmetric_routing (critical, confidence 100.00%)  target web ${LAB.vip}:80`,
      '  suspected node(s): node-2   announcer: node-1',
      '  failures: 12 of 36 attempts (33.3%)   reasons: connect_timeout 12',
      '  summary: node-2 drops',
      '  per node: node-2 0 ok/12 failed',
      '  evidence:',
      '    - e1',
      '  remediation:',
      '    1. r1',
    ]);
  });
});
