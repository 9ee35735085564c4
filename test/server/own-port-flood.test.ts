/**
 * The issue's reproduction, with the real `vipwatch run` in a child whose descriptor limit is lowered (ulimit -n 128):
 * a flood of idle connections to vipwatch's own HTTP port.
 * - Without a useful cap (server.maxConnections far above the fd limit, as before), the flood eats the descriptors and
 *   every probe of a healthy target fails; those attempts must be probe_error/EMFILE, not unreachable, logged once, shown
 *   by the gauge, and the diagnosis must not call the VIP unreachable.
 * - With the cap, the flood costs at most maxConnections descriptors and probing goes on unharmed.
 * Everything on 127.0.0.1; the deadlines are generous upper bounds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, tcpServer, type TestServer } from '../support/net-servers.js';
import { waitFor } from '../support/wait.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const FLOOD = 300;

interface Vipwatch {
  child: ChildProcess;
  base: string;
  port: number;
  lines: () => Record<string, unknown>[];
  stop(): Promise<number | null>;
}

async function startVipwatch(dir: string, name: string, targetPort: number, server: string): Promise<Vipwatch> {
  const port = await freePort();
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, [
    `server: { listen: "127.0.0.1:${port}", ${server} }`,
    `state: { dir: "${join(dir, `${name}-state`)}" }`,
    'targets:',
    `  - { name: web, address: 127.0.0.1, port: ${targetPort}, protocol: tcp, interval: 50ms, timeout: 50ms }`,
    '',
  ].join('\n'));
  const cmd = `ulimit -n 128 && exec "${process.execPath}" --import ./test/support/net-ts-loader.mjs test/support/vipwatch-ts-child.ts run --config ${file}`;
  const child = spawn('bash', ['-c', cmd], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const lines = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`vipwatch exited ${child.exitCode}: ${err}`);
    return lines().some((l) => l.msg === 'vipwatch started');
  }, { timeoutMs: 60_000, what: 'vipwatch started' });
  return {
    child, port, base: `http://127.0.0.1:${port}`, lines,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Flood connections that got an answer (a 408): the ones vipwatch held. */
const answered = new WeakSet<Socket>();

/** Opens `n` connections that never send a byte; returns them (the ones the server closes just end). */
async function flood(port: number, n: number): Promise<Socket[]> {
  const out: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    // Read what the server says (or its FIN is never seen and 'close' never comes): a held connection ends with a
    // 408 at headersTimeout, one beyond the cap is closed without a byte.
    s.on('data', () => answered.add(s));
    out.push(s);
    await new Promise<void>((r) => {
      s.once('connect', () => r());
      s.once('close', () => r());
    });
  }
  return out;
}

async function json<T>(url: string): Promise<T> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
  return (await r.json()) as T;
}

interface ApiAttempt { startedAt: string; ok: boolean; reason: string | null; errorCode: string | null; node: string | null }
interface ApiTarget { name: string; status: string; attempts: ApiAttempt[]; diagnosis: { verdict: string } | null; windows: Record<string, { attempts: number; failures: number }> }

/**
 * Waits for healthy attempts, floods vipwatch's port (the sockets go into `socks`, for the caller to destroy), waits
 * until vipwatch has closed every one of them, and returns the target as the API then shows it, with the attempts
 * started during the flood.
 */
async function floodAndRead(base: string, port: number, socks: Socket[]): Promise<{ target: ApiTarget; during: ApiAttempt[] }> {
  await waitFor(() => json<{ targets: ApiTarget[] }>(`${base}/api/v1/targets`).then((b) => b.targets[0]!.attempts.length >= 10), { what: 'healthy attempts first' });
  const floodAt = Date.now();
  socks.push(...(await flood(port, FLOOD)));
  // The held connections end by server.headersTimeout; then vipwatch answers again and tells what happened.
  await waitFor(() => socks.every((x) => x.closed), { timeoutMs: 30_000, what: 'every flood connection closed by vipwatch' });
  const body = await waitFor(() => json<{ targets: ApiTarget[] }>(`${base}/api/v1/targets`), { timeoutMs: 30_000, what: 'the API after the flood' });
  const target = body.targets[0]!;
  return { target, during: target.attempts.filter((a) => Date.parse(a.startedAt) >= floodAt) };
}

