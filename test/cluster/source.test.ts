import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createClusterSource } from '../../src/cluster/create.js';
import { WATCH_GRACE_MS } from '../../src/cluster/informer.js';
import type { ManagedClusterSource } from '../../src/cluster/types.js';
import type { KubernetesConfig } from '../../src/config/sections/kubernetes.js';
import type { TargetConfig } from '../../src/config/targets.js';
import type { FakeClock } from '../support/fake-clock.js';
import { FakeKubeApi, type KubeObject } from '../support/fake-kube-api.js';
import { FIXTURES, fixtureObjects, ioUntil, kubeConfig, loadFixtures, startSource, stepUntil } from './helpers.js';

const START = Date.parse('2026-01-01T00:10:00Z');

const target = (over: Partial<TargetConfig> & Pick<TargetConfig, 'name' | 'address' | 'port'>): TargetConfig => ({
  protocol: 'tcp', intervalMs: 2000, timeoutMs: 1000, origin: 'static', ...over,
});
const WEB = target({ name: 'web', address: '192.0.2.127', port: 80, protocol: 'http', service: 'default/web' });
const API = target({ name: 'api', address: '192.0.2.128', port: 443 }); // linked by its ingress IP
const PINNED = target({ name: 'pinned', address: '192.0.2.200', port: 80, announcerNode: 'node-9' });
const LOOSE = target({ name: 'loose', address: '192.0.2.201', port: 80 });

