import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { toNotification, type Notification } from '../../src/alerting/notification.js';
import { Notifier } from '../../src/alerting/notifier.js';
import { checkNotification, OutboxStore } from '../../src/alerting/outbox.js';
import { parseConfig } from '../../src/config/load.js';
import { FakeClock } from '../support/fake-clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { event } from './incident.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const T0 = Date.parse('2026-01-01T00:00:00Z');

function notification(seq: number, id: string): Notification {
  return toNotification(event('open', { id, target: `web-${seq}` }, T0), { seq, queuedAt: T0, instance: 'probe-a' });
}

/** Writes an entry under the name the outbox gives it, with `over` merged in (undefined deletes a field). */
function writeEntry(dir: string, n: Notification, over: Record<string, unknown> = {}, incidentOver: Record<string, unknown> = {}): string {
  const file = new OutboxStore(dir).fileOf(n);
  writeFileSync(file, JSON.stringify({ ...n, ...over, incident: { ...n.incident, ...incidentOver } }));
  return file;
}

describe('outbox entries are validated before they are trusted', () => {
  it('sets aside entries of the wrong shape with one error log each; they are never sent nor retried', async () => {
    const receiver = await WebhookReceiver.start();
    cleanups.push(() => receiver.close());
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-outbox-shape-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const box = join(dir, 'outbox', 'ops');
    mkdirSync(box, { recursive: true });

    const good = notification(1, 'inc-good');
    writeEntry(box, good, { injected: 'not part of the contract' });
    // Each parses as JSON and sits under its own name; one field breaks the contract.
    const bad: [Notification, Record<string, unknown>, Record<string, unknown>, string][] = [
      [notification(2, 'inc-no-target'), {}, { target: undefined }, 'incident.target: must be a non-empty string, got nothing'],
      [notification(3, 'inc-nodes'), {}, { nodes: 'node-2' }, 'incident.nodes: must be an object, got "node-2"'],
      [notification(4, 'inc-event'), { event: 'exploded' }, {}, 'event: must be one of open, update, reminder, resolved, got "exploded"'],
      [notification(5, 'inc-at'), { at: null }, {}, 'at: must be epoch milliseconds, got null'],
      [notification(6, 'inc-evidence'), {}, { evidence: 'one line' }, 'incident.evidence: must be a list of strings, got "one line"'],
    ];
    const moved = notification(7, 'inc-seq');
    bad.push([moved, { seq: 8 }, {}, `id ${JSON.stringify(moved.id)} and seq 8 do not match the file name`]);
    const files = bad.map(([n, over, inc]) => writeEntry(box, n, over, inc));

    const clock = new FakeClock(T0);
    const config = parseConfig(`alerting:\n  webhooks:\n    - name: ops\n      url: ${receiver.url}\n`, join(dir, 'c.yaml')).alerting;
    const logs: Record<string, unknown>[] = [];
    const logger = createLogger({ level: 'debug', write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>), now: () => clock.now() });
    const registry = new Registry();
    const notifier = new Notifier({ config, stateDir: dir, clock, logger, registry, instance: 'probe-a', random: () => 0 });
    cleanups.push(() => notifier.stop());
    await notifier.start();
    await notifier.whenIdle();

    // Only the good entry is delivered, with only the fields of the contract.
    expect(receiver.accepted().map((r) => r.headers['x-vipwatch-incident'])).toEqual(['inc-good']);
    expect(JSON.parse(receiver.accepted()[0]!.body)).toEqual(good.incident);
    expect(readdirSync(box).sort()).toEqual(files.map((f) => `${f.slice(box.length + 1)}.corrupt-${T0}`).sort());
    const setAside = logs.filter((l) => l.msg === 'unreadable outbox entry set aside');
    expect(setAside).toHaveLength(bad.length);
    bad.forEach(([, , , error], i) => expect(setAside.find((l) => l.file === `${files[i]}.corrupt-${T0}`), error).toMatchObject({ level: 'error', sink: 'ops', error }));

    // A day later nothing was retried: the bad entries were never queued.
    await clock.advance(25 * 3600_000);
    await notifier.whenIdle();
    expect(receiver.requests).toHaveLength(1);
    expect(logs.filter((l) => /retry|dropped|failed/.test(String(l.msg)))).toEqual([]);
  });

  it('accepts every notification the notifier itself writes (open, update, reminder, resolved, test)', () => {
    for (const type of ['open', 'update', 'reminder', 'resolved'] as const) {
      const n = toNotification(event(type, {}, T0), { seq: 3, queuedAt: T0 + 5, instance: 'a', test: type === 'open' });
      expect(checkNotification(JSON.parse(JSON.stringify(n)))).toEqual(n);
    }
  });
});
