/**
 * The soak's peers, all on 127.0.0.1 port 0: a line-echo TCP server, an HTTP server, an HTTPS server with a test CA,
 * a refusing port (always fails) and an HTTP server that fails in blocks of time (flaps). Closing them ends every socket.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { makePki, type TestPki } from '../support/net-tls.js';
import { closedPort, httpServer, httpsServer, tcpServer, type TestServer } from '../support/net-servers.js';

export interface SoakPeers {
  tcp: TestServer;
  http: TestServer;
  https: TestServer;
  /** CA file for the HTTPS target's tls.caFile. */
  caFile: string;
  refusedPort: number;
  flapping: TestServer;
  /** Length of one flapping block; blocks cycle ok, 503, ok, reset. */
  flapBlockMs: number;
  close(): Promise<void>;
}

const ok = (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok\n');
};

/** Which block of the flapping cycle `now` falls in: 0 and 2 answer 200, 1 answers 503, 3 resets the connection. */
export function flapPhase(now: number, blockMs: number): 0 | 1 | 2 | 3 {
  return (Math.floor(now / blockMs) % 4) as 0 | 1 | 2 | 3;
}

export async function startSoakPeers(flapBlockMs = 10_000): Promise<SoakPeers> {
  let pki: TestPki | undefined;
  const servers: TestServer[] = [];
  try {
    // Answers PONG to a PING line, then closes: what the config's tcp.send/expectRegex check.
    servers.push(await tcpServer((s) => {
      let buf = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        buf += d;
        if (buf.includes('PING')) s.end('PONG\r\n');
      });
    }));
    servers.push(await httpServer(ok));
    pki = makePki(['IP:127.0.0.1']);
    servers.push(await httpsServer(pki, ok));
    servers.push(await httpServer((req, res) => {
      const phase = flapPhase(Date.now(), flapBlockMs);
      if (phase === 1) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('flapping\n');
      } else if (phase === 3) {
        req.socket.resetAndDestroy();
      } else ok(req, res);
    }));
    const refusedPort = await closedPort();
    const [tcp, http, https, flapping] = servers as [TestServer, TestServer, TestServer, TestServer];
    const p = pki;
    return {
      tcp, http, https, flapping, refusedPort, flapBlockMs, caFile: p.caFile,
      close: async () => {
        await Promise.all(servers.map((s) => s.close()));
        p.cleanup();
      },
    };
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    pki?.cleanup();
    throw err;
  }
}
