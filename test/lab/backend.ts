import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * The backend "pod" of one lab node: answers every request with 200, `X-Node: <node>` and {"node","pod"}, and closes the
 * connection after each response so every probe attempt is a fresh TCP connection (and a fresh HMARK choice).
 */
export interface BackendOptions {
  readonly node: string;
  readonly pod: string;
  readonly host: string;
  readonly port: number;
}

export function startBackend(opts: BackendOptions): Promise<Server> {
  const body = JSON.stringify({ node: opts.node, pod: opts.pod });
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      'X-Node': opts.node,
      'X-Pod': opts.pod,
      Connection: 'close',
    });
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      node: { type: 'string' },
      pod: { type: 'string' },
      host: { type: 'string', default: '0.0.0.0' },
      port: { type: 'string', default: '80' },
    },
  });
  if (!values.node || !values.pod) throw new Error('usage: backend --node NAME --pod NAME [--host 0.0.0.0] [--port 80]');
  const server = await startBackend({ node: values.node, pod: values.pod, host: values.host!, port: Number(values.port) });
  const stop = () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The lab waits for this line before it calls the backend ready.
  process.stdout.write(`${JSON.stringify({ ready: true, node: values.node, pod: values.pod, port: Number(values.port) })}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`backend: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
