/**
 * Every metric the Grafana dashboard and the alerting rules query, and every label they match or group on, is one a
 * live vipwatch exports: read from the /metrics of a real App (a healthy and a refused target on loopback). A metric
 * counts when its HELP/TYPE is in the exposition (histograms with _bucket/_sum/_count); its labels are those of its
 * samples and of its registered label names (a counter with no event yet has no sample), plus job and instance, which
 * Prometheus adds. The queries also parse: promtool checks them as recording rules.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { closedPort } from '../support/net-servers.js';
import { needTools, PROMTOOL } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { promqlRefs, withoutGrafanaVariables } from './promql-refs.js';

const DEPLOY = join(import.meta.dirname, '../../deploy');
const promtool = needTools('promtool parsing the dashboard queries', PROMTOOL());

/** Labels Prometheus attaches to every scraped series. */
const TARGET_LABELS = ['job', 'instance'];
/** Series Prometheus makes itself, with their labels. */
const PROMETHEUS_SERIES: Record<string, string[]> = { up: TARGET_LABELS };

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; refId: string }[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
}

const dashboard = (): Dashboard => JSON.parse(readFileSync(join(DEPLOY, 'grafana/vipwatch-dashboard.json'), 'utf8')) as Dashboard;
const allPanels = (d: Dashboard): Panel[] => d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);

/** Every query: panel targets, label_values() of the variables, and the rules' exprs; with where each comes from. */
function queries(): { where: string; expr: string }[] {
  const d = dashboard();
  const out = allPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr })));
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : v.query.query;
    const m = /^label_values\((.+),\s*(\w+)\)$/.exec(q);
    if (!m) throw new Error(`variable ${v.name}: expected label_values(selector, label), got ${q}`);
    // The label it lists must be a label of the metric: checked as a grouping label.
    out.push({ where: `variable ${v.name}`, expr: `count by (${m[2]}) (${m[1]})` });
  }
  const rules = parse(readFileSync(join(DEPLOY, 'prometheus/vipwatch-rules.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  for (const r of rules.groups.flatMap((g) => g.rules)) out.push({ where: `rule ${r.alert}`, expr: r.expr });
  return out;
}

/** Metric families of an exposition and the labels each is seen with. */
function families(text: string, registered: Map<string, string[]>): Map<string, { type: string; labels: Set<string> }> {
  const out = new Map<string, { type: string; labels: Set<string> }>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, { type: m[2]!, labels: new Set([...TARGET_LABELS, ...(registered.get(m[1]!) ?? [])]) });
  }
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s/.exec(line)!;
    const name = out.has(m[1]!) ? m[1]! : m[1]!.replace(/_(bucket|sum|count)$/, '');
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) out.get(name)!.labels.add(l[1]!);
  }
  return out;
}

