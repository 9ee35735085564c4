/**
 * Issue 9, item 4: a broken API server or proxy never makes vipwatch hammer it, eat memory or flood the log.
 * Every fault is served for real by the fake API on 127.0.0.1; time is the fake clock's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { credentialSource } from '../../src/cluster/credentials.js';
import { FAILURE_LOG_WINDOW_MS, SHORT_WATCH_LIMIT } from '../../src/cluster/informer.js';
import { KubeClient } from '../../src/cluster/kube-client.js';
import { errorCode, errorMessage } from '../../src/lib/errors.js';
import { FakeClock } from '../support/fake-clock.js';
import { FakeKubeApi, type FaultResponse } from '../support/fake-kube-api.js';
import { ioTurn, ioUntil, stepUntil } from './helpers.js';
import { informerHarness, synced, type Harness, type LogLine } from './informer-harness.js';

const MiB = 1024 * 1024;
const LIMIT = 1 * MiB;
/**
 * What may be in flight past the limit when the client stops reading: kernel socket buffers on loopback plus one
 * chunk. Generous; the servers below would send 256 MiB (watch) or 64 MiB (list) to a client that kept reading.
 */
const IN_FLIGHT = 12 * MiB;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const FAILING = 'kubernetes source failing; retrying with backoff';
const RECOVERED = 'kubernetes source recovered';
const withCode = (h: Harness, code: string) => h.logs.filter((l) => l.code === code);
/** Lines at info and above: what an operator sees at the default log level. */
const loud = (h: Harness) => h.logs.filter((l) => l.level !== 'debug');
const msgs = (lines: LogLine[], msg: string) => lines.filter((l) => l.msg === msg);

/** Fake time at which each of the next `n` requests of `kind` arrives, stepping the clock by `stepMs`. */
async function requestTimes(h: Harness, kind: 'list' | 'watch', n: number, stepMs = 500): Promise<number[]> {
  const at: number[] = [];
  const start = h.api.requestsFor('services', kind).length;
  for (let i = 1; i <= n; i++) {
    await stepUntil(h.clock, () => h.api.requestsFor('services', kind).length >= start + i, { stepMs, maxFakeMs: 120_000, what: `${kind} request ${start + i}` });
    at.push(h.clock.monotonic());
  }
  return at;
}

const gaps = (at: number[]) => at.slice(1).map((t, i) => t - at[i]!);

/**
 * Fake times of the next `n` retries (requests of `kind`). Before each step of the clock it waits, on real I/O only,
 * until the failure before that retry was handled (`failures()`, one log line per failure, has counted it), so no
 * fake time passes while a request is still in flight. The first failure must have been handled already.
 */
async function retryTimes(h: Harness, kind: 'list' | 'watch', n: number, failures: () => number): Promise<number[]> {
  const at: number[] = [];
  const f0 = failures();
  for (let i = 1; i <= n; i++) {
    await ioUntil(() => failures() >= f0 + i - 1, `failure ${f0 + i - 1} handled`);
    at.push(...(await requestTimes(h, kind, 1)));
  }
  return at;
}

async function finished(api: FakeKubeApi, fault: string): Promise<FaultResponse> {
  await ioUntil(() => api.faultResponses.some((r) => r.fault === fault && r.done), `${fault} answer closed`);
  return api.faultResponses.find((r) => r.fault === fault)!;
}

