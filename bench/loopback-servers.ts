/**
 * Healthy loopback servers for the benchmark, run in a child process so that their CPU is not counted
 * as the probe's. Prints {"tcp":PORT,"http":PORT} on stdout once listening; exits when stdin closes.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';

export async function main(): Promise<void> {
  const tcp = createTcpServer((s) => {
    s.on('error', () => {});
    s.resume();
    s.end();
  });
  const http = createHttpServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'x-node': 'bench-node', connection: 'close' });
    res.end('ok\n');
  });
  http.keepAliveTimeout = 1;
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', 4096, r));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', 4096, r));
  const port = (s: { address(): unknown }) => (s.address() as { port: number }).port;
  process.stdout.write(JSON.stringify({ tcp: port(tcp), http: port(http) }) + '\n');
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) void main();
