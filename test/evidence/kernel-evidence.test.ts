import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startNodeAgent, type RunningNodeAgent } from '../../src/cli/node-agent.js';
import { AGENTS_DEFAULTS } from '../../src/config/sections/agents.js';
import { KernelEvidence } from '../../src/evidence/kernel-evidence.js';
import { kernelEvidenceLines, kernelRemediation } from '../../src/evidence/kernel-lines.js';
import { ERR } from '../../src/lib/error-codes.js';
import { silentLogger } from '../../src/lib/logger.js';
import { Secret } from '../../src/lib/secret.js';
import { fixtureInterfaces, fixtureRoot } from '../agent/fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

const TOKEN = 'kernel-evidence-token-1';

/** A writable copy of the strict-eth1 /proc tree: the test moves the counter and flips rp_filter like a kernel would. */
class ProcTree {
  readonly root = mkdtempSync(join(tmpdir(), 'vipwatch-proc-'));
  constructor() {
    cpSync(fixtureRoot('strict-eth1'), this.root, { recursive: true });
  }
  drops(): number {
    const [head, values] = this.netstatLines();
    return Number(values![head!.indexOf('IPReversePathFilter')]);
  }
  addDrops(n: number): void {
    const file = join(this.root, 'proc/net/netstat');
    const lines = readFileSync(file, 'utf8').split('\n');
    const head = lines[0]!.split(' ');
    const values = lines[1]!.split(' ');
    const i = head.indexOf('IPReversePathFilter');
    values[i] = String(Number(values[i]) + n);
    lines[1] = values.join(' ');
    writeFileSync(file, lines.join('\n'));
  }
  setRpFilter(iface: string, v: number): void {
    writeFileSync(join(this.root, `proc/sys/net/ipv4/conf/${iface}/rp_filter`), `${v}\n`);
  }
  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
  private netstatLines(): string[][] {
    return readFileSync(join(this.root, 'proc/net/netstat'), 'utf8').split('\n').slice(0, 2).map((l) => l.split(' '));
  }
}

