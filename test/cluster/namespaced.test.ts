import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedClusterSource } from '../../src/cluster/types.js';
import type { KubernetesConfig } from '../../src/config/sections/kubernetes.js';
import type { TargetConfig } from '../../src/config/targets.js';
import type { FakeClock } from '../support/fake-clock.js';
import { FakeKubeApi, type KubeObject, type RbacRule } from '../support/fake-kube-api.js';
import { DEPLOY, grantedRules, loadManifests } from './rbac-manifests.js';
import { ioUntil, kubeConfig, loadFixtures, makePki, startSource, stepUntil, type Pki } from './helpers.js';

const START = Date.parse('2026-01-01T00:10:00Z');
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.bmFtZXNwYWNlZA.shop-only';

const target = (over: Partial<TargetConfig> & Pick<TargetConfig, 'name' | 'address' | 'port'>): TargetConfig => ({
  protocol: 'tcp', intervalMs: 2000, timeoutMs: 1000, origin: 'static', ...over,
});
const API = target({ name: 'api', address: '192.0.2.128', port: 443, service: 'shop/api' });
const API_BY_IP = target({ name: 'api-ip', address: '192.0.2.128', port: 8443 });
const WEB = target({ name: 'web', address: '192.0.2.127', port: 80, service: 'default/web' });

/** MetalLB's record that node-2 announces shop/api. */
const L2_API: KubeObject = {
  apiVersion: 'metallb.io/v1beta1', kind: 'ServiceL2Status',
  metadata: { name: 'l2-api', namespace: 'metallb-system', creationTimestamp: '2026-01-01T00:05:00Z', labels: { 'metallb.io/node': 'node-2', 'metallb.io/service-name': 'api', 'metallb.io/service-namespace': 'shop' } },
  spec: {}, status: { node: 'node-2', serviceName: 'api', serviceNamespace: 'shop' },
};

/** What deploy/kubernetes/namespaced/ grants (optionally without nodes.yaml), as the fake API server enforces it. */
function namespacedRules(opts: { nodes?: boolean; extraNamespaces?: string[] } = {}): RbacRule[] {
  const manifests = loadManifests('namespaced').filter((m) => opts.nodes !== false || m.file !== 'namespaced/nodes.yaml');
  const rules = grantedRules(manifests);
  // role-shop.yaml is a template: a copy per watched namespace.
  for (const ns of opts.extraNamespaces ?? []) rules.push(...rules.filter((r) => r.namespace === 'shop').map((r) => ({ ...r, namespace: ns })));
  return rules;
}

type LogLine = { level: string; msg: string; [k: string]: unknown };
interface Setup {
  api: FakeKubeApi;
  clock: FakeClock;
  source: ManagedClusterSource;
  registry: Registry;
  logs: LogLine[];
}

