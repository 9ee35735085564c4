/**
 * Real loopback servers for prober tests (and anyone else's): each listens on 127.0.0.1 (or ::1) port 0, counts the
 * connections it accepted and the client ports they came from, and closes every socket on close().
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface TestServer {
  host: string;
  port: number;
  /** Client source ports, one per accepted connection, in accept order. */
  readonly remotePorts: number[];
  readonly connections: number;
  /** Connections not yet closed. */
  readonly open: number;
  close(): Promise<void>;
}

type Listening = Server & { listen(port: number, host: string, cb: () => void): unknown };

async function track(server: Listening, host: string): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const remotePorts: number[] = [];
  // Count at the TCP level, before any TLS or HTTP, so a failed handshake still counts as a connection.
  server.on('connection', (s: Socket) => {
    remotePorts.push(s.remotePort!);
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    host,
    port: (server.address() as AddressInfo).port,
    remotePorts,
    get connections() {
      return remotePorts.length;
    },
    get open() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A raw TCP server; `onSocket` decides what to do with each connection (answer, stall, reset, garbage). */
export function tcpServer(onSocket: (s: Socket) => void, host = '127.0.0.1'): Promise<TestServer> {
  return track(createNetServer(onSocket), host);
}

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function httpServer(handler: HttpHandler, host = '127.0.0.1'): Promise<TestServer> {
  return track(createHttpServer(handler), host);
}

export function httpsServer(tls: { key: string; cert: string }, handler: HttpHandler, host = '127.0.0.1'): Promise<TestServer> {
  const server = createHttpsServer({ key: tls.key, cert: tls.cert }, handler);
  server.on('tlsClientError', () => {});
  return track(server, host);
}

/** A port nothing listens on: bound, then released (the kernel answers a SYN to it with RST). */
export async function closedPort(host = '127.0.0.1'): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, host, resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A port free to listen on (the same bound-then-released port, seen from the listener's side). */
export const freePort = closedPort;

/** Answers every connection with `bytes` and then closes: a peer that does not speak HTTP. */
export function garbageServer(bytes: string | Buffer): Promise<TestServer> {
  return tcpServer((s) => {
    s.on('data', () => {});
    s.end(bytes);
  });
}

/** Accepts and never answers (keeps reading so the request is taken). */
export function silentServer(): Promise<TestServer> {
  return tcpServer((s) => s.resume());
}

/**
 * Resets (RST) each connection once the client sent something, so the client has surely seen "connected";
 * with `reply`, it first answers that, and resets only after the client read it.
 */
export function resettingServer(reply?: string): Promise<TestServer> {
  return tcpServer((s) => {
    s.once('data', () => {
      if (reply === undefined) return void s.resetAndDestroy();
      s.write(reply);
      afterPeerRead(() => s.resetAndDestroy());
    });
  });
}

/**
 * Runs fn after a client in this same process has read what was just written. Needed before an RST: bytes and
 * RST that arrive together are reported by libuv as a clean EOF (it short-circuits POLLHUP after a partial read).
 * Written in poll phase N, the client reads in poll phase N+1; the second setImmediate runs in check phase N+1.
 */
export function afterPeerRead(fn: () => void): void {
  setImmediate(() => setImmediate(fn));
}
