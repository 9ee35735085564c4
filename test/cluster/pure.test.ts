import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArpTable } from '../../src/cluster/arp.js';
import { Backoff } from '../../src/lib/backoff.js';
import { discoverTargets } from '../../src/cluster/discovery.js';
import { matchesLabels, parseLabelSelector } from '../../src/lib/label-selector.js';
import { parseEndpointSlice, parseEvent, parseL2Status, parseService, type EventObj, type L2StatusObj } from '../../src/cluster/objects.js';
import { endpointsFromSlices, endpointsPerNode, resolveAnnouncer, viewVersion } from '../../src/cluster/view.js';
import { FIXTURES } from './helpers.js';

describe('label selectors', () => {
  it('parses and matches =, ==, !=, in, notin, exists and !exists', () => {
    const sel = parseLabelSelector('app=web, tier==front,env!=test,zone in (a, b),team notin (x),vipwatch,!skip');
    expect(sel).toHaveLength(7);
    const base = { app: 'web', tier: 'front', zone: 'a', vipwatch: '' };
    expect(matchesLabels(sel, base)).toBe(true);
    expect(matchesLabels(sel, { ...base, env: 'test' })).toBe(false);
    expect(matchesLabels(sel, { ...base, zone: 'c' })).toBe(false);
    expect(matchesLabels(sel, { ...base, team: 'x' })).toBe(false);
    expect(matchesLabels(sel, { ...base, skip: 'y' })).toBe(false);
    expect(matchesLabels(parseLabelSelector('example.com/tier=a'), { 'example.com/tier': 'a' })).toBe(true);
    expect(matchesLabels([], undefined)).toBe(true);
  });

  it.each([
    ['app=web,', 'empty requirement'],
    ['app in (a', 'cannot parse "app in (a"'],
    ['-bad=x', 'invalid label key "-bad"'],
    ['app=not valid', 'cannot parse "app=not valid"'],
  ])('rejects %j', (text, why) => {
    expect(() => parseLabelSelector(text)).toThrow(`invalid label selector ${JSON.stringify(text)}: ${why}`);
  });
});

