/**
 * Asks one node evidence agent for its report (GET {base}/v1/node): one request, the caller's deadline signal, a
 * bounded body, the reply checked for the fields vipwatch uses. Fails with a stable code, never hangs.
 */
import { Agent, request } from 'undici';
import type { NodeReport } from '../agent/types.js';
import { ERR } from '../lib/error-codes.js';
import { errorMessage, VipwatchError } from '../lib/errors.js';
import type { Secret } from '../lib/secret.js';

/** Far above a node with hundreds of interfaces (~80 KB at 500): a reply larger than this is not an agent's. */
export const MAX_REPORT_BYTES = 4 * 1024 * 1024;

/** What vipwatch reads of the agent's report. */
export type AgentReport = Pick<NodeReport, 'node' | 'readAt' | 'interfaces' | 'reversePathDrops'>;

export class AgentClient {
  private readonly pool: Agent;

  constructor(private readonly o: { token?: Secret; timeoutMs: number }) {
    // undici's own timers only back up the caller's deadline signal (on the injected clock).
    const backstop = o.timeoutMs + 1000;
    this.pool = new Agent({ connect: { timeout: backstop }, headersTimeout: backstop, bodyTimeout: backstop, keepAliveTimeout: 4000 });
  }

  async read(baseUrl: string, signal: AbortSignal): Promise<AgentReport> {
    const url = `${baseUrl.replace(/\/+$/, '')}/v1/node`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.o.token) headers.authorization = `Bearer ${this.o.token.reveal()}`;
    let res;
    try {
      res = await request(url, { method: 'GET', headers, signal, dispatcher: this.pool });
    } catch (err) {
      throw new VipwatchError(ERR.AGENT_UNREACHABLE, `${url}: ${signal.aborted ? 'no answer in time' : errorMessage(err)}`);
    }
    if (res.statusCode !== 200) {
      await res.body.dump().catch(() => {});
      throw new VipwatchError(ERR.AGENT_HTTP_STATUS, `${url}: HTTP ${res.statusCode}${res.statusCode === 401 ? ' (agents.tokenFile missing or not the agents\' token)' : ''}`);
    }
    let text = '';
    let size = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_REPORT_BYTES) {
          res.body.destroy();
          throw new VipwatchError(ERR.AGENT_BAD_REPLY, `${url}: reply larger than ${MAX_REPORT_BYTES} bytes`);
        }
        text += chunk.toString('utf8');
      }
    } catch (err) {
      if (err instanceof VipwatchError) throw err;
      throw new VipwatchError(ERR.AGENT_UNREACHABLE, `${url}: ${signal.aborted ? 'no answer in time' : errorMessage(err)}`);
    }
    return checkReport(text, url);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

function checkReport(text: string, url: string): AgentReport {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new VipwatchError(ERR.AGENT_BAD_REPLY, `${url}: not JSON`);
  }
  const bad = (what: string) => new VipwatchError(ERR.AGENT_BAD_REPLY, `${url}: not a node evidence report (${what})`);
  if (!raw || typeof raw !== 'object') throw bad('not an object');
  const o = raw as Record<string, unknown>;
  if (typeof o.node !== 'string' || typeof o.readAt !== 'string') throw bad('node or readAt missing');
  if (o.reversePathDrops !== null && !(typeof o.reversePathDrops === 'number' && Number.isFinite(o.reversePathDrops))) throw bad('reversePathDrops');
  if (!o.interfaces || typeof o.interfaces !== 'object') throw bad('interfaces missing');
  const interfaces: AgentReport['interfaces'] = {};
  for (const [name, v] of Object.entries(o.interfaces as Record<string, unknown>)) {
    const i = v as Record<string, unknown> | null;
    const rp = i?.rpFilter as Record<string, unknown> | undefined;
    if (!rp || !['all', 'default', 'interface', 'effective'].every((k) => typeof rp[k] === 'number')) throw bad(`interfaces.${name}.rpFilter`);
    const addresses = Array.isArray(i!.addresses) ? i!.addresses.filter((a): a is string => typeof a === 'string') : [];
    interfaces[name] = { rpFilter: rp as never, logMartians: (i!.logMartians ?? rp) as never, addresses };
    // The interface's MAC (newer agents): names the node owning a VIP's neighbour MAC. Checked by its reader.
    if (typeof i!.mac === 'string') interfaces[name].mac = i!.mac;
  }
  return { node: o.node, readAt: o.readAt, interfaces, reversePathDrops: o.reversePathDrops as number | null };
}