interface Setup {
  api: FakeKubeApi;
  clock: FakeClock;
  source: ManagedClusterSource;
  registry: Registry;
  logs: { level: string; msg: string; [k: string]: unknown }[];
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(over: Partial<KubernetesConfig> = {}, opts: { staticTargets?: TargetConfig[]; before?: (api: FakeKubeApi) => void } = {}): Promise<Setup> {
  const api = new FakeKubeApi();
  await api.start();
  loadFixtures(api);
  opts.before?.(api);
  const s = await startSource({ api, config: kubeConfig({ apiServer: api.url, ...over }), staticTargets: opts.staticTargets ?? [WEB, API, PINNED, LOOSE], start: START });
  cleanups.push(s.stop);
  const { clock, source, registry, logs } = s;
  return { api, clock, source, registry, logs };
}

const watching = (s: Setup, n = 5) => () => s.api.openWatches() === n;

describe('cluster view of a target', () => {
  it('a Service with a three-endpoint slice on three nodes and a ServiceL2Status', async () => {
    const s = await setup();
    const view = s.source.viewFor(WEB)!;
    expect(view).toMatchObject({
      service: 'default/web',
      externalTrafficPolicy: 'Cluster',
      announcer: { node: 'node-1', source: 'servicel2status', since: Date.parse('2026-01-01T00:00:05Z') },
      endpointsPerNode: { 'node-1': 1, 'node-2': 1, 'node-3': 1 },
      syncedAt: START,
      stale: false,
      serviceFound: true,
    });
    expect(view.endpoints.map((e) => [e.pod, e.node, e.ready])).toEqual([
      ['web-7c9d-1', 'node-1', true], ['web-7c9d-2', 'node-2', true], ['web-7c9d-3', 'node-3', true], // nil ready means ready
    ]);
    const ctx = s.source.snapshot(WEB).context!;
    expect(ctx).toEqual({
      announcerNode: 'node-1', announcerSource: 'servicel2status', endpointsPerNode: { 'node-1': 1, 'node-2': 1, 'node-3': 1 },
      externalTrafficPolicy: 'Cluster', metadataAgeMs: 0, stale: false, viewVersion: expect.stringMatching(/^[0-9a-f]{12}$/),
    });
  });

  it('links a target without `service` by its ingress IP; Local policy, newest nodeAssigned event, unready endpoints count 0', async () => {
    const s = await setup();
    expect(s.source.viewFor(API)).toMatchObject({
      service: 'shop/api',
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 32000,
      announcer: { node: 'node-2', source: 'event', since: Date.parse('2025-12-31T23:30:00Z') },
      endpointsPerNode: { 'node-2': 1, 'node-3': 0 },
    });
  });

  it('a pinned announcerNode shows with source config; an unlinked target has no cluster context', async () => {
    const s = await setup();
    expect(s.source.viewFor(PINNED)).toMatchObject({ announcer: { node: 'node-9', source: 'config' }, endpoints: [] });
    expect(s.source.viewFor(LOOSE)).toBeUndefined();
    expect(s.source.snapshot(LOOSE).context).toBeUndefined();
    const missing = target({ name: 'gone', address: '192.0.2.202', port: 80, service: 'default/nope' });
    expect(s.source.viewFor(missing)).toMatchObject({ service: 'default/nope', serviceFound: false, endpointsPerNode: {}, stale: false });
  });

  it('maps a backend identity (node name, pod name, namespace/pod, pod IP) to its node through the EndpointSlices', async () => {
    const s = await setup();
    expect(s.source.snapshot(WEB).nodeOf('node-2')).toBe('node-2');
    expect(s.source.snapshot(WEB).nodeOf('web-7c9d-3')).toBe('node-3');
    expect(s.source.snapshot(WEB).nodeOf('default/web-7c9d-1')).toBe('node-1');
    expect(s.source.snapshot(WEB).nodeOf(' 10.244.2.4 ')).toBe('node-2');
    expect(s.source.snapshot(API).nodeOf('10.244.3.9')).toBe('node-3');
    expect(s.source.snapshot(WEB).nodeOf('api-5f6b-1')).toBeUndefined(); // another Service's pod
    expect(s.source.snapshot(WEB).nodeOf('stranger')).toBeUndefined();
    expect(s.source.snapshot(LOOSE).nodeOf('10.244.2.4')).toBeUndefined();
  });

  it('viewVersion changes when the announcer or the placement changes, and only then', async () => {
    const s = await setup();
    await ioUntil(watching(s), 'watches open');
    const v0 = s.source.snapshot(WEB).context!.viewVersion;
    await s.clock.advance(1);
    s.api.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', labels: { touched: 'yes' } }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.11' }] } });
    await ioUntil(() => s.source.resources().find((r) => r.resource === 'nodes')!.lastSyncAt === START + 1, 'node event applied');
    expect(s.source.snapshot(WEB).context!.viewVersion).toBe(v0);

    const slice = fixtureObjects().find((o) => o.metadata.name === 'web-abc')!;
    (slice.endpoints as { conditions: Record<string, boolean> }[])[2]!.conditions = { ready: false, serving: false, terminating: true };
    s.api.apply(slice);
    await ioUntil(() => s.source.viewFor(WEB)!.endpointsPerNode['node-3'] === 0, 'endpoint unready');
    const v1 = s.source.snapshot(WEB).context!.viewVersion;
    expect(v1).not.toBe(v0);

    s.api.remove('ServiceL2Status', 'metallb-system', 'l2-r8jwb');
    s.api.apply({ apiVersion: 'metallb.io/v1beta1', kind: 'ServiceL2Status', metadata: { name: 'l2-x7k2p', namespace: 'metallb-system', creationTimestamp: '2026-01-01T00:09:00Z', labels: { 'metallb.io/node': 'node-2', 'metallb.io/service-name': 'web', 'metallb.io/service-namespace': 'default' } }, status: { node: 'node-2', serviceName: 'web', serviceNamespace: 'default' } });
    await ioUntil(() => s.source.viewFor(WEB)!.announcer?.node === 'node-2', 'announcer moved');
    expect(s.source.snapshot(WEB).context!.viewVersion).not.toBe(v1);
    expect(s.source.viewFor(WEB)!.announcer).toEqual({ node: 'node-2', source: 'servicel2status', since: Date.parse('2026-01-01T00:09:00Z') });
  });
});

