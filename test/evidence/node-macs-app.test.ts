/**
 * The App's wiring of the node MAC directory: built only with agents.nodeUrlTemplate and kubernetes.arp.enabled, its
 * nodes from the cluster source's nodeNames, handed to the cluster source as setMacOwners; started and stopped with
 * the App. Real node agents on 127.0.0.2 and 127.0.0.3 (one port), the real clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { startNodeAgent, type RunningNodeAgent } from '../../src/cli/node-agent.js';
import { NoClusterSource } from '../../src/cluster/no-cluster-source.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { silentLogger } from '../../src/lib/logger.js';
import { fixtureInterfaces, fixtureRoot } from '../agent/fixtures.js';
import { PAIR_ADDR, startAgentPair } from './agent-pair.js';
import { waitFor } from '../support/wait.js';

const ADDR = PAIR_ADDR;
const MAC = { a: '0a:58:0a:f4:01:0a', b: '0a:58:0a:f4:01:0b' } as const;

/** No Kubernetes API: two Nodes as the cluster view would list them, and the MAC owners vipwatch hands it. */
class TwoNodes extends NoClusterSource {
  owners?: (mac: string) => readonly string[];
  nodeNames(): string[] {
    return Object.keys(ADDR).sort();
  }
  nodeAddresses(node: string): string[] {
    return ADDR[node] ? [ADDR[node]] : [];
  }
  setMacOwners(owners: (mac: string) => readonly string[]): void {
    this.owners = owners;
  }
}

describe('App wires the node MAC directory to the cluster source', () => {
  const agents: RunningNodeAgent[] = [];
  let port = 0;
  const dir = mkdtempSync(join(tmpdir(), 'vipwatch-node-macs-app-'));

  beforeAll(async () => {
    const pair = await startAgentPair((node, host, p) => startNodeAgent({
      listen: { host, port: p }, procRoot: fixtureRoot('strict-eth1'), node, logger: silentLogger,
      networkInterfaces: () => fixtureInterfaces({ eth0: node === 'node-a' ? MAC.a : MAC.b }),
    }));
    agents.push(...Object.values(pair.agents));
    port = pair.port;
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  function config(arp: boolean): Config {
    const c = parseConfig(`
server: { listen: "127.0.0.1:0" }
state: { dir: ${JSON.stringify(dir)} }
`, 'inline.yaml', { env: {} });
    // {nodeIP} and arp need the kubernetes section in a config file; the cluster source here stands in for it.
    return { ...c, agents: { ...c.agents, nodeUrlTemplate: `http://{nodeIP}:${port}` }, kubernetes: { ...c.kubernetes, arp: { ...c.kubernetes.arp, enabled: arp } } };
  }

  it('with kubernetes.arp.enabled: the cluster source\'s MAC owners name each node from its agent\'s report', async () => {
    const cluster = new TwoNodes();
    const app = new App({ config: config(true), logger: silentLogger, cluster });
    try {
      expect(app.nodeMacs).toBeDefined();
      expect(cluster.owners).toBeTypeOf('function');
      expect(cluster.owners!(MAC.a)).toEqual([]);
      await app.start();
      await waitFor(() => cluster.owners!(MAC.b).length > 0, { what: 'node-b\'s MAC from its agent' });
      expect(cluster.owners!(MAC.a)).toEqual(['node-a']);
      expect(cluster.owners!(MAC.b)).toEqual(['node-b']);
      expect(cluster.owners!('02:00:5e:00:53:99')).toEqual([]);
    } finally {
      await app.stop();
    }
  });

  it('without kubernetes.arp.enabled: no directory, no MAC owners (kernel evidence alone)', () => {
    const cluster = new TwoNodes();
    const app = new App({ config: config(false), logger: silentLogger, cluster });
    expect(app.kernel).toBeDefined();
    expect(app.nodeMacs).toBeUndefined();
    expect(cluster.owners).toBeUndefined();
  });
});
