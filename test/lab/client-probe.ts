import { connect } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { RESPONSE_TIMEOUT_MS, type AttemptResult, type ProbeReport } from './probe-report.js';

/**
 * Runs inside the lab's client namespace (spawned with `ip netns exec`): opens one fresh TCP connection per attempt to the
 * VIP, sends a GET, and reports how it ended. Times are measured here, next to the socket, not in the parent process.
 */
export interface ProbeOptions {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  readonly concurrency: number;
  /** One attempt per local port. Fixed ports make the HMARK choice reproducible: the same tuple lands on the same node. */
  readonly localPorts: readonly number[];
}

export function probeOnce(i: number, host: string, port: number, localPort: number, timeoutMs: number): Promise<AttemptResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const ac = new AbortController();
    let connectMs: number | undefined;
    let done = false;
    const chunks: Buffer[] = [];
    const finish = (r: Omit<AttemptResult, 'i' | 'localPort' | 'totalMs' | 'connectMs'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ i, localPort, connectMs, totalMs: round(performance.now() - t0), ...r });
    };
    // The connect deadline is the probe's timeout; which phase the abort hits decides connect_timeout vs response_timeout.
    let timer = setTimeout(() => ac.abort(), timeoutMs);
    const sock = connect({ host, port, localPort, signal: ac.signal });
    sock.on('connect', () => {
      connectMs = round(performance.now() - t0);
      clearTimeout(timer);
      timer = setTimeout(() => ac.abort(), RESPONSE_TIMEOUT_MS);
      sock.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: vipwatch-lab\r\nConnection: close\r\n\r\n`);
    });
    sock.on('data', (b: Buffer) => chunks.push(b));
    sock.on('end', () => finish(parseResponse(Buffer.concat(chunks).toString('utf8'))));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (err.name === 'AbortError') {
        finish({ outcome: connectMs === undefined ? 'connect_timeout' : 'response_timeout', code: 'ETIMEDOUT' });
      } else if (err.code === 'ECONNREFUSED') {
        finish({ outcome: 'refused', code: err.code });
      } else if (err.code === 'ECONNRESET') {
        finish({ outcome: 'reset', code: err.code });
      } else {
        finish({ outcome: 'error', code: err.code ?? err.name });
      }
    });
  });
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function parseResponse(text: string): Omit<AttemptResult, 'i' | 'localPort' | 'totalMs' | 'connectMs'> {
  const [head = '', body = ''] = text.split('\r\n\r\n', 2);
  const lines = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) return { outcome: 'error', code: 'BAD_RESPONSE' };
  const header = (name: string) =>
    lines.slice(1).find((l) => l.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
  let pod: string | undefined;
  try {
    pod = (JSON.parse(body) as { pod?: string }).pod;
  } catch {
    pod = undefined;
  }
  return { outcome: 'ok', status: Number(m[1]), node: header('x-node'), pod };
}

export async function probeMany(opts: ProbeOptions): Promise<ProbeReport> {
  const results: AttemptResult[] = new Array(opts.localPorts.length);
  let next = 0;
  // A small pool of concurrent attempts: bounded run time even when every attempt times out.
  const worker = async () => {
    for (let i = next++; i < opts.localPorts.length; i = next++) {
      results[i] = await probeOnce(i, opts.host, opts.port, opts.localPorts[i]!, opts.timeoutMs);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker));
  return { host: opts.host, port: opts.port, timeoutMs: opts.timeoutMs, results };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string' },
      port: { type: 'string', default: '80' },
      'timeout-ms': { type: 'string', default: '1500' },
      concurrency: { type: 'string', default: '10' },
      ports: { type: 'string' },
    },
  });
  const ports = (values.ports ?? '').split(',').filter(Boolean).map(Number);
  if (!values.host || ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    throw new Error('usage: client-probe --host IP --ports P1,P2,... [--port 80] [--timeout-ms 1500] [--concurrency 10]');
  }
  const report = await probeMany({
    host: values.host,
    port: Number(values.port),
    timeoutMs: Number(values['timeout-ms']),
    concurrency: Number(values.concurrency),
    localPorts: ports,
  });
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`client-probe: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  });
}