describe('the per-attempt snapshot', () => {
  it('comes from a placement cached until a store it reads changes; freshness is still read per call', async () => {
    const s = await setup();
    await ioUntil(watching(s), 'watches open');
    const a = s.source.snapshot(WEB);
    const b = s.source.snapshot(WEB);
    // The same cached endpoints, version and backend index; not rebuilt from the slices per attempt.
    expect(b.view!.endpoints).toBe(a.view!.endpoints);
    expect(b.context!.viewVersion).toBe(a.context!.viewVersion);
    expect(a.nodeOf('web-7c9d-3')).toBe('node-3');
    await s.clock.advance(5_000);
    expect(s.source.snapshot(WEB).context!.metadataAgeMs).toBe(5_000);
    expect(s.source.snapshot(WEB).view!.endpoints).toBe(a.view!.endpoints);

    // The pod web-7c9d-3 moves to node-2: the next snapshot has a new placement, version and backend map.
    const slice = fixtureObjects().find((o) => o.metadata.name === 'web-abc')!;
    (slice.endpoints as { nodeName: string }[])[2]!.nodeName = 'node-2';
    s.api.apply(slice);
    await ioUntil(() => s.source.snapshot(WEB).nodeOf('web-7c9d-3') === 'node-2', 'pod moved');
    const c = s.source.snapshot(WEB);
    expect(c.view!.endpoints).not.toBe(a.view!.endpoints);
    expect(c.view!.endpointsPerNode).toEqual({ 'node-1': 1, 'node-2': 2 });
    expect(c.context!.viewVersion).not.toBe(a.context!.viewVersion);
    // The snapshot taken before the change keeps answering for its own placement (what its attempt was made under).
    expect(a.nodeOf('web-7c9d-3')).toBe('node-3');
  });
});

describe('metrics on an injected registry', () => {
  it('exports target, announcer, endpoint and API health gauges that follow the target list', async () => {
    const s = await setup();
    const text = await s.registry.metrics();
    for (const line of [
      'vipwatch_target_info{target="web",address="192.0.2.127",port="80",service="default/web"} 1',
      'vipwatch_target_info{target="api",address="192.0.2.128",port="443",service="shop/api"} 1',
      'vipwatch_target_info{target="loose",address="192.0.2.201",port="80",service=""} 1',
      'vipwatch_announcer_info{target="web",node="node-1",source="servicel2status"} 1',
      'vipwatch_announcer_info{target="api",node="node-2",source="event"} 1',
      'vipwatch_announcer_info{target="pinned",node="node-9",source="config"} 1',
      'vipwatch_endpoints{target="web",node="node-3"} 1',
      'vipwatch_endpoints{target="api",node="node-3"} 0',
      'vipwatch_kube_up{resource="services"} 1',
      'vipwatch_kube_up{resource="servicel2statuses"} 1',
      `vipwatch_kube_last_sync_timestamp_seconds{resource="endpointslices"} ${START / 1000}`,
    ]) expect(text).toContain(line);
    s.source.setStaticTargets([API]);
    const after = await s.registry.metrics();
    expect(after).not.toContain('target="web"');
    expect(after).toContain('vipwatch_endpoints{target="api",node="node-2"} 1');
    // Registering twice on the same registry is a no-op, not a duplicate-metric crash.
    s.source.attachMetrics(s.registry);
  });
});

describe('VIP discovery', () => {
  const names = (s: Setup) => s.source.discoveredTargets().map((t) => t.name);

  it('turns LoadBalancer Services into targets per ingress IP and TCP port, HTTP when annotated, live', async () => {
    const s = await setup({ discovery: { enabled: true, namespaces: [] } }, { staticTargets: [] });
    const found = s.source.discoveredTargets();
    expect(found).toEqual([
      {
        name: 'default.web:192.0.2.127:80', address: '192.0.2.127', port: 80, protocol: 'http', intervalMs: 2000, timeoutMs: 1000,
        service: 'default/web', origin: 'discovered',
        http: { path: '/healthz', method: 'GET', headers: {}, expectStatus: [], maxBodyBytes: 65536, backendHeader: 'X-Backend-Node' },
      },
      { name: 'shop.api:192.0.2.128:443', address: '192.0.2.128', port: 443, protocol: 'tcp', intervalMs: 2000, timeoutMs: 1000, service: 'shop/api', origin: 'discovered' },
    ]);
    expect(s.source.viewFor(found[0]!)!.announcer?.node).toBe('node-1');

    let calls = 0;
    s.source.onTargetsChanged(() => calls++);
    await ioUntil(watching(s), 'watches open');
    const extra: KubeObject = {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'cache', namespace: 'shop', annotations: { 'vipwatch.io/protocol': 'udp' } },
      spec: { type: 'LoadBalancer', ports: [{ protocol: 'TCP', port: 6379 }] }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.129' }] } },
    };
    s.api.apply(extra);
    await ioUntil(() => names(s).includes('shop.cache:192.0.2.129:6379'), 'added');
    expect(calls).toBe(1);
    expect(s.source.discoveredTargets().find((t) => t.name.startsWith('shop.cache'))!.protocol).toBe('tcp');
    expect(s.logs.filter((l) => l.msg === 'bad vipwatch annotation on a discovered Service')).toEqual([
      expect.objectContaining({ service: 'shop/cache', problem: 'vipwatch.io/protocol must be tcp, http or https, got "udp"; probing over TCP' }),
    ]);
    // A status-only update that changes nothing does not fire.
    s.api.apply(extra);
    s.api.remove('Service', 'default', 'web');
    await ioUntil(() => !names(s).includes('default.web:192.0.2.127:80'), 'removed');
    expect(calls).toBe(2);
    expect(names(s)).toEqual(['shop.api:192.0.2.128:443', 'shop.cache:192.0.2.129:6379']);
    expect(s.logs.filter((l) => l.msg === 'bad vipwatch annotation on a discovered Service')).toHaveLength(1);
  });

  it('honours labelSelector and namespaces, and leaves an address:port that a static target probes alone', async () => {
    const s = await setup({ discovery: { enabled: true, labelSelector: 'vipwatch in (on, yes)', namespaces: ['default', 'shop'] } }, { staticTargets: [] });
    expect(names(s)).toEqual(['default.web:192.0.2.127:80']);
    s.source.setStaticTargets([WEB]);
    expect(names(s)).toEqual([]);
    const t = await setup({ discovery: { enabled: true, namespaces: ['shop'] } }, { staticTargets: [] });
    expect(names(t)).toEqual(['shop.api:192.0.2.128:443']);
  });
});

