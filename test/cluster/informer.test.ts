import { afterEach, describe, expect, it } from 'vitest';
import { WATCH_GRACE_MS, type InformerTiming } from '../../src/cluster/informer.js';
import type { KubeObject } from '../support/fake-kube-api.js';
import { ioUntil, stepUntil } from './helpers.js';
import { informerHarness, synced, type Harness } from './informer-harness.js';

const svc = (name: string, ip = '192.0.2.50', ns = 'default'): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns },
  spec: { type: 'LoadBalancer', ports: [{ protocol: 'TCP', port: 80 }], externalTrafficPolicy: 'Cluster' },
  status: { loadBalancer: { ingress: [{ ip }] } },
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const harness = (timing: Partial<InformerTiming> = {}, random = () => 1, seed = true): Promise<Harness> =>
  informerHarness(cleanups, { timing, random, seed });

describe('Informer: list then watch', () => {
  it('lists, watches from the list resourceVersion with bookmarks, and applies ADDED/MODIFIED/DELETED', async () => {
    const h = await harness();
    await ioUntil(synced(h), 'first sync');
    expect([...h.store.values()].map((s) => s.meta.name).sort()).toEqual(['api', 'db', 'web']);
    const list = h.api.requestsFor('services', 'list')[0]!;
    expect(list.query.limit).toBe('500');
    const watch = h.api.requestsFor('services', 'watch')[0]!;
    expect(watch.query).toMatchObject({ resourceVersion: h.api.resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: '60', watch: '1' });

    h.api.apply(svc('extra'));
    await ioUntil(() => h.store.get('default/extra') !== undefined, 'ADDED');
    h.api.apply(svc('extra', '192.0.2.51'));
    await ioUntil(() => h.store.get('default/extra')?.ingressIps[0] === '192.0.2.51', 'MODIFIED');
    h.api.remove('Service', 'default', 'extra');
    await ioUntil(() => h.store.get('default/extra') === undefined, 'DELETED');
    expect(h.informer.status().lastSyncAt).toBe(h.clock.now());
  });

  it('follows BOOKMARKs: the next watch resumes from the bookmark, and a clean end re-confirms without relisting', async () => {
    const h = await harness();
    await ioUntil(synced(h), 'first sync');
    // Changes elsewhere move the resourceVersion; the bookmark carries it.
    h.api.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-9' }, status: { addresses: [] } });
    await h.clock.advance(30_000);
    expect(h.api.bookmark('services')).toBe(1);
    await ioUntil(() => h.informer.status().lastSyncAt === h.clock.now(), 'bookmark confirmed');
    h.api.endWatches('services');
    await ioUntil(() => h.api.requestsFor('services', 'watch').length === 2 && h.api.openWatches('services') === 1, 'rewatch');
    expect(h.api.requestsFor('services', 'watch')[1]!.query.resourceVersion).toBe(h.api.resourceVersion);
    expect(h.api.requestsFor('services', 'list')).toHaveLength(1);
  });

  it('pages large lists with limit/continue', async () => {
    const h = await harness({}, () => 1, false);
    for (let i = 0; i < 1100; i++) h.api.apply(svc(`s${i}`));
    await ioUntil(synced(h), 'first sync');
    const lists = h.api.requestsFor('services', 'list');
    expect(lists).toHaveLength(3);
    expect(lists[1]!.query.continue).toBeTruthy();
    expect(h.store.size).toBe(1100);
  });
});

