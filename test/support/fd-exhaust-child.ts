/**
 * Runs in a child whose resources the test limited (`bash -c 'ulimit -n 64; exec node ...'`, or a network namespace
 * with two ephemeral ports): opens sockets to PORT until that fails (out of descriptors, out of ports), probes TARGETS
 * (JSON array of [protocol, address, port]) while starved, then frees the sockets and probes them again.
 * PORT `self:N` starts an HTTP server on 127.0.0.1:N in this process (for a namespace of its own; a fixed N, since an
 * ephemeral one would come out of the very port range being exhausted); port 0 in TARGETS means that server.
 * Prints {hogs, hogError, starved, recovered} as JSON.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import { createProbers } from '../../src/probe/registry.js';
import type { ProbeResult, ProbeSpec, Protocol } from '../../src/probe/types.js';

function spec(protocol: Protocol, address: string, port: number): ProbeSpec {
  const s: ProbeSpec = { target: `${protocol}-${address}`, address, port, protocol, timeoutMs: 5000 };
  if (protocol !== 'tcp') s.http = { path: '/', method: 'GET', headers: {}, expectStatus: [], maxBodyBytes: 1024 };
  return s;
}

async function hog(port: number): Promise<{ hogs: Socket[]; code?: string }> {
  const hogs: Socket[] = [];
  for (let i = 0; i < 100_000; i++) {
    const s = connect(port, '127.0.0.1');
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      s.once('connect', () => resolve(null));
      s.once('error', resolve);
    });
    if (err) return { hogs, code: err.code };
    hogs.push(s);
  }
  return { hogs };
}

export async function main(argv: string[]): Promise<void> {
  let port = Number(argv[0]);
  if (argv[0]?.startsWith('self:')) {
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(Number(argv[0]!.slice(5)), '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    server.unref();
  }
  const targets = (JSON.parse(argv[1] ?? '[]') as [Protocol, string, number][]).map(([p, a, n]): [Protocol, string, number] => [p, a, n || port]);
  const probers = createProbers();
  const probeAll = async (): Promise<ProbeResult[]> => {
    const out: ProbeResult[] = [];
    for (const [p, a, n] of targets) out.push(await probers[p].probe(spec(p, a, n), AbortSignal.timeout(5000)));
    return out;
  };
  // Warm up (module loading, undici's lazy parts) while descriptors are still free.
  await probeAll();
  const { hogs, code } = await hog(port);
  const starved = await probeAll();
  for (const s of hogs) s.destroy();
  await new Promise((r) => setTimeout(r, 50));
  const recovered = await probeAll();
  process.stdout.write(`${JSON.stringify({ hogs: hogs.length, hogError: code ?? null, starved, recovered })}\n`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main(process.argv.slice(2));