describe('announcer from the neighbour table', () => {
  function arpFile(): string {
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-arp-'));
    copyFileSync(join(FIXTURES, 'arp-table.txt'), join(dir, 'arp'));
    return join(dir, 'arp');
  }

  it('matches the VIP MAC against Node InternalIP MACs, falls back to it without MetalLB sources, and records MAC changes', async () => {
    const file = arpFile();
    const s = await setup({ arp: { enabled: true, file, intervalMs: 5000 } }, {
      before: (api) => {
        api.fail('servicel2statuses', 403);
        api.fail('events', 403);
      },
    });
    await ioUntil(() => s.source.viewFor(WEB)?.arp?.macs.length === 1, 'first ARP read');
    const view = s.source.viewFor(WEB)!;
    expect(view.arp).toEqual({ macs: ['52:54:00:00:00:12'], nodes: ['node-2'], changes: [] });
    expect(view.announcer).toEqual({ node: 'node-2', source: 'arp', since: START });
    expect(view.stale).toBe(false); // disabled optional sources do not make the view stale
    expect(s.source.resources().find((r) => r.resource === 'servicel2statuses')!.state).toBe('disabled');
    expect(s.logs.filter((l) => l.msg.startsWith('kubernetes source disabled')).map((l) => l.resource).sort()).toEqual(['events', 'servicel2statuses']);
    expect(await s.registry.metrics()).toContain('vipwatch_kube_up{resource="servicel2statuses"} 0');

    writeFileSync(file, readFileSync(file, 'utf8').replace(/192\.0\.2\.127(\s+0x1\s+0x2\s+)52:54:00:00:00:12/, '192.0.2.127$152:54:00:00:00:13'));
    await s.clock.advance(5000);
    await ioUntil(() => s.source.viewFor(WEB)!.arp!.changes.length === 1, 'MAC change seen');
    const moved = s.source.viewFor(WEB)!;
    expect(moved.arp!.changes).toEqual([{ at: START + 5000, ip: '192.0.2.127', from: ['52:54:00:00:00:12'], to: ['52:54:00:00:00:13'], fromNodes: ['node-2'], toNodes: ['node-3'] }]);
    expect(moved.announcer).toEqual({ node: 'node-3', source: 'arp', since: START + 5000 });
    expect(s.logs.find((l) => l.msg === 'VIP MAC changed (failover or split brain)')).toMatchObject({ level: 'warn', vip: '192.0.2.127', toNodes: ['node-3'] });
  });

  it('records on each attempt the VIP\'s MAC when it started, read fresh, and marks an attempt the entry flipped under as unsteady', async () => {
    const file = arpFile();
    const s = await setup({ arp: { enabled: true, file, intervalMs: 5000 } });
    await ioUntil(() => s.source.viewFor(WEB)?.arp?.macs.length === 1, 'first ARP read');
    const first = s.source.snapshot(WEB);
    expect(first.context!.neighbour).toEqual({ macs: ['52:54:00:00:00:12'], nodes: ['node-2'], steady: true });
    await s.clock.advance(300);
    expect(first.contextAtEnd!()).toBe(first.context); // the entry held: the very context recorded

    const during = s.source.snapshot(WEB);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/192\.0\.2\.127(\s+0x1\s+0x2\s+)52:54:00:00:00:12/, '192.0.2.127$152:54:00:00:00:13'));
    await s.clock.advance(400); // well inside the 5 s poll: only the attempts' own reads can see the flip
    const ended = during.contextAtEnd!();
    expect(ended!.neighbour).toEqual({ macs: ['52:54:00:00:00:12'], nodes: ['node-2'], steady: false });
    expect({ ...ended, neighbour: undefined }).toEqual({ ...during.context, neighbour: undefined });

    const after = s.source.snapshot(WEB);
    expect(after.context!.neighbour).toEqual({ macs: ['52:54:00:00:00:13'], nodes: ['node-3'], steady: true });
    expect(s.source.viewFor(WEB)!.arp!.changes).toEqual([{ at: START + 700, ip: '192.0.2.127', from: ['52:54:00:00:00:12'], to: ['52:54:00:00:00:13'], fromNodes: ['node-2'], toNodes: ['node-3'] }]);
  });

  it('names a MAC no InternalIP neighbour entry has through the node agents\' MACs, and leaves an unknown MAC without a node', async () => {
    const file = arpFile();
    const s = await setup({ arp: { enabled: true, file, intervalMs: 5000 } });
    s.source.setMacOwners!((mac) => (mac === '02:00:00:00:00:aa' ? ['node-3'] : []));
    writeFileSync(file, readFileSync(file, 'utf8').replace(/192\.0\.2\.127(\s+0x1\s+0x2\s+)52:54:00:00:00:12/, '192.0.2.127$102:00:00:00:00:aa'));
    await s.clock.advance(1000); // past any read spacing
    expect(s.source.snapshot(WEB).context!.neighbour).toEqual({ macs: ['02:00:00:00:00:aa'], nodes: ['node-3'], steady: true });
    writeFileSync(file, readFileSync(file, 'utf8').replace('02:00:00:00:00:aa', '02:00:00:00:00:bb'));
    await s.clock.advance(1000); // past any read spacing
    expect(s.source.snapshot(WEB).context!.neighbour).toEqual({ macs: ['02:00:00:00:00:bb'], nodes: [], steady: true });
  });

  it('keeps ServiceL2Status as the announcer when it is available, with ARP as separate evidence', async () => {
    const s = await setup({ arp: { enabled: true, file: arpFile(), intervalMs: 5000 } });
    await ioUntil(() => s.source.viewFor(WEB)?.arp?.macs.length === 1, 'first ARP read');
    // The VIP answers with node-2's MAC while MetalLB says node-1: evidence for diagnosis, not overwritten.
    expect(s.source.viewFor(WEB)).toMatchObject({ announcer: { node: 'node-1', source: 'servicel2status' }, arp: { nodes: ['node-2'] } });
  });
});