describe('a watch that answers 200 and ends at once', () => {
  it('is retried with a growing backoff, not in a loop; logged once; vipwatch_kube_up 0 from the third early end in a row', async () => {
    const h = await informerHarness(cleanups);
    await ioUntil(synced(h), 'first sync');
    await h.clock.advance(5000); // a healthy watch, open for a while
    h.api.watchFault('services', { mode: 'end-at-once' });
    h.api.endWatches('services'); // the healthy watch ends on time; every watch after it ends at once
    const early = () => withCode(h, 'VIPWATCH_KUBE_WATCH_SHORT').length;
    await ioUntil(() => early() === 1, 'first early end');

    // A bounded real interval with the clock at rest: the old client restarted such a watch ~2,500 times a second.
    const realStart = Date.now();
    while (Date.now() - realStart < 300) await ioTurn(10);
    expect(h.api.requestsFor('services', 'watch')).toHaveLength(2);
    expect(h.informer.status().state).toBe('synced');
    expect(await h.kubeUp()).toBe(1);

    const ups: number[] = [];
    const at = [h.clock.monotonic()];
    for (let n = 2; n <= 8; n++) {
      at.push(...(await requestTimes(h, 'watch', 1)));
      await ioUntil(() => early() === n, `early end ${n}`);
      ups.push((await h.kubeUp())!);
    }
    // Backoff 1 s doubling to the 8 s cap (jitter pinned to the full step), never reset by the 200s.
    expect(gaps(at)).toEqual([1000, 2000, 4000, 8000, 8000, 8000, 8000]);
    // vipwatch_kube_up: 1 after early ends 1 and 2, 0 from the third (SHORT_WATCH_LIMIT) on.
    expect(SHORT_WATCH_LIMIT).toBe(3);
    expect(ups).toEqual([1, 0, 0, 0, 0, 0, 0]);
    expect(h.informer.status()).toMatchObject({ state: 'failing', lastError: expect.stringMatching(/ended the watch after 0ms, before kubernetes\.minWatchDuration \(1000ms\); 8 in a row/) });
    // 8 early ends over 39 s: one warn line (at the third), the rest at debug; nothing relisted.
    const lines = loud(h);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: FAILING, code: 'VIPWATCH_KUBE_WATCH_SHORT', resource: 'services' });
    expect(h.api.requestsFor('services', 'list')).toHaveLength(1);

    // Fixed: the next watch stays open; once it has lived minWatchDuration the resource is synced again (one info line).
    h.api.clearFaults();
    const open = (await requestTimes(h, 'watch', 1))[0]!;
    expect(open - at.at(-1)!).toBe(8000);
    expect(h.informer.status().state).toBe('failing');
    const proven = await stepUntil(h.clock, () => h.informer.status().state === 'synced', { stepMs: 250, what: 'recovered' });
    expect(proven).toBe(1000);
    expect(await h.kubeUp()).toBe(1);
    expect(msgs(loud(h), RECOVERED)).toHaveLength(1);
    // …and the backoff started over: a later cut is retried after the first step again.
    await h.clock.advance(5000);
    const cutAt = h.clock.monotonic();
    h.api.cutWatches('services');
    await ioUntil(() => h.informer.status().state === 'failing', 'cut noticed');
    const [again] = await requestTimes(h, 'watch', 1);
    expect(again! - cutAt).toBe(1000);
  });

  it('minWatchDuration 0 turns the check off (a clean end is re-watched at once, as before)', async () => {
    const h = await informerHarness(cleanups, { timing: { minWatchDurationMs: 0 } });
    await ioUntil(synced(h), 'first sync');
    h.api.endWatches('services');
    await ioUntil(() => h.api.requestsFor('services', 'watch').length === 2 && synced(h)(), 'rewatch without fake time');
    expect(withCode(h, 'VIPWATCH_KUBE_WATCH_SHORT')).toHaveLength(0);
  });
});