describe('Informer: 410 Gone', () => {
  it('relists when a watch is answered with HTTP 410, and keeps changes made meanwhile', async () => {
    const h = await harness();
    await ioUntil(synced(h), 'first sync');
    await h.clock.advance(5000); // a watch that lived (an instant one is the early-end fault below)
    h.api.expire({ answer: 'http', openWatches: false });
    h.api.cutWatches();
    h.api.apply(svc('during-gap'));
    h.api.remove('Service', 'default', 'db');
    const fakeMs = await stepUntil(h.clock, () => h.api.requestsFor('services', 'list').length === 2 && synced(h)(), { what: 'relist after 410' });
    expect(fakeMs).toBeLessThanOrEqual(1000); // one backoff step for the cut; the 410 itself relists at once
    const watches = h.api.requestsFor('services', 'watch');
    expect(watches.at(-1)!.query.resourceVersion).toBe(h.api.resourceVersion);
    expect(h.store.get('default/during-gap')).toBeDefined();
    expect(h.store.get('default/db')).toBeUndefined();
  });

  it('relists at once on an ERROR event with code 410 in an open stream', async () => {
    const h = await harness();
    await ioUntil(synced(h), 'first sync');
    h.api.apply(svc('late'));
    h.api.expire({ answer: 'event' });
    // No fake time passes: the relist is immediate.
    await ioUntil(() => h.api.requestsFor('services', 'list').length === 2 && synced(h)(), 'relist after ERROR event');
    expect(h.store.get('default/late')).toBeDefined();
    expect(h.logs.some((l) => l.msg === 'kubernetes resourceVersion expired; relisting')).toBe(true);
    expect(h.logs.filter((l) => l.level === 'warn')).toHaveLength(0);
  });

  it('relists when a new watch gets 200 followed by an ERROR 410 event', async () => {
    const h = await harness();
    await ioUntil(synced(h), 'first sync');
    await h.clock.advance(5000);
    h.api.expire({ answer: 'event', openWatches: false });
    h.api.endWatches();
    await ioUntil(() => h.api.requestsFor('services', 'list').length === 2 && synced(h)(), 'relist');
    expect(h.api.requestsFor('services', 'watch').length).toBe(3);
  });
});

describe('Informer: broken streams', () => {
  it('a watch cut mid-stream is resumed from the last resourceVersion after a backoff, replaying missed events', async () => {
    const h = await harness();
    await ioUntil(synced(h), 'first sync');
    await h.clock.advance(5000);
    h.api.cutWatches();
    await ioUntil(() => h.informer.status().state === 'failing', 'failing');
    h.api.apply(svc('missed'));
    const fakeMs = await stepUntil(h.clock, synced(h), { what: 'resumed' });
    expect(fakeMs).toBe(1000); // first backoff step (random pinned to 1)
    await ioUntil(() => h.store.get('default/missed') !== undefined, 'replayed event');
    expect(h.api.requestsFor('services', 'list')).toHaveLength(1);
    expect(h.logs.filter((l) => l.msg === 'kubernetes source failing; retrying with backoff')).toHaveLength(1);
    expect(h.logs.some((l) => l.msg === 'kubernetes source recovered')).toBe(true);
  });

  it('notices a silently stalled watch at its deadline, then recovers once the server answers again', async () => {
    const h = await harness({ watchTimeoutMs: 10_000 });
    await ioUntil(synced(h), 'first sync');
    h.api.stall('services');
    h.api.apply(svc('while-stalled'));
    const noticed = await stepUntil(h.clock, () => h.informer.status().state === 'failing', { stepMs: 500, what: 'stall noticed' });
    expect(noticed).toBe(10_000 + WATCH_GRACE_MS);
    expect(h.informer.status().lastError).toMatch(/no answer within 15000ms/);
    expect(h.store.get('default/while-stalled')).toBeUndefined();
    h.api.unstall();
    // The retry that hung during the stall ends at its own deadline; the next one succeeds.
    await stepUntil(h.clock, synced(h), { stepMs: 500, maxFakeMs: 15_000 + 8000, what: 'recovered' });
    await ioUntil(() => h.store.get('default/while-stalled') !== undefined, 'replayed');
  });

  it('a stalled list times out on the injected clock', async () => {
    const h = await harness({ requestTimeoutMs: 3000 });
    h.api.stall('services');
    const ms = await stepUntil(h.clock, () => h.informer.status().state === 'failing', { what: 'list timeout' });
    expect(ms).toBe(3000);
    expect(h.informer.status().lastError).toMatch(/GET \/api\/v1\/services: no answer within 3000ms/);
  });

  it('survives a restart of the API server and recovers within the backoff cap', async () => {
    const h = await harness();
    await ioUntil(synced(h), 'first sync');
    await h.api.stop();
    // Let it fail a few times with the server down, so the backoff grows to its cap.
    await stepUntil(h.clock, () => h.informer.status().state === 'failing');
    await h.clock.advance(20_000);
    expect(h.informer.status().state).toBe('failing');
    await h.api.start();
    h.api.apply(svc('after-restart'));
    const ms = await stepUntil(h.clock, synced(h), { what: 'recovered after restart' });
    expect(ms).toBeLessThanOrEqual(8000);
    await ioUntil(() => h.store.get('default/after-restart') !== undefined, 'event after restart');
  });
});

