/**
 * The status page tells the story of an asymmetric-routing incident, in a real browser (Debian's Chromium) against the
 * real App: real probes over loopback, a fake Kubernetes API with real-shaped objects, the real diagnosis and incidents.
 *
 * The VIP: three loopback HTTP servers answer as node-1..3 (X-Node header). The App is given, as its http prober, a
 * stand-in for kube-proxy: it picks the node per connection (round robin) and hands the real HttpProber that node's
 * port. node-2 "breaks" like a node with strict rp_filter: its connections go to a listener whose accept queue is full,
 * so the kernel drops the SYN and the attempt is a real connect timeout (test/support/net-backlog.ts). Fixing it sends
 * node-2's connections to its server again.
 *
 * Screenshots (test-artifacts/status-story/): open-1280.png, open-390.png, resolved-1280.png, resolved-390.png,
 * kernel-390.png; docs/status-page.png is the resolved story at 1280 px (the README's picture).
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { Incident } from '../../src/incidents/types.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createProbers } from '../../src/probe/registry.js';
import type { Prober, ProbeResult, ProbeSpec } from '../../src/probe/types.js';
import { CHROMIUM, hasChromium, launchChromium } from '../support/browser.js';
import { FakeKubeApi, type KubeObject } from '../support/fake-kube-api.js';
import { fullBacklogListener, hasPython3, type FullBacklog } from '../support/net-backlog.js';
import { needTools, tool } from '../support/tools.js';
import { waitFor } from '../support/wait.js';

const tools = needTools('status story test',
  tool('chromium', () => (hasChromium() ? undefined : `${CHROMIUM} is not installed (apt-get install chromium)`)),
  tool('python3', () => (hasPython3() ? undefined : 'python3 is not installed (the full-accept-queue listener)')));

const ARTIFACTS = join('test-artifacts', 'status-story');
/**
 * The README's picture is written to the artifacts on every run and over docs/status-page.png only when
 * VIPWATCH_UPDATE_DOCS=1: a test run must not change a committed file.
 */
const README_PNG = process.env.VIPWATCH_UPDATE_DOCS === '1' ? join('docs', 'status-page.png') : join(ARTIFACTS, 'readme-status-page.png');
const NODES = ['node-1', 'node-2', 'node-3'] as const;

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

/** kube-proxy's part: each new connection to the VIP goes to the next node; node-2's go nowhere while it is broken. */
class KubeProxyStandIn implements Prober {
  broken = false;
  private next = 0;
  constructor(private readonly real: Prober, private readonly ports: Record<string, number>, private readonly blackhole: () => number) {}

  probe(spec: ProbeSpec, signal: AbortSignal): Promise<ProbeResult> {
    const node = NODES[this.next++ % NODES.length]!;
    const port = node === 'node-2' && this.broken ? this.blackhole() : this.ports[node]!;
    return this.real.probe({ ...spec, port }, signal);
  }
}