describe('degradation and recovery', () => {
  it('API down: views keep the last data, turn stale, never throw; after a restart they recover within the backoff cap', async () => {
    const s = await setup({ backoff: { initialMs: 1000, maxMs: 8000 } });
    await ioUntil(watching(s), 'watches open');
    await s.api.stop();
    await stepUntil(s.clock, () => s.source.snapshot(WEB).context!.stale, { what: 'stale' });
    await s.clock.advance(30_000);
    const ctx = s.source.snapshot(WEB).context!;
    expect(ctx).toMatchObject({ stale: true, announcerNode: 'node-1', endpointsPerNode: { 'node-1': 1, 'node-2': 1, 'node-3': 1 } });
    expect(ctx.metadataAgeMs).toBeGreaterThanOrEqual(30_000);
    expect(await s.registry.metrics()).toContain('vipwatch_kube_up{resource="services"} 0');
    await s.api.start();
    const ms = await stepUntil(s.clock, () => !s.source.snapshot(WEB).context!.stale && s.source.resources().every((r) => r.state === 'synced'), { what: 'recovered' });
    expect(ms).toBeLessThanOrEqual(8000);
    // Each resource re-confirmed when its own retry came due, all within the cap.
    expect(s.source.snapshot(WEB).context!.metadataAgeMs).toBeLessThanOrEqual(ms);
  });

  it('410 for every resource at once: all relist, nothing goes missing', async () => {
    const s = await setup();
    await ioUntil(watching(s), 'watches open');
    const before = s.source.viewFor(WEB);
    s.api.expire({ answer: 'event' });
    await ioUntil(() => s.api.requests.filter((r) => !r.watch).length === 10 && watching(s)(), 'relisted');
    expect(s.source.viewFor(WEB)).toEqual(before);
  });

  it('a silent stall makes views stale by age first, then by the watch deadline', async () => {
    const s = await setup({ watchTimeoutMs: 20_000, staleAfterMs: 21_000 });
    await ioUntil(watching(s), 'watches open');
    s.api.stall();
    await s.clock.advance(21_000);
    expect(s.source.resources().every((r) => r.state === 'synced')).toBe(true);
    expect(s.source.snapshot(WEB).context!.stale).toBe(false);
    await s.clock.advance(1);
    expect(s.source.snapshot(WEB).context).toMatchObject({ stale: true, metadataAgeMs: 21_001 });
    await s.clock.advance(20_000 + WATCH_GRACE_MS - 21_001 - 1);
    expect(s.source.resources().every((r) => r.state === 'synced')).toBe(true);
    await s.clock.advance(1);
    await ioUntil(() => s.source.resources().every((r) => r.state === 'failing'), 'every watch past its deadline');
    expect(s.clock.now() - START).toBe(20_000 + WATCH_GRACE_MS);
  });

  it('403 on Services makes views stale and drops their data; 401 everywhere is retried, not fatal', async () => {
    const s = await setup({}, { before: (api) => api.fail('services', 403) });
    expect(s.source.viewFor(WEB)).toMatchObject({ stale: true, serviceFound: false, endpointsPerNode: { 'node-1': 1 } });
    expect(s.source.viewFor(API)).toBeUndefined(); // no Services known, so no ingress IP to link by
    const t = await setup({}, { before: (api) => (api.tokens = new Set(['required'])) });
    expect(t.source.resources().map((r) => r.state)).toEqual(['failing', 'failing', 'failing', 'failing', 'failing']);
    expect(t.source.snapshot(WEB).context).toMatchObject({ stale: true, metadataAgeMs: undefined, endpointsPerNode: {} });
    expect(t.logs.filter((l) => l.level === 'warn').every((l) => l.code === 'VIPWATCH_KUBE_UNAUTHORIZED')).toBe(true);
  });
});

