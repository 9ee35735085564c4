/**
 * The attempt pipeline wired as app.ts wires it, for tests: the real engine, incidents (on a temp dir), metrics and
 * history on a fake clock; bursts, logs, incident events and outcomes recorded. Temp dirs go in afterEach.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach } from 'vitest';
import { DIAGNOSIS_DEFAULTS } from '../../src/config/sections/diagnosis.js';
import type { BurstRequest } from '../../src/diagnosis/burst.js';
import { DiagnosisEngine } from '../../src/diagnosis/engine.js';
import { makeAttempt, type Attempt } from '../../src/history/attempt.js';
import { TargetHistory } from '../../src/history/history.js';
import { IncidentService } from '../../src/incidents/service.js';
import type { IncidentEvent } from '../../src/incidents/types.js';
import { createLogger } from '../../src/lib/logger.js';
import { ProbeMetrics } from '../../src/metrics/probe-metrics.js';
import { SelfErrorMonitor } from '../../src/metrics/self-errors.js';
import { AttemptPipeline, type AttemptOutcome } from '../../src/pipeline/attempt-pipeline.js';
import { T0, web } from '../diagnosis/helpers.js';
import { FakeClock } from '../support/fake-clock.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** The real engine, incidents (on a temp dir), metrics and history, wired as app.ts does; bursts and logs recorded. */
export async function harness(opts: { engine?: DiagnosisEngine; accept?: number } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'vipwatch-pipeline-'));
  dirs.push(dir);
  const clock = new FakeClock(T0);
  const logs: { level: string; msg: string; [k: string]: unknown }[] = [];
  const logger = createLogger({ level: 'info', write: (l) => logs.push(JSON.parse(l) as (typeof logs)[number]), now: () => clock.now() });
  const registry = new Registry();
  const history = new TargetHistory('web', 512);
  const config = { ...DIAGNOSIS_DEFAULTS, openAfterMs: 0, marginalHoldMs: 0 };
  const events: IncidentEvent[] = [];
  const incidents = new IncidentService({ config, dir, clock, logger, registry, notify: async (ev) => void events.push(ev) });
  await incidents.start();
  const metrics = new ProbeMetrics(registry, { targets: () => [{ target: web, history }], now: () => clock.now(), takeLagMs: () => 0 }, 'test');
  const bursts: BurstRequest[] = [];
  const engine = opts.engine ?? new DiagnosisEngine(config);
  const pipeline = new AttemptPipeline({
    clock, logger, diagnosis: engine, incidents, metrics, selfErrors: new SelfErrorMonitor(registry, { clock, logger }),
    requestBurst: (_name, req) => (bursts.push(req), opts.accept ?? req.count),
  });
  const outcomes: AttemptOutcome[] = [];
  pipeline.onOutcome((o) => outcomes.push(o));
  /** Records a made-up attempt as the scheduler does (one immutable record) and hands it to the pipeline. */
  const feed = (drafts: readonly Attempt[]) => {
    for (const d of drafts) {
      clock.jump(d.startedAt + 1 - clock.now());
      const a = makeAttempt(d, { ...d, seq: history.nextSeq() });
      history.record(a);
      pipeline.handle(a, web, history, undefined);
    }
  };
  return { clock, logs, registry, history, incidents, events, bursts, outcomes, feed, stop: () => incidents.stop() };
}
