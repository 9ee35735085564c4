/**
 * Two real node agents on one port, node-a on 127.0.0.2 and node-b on 127.0.0.3: what a DaemonSet's
 * `http://{nodeIP}:PORT` reaches. node-b takes node-a's port on its own address; when something else holds it there,
 * both start again on another port.
 */
import type { RunningNodeAgent } from '../../src/cli/node-agent.js';

export const PAIR_ADDR: Record<string, string> = { 'node-a': '127.0.0.2', 'node-b': '127.0.0.3' };

/** Starts node-a (port 0, then its port) and node-b on the same port; `start(node, host, port)` starts one agent. */
export async function startAgentPair(start: (node: string, host: string, port: number) => Promise<RunningNodeAgent>): Promise<{ port: number; agents: Record<string, RunningNodeAgent> }> {
  for (let i = 0; ; i++) {
    const a = await start('node-a', PAIR_ADDR['node-a']!, 0);
    try {
      const b = await start('node-b', PAIR_ADDR['node-b']!, a.address.port);
      return { port: a.address.port, agents: { 'node-a': a, 'node-b': b } };
    } catch (err) {
      await a.close();
      if (i === 4) throw err;
    }
  }
}
