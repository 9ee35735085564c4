/**
 * unreachable needs the kernel to reject a route, so the prober runs in a child process inside a network namespace
 * this test creates: only `lo`, one `unreachable` route, no default route. No packet can leave that namespace.
 */
import { execFile, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeResult, ProbeSpec, Protocol } from '../../src/probe/types.js';
import { needTools } from '../support/tools.js';

const run = promisify(execFile);
const support = join(dirname(fileURLToPath(import.meta.url)), '../support');
const ns = `vwprobe-${process.pid}`;
let skipReason: string | undefined;

beforeAll(() => {
  if (process.getuid?.() !== 0) return void (skipReason = 'needs root to create a network namespace');
  const steps = [
    ['netns', 'add', ns],
    ['-n', ns, 'link', 'set', 'lo', 'up'],
    ['-n', ns, 'route', 'add', 'unreachable', '198.51.100.0/24'],
  ];
  for (const args of steps) {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) return void (skipReason = `ip ${args.join(' ')} failed: ${r.stderr || r.error}`);
  }
});
afterAll(() => {
  spawnSync('ip', ['netns', 'del', ns]);
});

function spec(protocol: Protocol, address: string): ProbeSpec {
  const s: ProbeSpec = { target: 't', address, port: 80, protocol, timeoutMs: 2000 };
  if (protocol !== 'tcp') s.http = { path: '/', method: 'GET', headers: {}, expectStatus: [], maxBodyBytes: 1024 };
  return s;
}

/** One child for all attempts: starting node with the TypeScript loader is the slow part. */
async function probeInNs(specs: ProbeSpec[]): Promise<ProbeResult[]> {
  const argv = ['netns', 'exec', ns, process.execPath, '--import', join(support, 'net-ts-loader.mjs'), join(support, 'net-probe-child.ts'), JSON.stringify(specs)];
  const { stdout } = await run('ip', argv, { timeout: 20_000 });
  return JSON.parse(stdout) as ProbeResult[];
}

describe('unreachable (in a network namespace the test creates)', () => {
  it('EHOSTUNREACH from an unreachable route (tcp, http, https) and ENETUNREACH with no route at all', async (ctx) => {
    // Root and a working `ip netns` are this test's tools: skipped with one line without them, a failure under CI.
    needTools('unreachable test', { name: 'network namespace', ...(skipReason && { missing: skipReason }) }).require(ctx);
    const results = await probeInNs([spec('tcp', '198.51.100.7'), spec('http', '198.51.100.7'), spec('https', '198.51.100.8'), spec('tcp', '203.0.113.9')]);
    const codes = ['EHOSTUNREACH', 'EHOSTUNREACH', 'EHOSTUNREACH', 'ENETUNREACH'];
    results.forEach((r, i) => {
      expect(r).toMatchObject({ ok: false, reason: 'unreachable', errorCode: codes[i], synRetransmit: false });
      expect(r.timings.connectMs).toBeUndefined();
    });
  });
});
