/**
 * `vipwatch node-agent`: the node evidence agent's server. Read-only: it reads the kernel's files (see src/agent) at
 * each request and serves them as JSON and metrics; it writes nothing and needs no privilege.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { AGENT_DEFAULT_LISTEN, NODE_NAME_ENV } from '../agent/defaults.js';
import { NodeReader, type NetworkInterfaces } from '../agent/reader.js';
import { METRICS_CONTENT_TYPE } from '../agent/metrics.js';
import { NodeAgentService } from '../agent/service.js';
import { listenAddress } from '../config/address.js';
import { DecodeContext, INVALID } from '../config/schema-dsl.js';
import { errorMessage } from '../lib/errors.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { Secret } from '../lib/secret.js';
import { authorized, unauthorized } from '../server/auth.js';
import { HttpServer, json, text } from '../server/http-server.js';
import { UsageError } from './args.js';
import { EXIT, type CliIo } from './io.js';
import { stopRequested } from './shutdown.js';

/** Open without the token: kubelet's probes carry no credentials. */
const OPEN_PATH = '/-/healthy';

export interface NodeAgentOptions {
  listen: { host: string; port: number };
  /** Required as `Authorization: Bearer …` on every route but /-/healthy; none: open. */
  token?: Secret;
  /** Where proc/ is read from. Default '/'. */
  procRoot?: string;
  node: string;
  logger: Logger;
  networkInterfaces?: NetworkInterfaces;
  now?: () => number;
}

export interface RunningNodeAgent {
  address: AddressInfo;
  service: NodeAgentService;
  close(): Promise<void>;
}

/** Starts the agent's server; bounded like vipwatch's own (connections, header and request deadlines). */
export async function startNodeAgent(o: NodeAgentOptions): Promise<RunningNodeAgent> {
  const reader = new NodeReader({ node: o.node, root: o.procRoot, networkInterfaces: o.networkInterfaces, now: o.now });
  const service = new NodeAgentService(reader, o.logger);
  // Far fewer clients than vipwatch's server: a Prometheus or two and the probes' polls.
  const server = new HttpServer(o.logger, { maxConnections: 64 })
    .get('/v1/node', async () => {
      const a = await service.node();
      return json(a.body, a.status);
    })
    .get('/metrics', async () => text(await service.metrics(), 200, METRICS_CONTENT_TYPE))
    .get(OPEN_PATH, () => text('ok\n'));
  const token = o.token;
  if (token) {
    const auth = { bearerToken: token };
    server.guard((req, url) => (url.pathname === OPEN_PATH || authorized(auth, req.headers.authorization) ? undefined : unauthorized(auth)));
  }
  const address = await server.listen(o.listen.host, o.listen.port);
  return { address, service, close: () => server.close() };
}

export interface NodeAgentFlags {
  listen?: string;
  tokenFile?: string;
  procRoot?: string;
}

/** The command: starts, serves until SIGINT/SIGTERM (or `signal`), stops. */
export async function nodeAgentCommand(flags: NodeAgentFlags, io: CliIo, signal?: AbortSignal): Promise<number> {
  const listen = parseListen(flags.listen ?? AGENT_DEFAULT_LISTEN);
  // Listening for SIGINT/SIGTERM from here on: as PID 1 in a container an unhandled SIGTERM would be ignored.
  const failed = new AbortController();
  const stop = stopRequested(signal ? AbortSignal.any([signal, failed.signal]) : failed.signal);
  const giveUp = () => {
    failed.abort();
    return EXIT.failed;
  };
  const logger = createLogger({ write: io.out });
  let token: Secret | undefined;
  if (flags.tokenFile !== undefined) {
    try {
      token = readToken(flags.tokenFile);
    } catch (err) {
      io.err(`vipwatch: node-agent: ${errorMessage(err)}`);
      return giveUp();
    }
  }
  const node = io.env[NODE_NAME_ENV]?.trim() || hostname();
  const procRoot = flags.procRoot ?? '/';
  let agent: RunningNodeAgent;
  try {
    agent = await startNodeAgent({ listen, token, procRoot, node, logger });
  } catch (err) {
    io.err(`vipwatch: node-agent: cannot listen on ${flags.listen ?? AGENT_DEFAULT_LISTEN}: ${errorMessage(err)}`);
    return giveUp();
  }
  const first = await agent.service.read();
  logger.info('node agent started', {
    node, listen: `${agent.address.address}:${agent.address.port}`, procRoot, token: token !== undefined,
    interfaces: Object.keys(first.interfaces).length, reversePathDrops: first.reversePathDrops, readErrors: first.errors.length,
  });
  const why = await stop;
  logger.info('node agent stopping', { signal: why });
  await agent.close();
  return EXIT.ok;
}

function parseListen(value: string): { host: string; port: number } {
  const ctx = new DecodeContext();
  const r = listenAddress()(value, ['listen'], ctx);
  if (r === INVALID) throw new UsageError(`--listen ${ctx.problems.map((p) => p.message).join('; ')}`);
  return r;
}

/** The token file: one word (a trailing newline is dropped), never empty (an empty token would let anyone in). */
function readToken(file: string): Secret {
  let value: string;
  try {
    value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new Error(`cannot read --token-file ${file}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
  }
  if (value === '') throw new Error(`--token-file ${file} is empty`);
  if (/\s/.test(value)) throw new Error(`--token-file ${file}: the token must not contain whitespace (it is sent as one word after "Bearer ")`);
  return new Secret(value);
}
