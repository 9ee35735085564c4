import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODES, type NodeName } from './addresses.js';
import { LabError, run } from './exec.js';
import { Lab, type LabProbeReport } from './lab.js';
import { LAB_NETNS_PATTERN } from './names.js';
import { readOwner } from './owner.js';
import { needTools } from '../support/tools.js';

// The lab needs root and working network namespaces; anywhere else the whole file is skipped with one line saying why.
const pre = await Lab.preflight();
// Outside CI: skipped with one line saying why; under CI the precondition test below fails with that reason.
const labTools = needTools('lab network tests', { name: 'root with network namespaces and iptables', ...(!pre.ok && { missing: pre.reason }) });
// Runs wherever the lab is not skipped: under CI a missing precondition fails here; elsewhere it shows the lab can run.
it.skipIf(labTools.skip)('lab network tests: preconditions (root, ip netns, iptables)', () => {
  labTools.check();
  expect(pre.ok).toBe(true);
});

async function labNamespaces(prefix: string): Promise<string[]> {
  const { stdout } = await run(['ip', 'netns', 'list']);
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((ns) => LAB_NETNS_PATTERN.exec(ns)?.[1] === prefix);
}

function servedBy(r: LabProbeReport): Set<string> {
  return new Set(r.results.filter((x) => x.outcome === 'ok').map((x) => x.node ?? '?'));
}

function outcomes(r: LabProbeReport): Set<string> {
  return new Set(r.results.map((x) => x.outcome));
}

async function allDrops(lab: Lab): Promise<Record<NodeName, number>> {
  const v = await Promise.all(NODES.map((n) => lab.rpFilterDrops(n)));
  return { 'node-1': v[0]!, 'node-2': v[1]!, 'node-3': v[2]! };
}