describe('the dashboard and the rules query what a live vipwatch exports', () => {
  let web: Server;
  let app: App;
  let text = '';
  let registered = new Map<string, string[]>();

  beforeAll(async () => {
    web = createServer((_req, res) => res.writeHead(200, { 'x-node': 'node-a' }).end('ok'));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    const config = parseConfig(`
server: { listen: "127.0.0.1:0" }
targets:
  - { name: web, address: 127.0.0.1, port: ${(web.address() as AddressInfo).port}, protocol: http, interval: 100ms, timeout: 100ms, http: { backendHeader: X-Node } }
  - { name: closed, address: 127.0.0.1, port: ${await closedPort()}, protocol: tcp, interval: 100ms, timeout: 100ms }
`, 'inline.yaml', { env: {} });
    app = new App({ config, logger: silentLogger });
    const base = `http://127.0.0.1:${(await app.start()).port}`;
    text = await waitFor(async () => {
      const t = await (await fetch(`${base}/metrics`)).text();
      return /vipwatch_target_up\{target="closed"\} 0/.test(t) && /vipwatch_target_up\{target="web"\} 1/.test(t) ? t : undefined;
    }, { what: 'web up and closed down on /metrics' });
    registered = new Map(app.registry.getMetricsAsArray().map((m) => [(m as { name: string }).name, [...((m as { labelNames?: readonly string[] }).labelNames ?? [])]]));
  });

  afterAll(async () => {
    await app?.stop();
    web?.close();
  });

  it('every metric name exists and every label used is one of its labels', () => {
    const fams = families(text, registered);
    const problems: string[] = [];
    const qs = queries();
    expect(qs.length).toBeGreaterThan(30);
    for (const { where, expr } of qs) {
      const refs = promqlRefs(expr);
      const inExpr = new Set<string>();
      if (!refs.selectors.length) problems.push(`${where}: no metric in ${expr}`);
      for (const s of refs.selectors) {
        let labels: Set<string> | undefined;
        if (PROMETHEUS_SERIES[s.metric]) labels = new Set(PROMETHEUS_SERIES[s.metric]);
        else {
          const hist = /^(.+)_(bucket|sum|count)$/.exec(s.metric);
          const fam = fams.get(s.metric) ?? (hist && fams.get(hist[1]!)?.type === 'histogram' ? fams.get(hist[1]!) : undefined);
          if (fam) labels = new Set([...fam.labels, ...(hist?.[2] === 'bucket' ? ['le'] : [])]);
        }
        if (!labels) {
          problems.push(`${where}: ${s.metric || '(no name)'} is not in /metrics`);
          continue;
        }
        for (const l of labels) inExpr.add(l);
        for (const l of s.labels) if (!labels.has(l)) problems.push(`${where}: ${s.metric} has no label ${l} (it has ${[...labels].join(', ')})`);
      }
      for (const l of refs.grouping) if (!inExpr.has(l)) problems.push(`${where}: groups by ${l}, a label of none of its metrics`);
    }
    expect(problems).toEqual([]);
  });

  it('the checker catches a wrong metric, a wrong matcher label and a wrong grouping label', () => {
    const fams = families(text, registered);
    expect(fams.get('vipwatch_probe_duration_seconds')?.type).toBe('histogram');
    expect([...fams.get('vipwatch_probe_failures_total')!.labels].sort()).toEqual(['instance', 'job', 'node', 'reason', 'target']);
    expect(promqlRefs('sum by (node) (rate(vipwatch_probe_failure_total{target=~"$target", nod="x"}[$__rate_interval]))')).toEqual({
      selectors: [{ metric: 'vipwatch_probe_failure_total', labels: ['target', 'nod'] }], grouping: ['node'],
    });
    expect(promqlRefs('a > 0 unless on (instance, target) b == 0 or c offset 1h').selectors.map((s) => s.metric)).toEqual(['a', 'b', 'c']);
    expect(promqlRefs('histogram_quantile(0.99, sum by (le) (rate(x_bucket{a="}"}[5m])))')).toEqual({ selectors: [{ metric: 'x_bucket', labels: ['a'] }], grouping: ['le'] });
  });
});

describe('the dashboard JSON', () => {
  it('has unique panel ids, every query panel on the datasource variable, panels within the 24-column grid', () => {
    const d = dashboard();
    const panels = allPanels(d);
    expect(d.uid).toBe('vipwatch');
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
    expect(d.templating.list.map((v) => v.name)).toEqual(['datasource', 'instance', 'target', 'window']);
    // What the kit promises on the dashboard.
    const exprs = panels.flatMap((p) => p.targets ?? []).map((t) => t.expr).join('\n');
    for (const m of ['vipwatch_failure_ratio', 'vipwatch_probe_failures_total', 'vipwatch_announcer_info', 'vipwatch_incident_open',
      'vipwatch_event_loop_lag_seconds', 'vipwatch_probe_stalled_attempts_total', 'vipwatch_kube_up', 'vipwatch_notifications_total']) {
      expect(exprs).toContain(m);
    }
  });

  it.skipIf(promtool.skip)('every query parses (promtool check rules, with Grafana variables filled in)', () => {
    promtool.check();
    const exprs = allPanels(dashboard()).flatMap((p) => p.targets ?? []).map((t) => withoutGrafanaVariables(t.expr));
    const dir = mkdtempSync(join(tmpdir(), 'vipwatch-dashboard-'));
    try {
      const file = join(dir, 'queries.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:query:${i}`, expr })) }] }));
      const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
