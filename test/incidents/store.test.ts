import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IncidentManager } from '../../src/incidents/manager.js';
import { IncidentStore } from '../../src/incidents/store.js';
import type { Incident } from '../../src/incidents/types.js';
import { DIAGNOSIS_DEFAULTS } from '../../src/config/sections/diagnosis.js';
import { FakeClock } from '../support/fake-clock.js';
import { createLogger, silentLogger } from '../../src/lib/logger.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function incident(id: string, over: Partial<Incident> = {}): Incident {
  const t = new Date(Date.UTC(2026, 0, 1)).toISOString();
  return {
    id, status: 'open', kind: 'asymmetric_routing', severity: 'critical', target: 'web', address: '192.0.2.100', port: 80, service: 'default/web',
    announcerNode: 'node-1', suspectedNodes: ['node-2'], confidence: 0.9999, failureRatio: 0.33, expectedFailureRatio: 0.33, attempts: 120, failures: 40,
    reasons: { connect_timeout: 40 }, nodes: {}, summary: 's', evidence: [], remediation: [], startedAt: t, updatedAt: t, resolvedAt: null, ...over,
  };
}

describe('IncidentStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vipwatch-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips records and leaves no temp file behind', async () => {
    const s = new IncidentStore(dir, silentLogger);
    await s.save({ incident: incident('a-1'), lastNotifiedAt: 5 });
    await s.save({ incident: incident('a-1', { summary: 'second' }), lastNotifiedAt: 6 });
    expect(readdirSync(dir)).toEqual(['a-1.json']);
    expect(await s.loadAll(0)).toEqual([{ incident: incident('a-1', { summary: 'second' }), lastNotifiedAt: 6 }]);
  });

  it('keeps call order for concurrent writes of one record', async () => {
    const s = new IncidentStore(dir, silentLogger);
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.save({ incident: incident('a-1', { attempts: i }), lastNotifiedAt: i })));
    expect((await s.loadAll(0))[0]!.incident.attempts).toBe(19);
  });

  it('ignores (and deletes) a partial temp file, and moves an unreadable record aside', async () => {
    const lines: string[] = [];
    const s = new IncidentStore(dir, createLogger({ write: (l) => lines.push(l) }));
    await s.save({ incident: incident('good'), lastNotifiedAt: 1 });
    writeFileSync(join(dir, '.good.json.4242.7.tmp'), '{"version":1,"incident":{"id":"go');
    writeFileSync(join(dir, '.tmp-good.json.ab12cd34'), '{"version":1,"incident":{"id":"go');
    writeFileSync(join(dir, 'torn.json'), '{"version":1,"incident":');
    writeFileSync(join(dir, 'alien.json'), JSON.stringify({ version: 1, incident: { id: '../x', target: 'web' } }));
    const loaded = await s.loadAll(123);
    expect(loaded.map((r) => r.incident.id)).toEqual(['good']);
    expect(readdirSync(dir).sort()).toEqual(['alien.json.corrupt-123', 'good.json', 'torn.json.corrupt-123']);
    expect(lines.filter((l) => l.includes('moved aside'))).toHaveLength(2);
    expect(lines.some((l) => l.includes('partial incident write'))).toBe(true);
  });

  it('moves records of the wrong shape aside with one error log each; the manager restores none of them', async () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (l) => lines.push(l) });
    const good = incident('good');
    await new IncidentStore(dir, silentLogger).save({ incident: good, lastNotifiedAt: 1 });
    // Each parses as JSON and names its own file, but one field breaks the contract.
    const bad: Record<string, { over: Record<string, unknown>; field: string; top?: Record<string, unknown> }> = {
      'bad-nodes': { over: { nodes: 'node-2' }, field: 'incident.nodes: must be an object, got "node-2"' },
      'bad-port': { over: { port: '80' }, field: 'incident.port: must be an integer from 0 to 65535, got "80"' },
      'bad-evidence': { over: { evidence: [1, 2] }, field: 'incident.evidence[0]: must be a string, got 1' },
      'bad-kind': { over: { kind: 'rp_filter' }, field: 'incident.kind: must be one of asymmetric_routing, vip_unreachable, packet_loss, backend_refused, http_errors, etp_local_no_endpoint, intermittent_blocks, announcement_conflict, got "rp_filter"' },
      'bad-started': { over: { startedAt: 'yesterday' }, field: 'incident.startedAt: must be an ISO 8601 UTC time like 2026-01-01T00:00:00.000Z, got "yesterday"' },
      'no-target': { over: { target: undefined }, field: 'incident.target: must be a non-empty string, got nothing' },
      'bad-confidence': { over: { confidence: 7 }, field: 'incident.confidence: must be a number from 0 to 1, got 7' },
      'open-resolved': { over: { resolvedAt: '2026-01-01T00:00:00.000Z' }, field: 'incident.resolvedAt: must be null while the incident is open, got "2026-01-01T00:00:00.000Z"' },
      'bad-node-stats': { over: { nodes: { 'node-1': { endpoints: 1, successes: -1 } } }, field: 'incident.nodes.node-1.successes: must be an integer from 0 to 9007199254740991, got -1' },
      'bad-notified': { over: {}, top: { lastNotifiedAt: 'soon' }, field: 'lastNotifiedAt: must be epoch milliseconds' },
      'other-name': { over: { id: 'someone-else' }, field: 'incident.id "someone-else" does not match the file name' },
    };
    for (const [id, b] of Object.entries(bad)) {
      writeFileSync(join(dir, `${id}.json`), JSON.stringify({ version: 1, incident: { ...incident(id, { target: `t-${id}` }), ...b.over }, lastNotifiedAt: 1, ...b.top }));
    }
    const loaded = await new IncidentStore(dir, logger).loadAll(77);
    expect(loaded.map((r) => r.incident.id)).toEqual(['good']);
    expect(readdirSync(dir).sort()).toEqual(['good.json', ...Object.keys(bad).map((id) => `${id}.json.corrupt-77`)].sort());
    const logs = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'unreadable incident record moved aside');
    expect(logs).toHaveLength(Object.keys(bad).length);
    for (const [id, b] of Object.entries(bad)) {
      expect(logs.find((l) => l.file === join(dir, `${id}.json`)), id).toMatchObject({ level: 'error', movedTo: join(dir, `${id}.json.corrupt-77`), error: b.field });
    }
    // Loading again finds nothing new to complain about; a manager restores only the good record.
    lines.length = 0;
    const m = new IncidentManager({ dir, clock: new FakeClock(), config: DIAGNOSIS_DEFAULTS, logger });
    await m.load();
    expect(m.list().map((i) => i.id)).toEqual(['good']);
    expect(lines.filter((l) => l.includes('moved aside'))).toEqual([]);
    for (const id of Object.keys(bad)) expect(m.openFor(`t-${id}`)).toBeUndefined();
  });

  it('prunes a resolved record whose date cannot be read instead of keeping it forever', async () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (l) => lines.push(l) });
    const resolved = (id: string, over: Partial<Record<keyof Incident, unknown>>) =>
      writeFileSync(join(dir, `${id}.json`), JSON.stringify({ version: 1, incident: { ...incident(id), status: 'resolved', resolvedAt: '2026-01-01T01:00:00.000Z', ...over }, lastNotifiedAt: 1 }));
    resolved('bad-resolved-at', { resolvedAt: 'not a date' });
    resolved('bad-updated-at', { updatedAt: 12345 });
    resolved('ok-resolved', {});
    const m = new IncidentManager({ dir, clock: new FakeClock(Date.UTC(2026, 0, 1, 2)), config: DIAGNOSIS_DEFAULTS, logger });
    await m.load();
    expect(m.list().map((i) => i.id)).toEqual(['ok-resolved']);
    expect(readdirSync(dir)).toEqual(['ok-resolved.json']);
    const pruned = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'resolved incident record with an unreadable date pruned');
    expect(pruned.map((l) => l.file).sort()).toEqual([join(dir, 'bad-resolved-at.json'), join(dir, 'bad-updated-at.json')]);
  });

  it('restores only the fields of the contract', async () => {
    writeFileSync(join(dir, 'x.json'), JSON.stringify({ version: 1, incident: { ...incident('x'), injected: '<script>' }, lastNotifiedAt: 3, extra: true }));
    expect(await new IncidentStore(dir, silentLogger).loadAll(0)).toEqual([{ incident: incident('x'), lastNotifiedAt: 3 }]);
  });

  it('refuses ids that could escape the directory', async () => {
    const s = new IncidentStore(dir, silentLogger);
    await expect(s.save({ incident: incident('../evil'), lastNotifiedAt: 0 })).rejects.toMatchObject({ code: 'VIPWATCH_INCIDENT_ID' });
  });

  it('a manager restores the open incident written by a process killed with SIGKILL mid-write', async () => {
    // Compile the store (and what it imports) to plain JS, run it in a child that rewrites one record as fast as it
    // can, kill -9 it, then load with a fresh manager: the record is complete and still open.
    const build = join(dir, 'build');
    for (const f of ['src/incidents/store.ts', 'src/incidents/types.ts', 'src/incidents/validate.ts', 'src/lib/errors.ts', 'src/lib/error-codes.ts', 'src/lib/atomic-file.ts', 'src/lib/keyed-queue.ts', 'src/lib/incident-kinds.ts']) {
      const out = ts.transpileModule(readFileSync(join(ROOT, f), 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
      mkdirSync(dirname(join(build, f)), { recursive: true });
      writeFileSync(join(build, f.replace(/\.ts$/, '.js')), out.outputText);
    }
    writeFileSync(join(build, 'package.json'), '{"type":"module"}');
    const data = join(dir, 'incidents');
    const inc = incident('web-20260101T000000Z-0badf00d');
    writeFileSync(join(build, 'writer.js'), `
      import { IncidentStore } from './src/incidents/store.js';
      const store = new IncidentStore(${JSON.stringify(data)}, { warn() {}, error() {}, info() {}, debug() {} });
      const base = ${JSON.stringify(inc)};
      for (let i = 0; ; i++) {
        await store.save({ incident: { ...base, attempts: i, evidence: Array(200).fill('x'.repeat(100)) }, lastNotifiedAt: i });
        if (i === 20) process.stdout.write('ready\\n');
      }`);
    const child = spawn(process.execPath, [join(build, 'writer.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => b.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
    });
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    const m = new IncidentManager({ dir: data, clock: new FakeClock(), config: DIAGNOSIS_DEFAULTS, logger: silentLogger });
    await m.load();
    const restored = m.openFor('web')!;
    expect(restored.id).toBe(inc.id);
    expect(restored.attempts).toBeGreaterThanOrEqual(20);
    expect(restored.evidence).toHaveLength(200);
    expect(readdirSync(data).filter((f) => !f.startsWith('.'))).toEqual([`${inc.id}.json`]);
    expect(readdirSync(data).some((f) => f.endsWith('.tmp') || f.startsWith('.tmp-'))).toBe(false);
  });
});
