/**
 * The reloader's baseline is the content the process started from: a change made while vipwatch started (after the
 * file was read, before it was watched) is applied by the check made once the file is watched. Real files; the app is
 * a recorder of what it is given.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigReloader, configDigest } from '../../src/cli/config-reloader.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/lib/logger.js';

const A = 'server: { listen: "127.0.0.1:0" }\ntargets:\n  - { name: a, address: 127.0.0.1, port: 1, protocol: tcp }\n';
const B = `${A}  - { name: b, address: 127.0.0.1, port: 2, protocol: tcp }\n`;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'vipwatch-reloader-'));
  dirs.push(dir);
  const file = join(dir, 'vipwatch.yaml');
  const applied: Config[] = [];
  const logs: { level: string; msg: string }[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => logs.push(JSON.parse(l) as (typeof logs)[number]) });
  const app = { reload: (c: Config) => void applied.push(c), registry: new Registry() };
  const reloader = (startedDigest?: string) => new ConfigReloader({ file, started: parseConfig(A, file, { env: {} }), app, logger, loadOptions: { env: {} }, startedDigest });
  return { file, applied, logs, reloader };
}

describe('ConfigReloader', () => {
  it('applies a change made after the start read it and before the file was watched (the check once watched)', () => {
    const { file, applied, logs, reloader } = setup();
    writeFileSync(file, A);
    const startedDigest = configDigest(Buffer.from(A));
    writeFileSync(file, B); // the change lands while vipwatch starts
    reloader(startedDigest).fileChanged(true);
    expect(applied.map((c) => c.targets.map((t) => t.name))).toEqual([['a', 'b']]);
    expect(logs.filter((l) => l.msg === 'config reloaded')).toHaveLength(1);
  });

  it('the check once watched is silent when nothing changed; an event with the same content says so at debug', () => {
    const { file, applied, logs, reloader } = setup();
    writeFileSync(file, A);
    const r = reloader(configDigest(Buffer.from(A)));
    r.fileChanged(true);
    expect(logs).toEqual([]);
    r.fileChanged();
    expect(applied).toEqual([]);
    expect(logs).toEqual([expect.objectContaining({ level: 'debug', msg: 'config file touched but not changed: not reloaded' })]);
  });
});
