import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { FakeKubeApi, type KubeObject } from '../support/fake-kube-api.js';
import { waitFor } from '../support/wait.js';

const NODES = ['node-1', 'node-2', 'node-3'];

function objects(port: number, announcer: string): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' },
      spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ name: 'http', protocol: 'TCP', port, targetPort: 8080, nodePort: 30080 }], clusterIP: '10.96.171.239', externalTrafficPolicy: 'Cluster' },
      status: { loadBalancer: { ingress: [{ ip: '127.0.0.1', ipMode: 'VIP' }] } } },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4', ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
      endpoints: NODES.map((n, i) => ({ addresses: [`10.244.${i + 1}.3`], conditions: { ready: true, serving: true, terminating: false }, nodeName: n, targetRef: { kind: 'Pod', namespace: 'default', name: `web-${i + 1}` } })) },
    ...NODES.map((n, i) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: n }, status: { addresses: [{ type: 'InternalIP', address: `192.0.2.${11 + i}` }, { type: 'Hostname', address: n }] } })),
    l2status(announcer),
  ] as KubeObject[];
}

function l2status(node: string): KubeObject {
  return { apiVersion: 'metallb.io/v1beta1', kind: 'ServiceL2Status', metadata: { name: 'l2-web', namespace: 'metallb-system', labels: { 'metallb.io/node': node, 'metallb.io/service-name': 'web', 'metallb.io/service-namespace': 'default' } },
    status: { node, serviceName: 'web', serviceNamespace: 'default' } } as KubeObject;
}

describe('vipwatch with a (fake) cluster: announcer, endpoints per node, successes per node', () => {
  let web: Server;
  let api: FakeKubeApi;
  let app: App;
  let base: string;

  beforeAll(async () => {
    let n = 0;
    // A stand-in for kube-proxy: each new connection lands on the next node's pod, which names itself.
    web = createServer((_req, res) => res.writeHead(200, { 'x-node': NODES[n++ % 3]! }).end('ok'));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    const port = (web.address() as AddressInfo).port;
    api = new FakeKubeApi();
    await api.start();
    for (const o of objects(port, 'node-1')) api.apply(o);
    const config = parseConfig(`
server: { listen: "127.0.0.1:0" }
targets:
  - { name: web, address: 127.0.0.1, port: ${port}, protocol: http, interval: 100ms, timeout: 100ms, service: default/web, http: { backendHeader: X-Node } }
kubernetes:
  apiServer: "${api.url}"
  backoff: { initial: 100ms, max: 1s }
`, 'inline.yaml', { env: {} });
    app = new App({ config, logger: silentLogger });
    base = `http://127.0.0.1:${(await app.start()).port}`;
  });

  afterAll(async () => {
    await app?.stop();
    await api?.stop();
    web?.close();
  });

  const target = async () => ((await (await fetch(`${base}/api/v1/targets`)).json()) as { targets: any[] }).targets[0];

  it('shows the announcing node, ready endpoints per node and successes per node in the API and metrics', async () => {
    const t = await waitFor(async () => {
      const t = await target();
      return NODES.every((n) => t.nodes[n]?.successes > 0) && t.cluster?.announcer ? t : undefined;
    }, { what: 'per-node successes with a cluster view' });
    expect(t.cluster.announcer).toMatchObject({ node: 'node-1', source: 'servicel2status' });
    expect(t.cluster.endpointsPerNode).toEqual({ 'node-1': 1, 'node-2': 1, 'node-3': 1 });
    expect(t.cluster.service).toBe('default/web');
    expect(t.cluster.externalTrafficPolicy).toBe('Cluster');
    const last = t.attempts.at(-1);
    expect(last.backendNode).toMatch(/^node-[123]$/);
    expect(last.cluster).toMatchObject({ announcerNode: 'node-1', endpointsPerNode: { 'node-1': 1, 'node-2': 1, 'node-3': 1 }, stale: false });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/vipwatch_announcer_info\{target="web",node="node-1",source="servicel2status"\} 1/);
    for (const n of NODES) {
      expect(metrics).toMatch(new RegExp(`vipwatch_endpoints\\{target="web",node="${n}"\\} 1`));
      expect(metrics).toMatch(new RegExp(`vipwatch_backend_successes_total\\{target="web",node="${n}"\\} [1-9]`));
    }
    expect(metrics).toMatch(/vipwatch_kube_up\{resource="services"\} 1/);
    expect(metrics).toMatch(/vipwatch_target_info\{target="web",address="127.0.0.1",port="\d+",service="default\/web"\} 1/);
  });

  it('keeps probing while the API is down, and the view recovers after a restart and a 410', async () => {
    await api.stop();
    const before = (await target()).attempts.at(-1).seq;
    await waitFor(async () => (await target()).attempts.at(-1).seq >= before + 10, { what: 'probing goes on without the API' });
    api.apply(l2status('node-2'));
    await api.start();
    await waitFor(async () => (await target()).cluster?.announcer?.node === 'node-2', { what: 'announcer change seen after restart' });
    api.expire({ answer: 'event', openWatches: true });
    api.apply(l2status('node-3'));
    const t = await waitFor(async () => {
      const t = await target();
      return t.cluster?.announcer?.node === 'node-3' && t.attempts.at(-1).cluster?.announcerNode === 'node-3' ? t : undefined;
    }, { what: 'announcer change seen after a 410' });
    expect(t.attempts.at(-1).ok).toBe(true);
  });
});