describe('Informer: error answers', () => {
  it('403 disables the resource with one log line, retries once per resync, and re-enables quietly', async () => {
    const h = await harness({ resyncIntervalMs: 60_000 });
    h.api.fail('services', 403);
    await ioUntil(() => h.informer.status().state === 'disabled', 'disabled');
    expect(h.informer.status().lastError).toMatch(/HTTP 403 Forbidden: services is forbidden/);
    const first = await stepUntil(h.clock, () => h.api.requestsFor('services', 'list').length === 2, { stepMs: 1000, what: 'retry after resync' });
    expect(first).toBe(60_000);
    await ioUntil(() => h.informer.status().lastError !== undefined && h.clock.pendingTimers() === 1, 'answer processed');
    const second = await stepUntil(h.clock, () => h.api.requestsFor('services', 'list').length === 3, { stepMs: 1000, what: 'second retry' });
    expect(second).toBe(60_000);
    const disabled = h.logs.filter((l) => l.msg.startsWith('kubernetes source disabled'));
    expect(disabled).toHaveLength(1);
    expect(disabled[0]).toMatchObject({ level: 'warn', resource: 'services', code: 'VIPWATCH_KUBE_FORBIDDEN' });
    h.api.clearFailures();
    await stepUntil(h.clock, synced(h), { stepMs: 1000, maxFakeMs: 60_000 });
    expect(h.store.size).toBe(3);
  });

  it('404 (CRD not installed) disables the same way', async () => {
    const h = await harness();
    h.api.fail('services', 404);
    await ioUntil(() => h.informer.status().state === 'disabled', 'disabled');
    expect(h.informer.status().lastError).toMatch(/HTTP 404 NotFound/);
  });

  it('500 and 401 back off exponentially with jitter up to the cap, then recover', async () => {
    const h = await harness({}, () => 1);
    h.api.fail('services', 500, { times: 4 });
    h.api.fail('services', 401, { times: 2 });
    const at: number[] = [];
    for (let n = 1; n <= 7; n++) {
      await stepUntil(h.clock, () => h.api.requestsFor('services', 'list').length >= n, { stepMs: 500, what: `request ${n}` });
      at.push(h.clock.monotonic());
    }
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(gaps).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    await ioUntil(synced(h), 'synced');
    expect(h.logs.filter((l) => l.level === 'warn')).toHaveLength(1);
  });

  it('jitter keeps every delay within [cap/2, cap]', async () => {
    const h = await harness({}, () => 0);
    h.api.fail('services', 500);
    const at: number[] = [];
    for (let n = 1; n <= 6; n++) {
      await stepUntil(h.clock, () => h.api.requestsFor('services', 'list').length >= n, { stepMs: 500 });
      at.push(h.clock.monotonic());
    }
    expect(at.slice(1).map((t, i) => t - at[i]!)).toEqual([500, 1000, 2000, 4000, 4000]);
  });
});

describe('Informer: resync', () => {
  it('relists after the resync interval when the current watch ends', async () => {
    const h = await harness({ resyncIntervalMs: 30_000 });
    await ioUntil(synced(h), 'first sync');
    await h.clock.advance(31_000);
    h.api.endWatches('services');
    await ioUntil(() => h.api.requestsFor('services', 'list').length === 2 && synced(h)(), 'resync relist');
  });
});
