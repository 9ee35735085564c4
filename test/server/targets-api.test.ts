/**
 * /api/v1/targets for 2,000 targets with full attempt rings: streamed one target at a time, so the event loop (and
 * with it every probe) is never held anywhere near the stall threshold; paged with ?offset=&limit=. The App runs on a
 * fake clock (no probing: the histories are filled directly) and serves on a real socket.
 */
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { Attempt } from '../../src/history/attempt.js';
import { FakeClock } from '../support/fake-clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { targetJson } from '../../src/server/targets-api.js';
import type { Prober } from '../../src/probe/types.js';

const N = 2000;
const RING = 64;
const STALL_THRESHOLD_MS = 250; // selfMonitor.stallThreshold's default

interface Got {
  status: number;
  headers: Record<string, unknown>;
  body: string;
  bytes: number;
}

/** GET without parsing: the client's own work must not count as the server's lag. */
function get(port: number, path: string, method = 'GET', onEnd?: () => void): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        bytes += c.length;
      });
      res.on('end', () => {
        onEnd?.();
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), bytes });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The longest the event loop was held by this process between two turns: a 1 ms ticker notes wall and CPU time;
 * a gap counts for the CPU the process burnt in it, so time the OS gave to other processes on a shared machine
 * (where a wall-clock gap can be anything) does not count as vipwatch holding its loop.
 */
function holdMeter(): { stop(): void; maxHeldCpuMs: number; maxGapMs: number } {
  const m = { maxHeldCpuMs: 0, maxGapMs: 0, stop: () => clearInterval(iv) };
  let wall = performance.now();
  let cpu = process.cpuUsage();
  const iv = setInterval(() => {
    const w = performance.now();
    const c = process.cpuUsage(cpu);
    const gap = w - wall;
    m.maxGapMs = Math.max(m.maxGapMs, gap);
    m.maxHeldCpuMs = Math.max(m.maxHeldCpuMs, Math.min(gap, (c.user + c.system) / 1000));
    wall = w;
    cpu = process.cpuUsage();
  }, 1);
  return m;
}