describe.skipIf(tools.skip)('the status page tells the story of an asymmetric-routing incident (real App, real browser)', () => {
  let servers: Server[] = [];
  let backlog: FullBacklog;
  let api: FakeKubeApi;
  let app: App;
  let proxy: KubeProxyStandIn;
  let browser: Browser;
  let base: string;
  let dir: string;
  const marks: Record<string, number> = {};

  const incidents = async (): Promise<Incident[]> => ((await (await fetch(`${base}api/v1/incidents`)).json()) as { incidents: Incident[] }).incidents;

  beforeEach(() => tools.check());
  beforeAll(async () => {
    if (tools.missing) return;
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'vipwatch-story-'));
    const ports: Record<string, number> = {};
    for (const node of NODES) {
      const s = createServer((_req, res) => res.writeHead(200, { 'x-node': node, connection: 'close' }).end(`{"node":"${node}"}`));
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      ports[node] = (s.address() as AddressInfo).port;
      servers.push(s);
    }
    backlog = await fullBacklogListener('127.0.0.1');
    api = new FakeKubeApi();
    await api.start();
    // The VIP's port is node-1's (the target and the Service must agree; the stand-in picks the real port).
    const vipPort = ports['node-1']!;
    for (const o of objects(vipPort, 'node-3')) api.apply(o);
    const config = parseConfig(`
server: { listen: "127.0.0.1:0" }
state: { dir: ${JSON.stringify(join(dir, 'state'))} }
targets:
  - { name: web, address: 127.0.0.1, port: ${vipPort}, protocol: http, interval: 500ms, timeout: 450ms, service: default/web, http: { backendHeader: X-Node } }
kubernetes:
  apiServer: "${api.url}"
  backoff: { initial: 100ms, max: 1s }
diagnosis: { window: 30s, openAfter: 0s, marginalHold: 2s, resolveAfter: 3s, reopenWithin: 0s, burst: { cooldown: 10s } }
`, join(dir, 'vipwatch.yaml'), { env: {} });
    const real = createProbers();
    proxy = new KubeProxyStandIn(real.http, ports, () => backlog.port);
    app = new App({ config, logger: silentLogger, probers: { ...real, http: proxy } });
    base = `http://127.0.0.1:${(await app.start()).port}/`;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await api?.stop();
    await backlog?.close();
    for (const s of servers) s.close();
    servers = [];
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Opens the page at a width and waits for the target's chart (the last hour) to be drawn. */
  async function open(width: number): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: width > 500 ? 1000 : 800 } });
    await page.goto(base);
    const card = page.locator('details.target[data-target="web"]');
    await card.locator('svg.chart').waitFor({ timeout: 10_000 });
    expect(await card.locator('button[data-range="1h"].on').count()).toBe(1);
    return page;
  }

  async function noSideways(page: Page, width: number): Promise<void> {
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
  }

  it('healthy first: every node serves, node-3 announces, then node-1 takes the VIP over', async () => {
    await waitFor(() => {
      const h = app.scheduler.history('web');
      const counts = h?.nodeCounts(undefined) ?? {};
      return NODES.every((n) => (counts[n]?.successes ?? 0) >= 3) && h?.announcers.current() === 'node-3';
    }, { what: 'all three nodes serving under node-3' });
    marks.failover = Date.now();
    api.apply(l2status('node-1'));
    await waitFor(() => app.scheduler.history('web')?.announcers.current() === 'node-1', { what: 'node-1 announcing' });
    await waitFor(() => (app.scheduler.history('web')?.recent().filter((a) => a.cluster?.announcerNode === 'node-1').length ?? 0) >= 6, { what: 'attempts under node-1' });
  });

  it('node-2 drops the SYNs: an asymmetric_routing incident opens naming node-2, and the page shows it at 1280 and 390 px', async () => {
    marks.broken = Date.now();
    proxy.broken = true;
    const incident = await waitFor(async () => (await incidents()).find((i) => i.status === 'open' && i.kind === 'asymmetric_routing'), { what: 'the asymmetric_routing incident', timeoutMs: 60_000, intervalMs: 250 });
    expect(incident.suspectedNodes).toEqual(['node-2']);

    for (const width of [1280, 390]) {
      const page = await open(width);
      const card = page.locator(`.incident[data-incident="${incident.id}"]`);
      await card.waitFor({ timeout: 10_000 });
      expect(await card.locator('h3').textContent()).toMatch(/asymmetric_routing on web .*node-2/);
      expect(await card.locator('.suspects').textContent()).toBe('node-2');
      expect(await card.locator('table.nodes tr.error td').first().textContent()).toMatch(/^node-2/);
      expect(await card.locator('.remediation li').count()).toBeGreaterThan(0);
      expect(await card.locator('.evidence li').count()).toBeGreaterThan(0);
      const target = page.locator('details.target[data-target="web"]');
      expect(await target.locator('summary .badge').textContent()).toBe('degraded');
      expect(await target.locator('summary .announcer').textContent()).toBe('node-1');
      expect(await target.locator('summary .error').textContent()).toBe('incident open');
      // The chart: failed buckets and the open incident's span; the announcer lane: node-3 then node-1.
      await waitFor(async () => (await target.locator('svg.chart rect.fail').count()) > 0, { what: 'failed buckets drawn' });
      expect(await target.locator('svg.chart rect.span').count()).toBe(1);
      expect(await target.locator('svg.chart line.change').count()).toBe(1);
      // (before the first cluster view, attempts knew no announcer: a grey segment, data-node "")
      expect((await target.locator('svg.lane rect.ann').evaluateAll((els) => els.map((e) => e.getAttribute('data-node')))).filter(Boolean)).toEqual(['node-3', 'node-1']);
      expect(await target.locator('.announcers').textContent()).toMatch(/node-3 since .*→.*node-1 since /);
      // The node bars: node-2 failed (suspected), the others served.
      const bar = (n: string) => target.locator(`.nodebar[data-node="${n}"]`);
      await waitFor(async () => /[1-9]\d* failed/.test((await bar('node-2').textContent()) ?? ''), { what: 'node-2 failures in the bars' });
      expect(await bar('node-2').locator('.tag.suspect').count()).toBe(1);
      expect(await bar('node-1').locator('.tag').first().textContent()).toBe('announcer');
      expect(await bar('node-1').textContent()).toMatch(/[1-9]\d* ok · 0 failed/);
      expect(await target.locator('.reasons').textContent()).toContain('connect_timeout');
      await noSideways(page, width);
      await page.screenshot({ path: join(ARTIFACTS, `open-${width}.png`), fullPage: true });
      await page.close();
    }
  }, 120_000);

  it('fixed: the incident resolves with its duration and verification, and the story stays on the chart (1280 and 390 px)', async () => {
    marks.fixed = Date.now();
    proxy.broken = false;
    const incident = await waitFor(async () => (await incidents()).find((i) => i.status === 'resolved' && i.kind === 'asymmetric_routing'), { what: 'the resolve', timeoutMs: 60_000, intervalMs: 250 });
    expect(incident.verification?.nodesServing).toEqual(expect.arrayContaining([...NODES]));
    // The pictures wait for the 1-minute status to read healthy again: the end of the story.

    for (const width of [1280, 390]) {
      const page = await open(width);
      const card = page.locator(`#resolved .incident[data-incident="${incident.id}"]`);
      await card.waitFor({ timeout: 10_000 });
      expect(await page.locator('#incidents').textContent()).toContain('No open incident.');
      expect(await card.locator('h3').textContent()).toMatch(/resolved asymmetric_routing on web .*node-2/);
      expect(await card.locator('.duration').textContent()).toMatch(/^lasted \d+ (s|min)/);
      expect(await card.locator('.verification').textContent()).toMatch(/every node served again \(backend identity\).*serving: .*node-2/);
      const target = page.locator('details.target[data-target="web"]');
      await waitFor(async () => (await target.locator('summary .badge').textContent()) === 'healthy', { what: 'healthy badge', timeoutMs: 90_000, intervalMs: 250 });
      await waitFor(async () => (await target.locator('svg.chart rect.fail').count()) > 0, { what: 'failed buckets drawn' });
      // One incident in the story: a second span would be another incident (say which, if one appears).
      const story = (await incidents()).map((i) => `${i.kind} ${i.status} ${i.startedAt}${i.resolvedAt ? ` -> ${i.resolvedAt}` : ''}: ${i.summary}`);
      expect(await target.locator('svg.chart rect.span').count(), story.join('\n')).toBe(1);
      expect((await target.locator('svg.lane rect.ann').evaluateAll((els) => els.map((e) => e.getAttribute('data-node')))).filter(Boolean)).toEqual(['node-3', 'node-1']);
      await noSideways(page, width);
      await page.screenshot({ path: join(ARTIFACTS, `resolved-${width}.png`), fullPage: true });
      if (width === 1280) {
        // The README's picture: the viewport (the whole story fits), small enough to commit.
        await page.screenshot({ path: README_PNG, clip: { x: 0, y: 0, width: 1280, height: await page.evaluate<number>('Math.min(1000, document.documentElement.scrollHeight)') } });
        expect(statSync(README_PNG).size).toBeLessThan(150_000);
      }
      await page.close();
    }
  }, 240_000);

  it('renders a node agent\'s kernel evidence in the incident card (strict interfaces, rp_filter, drops), at 390 px', async () => {
    // The App does not gather kernel evidence without node agents: the page's own renderer is given the real resolved
    // incident with a `kernel` section of the KernelNodeEvidence shape (src/incidents/types.ts).
    const [real] = (await incidents()).filter((i) => i.kind === 'asymmetric_routing');
    const page = await open(390);
    await page.locator('#resolved .incident').first().waitFor({ timeout: 10_000 });
    const kernel = {
      'node-2': { agent: 'ok', readAt: new Date().toISOString(), interfaces: { eth0: { rpFilter: { all: 1, default: 1, interface: 0, effective: 1 } }, eth1: { rpFilter: { all: 1, default: 1, interface: 1, effective: 1 } } }, strictInterfaces: ['eth0', 'eth1'], reversePathDrops: 1234, reversePathDropsSinceOpen: 57, lastRiseAt: new Date(Date.now() - 90_000).toISOString() },
      'node-1': { agent: 'unreachable', interfaces: {}, strictInterfaces: [], reversePathDrops: null, reversePathDropsSinceOpen: null, error: 'connect ECONNREFUSED 192.0.2.11:9465' },
    };
    await page.evaluate(({ incident }) => {
      // (browser globals, typed here: the test's tsconfig has no DOM library)
      const w = globalThis as unknown as { vipwatchStatus: { openIncidentCard: (i: unknown) => string }; document: { getElementById(id: string): { insertAdjacentHTML(where: string, html: string): void } } };
      w.document.getElementById('incidents').insertAdjacentHTML('afterbegin', w.vipwatchStatus.openIncidentCard({ ...incident, status: 'open', id: 'kernel-sample' }));
    }, { incident: { ...real!, kernel } });
    const card = page.locator('.incident[data-incident="kernel-sample"]');
    const row = (n: string) => card.locator(`table.kernel tr[data-node="${n}"]`);
    expect(await row('node-2').textContent()).toMatch(/^node-2ok read .*eth0 strict \(all 1, interface 0, effective 1\)eth1 strict \(all 1, interface 1, effective 1\)57last rise .* \(1 min ago\)$/);
    expect(await row('node-1').textContent()).toMatch(/unreachable.*ECONNREFUSED.*none–$/);
    await noSideways(page, 390);
    await card.screenshot({ path: join(ARTIFACTS, 'kernel-390.png') });
    await page.close();
  });
});