describe('a watch line that never ends', () => {
  it('is cut off at maxResponseBytes with VIPWATCH_KUBE_TOO_LARGE; the connection is closed and nothing more is read', async () => {
    const api = new FakeKubeApi();
    await api.start();
    const clock = new FakeClock();
    const client = new KubeClient({ server: api.url, tls: { insecureSkipVerify: false }, auth: { kind: 'none' }, describe: 'test' },
      credentialSource({ kind: 'none' }, clock), 10_000, { maxResponseBytes: LIMIT });
    cleanups.push(async () => {
      await client.close();
      await api.stop();
    });
    api.watchFault('services', { mode: 'endless-line', maxBytes: 256 * MiB });
    let events = 0;
    const err = await client.watch('/api/v1/services', {}, new AbortController().signal, { onOpen() {}, onEvent: () => events++ }).then(() => undefined, (e: unknown) => e);
    expect(errorCode(err)).toBe('VIPWATCH_KUBE_TOO_LARGE');
    expect(errorMessage(err)).toBe(`watch /api/v1/services: an event line is longer than kubernetes.maxResponseBytes (${LIMIT} bytes) and has no newline; stopped reading`);
    expect(events).toBe(0);
    const sent = await finished(api, 'endless-line');
    expect(sent.clientClosed).toBe(true);
    expect(sent.bytesWritten).toBeGreaterThan(LIMIT);
    expect(sent.bytesWritten).toBeLessThan(LIMIT + IN_FLIGHT);
  });

  it('makes the informer relist with backoff, logging once', async () => {
    const h = await informerHarness(cleanups, { limits: { maxResponseBytes: LIMIT } });
    await ioUntil(synced(h), 'first sync');
    await h.clock.advance(5000);
    h.api.watchFault('services', { mode: 'endless-line', maxBytes: 256 * MiB });
    h.api.endWatches('services');
    await ioUntil(() => h.informer.status().state === 'failing', 'failing');
    expect(h.informer.status().lastError).toMatch(/no newline; stopped reading/);
    const lists = await retryTimes(h, 'list', 3, () => withCode(h, 'VIPWATCH_KUBE_TOO_LARGE').length);
    expect(gaps([5000, ...lists])).toEqual([1000, 2000, 4000]);
    expect(h.api.faultResponses.every((r) => r.bytesWritten < LIMIT + IN_FLIGHT)).toBe(true);
    expect(loud(h)).toEqual([expect.objectContaining({ level: 'warn', msg: FAILING, code: 'VIPWATCH_KUBE_TOO_LARGE' })]);
    // The store kept the last good view meanwhile.
    expect(h.store.size).toBe(3);
  });
});

describe('a list page over maxResponseBytes', () => {
  const client = async (): Promise<{ api: FakeKubeApi; client: KubeClient }> => {
    const api = new FakeKubeApi();
    await api.start();
    const c = new KubeClient({ server: api.url, tls: { insecureSkipVerify: false }, auth: { kind: 'none' }, describe: 'test' },
      credentialSource({ kind: 'none' }, new FakeClock()), 10_000, { maxResponseBytes: LIMIT });
    cleanups.push(async () => {
      await c.close();
      await api.stop();
    });
    return { api, client: c };
  };

  it('chunked: reading stops past the limit with VIPWATCH_KUBE_TOO_LARGE and the connection is closed', async () => {
    const { api, client: c } = await client();
    api.listFault('services', { bytes: 64 * MiB });
    const err = await c.list('/api/v1/services', {}, new AbortController().signal).then(() => undefined, (e: unknown) => e);
    expect(errorCode(err)).toBe('VIPWATCH_KUBE_TOO_LARGE');
    expect(errorMessage(err)).toBe(`list /api/v1/services: the answer is larger than kubernetes.maxResponseBytes (${LIMIT} bytes); stopped reading`);
    const sent = await finished(api, 'oversized-list');
    expect(sent.clientClosed).toBe(true);
    expect(sent.bytesWritten).toBeLessThan(LIMIT + IN_FLIGHT);
  });

  it('with a Content-Length over the limit: refused before reading the body', async () => {
    const { api, client: c } = await client();
    api.listFault('services', { bytes: 2 * MiB, contentLength: true });
    const err = await c.list('/api/v1/services', {}, new AbortController().signal).then(() => undefined, (e: unknown) => e);
    expect(errorCode(err)).toBe('VIPWATCH_KUBE_TOO_LARGE');
    expect(errorMessage(err)).toMatch(/^list \/api\/v1\/services: the answer is \d+ bytes, more than kubernetes\.maxResponseBytes \(1048576\); not read$/);
  });

  it('a page just under the limit is read', async () => {
    const { api, client: c } = await client();
    api.listFault('services', { bytes: LIMIT - 64 * 1024, contentLength: true });
    const list = await c.list('/api/v1/services', {}, new AbortController().signal);
    expect(list.items.length).toBeGreaterThan(200);
  });

  it('the informer retries the list with a growing backoff, logs once, and recovers when pages shrink', async () => {
    const h = await informerHarness(cleanups, { limits: { maxResponseBytes: LIMIT }, before: (api) => api.listFault('services', { bytes: 4 * MiB }) });
    await ioUntil(() => h.informer.status().state === 'failing', 'failing');
    const at = [0, ...(await retryTimes(h, 'list', 4, () => withCode(h, 'VIPWATCH_KUBE_TOO_LARGE').length))];
    expect(gaps(at)).toEqual([1000, 2000, 4000, 8000]);
    expect(loud(h)).toEqual([expect.objectContaining({ level: 'warn', msg: FAILING, code: 'VIPWATCH_KUBE_TOO_LARGE' })]);
    expect(await h.kubeUp()).toBe(0);
    h.api.clearFaults();
    await stepUntil(h.clock, synced(h), { stepMs: 500, what: 'synced' });
    expect(h.store.size).toBe(3);
    expect(msgs(loud(h), RECOVERED)).toHaveLength(1);
  });
});

