/**
 * Series per target on a live /metrics, for a tcp, an http and an https target behind a 3-node (fake) cluster: the
 * numbers the README states. Every node with ready endpoints has its per-node series from the start, no target has
 * a histogram for a phase it cannot time, and each target has its up/state gauges. (A target that has failed once is
 * diagnosed from then on and adds vipwatch_incident_open and vipwatch_diagnosis_confidence, 5 kinds each, plus a
 * failure series per reason and node it saw; these healthy ones have neither.)
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { parsePromText, type PromSample } from '../lab/prom-text.js';
import { FakeKubeApi, type KubeObject } from '../support/fake-kube-api.js';
import { httpServer, httpsServer, tcpServer, type HttpHandler, type TestServer } from '../support/net-servers.js';
import { makePki, type TestPki } from '../support/net-tls.js';
import { needTools, OPENSSL } from '../support/tools.js';
import { waitFor } from '../support/wait.js';

const openssl = needTools('series per target (https target)', OPENSSL());
const NODES = ['node-1', 'node-2', 'node-3'];

function service(name: string, port: number): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
      spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ name: 'p', protocol: 'TCP', port, targetPort: 8080, nodePort: 30080 }], clusterIP: '10.96.0.10', externalTrafficPolicy: 'Cluster' },
      status: { loadBalancer: { ingress: [{ ip: '127.0.0.1', ipMode: 'VIP' }] } } },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-abc`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4', ports: [{ name: 'p', protocol: 'TCP', port: 8080 }],
      endpoints: NODES.map((n, i) => ({ addresses: [`10.244.${i + 1}.3`], conditions: { ready: true, serving: true, terminating: false }, nodeName: n, targetRef: { kind: 'Pod', namespace: 'default', name: `${name}-${i + 1}` } })) },
    { apiVersion: 'metallb.io/v1beta1', kind: 'ServiceL2Status', metadata: { name: `l2-${name}`, namespace: 'metallb-system', labels: { 'metallb.io/node': 'node-1', 'metallb.io/service-name': name, 'metallb.io/service-namespace': 'default' } },
      status: { node: 'node-1', serviceName: name, serviceNamespace: 'default' } },
  ] as KubeObject[];
}

describe.skipIf(openssl.skip)('series per target on a live /metrics (3-node cluster)', () => {
  let api: FakeKubeApi;
  let app: App;
  let base: string;
  let pki: TestPki;
  const servers: TestServer[] = [];

  beforeEach(() => openssl.check());
  beforeAll(async () => {
    if (openssl.missing) return;
    pki = makePki(['IP:127.0.0.1']);
    let n = 0;
    const handler: HttpHandler = (_req, res) => res.writeHead(200, { 'x-node': NODES[n++ % 3]! }).end('ok');
    const tcp = await tcpServer((s) => s.end());
    const http = await httpServer(handler);
    const https = await httpsServer(pki, handler);
    servers.push(tcp, http, https);
    api = new FakeKubeApi();
    await api.start();
    for (const [name, s] of [['db', tcp], ['web', http], ['secure', https]] as const) for (const o of service(name, s.port)) api.apply(o);
    const config = parseConfig(`
server: { listen: "127.0.0.1:0" }
targets:
  - { name: db, address: 127.0.0.1, port: ${tcp.port}, protocol: tcp, interval: 1s, timeout: 1s, service: default/db }
  - { name: web, address: 127.0.0.1, port: ${http.port}, protocol: http, interval: 1s, timeout: 1s, service: default/web, http: { backendHeader: X-Node } }
  - { name: secure, address: 127.0.0.1, port: ${https.port}, protocol: https, interval: 1s, timeout: 1s, service: default/secure, http: { backendHeader: X-Node }, tls: { caFile: ${pki.caFile} } }
kubernetes:
  apiServer: "${api.url}"
  backoff: { initial: 100ms, max: 1s }
`, 'inline.yaml', { env: {} });
    app = new App({ config, logger: silentLogger });
    base = `http://127.0.0.1:${((await app.start()) as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.stop();
    await api?.stop();
    for (const s of servers) await s.close();
    pki?.cleanup();
  });

  it('counts 53 series for tcp, 73 for http and 91 for https, per-node series included from the start', async () => {
    const samples = await waitFor(async () => {
      const s = parsePromText(await (await fetch(`${base}/metrics`)).text());
      const healthy = ['db', 'web', 'secure'].every((t) => s.some((x) => x.name === 'vipwatch_target_state' && x.labels.target === t && x.labels.state === 'healthy' && x.value === 1));
      const viewed = s.filter((x) => x.name === 'vipwatch_endpoints').length === 9;
      return healthy && viewed ? s : undefined;
    }, { what: 'three healthy targets with their cluster views', timeoutMs: 15_000 });
    const of = (t: string) => samples.filter((x) => x.labels.target === t);
    const byMetric = (ss: PromSample[]) => {
      const out: Record<string, number> = {};
      for (const x of ss) {
        const m = x.name.replace(/_(bucket|sum|count)$/, '');
        out[m] = (out[m] ?? 0) + 1;
      }
      return out;
    };
    const common = {
      vipwatch_probe_attempts_total: 3, vipwatch_probe_failures_total: 3, vipwatch_failure_ratio: 3, vipwatch_target_up: 1, vipwatch_target_state: 4,
      vipwatch_target_info: 1, vipwatch_announcer_info: 1, vipwatch_endpoints: 3,
    };
    expect(byMetric(of('db'))).toEqual({ ...common, vipwatch_probe_duration_seconds: 2 * 17 });
    expect(byMetric(of('web'))).toEqual({ ...common, vipwatch_probe_duration_seconds: 3 * 17, vipwatch_backend_successes_total: 3 });
    expect(byMetric(of('secure'))).toEqual({ ...common, vipwatch_probe_duration_seconds: 4 * 17, vipwatch_backend_successes_total: 3, vipwatch_probe_cert_not_after_timestamp_seconds: 1 });
    expect([of('db').length, of('web').length, of('secure').length]).toEqual([53, 73, 91]);
    // Every node is on the failures panel from the start, at 0 while healthy.
    expect(of('db').filter((x) => x.name === 'vipwatch_probe_failures_total').map((x) => [x.labels.reason, x.labels.node, x.value]))
      .toEqual(NODES.map((n) => ['connect_timeout', n, 0]));
  });
});