describe('kernel evidence from a real node agent on 127.0.0.1 (fixture /proc tree, fake clock for vipwatch)', () => {
  let proc: ProcTree;
  let agent: RunningNodeAgent;
  let port: number;
  const made: KernelEvidence[] = [];

  beforeAll(async () => {
    proc = new ProcTree();
    agent = await startNodeAgent({
      listen: { host: '127.0.0.1', port: 0 }, procRoot: proc.root, node: 'node-2', token: new Secret(TOKEN), logger: silentLogger,
      networkInterfaces: fixtureInterfaces,
    });
    port = agent.address.port;
  });
  afterAll(async () => {
    await agent?.close();
    proc?.remove();
  });
  afterEach(async () => {
    await Promise.all(made.splice(0).map((k) => k.stop()));
  });

  function evidence(o: { token?: string; addresses?: string[]; template?: string } = {}) {
    const clock = new FakeClock();
    const k = new KernelEvidence({
      config: { ...AGENTS_DEFAULTS, nodeUrlTemplate: o.template ?? `http://{nodeIP}:${port}`, token: new Secret(o.token ?? TOKEN) },
      clock, logger: silentLogger, nodeAddresses: () => o.addresses ?? ['127.0.0.1'],
    });
    made.push(k);
    k.start();
    return { k, clock };
  }

  it('reads the wanted node at once, then every interval: strict eth1, the drops since the incident opened, the fix', async () => {
    const { k, clock } = evidence();
    k.want('web', ['node-2']);
    await k.read('node-2');
    const opened = clock.now();
    const first = k.evidence(['node-2'], opened)['node-2']!;
    expect(first).toMatchObject({ agent: 'ok', strictInterfaces: ['eth1'], reversePathDrops: proc.drops(), reversePathDropsSinceOpen: null });
    expect(Object.keys(first.interfaces)).toEqual(['eth0', 'eth1']);
    expect(first.interfaces.eth1!.rpFilter).toEqual({ all: 0, default: 2, interface: 1, effective: 1 });

    proc.addDrops(57);
    await clock.advance(AGENTS_DEFAULTS.intervalMs);
    await k.read('node-2');
    const during = k.evidence(['node-2'], opened)['node-2']!;
    expect(during).toMatchObject({ reversePathDropsSinceOpen: 57, lastRiseAt: new Date(clock.now()).toISOString() });
    const lines = kernelEvidenceLines({ 'node-2': during });
    expect(lines[0]).toMatch(/^Kernel of node-2 \(read \d\d:\d\d:\d\dZ\): rp_filter effective eth0 2 \(loose\) \(all=0, eth0=2\), eth1 1 \(strict\) \(all=0, eth1=1\); 57 reverse-path drops \(TcpExt IPReversePathFilter\) since the incident opened, .* Strict reverse-path filtering on eth1 is dropping packets: this confirms the diagnosis\.$/);
    expect(kernelRemediation({ 'node-2': during })[0]).toContain('`sysctl -w net.ipv4.conf.eth1.rp_filter=2`, and persist it in /etc/sysctl.d/90-vipwatch-rp-filter.conf: `net.ipv4.conf.eth1.rp_filter = 2`');

    // The fix: loose on eth1; the counter stops.
    const roseAt = during.lastRiseAt;
    proc.setRpFilter('eth1', 2);
    await clock.advance(AGENTS_DEFAULTS.intervalMs);
    await k.read('node-2');
    const after = k.evidence(['node-2'], opened)['node-2']!;
    expect(after).toMatchObject({ strictInterfaces: [], reversePathDropsSinceOpen: 57, lastRiseAt: roseAt });
    expect(after.interfaces.eth1!.rpFilter.effective).toBe(2);
    expect(kernelRemediation({ 'node-2': after })).toEqual([]);
    expect(kernelEvidenceLines({ 'node-2': after })[0]).toMatch(/No interface is in strict mode now, and the counter has not risen since \d\d:\d\d:\d\dZ: the drops stopped\.$/);
  });

  it('an agent that cannot be asked is reported with a stable code, its last values kept; never throws', async () => {
    const wrongToken = evidence({ token: 'not-it' });
    await wrongToken.k.read('node-2');
    expect(wrongToken.k.evidence(['node-2'], 0)['node-2']).toMatchObject({ agent: 'unreachable', error: expect.stringMatching(new RegExp(`^${ERR.AGENT_HTTP_STATUS}: .*HTTP 401`)) });

    const noAddress = evidence({ addresses: [] });
    await noAddress.k.read('node-2');
    expect(noAddress.k.evidence(['node-2'], 0)['node-2']!.error).toMatch(new RegExp(`^${ERR.AGENT_NO_ADDRESS}: node node-2 has no InternalIP`));

    // A closed port: refused at once.
    const closed = evidence({ template: 'http://{nodeIP}:1' });
    await closed.k.read('node-2');
    const e = closed.k.evidence(['node-2'], 0)['node-2']!;
    expect(e).toMatchObject({ agent: 'unreachable', strictInterfaces: [], reversePathDrops: null });
    expect(e.error).toMatch(new RegExp(`^${ERR.AGENT_UNREACHABLE}: `));
    expect(kernelEvidenceLines({ 'node-2': e })[0]).toMatch(/^Kernel of node-2: no evidence: its node agent could not be read \(VIPWATCH_AGENT_UNREACHABLE: .*\); the verdict stands on the probe's attempts alone\.$/);
    // Nothing was read for a node nobody asked about.
    expect(closed.k.evidence(['node-9'], 0)['node-9']).toMatchObject({ agent: 'unreachable', error: `${ERR.AGENT_UNREACHABLE}: not read yet` });
  });

  it('an agent that accepts and never answers is given up on at agents.timeout on vipwatch\'s clock', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const { k, clock } = evidence({ template: `http://{nodeIP}:${(silent.address() as { port: number }).port}` });
      const reading = k.read('node-2');
      await clock.advance(AGENTS_DEFAULTS.timeoutMs);
      await reading;
      expect(k.evidence(['node-2'], 0)['node-2']!.error).toMatch(/^VIPWATCH_AGENT_UNREACHABLE: .*no answer in time/);
    } finally {
      silent.close();
    }
  });
});

describe('the agents example in config/example.yaml', () => {
  it('decodes once uncommented', async () => {
    const { readFileSync } = await import('node:fs');
    const { parseConfig } = await import('../../src/config/load.js');
    const lines = readFileSync('config/example.yaml', 'utf8').split('\n');
    const from = lines.indexOf('# kubernetes:');
    const to = lines.findIndex((l, i) => i > from && l.startsWith('# Daily digest'));
    const block = lines.slice(from, to).map((l) => l.slice(2)).join('\n');
    const c = parseConfig(block, '/etc/vipwatch/vipwatch.yaml', { env: {} });
    expect(c.agents).toEqual({ nodeUrlTemplate: 'http://{nodeIP}:9465', timeoutMs: 2000, intervalMs: 5000 });
    expect(c.kubernetes.enabled).toBe(true);
  });
});
