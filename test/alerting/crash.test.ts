import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { waitFor } from '../support/wait.js';
import { event } from './incident.js';

/** The child runs from dist/ (npm test builds first); a stale build would test old code, so refuse it. */
const CHILD = resolve('dist/test/support/notifier-child.js');
const SOURCES = [resolve('test/support/notifier-child.ts'), ...readdirSync(resolve('src/alerting')).map((f) => resolve('src/alerting', f))];

class Child {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private constructor(readonly proc: ChildProcess) {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      this.lines.push(...parts);
    });
    proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  }

  static async start(configFile: string): Promise<Child> {
    const c = new Child(spawn(process.execPath, [CHILD, configFile], { stdio: ['pipe', 'pipe', 'pipe'] }));
    await waitFor(() => c.lines.includes('started'), { what: `child started (stderr: ${c.stderr})` });
    return c;
  }

  send(cmd: unknown): void {
    this.proc.stdin!.write(JSON.stringify(cmd) + '\n');
  }

  /** Keys the child reported as durably queued, with their incident and event type. */
  queued(): { key: string; incident: string; type: string }[] {
    return this.lines.filter((l) => l.startsWith('queued ')).map((l) => {
      const [, key, incident, type] = l.split(' ');
      return { key: key!, incident: incident!, type: type! };
    });
  }

  async kill9(): Promise<void> {
    this.proc.kill('SIGKILL');
    expect(await this.exited).toEqual({ code: null, signal: 'SIGKILL' });
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(r: WebhookReceiver): { configFile: string; outbox: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vipwatch-crash-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const configFile = join(dir, 'vipwatch.yaml');
  writeFileSync(configFile, `state:
  dir: ${join(dir, 'state')}
alerting:
  instance: crash-test
  backoff: { initial: 50ms, max: 200ms }
  webhooks:
    - name: ops
      url: ${r.url}
      timeout: 2s
`);
  return { configFile, outbox: join(dir, 'state', 'outbox', 'ops') };
}

async function spawnChild(configFile: string): Promise<Child> {
  const c = await Child.start(configFile);
  cleanups.push(async () => {
    if (c.proc.exitCode === null && c.proc.signalCode === null) {
      c.proc.kill('SIGKILL');
      await c.exited;
    }
  });
  return c;
}

/** Event types each incident's accepted notifications arrived in, by first acceptance of each key. */
function orderPerIncident(r: WebhookReceiver): Map<string, string[]> {
  const seen = new Set<string>();
  const out = new Map<string, string[]>();
  for (const q of r.accepted()) {
    const key = q.headers['idempotency-key']!;
    if (seen.has(key)) continue;
    seen.add(key);
    const id = q.headers['x-vipwatch-incident']!;
    out.set(id, [...(out.get(id) ?? []), q.headers['x-vipwatch-event']!]);
  }
  return out;
}

describe('kill -9 with notifications pending', () => {
  beforeAll(() => {
    const built = (() => {
      try {
        return statSync(CHILD).mtimeMs;
      } catch {
        return 0;
      }
    })();
    const newest = Math.max(...SOURCES.map((f) => statSync(f).mtimeMs));
    if (built < newest) throw new Error(`${CHILD} is missing or older than the sources: run "npm run build" first (npm test does)`);
  });

  it('delivers every queued notification after a restart: same keys, once per key, in order per incident', async () => {
    const r = await WebhookReceiver.start();
    cleanups.push(() => r.close());
    // Receiver "down" answering 503, so the keys of the failed attempts before the crash are on record.
    r.mode = { kind: 'status', status: 503 };
    const { configFile, outbox } = setup(r);
    const first = await spawnChild(configFile);
    for (const id of ['inc-1', 'inc-2', 'inc-3'])
      for (const type of ['open', 'update', 'reminder', 'resolved'] as const) first.send({ event: event(type, { id }) });
    await waitFor(() => first.queued().length === 12, { what: '12 queued' });
    await waitFor(() => r.requests.length >= 6, { what: 'failed attempts before the crash' });
    await first.kill9();
    const queued = first.queued();
    const triedBeforeCrash = new Set(r.requests.map((q) => q.headers['idempotency-key']));
    expect(readdirSync(outbox).filter((f) => f.endsWith('.json'))).toHaveLength(12);
    expect(r.accepted()).toHaveLength(0);

    r.mode = { kind: 'ok' };
    const second = await spawnChild(configFile);
    await waitFor(() => r.accepted().length >= 12, { what: 'all 12 delivered after restart' });
    second.send({ stop: true });
    expect((await second.exited).code).toBe(0);

    const perKey = r.acceptedPerKey();
    expect([...perKey.keys()].sort()).toEqual(queued.map((q) => q.key).sort());
    expect([...perKey.values()].every((c) => c === 1)).toBe(true);
    for (const key of triedBeforeCrash) expect(perKey.get(key!)).toBe(1);
    for (const id of ['inc-1', 'inc-2', 'inc-3']) expect(orderPerIncident(r).get(id)).toEqual(['open', 'update', 'reminder', 'resolved']);
    expect(readdirSync(outbox)).toEqual([]);
  });

  it('loses nothing when killed in the middle of queueing and delivering', async () => {
    const r = await WebhookReceiver.start();
    cleanups.push(() => r.close());
    let n = 0;
    // A flaky receiver: every third request fails.
    r.decide = () => (++n % 3 === 0 ? { kind: 'status', status: 500 } : undefined);
    const { configFile, outbox } = setup(r);
    const first = await spawnChild(configFile);
    first.send({ generate: { incidents: 5, rounds: 50 } });
    // Kill while it is still queueing (1,000 events) and delivering.
    await waitFor(() => first.queued().length >= 150 && r.accepted().length >= 20, { what: 'queueing and delivering under way', intervalMs: 5 });
    await first.kill9();
    const queued = first.queued();
    expect(queued.length).toBeLessThan(1000);
    const pendingFiles = readdirSync(outbox).filter((f) => f.endsWith('.json')).length;
    expect(pendingFiles).toBeGreaterThan(0);

    r.decide = undefined;
    const second = await spawnChild(configFile);
    const keys = new Set(queued.map((q) => q.key));
    await waitFor(() => [...keys].every((k) => r.acceptedPerKey().has(k)), { what: 'every queued key delivered', timeoutMs: 60_000 });
    await waitFor(() => readdirSync(outbox).filter((f) => f.endsWith('.json')).length === 0, { what: 'outbox drained' });
    second.send({ stop: true });
    expect((await second.exited).code).toBe(0);
    // At-least-once: a key is repeated only if the crash hit between the receiver's 200 and the outbox removal,
    // at most one per send in flight (4 per sink).
    const repeated = [...r.acceptedPerKey().values()].filter((c) => c > 1).length;
    expect(repeated).toBeLessThanOrEqual(4);
    // Order per incident holds across the crash.
    for (const [, types] of orderPerIncident(r)) {
      const rank = types.map((t) => ['open', 'update', 'reminder', 'resolved'].indexOf(t));
      expect(rank).toEqual([...rank].sort((a, b) => a - b));
    }
  });
});