describe(`/api/v1/targets with ${N} targets`, () => {
  let app: App;
  let port: number;
  let dir: string;
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 12));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vipwatch-api-'));
    const targets = Array.from({ length: N }, (_, i) => `  - { name: t${i}, address: 192.0.2.${(i % 250) + 1}, port: ${1000 + i}, protocol: http, interval: 1s, timeout: 1s, http: { backendHeader: X-Node } }`);
    const config = parseConfig(`server: { listen: "127.0.0.1:0" }\nstate: { dir: "${dir}" }\ntargets:\n${targets.join('\n')}\n`, 'inline.yaml', { env: {} });
    const never: Prober = { probe: () => new Promise(() => {}) };
    app = new App({ config, clock, logger: silentLogger, historySize: RING, probers: { tcp: never, http: never, https: never } });
    port = (await app.start()).port;
    const t0 = clock.now() - RING * 1000;
    const configs = new Map(app.scheduler.targets().map((t) => [t.name, t]));
    for (let i = 0; i < N; i++) {
      const h = app.scheduler.history(`t${i}`)!;
      const tc = configs.get(`t${i}`)!;
      for (let k = 0; k < RING; k++) {
        const ok = k % 3 !== 1;
        const a: Attempt = {
          seq: h.nextSeq(), target: `t${i}`, startedAt: t0 + k * 1000, ok, stalled: false, burst: false, synRetransmit: false,
          timings: ok ? { connectMs: 0.412, firstByteMs: 1.3, totalMs: 1.9 } : { totalMs: 1000 }, sourcePort: 40_000 + k, remoteAddress: '192.0.2.1',
          ...(ok ? { httpStatus: 200, backend: `web-${k % 3}-5d8f7c9b4-x2x7k`, backendNode: `node-${k % 3}` } : { reason: 'connect_timeout' as const, detail: 'no SYN-ACK within 1000ms', errorCode: 'VIPWATCH_DEADLINE' }),
          cluster: { announcerNode: 'node-1', announcerSource: 'servicel2status', endpointsPerNode: { 'node-0': 1, 'node-1': 1, 'node-2': 1 }, externalTrafficPolicy: 'Cluster', metadataAgeMs: 1200, stale: false, viewVersion: 'v1' },
        };
        h.record(a);
        const at = ok ? undefined : { node: 'ambiguous', how: 'inferred' as const };
        if (at) h.attribute(a.seq, at);
        app.metrics.record(a, tc, at);
      }
    }
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('streams every target without holding the event loop longer than the stall threshold', async () => {
    const hold = holdMeter();
    const t0 = performance.now();
    let tookMs = 0;
    // Stop measuring at the last byte: joining 60 MB on the client side is not the server's doing.
    const r = await get(port, '/api/v1/targets', 'GET', () => {
      tookMs = performance.now() - t0;
      hold.stop();
    });
    // What building it in one piece costs (the former route), for the record; the stream must not block like this.
    const s0 = performance.now();
    const now = app.clock.now();
    const whole = JSON.stringify({ targets: app.scheduler.targets().map((t) => targetJson(app.targetsApi, t, now)) }, null, 2);
    const wholeMs = performance.now() - s0;
    console.log(JSON.stringify({ targets: N, bytes: r.bytes, streamedMs: Math.round(tookMs), maxHeldCpuMs: Math.round(hold.maxHeldCpuMs), maxLoopGapWallMs: Math.round(hold.maxGapMs), inOnePieceMs: Math.round(wholeMs), inOnePieceBytes: whole.length }));

    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.headers['transfer-encoding']).toBe('chunked');
    expect(hold.maxHeldCpuMs).toBeLessThan(STALL_THRESHOLD_MS);
    // The same document as before, in the same shape ({"targets": [...]}), only not pretty-printed.
    const body = JSON.parse(r.body) as { targets: { name: string; attempts: unknown[] }[] };
    expect(Object.keys(body)).toEqual(['targets']);
    expect(body.targets).toHaveLength(N);
    expect(body.targets[N - 1]!.attempts).toHaveLength(50);
    expect(body).toEqual(JSON.parse(whole));
  }, 120_000);

  it('streams /metrics (12 MB at this size) without holding the event loop longer than the stall threshold, same text as prom-client', async () => {
    const s0 = performance.now();
    const whole = await app.registry.metrics();
    const wholeMs = performance.now() - s0;
    const hold = holdMeter();
    const t0 = performance.now();
    let tookMs = 0;
    const r = await get(port, '/metrics', 'GET', () => {
      tookMs = performance.now() - t0;
      hold.stop();
    });
    console.log(JSON.stringify({ metrics: { targets: N, bytes: r.bytes, streamedMs: Math.round(tookMs), maxHeldCpuMs: Math.round(hold.maxHeldCpuMs), maxLoopGapWallMs: Math.round(hold.maxGapMs), inOnePieceMs: Math.round(wholeMs) } }));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(app.registry.contentType);
    expect(hold.maxHeldCpuMs).toBeLessThan(STALL_THRESHOLD_MS);
    // Byte for byte what prom-client renders (but for the lag gauge, which each scrape resets).
    const noLag = (t: string) => t.replace(/^vipwatch_event_loop_lag_seconds .*$/m, '');
    expect(noLag(r.body)).toBe(noLag(whole));
    expect(r.body).toContain(`vipwatch_probe_duration_seconds_bucket{le="+Inf",target="t${N - 1}",phase="total"} ${RING}`);
  }, 120_000);

  it('pages with ?offset=&limit=, adding total, offset and limit', async () => {
    const r = await get(port, '/api/v1/targets?offset=1990&limit=20');
    const body = JSON.parse(r.body) as { total: number; offset: number; limit: number; targets: { name: string }[] };
    expect(body).toMatchObject({ total: N, offset: 1990, limit: 20 });
    expect(body.targets.map((t) => t.name)).toEqual(Array.from({ length: 10 }, (_, i) => `t${1990 + i}`));
    const first = JSON.parse((await get(port, '/api/v1/targets?limit=2')).body) as { offset: number; targets: { name: string; status: string }[] };
    expect(first.offset).toBe(0);
    expect(first.targets.map((t) => t.name)).toEqual(['t0', 't1']);
    expect(first.targets[0]!.status).toBe('degraded');
  });

  it('refuses a bad page with 400 and a stable code', async () => {
    for (const q of ['limit=0', 'limit=abc', 'offset=-1', 'limit=100000']) {
      const r = await get(port, `/api/v1/targets?${q}`);
      expect(r.status, q).toBe(400);
      expect(JSON.parse(r.body)).toMatchObject({ code: 'VIPWATCH_BAD_QUERY' });
    }
  });

  it('answers HEAD without building the body', async () => {
    // Each target's JSON reads its history once: count the reads.
    let built = 0;
    const orig = app.targetsApi.history;
    app.targetsApi.history = (name) => (built++, orig(name));
    try {
      const r = await get(port, '/api/v1/targets', 'HEAD');
      expect(r.status).toBe(200);
      expect(r.bytes).toBe(0);
      expect(built).toBe(0);
    } finally {
      app.targetsApi.history = orig;
    }
  });

  it('stops building when the client goes away mid-stream', async () => {
    // Each target's JSON reads its history once: count the reads.
    let built = 0;
    const orig = app.targetsApi.history;
    app.targetsApi.history = (name) => (built++, orig(name));
    try {
      await new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/api/v1/targets', agent: false }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => {});
        req.on('close', () => resolve());
        req.end();
        setTimeout(() => reject(new Error('no data')), 30_000).unref();
      });
      // Give the server time to notice (a generous bound; the count only has to stop short of all targets).
      const before = built;
      await new Promise((r) => setTimeout(r, 500));
      expect(built).toBeLessThan(N);
      expect(built - before).toBeLessThan(N);
    } finally {
      app.targetsApi.history = orig;
    }
  });
});