let pki: Pki;
beforeAll(() => {
  pki = makePki();
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/**
 * A TLS fake API server enforcing `rules` for TOKEN, and vipwatch reading it through the kubeconfig that
 * deploy/kubernetes/make-kubeconfig.sh writes from the token, the server URL and the CA, as a user would set it up.
 */
async function setup(rules: RbacRule[], over: Partial<KubernetesConfig> = {}, staticTargets = [API, API_BY_IP, WEB]): Promise<Setup> {
  const api = new FakeKubeApi({ tls: { key: pki.serverKey, cert: pki.serverCert }, rbac: { [TOKEN]: rules } });
  await api.start();
  loadFixtures(api);
  api.apply(L2_API);
  const dir = mkdtempSync(join(tmpdir(), 'vipwatch-ns-'));
  writeFileSync(join(dir, 'ca.crt'), pki.ca);
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  const kubeconfig = join(dir, 'vipwatch.kubeconfig');
  const made = spawnSync('sh', [join(DEPLOY, 'make-kubeconfig.sh'), '-s', api.url, '-c', join(dir, 'ca.crt'), '-t', join(dir, 'token'), '-o', kubeconfig], { encoding: 'utf8' });
  expect(made.status, made.stderr).toBe(0);

  const s = await startSource({ api, config: kubeConfig({ kubeconfig, ...over }), staticTargets, start: START });
  cleanups.push(s.stop);
  const { clock, source, registry, logs } = s;
  return { api, clock, source, registry, logs };
}

const PER_NAMESPACE = ['services', 'endpointslices', 'events'];
const clusterWide = (s: Setup) => s.api.requests.filter((r) => PER_NAMESPACE.includes(r.resource!) && !r.path.includes('/namespaces/'));

describe('a token limited to namespace shop (and MetalLB\'s), with kubernetes.namespaces: [shop]', () => {
  it('builds the full view of a Service in shop and never asks for Services, EndpointSlices or events cluster-wide', async () => {
    const s = await setup(namespacedRules(), { namespaces: ['shop'] });
    await ioUntil(() => s.api.openWatches() === 5, 'every watch open');
    const view = s.source.viewFor(API)!;
    expect(view).toMatchObject({
      service: 'shop/api', serviceFound: true, externalTrafficPolicy: 'Local', healthCheckNodePort: 32000,
      announcer: { node: 'node-2', source: 'servicel2status', since: Date.parse('2026-01-01T00:05:00Z') },
      endpointsPerNode: { 'node-2': 1, 'node-3': 0 },
      syncedAt: START, stale: false,
    });
    expect(s.source.snapshot(API).context).toMatchObject({ stale: false, announcerNode: 'node-2', metadataAgeMs: 0 });
    // Linked by its ingress IP too: the shop Services are known.
    expect(s.source.viewFor(API_BY_IP)).toMatchObject({ service: 'shop/api', stale: false });
    expect(s.source.snapshot(API).nodeOf('api-5f6b-1')).toBe('node-2');

    expect(clusterWide(s)).toEqual([]);
    expect(s.api.requests.map((r) => r.path).filter((p, i, all) => all.indexOf(p) === i).sort()).toEqual([
      '/api/v1/namespaces/shop/events',
      '/api/v1/namespaces/shop/services',
      '/api/v1/nodes',
      '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices',
      '/apis/metallb.io/v1beta1/namespaces/metallb-system/servicel2statuses',
    ]);
    expect(s.source.resources()).toEqual([
      { resource: 'services', namespace: 'shop', state: 'synced', lastSyncAt: START, lastError: undefined },
      { resource: 'endpointslices', namespace: 'shop', state: 'synced', lastSyncAt: START, lastError: undefined },
      { resource: 'nodes', state: 'synced', lastSyncAt: START, lastError: undefined },
      { resource: 'servicel2statuses', namespace: 'metallb-system', state: 'synced', lastSyncAt: START, lastError: undefined },
      { resource: 'events', namespace: 'shop', state: 'synced', lastSyncAt: START, lastError: undefined },
    ]);
    expect(s.logs.filter((l) => l.level === 'warn').map((l) => [l.msg, l.target])).toEqual([
      ['target\'s Service is in a namespace kubernetes.namespaces leaves out: its view stays stale', 'web'],
    ]);
    // A Service in a namespace nobody watches is never fresh (and never found).
    expect(s.source.viewFor(WEB)).toMatchObject({ service: 'default/web', serviceFound: false, stale: true, endpoints: [] });
    expect(await s.registry.metrics()).toContain('vipwatch_kube_up{resource="services"} 1');
  });

  it('the same token without kubernetes.namespaces: 403 on each cluster-wide list, naming the resource, the scope and the missing rule', async () => {
    const s = await setup(namespacedRules(), {});
    expect(s.source.resources().map((r) => [r.resource, r.state])).toEqual([
      ['services', 'disabled'], ['endpointslices', 'disabled'], ['nodes', 'synced'], ['servicel2statuses', 'synced'], ['events', 'disabled'],
    ]);
    const slices = s.source.resources().find((r) => r.resource === 'endpointslices')!;
    expect(slices.lastError).toBe(
      'forbidden: list endpointslices.discovery.k8s.io in all namespaces (cluster-wide): the token needs get/list/watch on endpointslices ' +
      '(apiGroup discovery.k8s.io) cluster-wide (a ClusterRole and ClusterRoleBinding: deploy/kubernetes/cluster/), or set kubernetes.namespaces ' +
      'to the namespaces the token may read (deploy/kubernetes/namespaced/); without it views of targets in it go stale and show no endpoints ' +
      '(the API said: GET /apis/discovery.k8s.io/v1/endpointslices: HTTP 403 Forbidden: endpointslices.discovery.k8s.io is forbidden: ' +
      'User "system:serviceaccount:vipwatch:vipwatch" cannot list resource "endpointslices" in API group "discovery.k8s.io" at the cluster scope)');
    const warns = s.logs.filter((l) => l.msg.startsWith('kubernetes source disabled'));
    expect(warns.map((l) => l.resource)).toEqual(['services', 'endpointslices', 'events']);
    expect(warns.find((l) => l.resource === 'services')!.error).toMatch(
      /^forbidden: list services in all namespaces \(cluster-wide\): the token needs get\/list\/watch on services \(apiGroup "" \(core\)\) cluster-wide/);
    expect(s.source.viewFor(API)).toMatchObject({ serviceFound: false, stale: true, endpoints: [] });
    expect(await s.registry.metrics()).toContain('vipwatch_kube_up{resource="services"} 0');
  });

  it('without the optional Nodes ClusterRole: one line names the missing rule and what is lost; Service views stay full and fresh', async () => {
    const s = await setup(namespacedRules({ nodes: false }), { namespaces: ['shop'] });
    const nodes = s.source.resources().find((r) => r.resource === 'nodes')!;
    expect(nodes.state).toBe('disabled');
    const lines = s.logs.filter((l) => l.level === 'warn' && l.resource === 'nodes');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.error).toMatch(new RegExp('^forbidden: list nodes \\(cluster-scoped\\): the token needs get/list/watch on nodes \\(apiGroup "" \\(core\\)\\) ' +
      '\\(a ClusterRole and ClusterRoleBinding: deploy/kubernetes/namespaced/nodes.yaml, or deploy/kubernetes/cluster/\\); without it the neighbour-table \\(ARP\\) ' +
      'evidence is not mapped to nodes, and a backend naming a node is recognised only when that node has endpoints of the Service \\(the API said: .*' +
      'cannot list resource "nodes" in API group "" at the cluster scope\\)$'));
    expect(s.source.viewFor(API)).toMatchObject({ stale: false, announcer: { node: 'node-2', source: 'servicel2status' }, endpointsPerNode: { 'node-2': 1, 'node-3': 0 } });
    // Node names are known only through the Service's endpoints.
    expect(s.source.snapshot(API).nodeOf('node-3')).toBe('node-3');
    expect(s.source.snapshot(API).nodeOf('node-1')).toBeUndefined();
    expect(clusterWide(s)).toEqual([]);
  });
});

describe('several watched namespaces', () => {
  it('one loop per namespace feeds one store: a namespace refused (403) loses only its own objects; metrics keep one series per resource', async () => {
    // The token may read shop and default: both views are full.
    const s = await setup(namespacedRules({ extraNamespaces: ['default'] }), { namespaces: ['default', 'shop'] });
    await ioUntil(() => s.api.openWatches() === 8, 'every watch open');
    expect(s.source.viewFor(WEB)).toMatchObject({ serviceFound: true, stale: false, endpointsPerNode: { 'node-1': 1, 'node-2': 1, 'node-3': 1 } });
    expect(s.source.viewFor(API)).toMatchObject({ serviceFound: true, stale: false });
    expect(s.source.resources().filter((r) => r.resource === 'services').map((r) => r.namespace)).toEqual(['default', 'shop']);

    // The grant for default goes away; the watches end and the next watch of default is refused.
    s.api.rbac![TOKEN] = namespacedRules();
    s.api.endWatches();
    await stepUntil(s.clock, () => s.source.resources().filter((r) => r.state === 'disabled').length === 3 && s.api.openWatches() === 5, { what: 'default refused' });
    expect(s.source.resources().filter((r) => r.state === 'disabled').map((r) => `${r.resource} ${r.namespace}`)).toEqual([
      'services default', 'endpointslices default', 'events default',
    ]);
    expect(s.source.resources().find((r) => r.resource === 'services' && r.namespace === 'default')!.lastError).toMatch(
      /^forbidden: (list|watch) services in namespace "default": the token needs get\/list\/watch on services \(apiGroup "" \(core\)\) in "default" \(a Role and RoleBinding: deploy\/kubernetes\/namespaced\/role-shop.yaml with "shop" replaced\)/);
    expect(s.source.viewFor(WEB)).toMatchObject({ serviceFound: false, stale: true, endpoints: [] });
    expect(s.source.viewFor(API)).toMatchObject({ serviceFound: true, stale: false, endpointsPerNode: { 'node-2': 1, 'node-3': 0 } });

    const text = await s.registry.metrics();
    expect(text.match(/^vipwatch_kube_up\{resource="services"\} .*$/gm)).toEqual(['vipwatch_kube_up{resource="services"} 0']);
    expect(text).toContain('vipwatch_kube_up{resource="servicel2statuses"} 1');
    expect(text).not.toContain('namespace=');
  });
});