describe('backoff', () => {
  it('doubles up to the cap, jittered within [d/2, d], and resets', () => {
    const hi = new Backoff(100, 1000, () => 1);
    expect([1, 2, 3, 4, 5, 6].map(() => hi.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    hi.reset();
    expect(hi.next()).toBe(100);
    const lo = new Backoff(100, 1000, () => 0);
    expect([1, 2, 3, 4, 5].map(() => lo.next())).toEqual([50, 100, 200, 400, 500]);
  });
});

describe('neighbour table', () => {
  it('parses /proc/net/arp and skips incomplete entries', () => {
    const entries = parseArpTable(readFileSync(join(FIXTURES, 'arp-table.txt'), 'utf8'));
    expect(entries).toHaveLength(6);
    expect(entries[3]).toEqual({ ip: '192.0.2.127', mac: '52:54:00:00:00:12', device: 'eth0' });
    expect(entries.some((e) => e.ip === '192.0.2.200')).toBe(false);
    expect(parseArpTable('')).toEqual([]);
  });
});

describe('endpoints', () => {
  it('counts a dual-stack pod once across its IPv4 and IPv6 slices; unready endpoints count 0 for their node', () => {
    const slice = (name: string, family: string, addr: (i: number) => string) => parseEndpointSlice({
      metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: family,
      endpoints: [1, 2].map((i) => ({
        addresses: [addr(i)], conditions: { ready: i === 1 }, nodeName: `node-${i}`, targetRef: { kind: 'Pod', namespace: 'default', name: `web-${i}` },
      })),
    })!;
    const eps = endpointsFromSlices([slice('web-v6', 'IPv6', (i) => `2001:db8::${i}`), slice('web-v4', 'IPv4', (i) => `10.0.0.${i}`)]);
    expect(eps.map((e) => [e.pod, e.addresses])).toEqual([['web-1', ['10.0.0.1', '2001:db8::1']], ['web-2', ['10.0.0.2', '2001:db8::2']]]);
    expect(endpointsPerNode(eps)).toEqual({ 'node-1': 1, 'node-2': 0 });
  });

  it('skips malformed objects instead of trusting them', () => {
    expect(parseService({ spec: {} })).toBeUndefined();
    expect(parseService({ metadata: { name: 'x' }, spec: { ports: [{ port: 'eighty' }] }, status: 'weird' })).toMatchObject({ ports: [], ingressIps: [] });
    expect(parseEndpointSlice(null)).toBeUndefined();
  });
});

describe('announcer resolution', () => {
  const l2 = (name: string, node: string, created: string): L2StatusObj =>
    parseL2Status({ metadata: { name, namespace: 'metallb-system', creationTimestamp: created, labels: { 'metallb.io/service-name': 'web', 'metallb.io/service-namespace': 'default' } }, status: { node } })!;
  const ev = (node: string, time: string, message = `announcing from node "${node}" with protocol "layer2"`): EventObj =>
    parseEvent({ metadata: { name: `web.${node}`, namespace: 'default' }, involvedObject: { kind: 'Service', namespace: 'default', name: 'web' }, reason: 'nodeAssigned', message, lastTimestamp: time })!;

  it('prefers the newest ServiceL2Status, then the newest nodeAssigned event (v0.12 wording too), then one ARP node, then config', () => {
    const events = [ev('node-2', '2026-01-01T00:00:00Z'), ev('node-3', '2026-01-01T00:05:00Z', 'announcing from node "node-3"')];
    const l2s = [l2('a', 'node-1', '2026-01-01T00:00:00Z'), l2('b', 'node-4', '2026-01-01T00:01:00Z')];
    expect(resolveAnnouncer({ l2Statuses: l2s, events, arpNodes: ['node-5'], pinned: 'node-6' })).toEqual({ node: 'node-4', source: 'servicel2status', since: Date.parse('2026-01-01T00:01:00Z') });
    expect(resolveAnnouncer({ l2Statuses: [], events, arpNodes: ['node-5'], pinned: 'node-6' })).toEqual({ node: 'node-3', source: 'event', since: Date.parse('2026-01-01T00:05:00Z') });
    expect(resolveAnnouncer({ l2Statuses: [], events: [], arpNodes: ['node-5'], arpSince: 7, pinned: 'node-6' })).toEqual({ node: 'node-5', source: 'arp', since: 7 });
    // Two nodes answering for the VIP is split brain: ARP names no announcer.
    expect(resolveAnnouncer({ l2Statuses: [], events: [], arpNodes: ['node-5', 'node-7'], pinned: 'node-6' })).toEqual({ node: 'node-6', source: 'config' });
    expect(resolveAnnouncer({ l2Statuses: [], events: [ev('x', '2026-01-01T00:00:00Z', 'something else')], arpNodes: [] })).toBeUndefined();
  });

  it('viewVersion depends on announcer and placement only', () => {
    const a = viewVersion({ announcer: { node: 'node-1', source: 'servicel2status' }, endpointsPerNode: { b: 1, a: 2 } });
    expect(viewVersion({ announcer: { node: 'node-1', source: 'event', since: 5 }, endpointsPerNode: { a: 2, b: 1 } })).toBe(a);
    expect(viewVersion({ announcer: { node: 'node-2', source: 'servicel2status' }, endpointsPerNode: { a: 2, b: 1 } })).not.toBe(a);
    expect(viewVersion({ announcer: { node: 'node-1', source: 'servicel2status' }, endpointsPerNode: { a: 1, b: 2 } })).not.toBe(a);
  });
});

describe('discovery', () => {
  const svc = (annotations: Record<string, string>, ingress: unknown[] = [{ ip: '192.0.2.90' }]) => parseService({
    metadata: { name: 's', namespace: 'n', annotations },
    spec: { type: 'LoadBalancer', ports: [{ protocol: 'TCP', port: 443 }] },
    status: { loadBalancer: { ingress } },
  })!;
  const run = (s: ReturnType<typeof svc>[], warnings: string[] = []) =>
    discoverTargets(s, { selector: [], namespaces: [], defaults: { intervalMs: 500, timeoutMs: 2000 }, taken: () => false, warn: (_s, m) => warnings.push(m) });

  it('https when annotated; bad path and header annotations fall back with a warning; hostname-only ingress is skipped', () => {
    const warnings: string[] = [];
    const [t] = run([svc({ 'vipwatch.io/protocol': 'https', 'vipwatch.io/path': 'health', 'vipwatch.io/backend-header': 'Bad Header' })], warnings);
    expect(t).toMatchObject({ protocol: 'https', intervalMs: 500, timeoutMs: 500, http: { path: '/' }, tls: { insecureSkipVerify: false } });
    expect(t!.http!.backendHeader).toBeUndefined();
    expect(warnings).toEqual([
      'vipwatch.io/path must start with "/", got "health"; using "/"',
      'vipwatch.io/backend-header is not a valid HTTP header name: "Bad Header"',
    ]);
    expect(run([svc({}, [{ hostname: 'lb.example.com' }])])).toEqual([]);
  });

  it('a path annotation undici would refuse (a space) falls back to "/" with a warning instead of a target never probed', () => {
    const warnings: string[] = [];
    const [t] = run([svc({ 'vipwatch.io/protocol': 'http', 'vipwatch.io/path': '/health check' })], warnings);
    expect(t!.http!.path).toBe('/');
    expect(warnings).toEqual([expect.stringMatching(/^vipwatch\.io\/path contains U\+0020 .* at character 8 \(percent-encode it\); using "\/"$/)]);
  });
});