describe('garbage and bad events', () => {
  it('garbage JSON lines: one log line for the whole episode, relist with a growing backoff, one line for the recovery', async () => {
    // A watch timeout longer than the log window, so the quiet stretch below ends no watch.
    const h = await informerHarness(cleanups, { timing: { watchTimeoutMs: 3_600_000 } });
    const protocolErrors = () => withCode(h, 'VIPWATCH_KUBE_PROTOCOL').length;
    await ioUntil(synced(h), 'first sync');
    await h.clock.advance(5000);
    h.api.watchFault('services', { mode: 'garbage', lines: 100 });
    h.api.endWatches('services');
    await ioUntil(() => h.informer.status().state === 'failing', 'failing');
    const lists = await retryTimes(h, 'list', 6, protocolErrors);
    expect(gaps([5000, ...lists])).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    // Seven watches answered with 100 garbage lines each: one warn line in all.
    await ioUntil(() => protocolErrors() === 7, 'the last garbage watch');
    expect(h.api.requestsFor('services', 'watch')).toHaveLength(8);
    expect(loud(h)).toEqual([expect.objectContaining({ level: 'warn', msg: FAILING, code: 'VIPWATCH_KUBE_PROTOCOL', error: 'watch /api/v1/services: malformed event line' })]);
    expect(await h.kubeUp()).toBe(0);
    expect(h.store.size).toBe(3);

    h.api.clearFaults();
    await stepUntil(h.clock, () => synced(h)() && h.informer.status().state === 'synced', { stepMs: 500, what: 'recovered' });
    expect(msgs(loud(h), RECOVERED)).toHaveLength(1);

    // A second episode soon after is held back (same kind of failure within FAILURE_LOG_WINDOW_MS) …
    await h.clock.advance(5000);
    h.api.watchFault('services', { mode: 'garbage', lines: 100 });
    h.api.endWatches('services');
    await ioUntil(() => h.informer.status().state === 'failing', 'failing again');
    h.api.clearFaults();
    await stepUntil(h.clock, () => synced(h)() && h.informer.status().state === 'synced', { stepMs: 500, what: 'recovered again' });
    expect(loud(h)).toHaveLength(2);
    // … and one after the window is logged again, saying how many were held back.
    await h.clock.advance(FAILURE_LOG_WINDOW_MS);
    h.api.watchFault('services', { mode: 'garbage', lines: 100 });
    h.api.endWatches('services');
    await ioUntil(() => h.informer.status().state === 'failing', 'failing a third time');
    expect(loud(h).at(-1)).toMatchObject({ level: 'warn', msg: FAILING, code: 'VIPWATCH_KUBE_PROTOCOL', suppressed: 1 });
  });

  it('bad events (objects the parser rejects): one warn line, the stream and the view stay up', async () => {
    const h = await informerHarness(cleanups);
    await ioUntil(synced(h), 'first sync');
    await h.clock.advance(5000);
    h.api.watchFault('services', { mode: 'bad-events', lines: 200 });
    h.api.endWatches('services');
    await ioUntil(() => h.logs.filter((l) => l.msg.startsWith('kubernetes objects skipped')).length === 200, '200 bad events seen');
    h.api.clearFaults();
    h.api.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'later', namespace: 'default' }, spec: { type: 'ClusterIP' } });
    await ioUntil(() => h.store.get('default/later') !== undefined, 'a good event after the bad ones');
    expect(h.informer.status().state).toBe('synced');
    expect(h.store.size).toBe(4);
    expect(loud(h)).toEqual([expect.objectContaining({
      level: 'warn', msg: 'kubernetes objects skipped: malformed (they are left out of the cluster view)', count: 1, from: 'ADDED', example: '(no name)',
    })]);
  });
});
