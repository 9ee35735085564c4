/**
 * The docker-compose kit holds together without Docker: every file it mounts is in the repository, the services find
 * each other by the names the configs use (Prometheus scrapes vipwatch:9464 and alerts alertmanager:9093, Grafana
 * reads prometheus:9090, vipwatch pushes to alertmanager:9093), mounts land where the configs look, the example
 * vipwatch config passes the real config loader, and amtool accepts the Alertmanager config.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { revealed } from '../../src/lib/secret.js';
import { commandWorks, needTools, tool } from '../support/tools.js';

const DEPLOY = join(import.meta.dirname, '../../deploy');
const amtool = needTools('amtool check-config', tool('amtool', () => commandWorks('amtool', ['--version'], 'apt-get install prometheus-alertmanager')));

interface Service {
  image: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

const yamlFile = <T>(rel: string): T => parse(readFileSync(join(DEPLOY, rel), 'utf8')) as T;
const compose = () => yamlFile<Compose>('docker-compose.yml');

/** A service's volumes as { source, target, bind }: a bind mount's source is relative to deploy/. */
function mounts(s: Service): { source: string; target: string; bind: boolean }[] {
  return (s.volumes ?? []).map((v) => {
    const [source, target] = v.split(':') as [string, string];
    return { source, target, bind: source.startsWith('.') || source.startsWith('/') };
  });
}

/** Where a file of the repository is mounted in a service (undefined when it is not). */
function mountedAt(s: Service, rel: string): string | undefined {
  return mounts(s).find((m) => m.bind && join(DEPLOY, m.source) === join(DEPLOY, rel))?.target;
}

const hostPort = (url: string) => {
  const u = new URL(url);
  return `${u.hostname}:${u.port}`;
};

describe('deploy/docker-compose.yml', () => {
  it('starts vipwatch, Prometheus, Alertmanager and Grafana; every mounted file exists, every named volume is declared', () => {
    const c = compose();
    expect(Object.keys(c.services).sort()).toEqual(['alertmanager', 'grafana', 'prometheus', 'vipwatch']);
    for (const [name, s] of Object.entries(c.services)) {
      for (const m of mounts(s)) {
        if (m.bind) expect(existsSync(join(DEPLOY, m.source)), `${name}: ${m.source}`).toBe(true);
        else expect(Object.keys(c.volumes), `${name}: volume ${m.source}`).toContain(m.source);
        expect(posix.isAbsolute(m.target), `${name}: ${m.target}`).toBe(true);
      }
      for (const d of s.depends_on ?? []) expect(Object.keys(c.services), `${name} depends on ${d}`).toContain(d);
    }
  });

  it('builds vipwatch:latest from the repository Dockerfile, with its config at /config/vipwatch.yaml and its state in a volume', () => {
    const v = compose().services.vipwatch!;
    expect(v.image).toBe('vipwatch:latest');
    expect(existsSync(join(DEPLOY, v.build!.context, v.build!.dockerfile))).toBe(true);
    expect(mountedAt(v, 'vipwatch.yaml')).toBe('/config/vipwatch.yaml');
    const state = mounts(v).find((m) => m.target === '/var/lib/vipwatch');
    expect(state?.bind).toBe(false);
    expect(v.ports).toContain('9464:9464');
    // The image agrees: the port, the volumes, and the config path its CMD reads.
    const dockerfile = readFileSync(join(DEPLOY, v.build!.context, v.build!.dockerfile), 'utf8');
    expect(dockerfile).toMatch(/^EXPOSE 9464$/m);
    expect(dockerfile).toMatch(/^VOLUME .*"\/var\/lib\/vipwatch"/m);
    expect(dockerfile).toContain('/config/vipwatch.yaml');
  });

  it('the example vipwatch config passes the real loader: listens on 0.0.0.0:9464, keeps state in the volume, alerts alertmanager:9093', () => {
    const text = readFileSync(join(DEPLOY, 'vipwatch.yaml'), 'utf8');
    const config = parseConfig(text, '/config/vipwatch.yaml', { env: {} });
    expect(config.server.listen).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(config.state.dir).toBe('/var/lib/vipwatch');
    expect(config.alerting.alertmanager.map((a) => hostPort(revealed(a.url)))).toEqual(['alertmanager:9093']);
    const services = Object.keys(compose().services);
    // Targets by host name probe the kit's own services.
    for (const t of config.targets) if (!/^[\d.:]+$/.test(t.address)) expect(services, t.name).toContain(t.address);
    expect(config.kubernetes.enabled).toBe(false);
  });

  it('Prometheus scrapes vipwatch and alerts Alertmanager by service name, with the rule file mounted beside its config', () => {
    const p = compose().services.prometheus!;
    const configAt = mountedAt(p, 'prometheus/prometheus.yml')!;
    expect(p.command).toContain(`--config.file=${configAt}`);
    const prom = yamlFile<{ rule_files: string[]; alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] }; scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] }>('prometheus/prometheus.yml');
    for (const r of prom.rule_files) expect(mountedAt(p, join('prometheus', r))).toBe(posix.join(posix.dirname(configAt), r));
    expect(prom.scrape_configs.find((j) => j.job_name === 'vipwatch')!.static_configs[0]!.targets).toEqual(['vipwatch:9464']);
    expect(prom.alerting.alertmanagers[0]!.static_configs[0]!.targets).toEqual(['alertmanager:9093']);
    const am = compose().services.alertmanager!;
    expect(am.command).toContain(`--config.file=${mountedAt(am, 'alertmanager/alertmanager.yml')}`);
    expect(am.ports).toContain('9093:9093');
  });

  it('Grafana is provisioned: data sources by service name, the dashboard where its provider looks, and as the home dashboard', () => {
    const g = compose().services.grafana!;
    expect(mountedAt(g, 'grafana/provisioning')).toBe('/etc/grafana/provisioning');
    expect(statSync(join(DEPLOY, 'grafana/provisioning/datasources')).isDirectory()).toBe(true);
    const ds = yamlFile<{ datasources: { type: string; url: string; uid: string }[] }>('grafana/provisioning/datasources/vipwatch.yml').datasources;
    expect(ds.map((d) => [d.type, hostPort(d.url)])).toEqual([['prometheus', 'prometheus:9090'], ['alertmanager', 'alertmanager:9093']]);
    const dashboardAt = mountedAt(g, 'grafana/vipwatch-dashboard.json')!;
    const providers = yamlFile<{ providers: { type: string; options: { path: string } }[] }>('grafana/provisioning/dashboards/vipwatch.yml').providers;
    expect(providers.map((p) => [p.type, p.options.path])).toEqual([['file', posix.dirname(dashboardAt)]]);
    expect(g.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(dashboardAt);
    // Prometheus publishes 9090 (the data source URL's port inside the network).
    expect(compose().services.prometheus!.ports).toContain('9090:9090');
    expect(dirname(dashboardAt)).not.toBe('/var/lib/grafana');
  });

  it('Alertmanager groups vipwatch\'s per-node incidents by node', () => {
    const cfg = yamlFile<{ route: { routes: { matchers: string[]; group_by?: string[] }[] } }>('alertmanager/alertmanager.yml');
    expect(cfg.route.routes.find((x) => x.matchers.some((m) => m.includes('AsymmetricRouting')))?.group_by).toContain('node');
  });
});

describe.skipIf(amtool.skip)('deploy/alertmanager/alertmanager.yml', () => {
  it('passes amtool check-config', () => {
    amtool.check();
    const r = spawnSync('amtool', ['check-config', join(DEPLOY, 'alertmanager/alertmanager.yml')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
  });
});
