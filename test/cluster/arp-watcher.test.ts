/**
 * The neighbour table read per attempt: fresh within NEIGHBOUR_FRESH_MS for a normal table, spaced out (and said so
 * once) when reading it costs more than a fiftieth of the time between reads. Real files, a fake clock.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArpWatcher, NEIGHBOUR_FRESH_MS } from '../../src/cluster/arp.js';
import { createLogger } from '../../src/lib/logger.js';
import { FakeClock } from '../support/fake-clock.js';

const VIP = '192.0.2.100';
const HEADER = 'IP address       HW type     Flags       HW address            Mask     Device\n';
const line = (ip: string, mac: string) => `${ip.padEnd(17)}0x1         0x2         ${mac}     *        eth0\n`;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(neighbours: number) {
  const dir = mkdtempSync(join(tmpdir(), 'vipwatch-arp-watcher-'));
  dirs.push(dir);
  const file = join(dir, 'arp');
  // A big segment: `neighbours` other hosts (10.x.y.z) besides the VIP.
  let others = '';
  for (let i = 0; i < neighbours; i++) others += line(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`);
  const write = (mac: string) => writeFileSync(file, HEADER + others + line(VIP, mac));
  write('02:00:00:00:00:01');
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const logs: { level: string; msg: string; spacingMs?: number }[] = [];
  const logger = createLogger({ level: 'info', write: (l) => logs.push(JSON.parse(l) as (typeof logs)[number]), now: () => clock.now() });
  const watcher = new ArpWatcher({ file, intervalMs: 5000, clock, logger, vips: () => [VIP], nodesForMac: () => [] });
  return { watcher, clock, write, logs };
}

describe('ArpWatcher.refresh', () => {
  it('reads a normal table again once NEIGHBOUR_FRESH_MS has passed, and shares a read within it', async () => {
    const { watcher, clock, write, logs } = setup(50);
    // The first reads are cold ones (file system, JIT): a running probe reads 50 times a second.
    for (let i = 0; i < 50; i++) {
      await clock.advance(NEIGHBOUR_FRESH_MS);
      watcher.refresh();
    }
    expect(watcher.macsFor(VIP)).toEqual(['02:00:00:00:00:01']);
    // A read now (the loop's last refresh may have been served by an earlier read), which sets the spacing until the next.
    await clock.advance(watcher.readSpacingMs);
    watcher.refresh();
    // NEIGHBOUR_FRESH_MS on a quiet machine; a little more if this one is very busy, never the large-table spacing.
    const spacing = watcher.readSpacingMs;
    expect(spacing).toBeGreaterThanOrEqual(NEIGHBOUR_FRESH_MS);
    expect(spacing).toBeLessThan(200);
    write('02:00:00:00:00:03');
    await clock.advance(spacing - 1);
    watcher.refresh();
    expect(watcher.macsFor(VIP)).toEqual(['02:00:00:00:00:01']);
    await clock.advance(1);
    watcher.refresh();
    expect(watcher.macsFor(VIP)).toEqual(['02:00:00:00:00:03']);
    expect(watcher.changesFor(VIP)).toHaveLength(1);
    expect(logs.filter((l) => l.msg.includes('neighbour table is large'))).toEqual([]);
  });

  it('spaces reads of a huge table so that they cost at most a fiftieth of the time, and says so once', async () => {
    const { watcher, clock, write, logs } = setup(100_000);
    watcher.refresh();
    await clock.advance(60_000);
    watcher.refresh();
    const spacing = watcher.readSpacingMs;
    // Parsing 100,000 entries takes milliseconds on any machine: reads come at least 50 times that apart.
    expect(spacing).toBeGreaterThan(NEIGHBOUR_FRESH_MS * 5);
    write('02:00:00:00:00:03');
    await clock.advance(NEIGHBOUR_FRESH_MS);
    watcher.refresh();
    expect(watcher.macsFor(VIP)).toEqual(['02:00:00:00:00:01']);
    await clock.advance(watcher.readSpacingMs);
    watcher.refresh();
    expect(watcher.macsFor(VIP)).toEqual(['02:00:00:00:00:03']);
    const warns = logs.filter((l) => l.msg.includes('neighbour table is large'));
    expect(warns.length).toBeLessThanOrEqual(1);
    if (spacing > 200) expect(warns[0]).toMatchObject({ level: 'warn', spacingMs: expect.any(Number) });
  });
});