describe('createClusterSource', () => {
  it('without kubernetes: no attempt context, pinned announcer and target info only', async () => {
    const registry = new Registry();
    const source = createClusterSource({ config: kubeConfig({ enabled: false }), defaults: { intervalMs: 2000, timeoutMs: 1000 }, staticTargets: [WEB, PINNED], registry });
    await source.start(new AbortController().signal);
    expect(source.snapshot(WEB).context).toBeUndefined();
    expect(source.viewFor(WEB)).toBeUndefined();
    expect(source.viewFor(PINNED)!.announcer).toEqual({ node: 'node-9', source: 'config' });
    expect(source.snapshot(WEB).nodeOf('node-1')).toBeUndefined();
    expect(source.discoveredTargets()).toEqual([]);
    const text = await registry.metrics();
    expect(text).toContain('vipwatch_target_info{target="web",address="192.0.2.127",port="80",service="default/web"} 1');
    expect(text).toContain('vipwatch_announcer_info{target="pinned",node="node-9",source="config"} 1');
  });

  it('a kubeconfig that cannot be used is a clear error at creation, before any network', () => {
    expect(() => createClusterSource({ config: kubeConfig({ kubeconfig: '/nonexistent/kubeconfig' }), defaults: { intervalMs: 2000, timeoutMs: 1000 } }))
      .toThrow(expect.objectContaining({ code: 'VIPWATCH_KUBECONFIG_INVALID', message: '/nonexistent/kubeconfig: cannot read: ENOENT' }));
  });
});
