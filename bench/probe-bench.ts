/**
 * `npm run bench`: healthy loopback targets probed through the real engine (scheduler, probers, history, metrics)
 * for a fixed time. Prints JSON: attempts/s, CPU microseconds per attempt (tcp, http), event-loop lag p50/p99,
 * RSS per 1,000 targets, and false failures (must be 0). A benchmark, never a test.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics } from 'node:v8';
import { App } from '../src/app.js';
import { parseConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import type { TargetConfig } from '../src/config/targets.js';
import { silentLogger } from '../src/lib/logger.js';

interface Ports {
  tcp: number;
  http: number;
}

async function startServers(): Promise<{ ports: Ports; stop(): void }> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'loopback-servers.js');
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { ports: JSON.parse(line.toString()) as Ports, stop: () => child.stdin!.end() };
}

function targets(n: number, protocol: 'tcp' | 'http', ports: Ports, intervalMs: number): TargetConfig[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `${protocol}-${i}`, address: '127.0.0.1', port: ports[protocol], protocol, intervalMs, timeoutMs: Math.min(2000, intervalMs), origin: 'static' as const,
    http: protocol === 'http' ? { path: '/', method: 'GET', headers: {}, expectStatus: [200], maxBodyBytes: 65536, backendHeader: 'X-Node' } : undefined,
  }));
}

function config(ts: TargetConfig[]): Config {
  const base = parseConfig('server: { listen: "127.0.0.1:0" }\nlog: { level: error }\nstate: { dir: /tmp/vipwatch-bench-state }\n', 'bench.yaml', { env: {} });
  return { ...base, targets: ts };
}

interface PhaseResult {
  targets: number;
  seconds: number;
  attempts: number;
  attemptsPerSecond: number;
  cpuMicrosPerAttempt: number;
  userMicrosPerAttempt: number;
  systemMicrosPerAttempt: number;
  falseFailures: number;
  failureReasons: Record<string, number>;
  lagMs: { p50: number; p99: number; max: number };
  /** RSS above the process baseline (before any app): the median of one sample a second over the measured stretch. */
  rssMiBPer1000Targets: number;
  /** The same with every target's ring of recent attempts full (the steady state of a long run). */
  steadyRssMiBPer1000Targets: number | null;
}

let baselineRss = 0;