describe('a flood of idle connections to vipwatch\'s own port (ulimit -n 128)', () => {
  let dir: string;
  let target: TestServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vipwatch-flood-'));
    target = await tcpServer((s) => s.end());
  });

  afterAll(async () => {
    await target?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('without a useful cap the flood starves the probe: probe_error/EMFILE, one log line, the gauge, no vip_unreachable', async () => {
    const vw = await startVipwatch(dir, 'uncapped', target.port, 'maxConnections: 100000, headersTimeout: 3s, requestTimeout: 5s');
    const socks: Socket[] = [];
    try {
      const { target: web, during } = await floodAndRead(vw.base, vw.port, socks);
      const starved = during.filter((a) => !a.ok);
      console.log(JSON.stringify({ uncapped: { attemptsDuringFlood: during.length, probeErrors: starved.length } }));
      expect(starved.length).toBeGreaterThanOrEqual(5);
      for (const a of starved) expect(a).toMatchObject({ reason: 'probe_error', errorCode: 'EMFILE' });
      expect(during.some((a) => a.reason === 'unreachable')).toBe(false);
      // Not the target's failure: the failure windows and the diagnosis see a healthy target.
      expect(web.windows['1m']!.failures).toBe(0);
      expect(web.status).toBe('healthy');
      expect(['healthy', 'insufficient_data', undefined]).toContain(web.diagnosis?.verdict);
      const metrics = await (await fetch(`${vw.base}/metrics`)).text();
      expect(metrics).toMatch(/vipwatch_probe_self_error\{kind="EMFILE"\} 1/);
      expect(metrics).toMatch(/vipwatch_probe_self_errors_total\{kind="EMFILE"\} [1-9]/);
      expect(metrics).toMatch(/vipwatch_probe_attempts_total\{target="web",protocol="tcp",result="probe_error"\} [1-9]/);
      expect(metrics).toMatch(/vipwatch_probe_attempts_total\{target="web",protocol="tcp",result="failure"\} 0/);
      const logged = vw.lines().filter((l) => String(l.msg).startsWith('probe error:'));
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ kind: 'EMFILE', target: 'web' });
    } finally {
      for (const s of socks) s.destroy();
      expect(await vw.stop()).toBe(0);
    }
  }, 120_000);

  it('with server.maxConnections the same flood costs at most the cap, and every probe succeeds', async () => {
    const vw = await startVipwatch(dir, 'capped', target.port, 'maxConnections: 32, headersTimeout: 3s, requestTimeout: 5s');
    const socks: Socket[] = [];
    try {
      const { during } = await floodAndRead(vw.base, vw.port, socks);
      const held = socks.filter((x) => answered.has(x)).length;
      // Node closed everything beyond the cap at once; the rest ended by headersTimeout, while probing went on.
      console.log(JSON.stringify({ capped: { held, closedAtAccept: FLOOD - held, attemptsDuringFlood: during.length } }));
      expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThanOrEqual(32);
      expect(during.length).toBeGreaterThanOrEqual(10);
      expect(during.filter((a) => !a.ok)).toEqual([]);
      const metrics = await (await fetch(`${vw.base}/metrics`)).text();
      expect(metrics).not.toContain('vipwatch_probe_self_errors_total{');
      expect(vw.lines().filter((l) => String(l.msg).includes('server.maxConnections'))).toHaveLength(1);
    } finally {
      for (const s of socks) s.destroy();
      expect(await vw.stop()).toBe(0);
    }
  }, 120_000);
});
