/**
 * A fix stays a fix while its attempt is in the window: the engine hands the served_again change point it found to the
 * next diagnosis, so the timeouts from before it are not read as loss once the attempts that proved the drop have
 * aged out of the window (issue 12: 1% background loss at a 400 ms timeout read packet_loss minutes after a fix).
 */
import { describe, expect, it } from 'vitest';
import { DIAGNOSIS_DEFAULTS } from '../../src/config/sections/diagnosis.js';
import { diagnose } from '../../src/diagnosis/diagnose.js';
import { DiagnosisEngine } from '../../src/diagnosis/engine.js';
import type { Diagnosis } from '../../src/diagnosis/types.js';
import { TargetHistory } from '../../src/history/history.js';
import { STEP, Stream, T0, web } from './helpers.js';

// The lab's 400 ms timeout (no SYN retransmission seen: a lost SYN is a timeout too). 2 min healthy, 1.5 min of strict
// rp_filter on node-2, then fixed, with background loss: a timeout in 40 attempts, below lossRatio on its own.
const short = { ...web, timeoutMs: 400 };
const stream = new Stream({ timeoutMs: 400 }).add('123', 20).add('1X3', 15).add(`${'123'.repeat(13)}X`, 8);
const fixAt = T0 + 105 * STEP; // the first attempt after the fault: node-1 serves; node-2 serves next

describe('a known fix', () => {
  it('keeps judging from the fix after the attempts that proved it left the window: no packet_loss from old timeouts', () => {
    const engine = new DiagnosisEngine(DIAGNOSIS_DEFAULTS);
    const history = new TargetHistory('web', 1000);
    const withMemory: Diagnosis[] = [];
    const without: Diagnosis[] = [];
    for (const a of stream.attempts) {
      history.record(a);
      const now = a.startedAt + 1;
      const step = engine.step({ attempt: a, target: short, history, view: undefined, now, incidentOpen: true });
      if (a.startedAt <= fixAt + STEP) continue;
      withMemory.push(step.diagnosis!);
      without.push(diagnose({ target: short, attempts: history.since(DIAGNOSIS_DEFAULTS.windowMs, now), now, config: DIAGNOSIS_DEFAULTS }));
    }
    // Without the memory the window, once the fault's proof aged out, reads the old timeouts as loss.
    expect(without.some((d) => d.verdict === 'packet_loss')).toBe(true);
    expect(withMemory.filter((d) => d.verdict !== 'healthy' && d.verdict !== 'insufficient_data')).toEqual([]);
    // 140 attempts after the fix (280 s): every timeout of the fault but the last few has left the 5 min window.
    const late = withMemory[140]!;
    expect(without[140]!.changePoint).toBeNull();
    expect(late.changePoint).toMatchObject({ kind: 'served_again', at: fixAt + STEP, node: 'node-2', blamed: ['node-2'] });
    expect(late.evidence.join('\n')).toContain('node-2 served a success at');
  });

  it('is dropped once its attempt has left the window', () => {
    const engine = new DiagnosisEngine(DIAGNOSIS_DEFAULTS);
    const history = new TargetHistory('web', 1000);
    const long = new Stream({ timeoutMs: 400 }).add('123', 20).add('1X3', 15).add('123', 120);
    let d: Diagnosis | undefined;
    for (const a of long.attempts) {
      history.record(a);
      d = engine.step({ attempt: a, target: short, history, view: undefined, now: a.startedAt + 1, incidentOpen: true }).diagnosis;
    }
    expect(d!.verdict).toBe('healthy');
    expect(d!.changePoint?.kind).not.toBe('served_again');
  });
});
