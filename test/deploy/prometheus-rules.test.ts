/**
 * The shipped Prometheus pieces pass promtool: the rules check and their unit tests (deploy/prometheus/
 * vipwatch-rules.test.yml: every alert fires on the series that should fire it and not on their neighbours), and the
 * scrape config (which also loads the rules through its rule_files).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeEach, describe, expect, it } from 'vitest';
import { needTools, PROMTOOL } from '../support/tools.js';

const promtool = needTools('promtool on deploy/prometheus', PROMTOOL());
const DIR = join(import.meta.dirname, '../../deploy/prometheus');

function run(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules = (): Rule[] => (parse(readFileSync(join(DIR, 'vipwatch-rules.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

describe('the alerting rules', () => {
  it('each has a severity, a summary and a description, and a unique name', () => {
    const all = rules();
    expect(all.length).toBeGreaterThanOrEqual(10);
    expect(new Set(all.map((r) => r.alert)).size).toBe(all.length);
    for (const r of all) {
      expect(['critical', 'warning'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      expect(r.annotations?.description, r.alert).toBeTruthy();
    }
  });

  it('cover what the kit promises: failure ratio, failures per node, target down, kube source, notifications, stalls', () => {
    const exprs = rules().map((r) => r.expr).join('\n');
    for (const m of ['vipwatch_failure_ratio', 'vipwatch_probe_failures_total', 'vipwatch_target_up', 'vipwatch_kube_up',
      'vipwatch_notifications_total', 'vipwatch_notifications_dropped_total', 'vipwatch_probe_stalled_attempts_total', 'vipwatch_event_loop_lag_seconds']) {
      expect(exprs).toContain(m);
    }
    // Every alert is exercised by the promtool unit tests.
    const tested = readFileSync(join(DIR, 'vipwatch-rules.test.yml'), 'utf8');
    for (const r of rules()) expect(tested, r.alert).toContain(`alertname: ${r.alert}\n`);
  });
});

describe.skipIf(promtool.skip)('promtool', () => {
  beforeEach(() => promtool.check());

  it('check rules', () => {
    const r = run('check', 'rules', 'vipwatch-rules.yml');
    expect(r.out).toContain(`SUCCESS: ${rules().length} rules found`);
    expect(r.status, r.out).toBe(0);
  });

  it('test rules: every alert on its input series', () => {
    const r = run('test', 'rules', 'vipwatch-rules.test.yml');
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS');
  });

  it('check config: the scrape config, its Alertmanager and its rule file', () => {
    const r = run('check', 'config', 'prometheus.yml');
    expect(r.status, r.out).toBe(0);
    const config = parse(readFileSync(join(DIR, 'prometheus.yml'), 'utf8')) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const job = config.scrape_configs.find((j) => j.job_name === 'vipwatch');
    // VipwatchDown selects up{job="vipwatch"}.
    expect(job?.static_configs[0]?.targets).toEqual(['vipwatch:9464']);
    expect(rules().find((x) => x.alert === 'VipwatchDown')?.expr).toContain('job="vipwatch"');
  });
});