async function phase(ts: TargetConfig[], seconds: number, fillRings = false): Promise<PhaseResult> {
  const app = new App({ config: config(ts), logger: silentLogger });
  let measuring = false;
  let attempts = 0;
  let failures = 0;
  const reasons: Record<string, number> = {};
  app.onAttempt(({ attempt: a }) => {
    if (!measuring) return;
    attempts++;
    if (!a.ok) {
      failures++;
      reasons[a.reason ?? 'unknown'] = (reasons[a.reason ?? 'unknown'] ?? 0) + 1;
    }
  });
  await app.start();
  // Let the first full interval pass (connections warm, JIT settled), then measure.
  await new Promise((r) => setTimeout(r, 1500));
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  measuring = true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // RSS once a second while running: the heap between collections (promoted per-attempt garbage) is part of it.
  const rssSamples: number[] = [];
  for (let s = 0; s < seconds; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    rssSamples.push(process.memoryUsage().rss);
  }
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (performance.now() - t0) / 1000;
  measuring = false;
  lag.disable();
  const rss = median(rssSamples);
  // Steady state: fill every target's attempt ring to capacity with copies of its real attempts, then measure. Each
  // copy is recorded under the history's next seq, as the scheduler records every attempt (the ring derives seq from
  // position and keeps only a seq that breaks the run aside).
  let steadyRss: number | undefined;
  let steadyMemory: Record<string, number> | undefined;
  if (fillRings) {
    for (const t of app.scheduler.targets()) {
      const h = app.scheduler.history(t.name)!;
      const last = h.last();
      if (!last) continue;
      for (let i = h.recent().length; i < h.capacity; i++) h.record({ ...structuredClone(last), seq: h.nextSeq() });
    }
    // Twice: the first collection finishes the incremental marking the fill ran into, and what the fill allocated
    // meanwhile was born marked (it survives that cycle); the second starts from scratch and leaves only what is live.
    (globalThis as { gc?: () => void }).gc?.();
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    steadyRss = m.rss;
    steadyMemory = { heapUsedMiB: mib(m.heapUsed), heapTotalMiB: mib(m.heapTotal), externalMiB: mib(m.external), arrayBuffersMiB: mib(m.arrayBuffers), rssMiB: mib(m.rss), baselineRssMiB: mib(baselineRss) };
    // Where the heap's committed memory sits (new space grows with the allocation rate, old space with what survives).
    for (const sp of getHeapSpaceStatistics()) steadyMemory[`${sp.space_name}MiB`] = mib(sp.space_size);
  }
  await app.stop();
  return {
    targets: ts.length,
    seconds: round(elapsed, 1),
    attempts,
    attemptsPerSecond: round(attempts / elapsed, 1),
    cpuMicrosPerAttempt: round((cpu.user + cpu.system) / attempts, 1),
    userMicrosPerAttempt: round(cpu.user / attempts, 1),
    systemMicrosPerAttempt: round(cpu.system / attempts, 1),
    falseFailures: failures,
    failureReasons: reasons,
    // The histogram records the timer's whole period: the lag is what exceeds the resolution.
    lagMs: { p50: lagMs(lag.percentile(50)), p99: lagMs(lag.percentile(99)), max: lagMs(lag.max) },
    rssMiBPer1000Targets: round(((rss - baselineRss) / 2 ** 20) * (1000 / ts.length), 1),
    steadyRssMiBPer1000Targets: steadyRss === undefined ? null : round(((steadyRss - baselineRss) / 2 ** 20) * (1000 / ts.length), 1),
    ...(steadyMemory ? { steadyMemory } : {}),
  };
}

const LAG_RESOLUTION_MS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function lagMs(ns: number): number {
  return round(Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS), 2);
}

function mib(bytes: number): number {
  return round(bytes / 2 ** 20, 1);
}

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

export async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 15);
  const n = Number(process.env.BENCH_TARGETS ?? 2000);
  const servers = await startServers();
  (globalThis as { gc?: () => void }).gc?.();
  baselineRss = process.memoryUsage().rss;
  try {
    const only = process.env.BENCH_ONLY;
    // The mixed phase runs first: its steady RSS is the memory of a process running those targets, not the high-water
    // mark two earlier apps left in the same heap.
    const mixed = await phase([...targets(n / 2, 'tcp', servers.ports, 1000), ...targets(n / 2, 'http', servers.ports, 1000)], seconds, true);
    if (only === 'mixed') return void process.stdout.write(JSON.stringify(mixed) + '\n');
    const tcp = await phase(targets(n, 'tcp', servers.ports, 1000), seconds);
    if (only === 'tcp') return void process.stdout.write(JSON.stringify(tcp) + '\n');
    const http = await phase(targets(n, 'http', servers.ports, 1000), seconds);
    const out = {
      node: process.version,
      cpus: (await import('node:os')).cpus().length,
      tcp: { ...tcp },
      http: { ...http },
      mixed,
      summary: {
        cpuMicrosPerTcpAttempt: tcp.cpuMicrosPerAttempt,
        cpuMicrosPerHttpAttempt: http.cpuMicrosPerAttempt,
        targets: mixed.targets,
        attemptsPerSecond: mixed.attemptsPerSecond,
        lagP50Ms: mixed.lagMs.p50,
        lagP99Ms: mixed.lagMs.p99,
        rssMiBPer1000Targets: mixed.rssMiBPer1000Targets,
        steadyRssMiBPer1000Targets: mixed.steadyRssMiBPer1000Targets,
        falseFailures: tcp.falseFailures + http.falseFailures + mixed.falseFailures,
      },
    };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } finally {
    servers.stop();
  }
}

void main();