describe.skipIf(labTools.missing)('lab network on the real kernel (MetalLB L2 + direct server return in namespaces)', () => {
  const lab = new Lab();

  beforeAll(async () => {
    // setup() tears down whatever it built when it fails, so a failed setup leaves no namespaces either.
    await lab.setup();
  }, 60_000);

  afterAll(async () => {
    await lab.teardown();
  });

  it('builds every namespace under one short prefix, with interface names the kernel accepts, owned by this process', async () => {
    expect(lab.names.prefix).toMatch(/^vw\d{1,4}$/);
    expect((await labNamespaces(lab.names.prefix)).sort()).toEqual(
      [lab.names.bridge, lab.names.client, ...NODES.map((n) => lab.nodeNs(n))].sort(),
    );
    expect(readOwner(lab.names.prefix)?.pid).toBe(process.pid);
    // The announcer answers ARP for the VIP with its LAN MAC: the client's neighbour entry after a probe shows it.
    await lab.probe({ count: 1 });
    const neigh = await lab.exec(lab.names.client, ['ip', 'neigh', 'show', lab.addresses.vip]);
    expect(neigh.stdout).toContain(lab.addresses.nodes['node-1'].lanMac);
  });

  it('healthy: 60 fresh connections all succeed and all three nodes serve', async () => {
    const r = await lab.probe({ count: 60 });
    expect(r.summary.byOutcome).toEqual({ ok: 60 });
    expect(servedBy(r)).toEqual(new Set(NODES));
    for (const x of r.results) {
      expect(x.status).toBe(200);
      expect(x.pod).toBe(`web-${x.node!.slice(-1)}`);
    }
  });

  it('strict rp_filter on node-2: its share times out (no RST), the rest succeed, its IPReversePathFilter rises; loose mode restores exactly those flows', async () => {
    const before = await allDrops(lab);
    await lab.setRpFilter('node-2', 1);
    try {
      const r = await lab.probe({ count: 60 });
      const timedOut = r.results.filter((x) => x.outcome === 'connect_timeout');
      expect(outcomes(r)).toEqual(new Set(['ok', 'connect_timeout']));
      expect(servedBy(r)).toEqual(new Set(['node-1', 'node-3']));
      expect(timedOut.length).toBeGreaterThanOrEqual(5);
      for (const x of timedOut) {
        expect(x.connectMs).toBeUndefined();
        expect(x.totalMs).toBeGreaterThanOrEqual(1400);
      }
      const after = await allDrops(lab);
      // Each timed-out flow lost its SYN and its retransmission (about 1 s later) to the reverse-path check on node-2.
      expect(after['node-2'] - before['node-2']).toBeGreaterThanOrEqual(timedOut.length);
      expect(after['node-1']).toBe(before['node-1']);
      expect(after['node-3']).toBe(before['node-3']);

      // Same tuples, same HMARK choice: with loose mode every flow that timed out is served, and by node-2.
      await lab.setRpFilter('node-2', 2);
      const again = await lab.probe({ ports: timedOut.map((x) => x.localPort) });
      expect(again.summary.byOutcome).toEqual({ ok: timedOut.length });
      expect(servedBy(again)).toEqual(new Set(['node-2']));
      expect(await lab.rpFilterDrops('node-2')).toBe(after['node-2']);
    } finally {
      await lab.setRpFilter('node-2', 0);
    }
  });

  it('strict rp_filter on node-2 and node-3: only the announcer serves, both counters rise', async () => {
    const before = await allDrops(lab);
    await lab.setRpFilter('node-2', 1);
    await lab.setRpFilter('node-3', 1);
    try {
      const r = await lab.probe({ count: 45 });
      expect(outcomes(r)).toEqual(new Set(['ok', 'connect_timeout']));
      expect(servedBy(r)).toEqual(new Set(['node-1']));
      const after = await allDrops(lab);
      expect(after['node-2']).toBeGreaterThan(before['node-2']);
      expect(after['node-3']).toBeGreaterThan(before['node-3']);
      expect(after['node-1']).toBe(before['node-1']);
    } finally {
      await lab.setRpFilter('node-2', 0);
      await lab.setRpFilter('node-3', 0);
    }
  });

  it('10% random SYN loss at the announcer: some connects are slow (one retransmission, about 1 s), no resets, no rp_filter drops', async () => {
    const before = await allDrops(lab);
    await lab.setSynLoss(10);
    try {
      const r = await lab.probe({ count: 100, concurrency: 20 });
      const slow = r.results.filter((x) => x.outcome === 'ok' && (x.connectMs ?? 0) >= 800);
      expect([...outcomes(r)].every((o) => o === 'ok' || o === 'connect_timeout')).toBe(true);
      expect(slow.length).toBeGreaterThanOrEqual(1);
      for (const x of slow) expect(x.connectMs).toBeLessThan(1400);
      expect(r.summary.byOutcome.ok).toBeGreaterThanOrEqual(80);
      expect(servedBy(r)).toEqual(new Set(NODES));
      expect(await allDrops(lab)).toEqual(before);
    } finally {
      await lab.setSynLoss(0);
    }
  });

  it('VIP outage: every connection times out; back on, every connection succeeds', async () => {
    await lab.setOutage(true);
    try {
      const r = await lab.probe({ count: 30 });
      expect(r.summary.byOutcome).toEqual({ connect_timeout: 30 });
    } finally {
      await lab.setOutage(false);
    }
    const back = await lab.probe({ count: 30 });
    expect(back.summary.byOutcome).toEqual({ ok: 30 });
  });

  it("refusing backend on node-3: its share is refused at once (RST), the rest succeed; lifted, exactly those flows reach node-3", async () => {
    await lab.setRefusing('node-3', true);
    let refused: number[] = [];
    try {
      const r = await lab.probe({ count: 60 });
      const ref = r.results.filter((x) => x.outcome === 'refused');
      expect(outcomes(r)).toEqual(new Set(['ok', 'refused']));
      expect(servedBy(r)).toEqual(new Set(['node-1', 'node-2']));
      expect(ref.length).toBeGreaterThanOrEqual(5);
      for (const x of ref) {
        expect(x.code).toBe('ECONNREFUSED');
        expect(x.totalMs).toBeLessThan(500);
      }
      refused = ref.map((x) => x.localPort);
    } finally {
      await lab.setRefusing('node-3', false);
    }
    const again = await lab.probe({ ports: refused });
    expect(again.summary.byOutcome).toEqual({ ok: refused.length });
    expect(servedBy(again)).toEqual(new Set(['node-3']));
  });

  it('cleanupStale removes a dead run\'s namespaces and processes, and leaves a live lab alone', async () => {
    // A prefix whose owner is gone: the pid of a process that has already exited, with no owner file of a live lab.
    const gone = spawn('true');
    await new Promise((r) => gone.once('exit', r));
    let stalePrefix = `vw${gone.pid! % 10_000}`;
    if (stalePrefix === lab.names.prefix || readOwner(stalePrefix)) stalePrefix = `vw${(gone.pid! + 5_000) % 10_000}`;
    const staleNs = `${stalePrefix}-client`;
    await run(['ip', 'netns', 'add', staleNs]);
    const leftover = spawn('ip', ['netns', 'exec', staleNs, 'sleep', '300'], { stdio: 'ignore' });
    const exited = new Promise((r) => leftover.once('exit', r));
    try {
      await expect.poll(async () => (await run(['ip', 'netns', 'pids', staleNs])).stdout.trim()).not.toBe('');
      const removed = await Lab.cleanupStale();
      expect(removed).toContain(staleNs);
      expect(removed.some((ns) => ns.startsWith(`${lab.names.prefix}-`))).toBe(false);
      expect(await labNamespaces(stalePrefix)).toEqual([]);
      await exited;
      expect(await labNamespaces(lab.names.prefix)).toHaveLength(5);
    } finally {
      leftover.kill('SIGKILL');
      await run(['ip', 'netns', 'del', staleNs], { allowFail: true });
    }
  });

  it('teardown removes every namespace and the owner file, and is idempotent', async () => {
    const prefix = lab.names.prefix;
    await lab.teardown();
    await lab.teardown();
    expect(await labNamespaces(prefix)).toEqual([]);
    expect(readOwner(prefix)).toBeUndefined();
  });
});

describe.skipIf(labTools.missing)('lab setup failure', () => {
  it('a setup that fails half-way (a backend that dies) removes every namespace it made and rejects with a stable code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vw-lab-broken-'));
    writeFileSync(join(dir, 'backend.js'), "process.stderr.write('boom'); process.exit(3);\n");
    writeFileSync(join(dir, 'client-probe.js'), '');
    const broken = new Lab({ scriptsDir: dir, iptables: pre.ok ? pre.iptables : undefined });
    try {
      const err = await broken.setup().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(LabError);
      expect((err as LabError).code).toBe('LAB_BACKEND_NOT_READY');
      expect((err as LabError).message).toContain('boom');
      expect(await labNamespaces(broken.names.prefix)).toEqual([]);
      expect(readOwner(broken.names.prefix)).toBeUndefined();
    } finally {
      await broken.teardown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
