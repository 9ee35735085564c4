/**
 * Quick CPU figure for the probers alone (no scheduler, history or metrics): healthy loopback servers in a child
 * process, attempts launched at a steady rate, CPU microseconds per attempt from process.cpuUsage. A measurement,
 * never a test. Run: node --import ./test/support/net-ts-loader.mjs test/support/net-probe-cpu.ts [rate/s] [seconds/round] [rounds]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProbers } from '../../src/probe/registry.js';
import type { ProbeSpec } from '../../src/probe/types.js';

type Attempt = () => Promise<boolean>;

/** A deadline as the scheduler makes it (controller + timer, cancelled when done), not AbortSignal.timeout. */
async function withDeadline(run: (signal: AbortSignal) => Promise<{ ok: boolean }>): Promise<boolean> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), 2000);
  try {
    return (await run(ac.signal)).ok;
  } finally {
    clearTimeout(t);
  }
}

async function measure(name: string, attempt: Attempt, rate: number, seconds: number): Promise<Record<string, number | string>> {
  const tick = 10;
  const perTick = Math.max(1, Math.round((rate * tick) / 1000));
  const end = async (ms: number) => {
    let launched = 0;
    let failed = 0;
    const pending = new Set<Promise<void>>();
    const stop = Date.now() + ms;
    while (Date.now() < stop) {
      for (let i = 0; i < perTick; i++) {
        const p: Promise<void> = attempt().then((ok) => {
          if (!ok) failed++;
          pending.delete(p);
        });
        pending.add(p);
        launched++;
      }
      await new Promise((r) => setTimeout(r, tick));
    }
    await Promise.all(pending);
    return { launched, failed };
  };
  await end(500); // warm-up: JIT, buffers
  const cpu0 = process.cpuUsage();
  const { launched, failed } = await end(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  return { name, attempts: launched, failed, cpuMicrosPerAttempt: Math.round(((cpu.user + cpu.system) / launched) * 10) / 10 };
}

export async function main(argv: string[]): Promise<void> {
  const rate = Number(argv[0] ?? 500);
  const seconds = Number(argv[1] ?? 8);
  const here = dirname(fileURLToPath(import.meta.url));
  const loader = join(here, 'net-ts-loader.mjs');
  const child = spawn(process.execPath, ['--import', loader, join(here, '../../bench/loopback-servers.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const ports = JSON.parse(line.toString()) as { tcp: number; http: number };
  const probers = createProbers();
  const tcp: ProbeSpec = { target: 'tcp', address: '127.0.0.1', port: ports.tcp, protocol: 'tcp', timeoutMs: 2000 };
  const http: ProbeSpec = {
    target: 'http', address: '127.0.0.1', port: ports.http, protocol: 'http', timeoutMs: 2000,
    http: { path: '/', method: 'GET', headers: {}, expectStatus: [200], maxBodyBytes: 65536, backendHeader: 'X-Node' },
  };
  const bare: Attempt = () =>
    new Promise((resolve) => {
      const s = connect(ports.tcp, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
  const only = process.env.PROBE_CPU_ONLY;
  const kinds: [string, Attempt][] = ([
    ['bare net.connect + destroy', bare],
    ['TcpProber', () => withDeadline((sig) => probers.tcp.probe(tcp, sig))],
    ['HttpProber', () => withDeadline((sig) => probers.http.probe(http, sig))],
  ] as [string, Attempt][]).filter(([name]) => !only || name === only);
  // Interleaved rounds, median per kind: the machine is shared, so one long run per kind would measure the neighbours.
  const rounds = Number(argv[2] ?? 5);
  const figures = new Map<string, number[]>();
  let failed = 0;
  for (let r = 0; r < rounds; r++) {
    for (const [name, attempt] of kinds) {
      const m = await measure(name, attempt, rate, seconds);
      failed += m.failed as number;
      figures.set(name, [...(figures.get(name) ?? []), m.cpuMicrosPerAttempt as number]);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const results = [...figures].map(([name, xs]) => ({ name, medianCpuMicrosPerAttempt: median(xs), rounds: xs }));
  child.stdin!.end();
  process.stdout.write(`${JSON.stringify({ node: process.version, rate, secondsPerRound: seconds, failed, results }, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main(process.argv.slice(2));
