import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gracefulStop } from '../../src/cli/shutdown.js';
import { createLogger } from '../../src/lib/logger.js';
import { freePort } from '../support/net-servers.js';
import { waitFor } from '../support/wait.js';
import { RunProcess, type LogLine } from './run-process.js';

/** An HTTP server on 127.0.0.1 that accepts at once and answers `delayMs` later (never, with Infinity). */
async function lateServer(delayMs: number): Promise<{ port: number; requests: number[]; close(): void; server: Server }> {
  const requests: number[] = [];
  const server = createServer((_req, res) => {
    requests.push(Date.now());
    if (Number.isFinite(delayMs)) setTimeout(() => res.writeHead(200).end('late\n'), delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, requests, server, close: () => {
    server.closeAllConnections();
    server.close();
  } };
}

describe('vipwatch run: SIGTERM (the built binary)', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  /** One target whose attempts start every second (a cron schedule: the timeout may exceed the period, attempts never overlap). */
  const run = async (targetPort: number, timeout: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-stop-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const file = join(dir, 'vipwatch.yaml');
    writeFileSync(file, `server: { listen: "127.0.0.1:${port}" }
state: { dir: ${JSON.stringify(join(dir, 'state'))} }
log: { level: debug }
targets:
  - { name: slow, address: 127.0.0.1, port: ${targetPort}, protocol: http, schedule: "* * * * * *", timeout: ${timeout} }
`);
    const p = new RunProcess(file);
    cleanup.push(() => p.kill());
    await p.started();
    return p;
  };

  it('lets the attempt in flight end by itself, records it, flushes and exits 0 within 10 s', async () => {
    const slow = await lateServer(1500);
    cleanup.push(() => slow.close());
    const p = await run(slow.port, '5s');
    await waitFor(() => slow.requests.length, { what: 'an attempt in flight' });
    const sentAt = Date.now();
    p.child.kill('SIGTERM');
    const { code, at } = await p.exited;
    expect(code).toBe(0);
    expect(at - sentAt).toBeLessThan(10_000);
    // It waited for the late answer instead of cutting the attempt short.
    expect(at - slow.requests[0]!).toBeGreaterThanOrEqual(1400);
    const lines = p.lines();
    const stopping = lines.findIndex((l) => l.msg.startsWith('stopping: attempts in flight may end by their deadline'));
    expect(stopping).toBeGreaterThan(-1);
    expect(lines[stopping]).toMatchObject({ signal: 'SIGTERM', graceMs: 10_000, drainMs: 8000 });
    const recorded = lines.slice(stopping).filter((l: LogLine) => l.msg === 'attempt' && l.target === 'slow');
    expect(recorded).toEqual([expect.objectContaining({ ok: true, httpStatus: 200 })]);
    expect(lines.find((l) => l.msg === 'attempts in flight at stop')).toMatchObject({ finished: 1, aborted: 0 });
    expect(lines.at(-1)!.msg).toBe('vipwatch stopped');
    expect(p.stderr).toBe('');
  });

  it('an attempt whose deadline is past the grace period is aborted (not recorded) after the drain, and it still exits 0 within 10 s', async () => {
    const never = await lateServer(Infinity);
    cleanup.push(() => never.close());
    const p = await run(never.port, '60s');
    await waitFor(() => never.requests.length, { what: 'an attempt in flight' });
    const sentAt = Date.now();
    p.child.kill('SIGTERM');
    const { code, at } = await p.exited;
    expect(code).toBe(0);
    expect(at - sentAt).toBeGreaterThanOrEqual(7500);
    expect(at - sentAt).toBeLessThan(10_000);
    expect(p.find('attempts in flight at stop')).toEqual([expect.objectContaining({ finished: 0, aborted: 1 })]);
    expect(p.find('attempt').filter((l) => l.target === 'slow')).toEqual([]);
    expect(p.find('stop did not finish within 10000 ms: exiting anyway')).toEqual([]);
  });

  it('a second SIGTERM during the stop exits at once (code 1, with a warning)', async () => {
    const never = await lateServer(Infinity);
    cleanup.push(() => never.close());
    const p = await run(never.port, '60s');
    await waitFor(() => never.requests.length, { what: 'an attempt in flight' });
    p.child.kill('SIGTERM');
    await waitFor(() => p.find('stopping: attempts in flight may end by their deadline', true).length, { what: 'the stop begun' });
    const sentAt = Date.now();
    p.child.kill('SIGTERM');
    const { code, at } = await p.exited;
    expect(code).toBe(1);
    expect(at - sentAt).toBeLessThan(2000);
    expect(p.find('second stop signal: exiting at once')).toEqual([expect.objectContaining({ level: 'warn', signal: 'SIGTERM' })]);
  });
});

describe('gracefulStop', () => {
  it('exits anyway (code 1, with a warning) when the stop outlasts the grace period', async () => {
    const lines: LogLine[] = [];
    const logger = createLogger({ write: (l) => lines.push(JSON.parse(l)) });
    const exits: number[] = [];
    let stopOpts: unknown;
    const hung = { stop: (o: unknown) => ((stopOpts = o), new Promise<void>(() => {})) };
    void gracefulStop(hung, logger, 'SIGTERM', { graceMs: 300, exit: (c) => exits.push(c) });
    await waitFor(() => exits.length, { what: 'the forced exit' });
    expect(exits).toEqual([1]);
    expect(stopOpts).toEqual({ drainMs: 0 });
    expect(lines.at(-1)).toMatchObject({ level: 'warn', msg: 'stop did not finish within 300 ms: exiting anyway' });
  });

  it('returns 0 when the stop finishes in time, and the drain gets the grace period less 2 s', async () => {
    let stopOpts: unknown;
    const app = { stop: async (o: unknown) => void (stopOpts = o) };
    const exits: number[] = [];
    const listeners = () => process.listenerCount('SIGTERM') + process.listenerCount('SIGINT');
    const before = listeners();
    expect(await gracefulStop(app, createLogger({ write: () => {} }), 'SIGINT', { graceMs: 10_000, exit: (c) => exits.push(c) })).toBe(0);
    expect(stopOpts).toEqual({ drainMs: 8000 });
    expect(exits).toEqual([]);
    // Its second-signal handlers are gone again.
    expect(listeners()).toBe(before);
  });
});
