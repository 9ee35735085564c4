import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_DEFAULT_LISTEN } from '../../src/agent/defaults.js';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { nodeAgentCommand } from '../../src/cli/node-agent.js';
import { waitFor } from '../support/wait.js';
import { fixtureRoot } from './fixtures.js';

function captureIo(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env };
  return { io, out, err };
}

describe('vipwatch node-agent (the command)', () => {
  it('serves until asked to stop: node name from NODE_NAME, --proc-root read, the port in its start line, exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-agent-cli-'));
    writeFileSync(join(dir, 'token'), 'cli-token-0a7e55\n');
    const { io, out } = captureIo({ NODE_NAME: 'worker-7' });
    const stop = new AbortController();
    const done = nodeAgentCommand({ listen: '127.0.0.1:0', procRoot: fixtureRoot('strict-eth1'), tokenFile: join(dir, 'token') }, io, stop.signal);
    await waitFor(() => out.some((l) => l.includes('node agent started')), { timeoutMs: 10_000 });
    const started = JSON.parse(out.find((l) => l.includes('node agent started'))!) as Record<string, unknown>;
    expect(started).toMatchObject({ node: 'worker-7', token: true, interfaces: 4, readErrors: 0 });
    expect(JSON.stringify(started)).not.toContain('cli-token-0a7e55');
    const port = Number(String(started.listen).split(':').pop());
    const res = await fetch(`http://127.0.0.1:${port}/v1/node`, { headers: { authorization: 'Bearer cli-token-0a7e55' }, signal: AbortSignal.timeout(5000) });
    expect(((await res.json()) as { node: string }).node).toBe('worker-7');
    stop.abort();
    expect(await done).toBe(0);
    expect(out.some((l) => l.includes('node agent stopping'))).toBe(true);
    await expect(fetch(`http://127.0.0.1:${port}/-/healthy`, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
  });

  it('a token file that is missing, empty or two words refuses to start (exit 1), saying why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-agent-cli-'));
    writeFileSync(join(dir, 'empty'), '\n');
    writeFileSync(join(dir, 'two'), 'a b\n');
    for (const [file, why] of [['missing', 'ENOENT'], ['empty', 'is empty'], ['two', 'must not contain whitespace']]) {
      const { io, err } = captureIo();
      expect(await nodeAgentCommand({ listen: '127.0.0.1:0', tokenFile: join(dir, file!) }, io)).toBe(1);
      expect(err.join('\n')).toContain(why);
    }
  });

  it('a port already taken: exit 1 naming the address', async () => {
    const first = captureIo();
    const stop = new AbortController();
    const done = nodeAgentCommand({ listen: '127.0.0.1:0', procRoot: fixtureRoot('strict-eth1') }, first.io, stop.signal);
    await waitFor(() => first.out.some((l) => l.includes('node agent started')), { timeoutMs: 10_000 });
    const listen = String((JSON.parse(first.out.find((l) => l.includes('node agent started'))!) as { listen: string }).listen);
    const second = captureIo();
    expect(await nodeAgentCommand({ listen }, second.io)).toBe(1);
    expect(second.err.join('\n')).toContain(`cannot listen on ${listen}`);
    stop.abort();
    expect(await done).toBe(0);
  });

  it('main: --help names the default port; a bad --listen or another command\'s option is a usage error (exit 2)', async () => {
    const help = captureIo();
    expect(await main(['node-agent', '--help'], help.io)).toBe(0);
    expect(help.out.join('\n')).toContain(AGENT_DEFAULT_LISTEN);
    expect(AGENT_DEFAULT_LISTEN).toBe('0.0.0.0:9465');
    const top = captureIo();
    expect(await main(['--help'], top.io)).toBe(0);
    expect(top.out.join('\n')).toContain('vipwatch node-agent [--listen ADDR:PORT] [--token-file FILE] [--proc-root DIR]');
    for (const argv of [['node-agent', '--listen', 'nowhere'], ['node-agent', '--config', 'x.yaml'], ['node-agent', 'extra']]) {
      const u = captureIo();
      expect(await main(argv, u.io), argv.join(' ')).toBe(2);
      expect(u.err[0]).toMatch(/^vipwatch: /);
    }
  });
});
