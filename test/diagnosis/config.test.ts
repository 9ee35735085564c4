import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { DecodeContext, INVALID } from '../../src/config/schema-dsl.js';
import { DIAGNOSIS_DEFAULTS, diagnosisSection } from '../../src/config/sections/diagnosis.js';
import { ConfigError } from '../../src/lib/errors.js';

describe('diagnosis config section', () => {
  it('decodes an empty mapping (or no section) to the documented defaults', () => {
    const ctx = new DecodeContext();
    expect(diagnosisSection({}, ['diagnosis'], ctx)).toEqual(DIAGNOSIS_DEFAULTS);
    expect(ctx.problems).toEqual([]);
    expect(parseConfig('targets: []\n', 'c.yaml').diagnosis).toEqual(DIAGNOSIS_DEFAULTS);
    expect(DIAGNOSIS_DEFAULTS).toMatchObject({
      windowMs: 300_000, minAttempts: 20, pValue: 1e-4, openAfterMs: 0, marginalHoldMs: 30_000, resolveBelow: 0.02, resolveAfterMs: 10_000, reopenWithinMs: 600_000,
      repeatIntervalMs: 14_400_000, keepResolvedMs: 86_400_000, burst: { count: 30, spacingMs: 250, concurrency: 8, cooldownMs: 300_000, maxConcurrent: 4 },
    });
  });

  it('decodes durations and numbers, with YAML scientific notation', () => {
    const c = parseConfig(
      'diagnosis:\n  window: 10m\n  minAttempts: 30\n  pValue: 1e-5\n  openAfter: 1m\n  resolveAfter: 5m\n  burst:\n    count: 10\n    spacing: 100ms\n',
      'c.yaml',
    ).diagnosis;
    expect(c).toMatchObject({ windowMs: 600_000, minAttempts: 30, pValue: 1e-5, openAfterMs: 60_000, resolveAfterMs: 300_000 });
    expect(c.burst).toEqual({ count: 10, spacingMs: 100, concurrency: 8, cooldownMs: 300_000, maxConcurrent: 4 });
  });

  it('reports every bad key with file, line and column', () => {
    const text = 'diagnosis:\n  pValue: 0\n  windw: 5m\n  burst:\n    count: -1\n';
    let err: ConfigError | undefined;
    try {
      parseConfig(text, 'c.yaml');
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems).toEqual([
      'c.yaml:2:11: diagnosis.pValue: must be > 0, got 0',
      'c.yaml:3:3: diagnosis.windw: unknown key; did you mean "window"?',
      'c.yaml:5:12: diagnosis.burst.count: must be >= 1, got -1',
    ]);
  });

  it('keeps the resolve threshold under the noise level (hysteresis)', () => {
    const ctx = new DecodeContext();
    expect(diagnosisSection({ resolveBelow: 0.1 }, ['diagnosis'], ctx)).toBe(INVALID);
    expect(ctx.problems[0]!.message).toContain('must be at most max(minFailureRatio, lossRatio)');
  });
});
