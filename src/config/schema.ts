import { ringSize, ringTooLarge, schedulePeriodMs } from './ring-size.js';
import { pathStr } from './secrets.js';
import { arrayOf, duration, field, INVALID, object, oneOf, type Validator } from './schema-dsl.js';
import { AGENTS_DEFAULTS, agentsSection, type AgentsConfig } from './sections/agents.js';
import { alertingSection, type AlertingConfig } from './sections/alerting.js';
import { diagnosisSection, type DiagnosisConfig } from './sections/diagnosis.js';
import { kubernetesSection, type KubernetesConfig } from './sections/kubernetes.js';
import { SERVER_DEFAULTS, serverSection, type ServerConfig } from './sections/server.js';
import { intervalDuration, targetValidator, type Defaults, type TargetConfig } from './targets.js';

export type { ServerConfig } from './sections/server.js';

export interface Config {
  server: ServerConfig;
  defaults: Defaults;
  targets: TargetConfig[];
  state: { dir: string };
  log: { level: 'debug' | 'info' | 'warn' | 'error' };
  selfMonitor: { stallThresholdMs: number };
  kubernetes: KubernetesConfig;
  agents: AgentsConfig;
  diagnosis: DiagnosisConfig;
  alerting: AlertingConfig;
}

const defaultsV = object({
  interval: field(intervalDuration, { default: 2000 }),
  timeout: field(duration({ min: 1, max: 300_000 }), { default: 2000 }),
}, (v): Defaults => ({ intervalMs: v.interval, timeoutMs: v.timeout }));

const state = object({ dir: field(pathStr(), { default: 'state' }) });
const log = object({ level: field(oneOf(['debug', 'info', 'warn', 'error'] as const), { default: 'info' as const }) });
const selfMonitor = object({
  stallThreshold: field(duration({ min: 10, max: 60_000 }), { default: 250 }),
}, (v) => ({ stallThresholdMs: v.stallThreshold }));

/** The root: defaults are decoded first because targets inherit from them. */
export const configValidator: Validator<Config> = (raw, path, ctx) => {
  const r = (raw ?? {}) as Record<string, unknown>;
  const d = defaultsV(r.defaults, ['defaults'], ctx);
  const defaults = d === INVALID ? { intervalMs: 2000, timeoutMs: 2000 } : d;
  return object({
    server: field(serverSection, { default: () => ({ ...SERVER_DEFAULTS }) }),
    defaults: field(((_v: unknown) => defaults) as Validator<Defaults>, { default: defaults }),
    targets: field(arrayOf(targetValidator(defaults)), { default: () => [] }),
    state: field(state, { default: () => ({ dir: 'state' }) }),
    log: field(log, { default: () => ({ level: 'info' as const }) }),
    selfMonitor: field(selfMonitor, { default: () => ({ stallThresholdMs: 250 }) }),
    // Each section decodes an empty mapping to its defaults.
    kubernetes: field(kubernetesSection, { default: () => kubernetesSection({}, ['kubernetes'], ctx) as KubernetesConfig }),
    agents: field(agentsSection, { default: () => ({ ...AGENTS_DEFAULTS }) }),
    diagnosis: field(diagnosisSection, { default: () => diagnosisSection({}, ['diagnosis'], ctx) as DiagnosisConfig }),
    alerting: field(alertingSection, { default: () => alertingSection({}, ['alerting'], ctx) as AlertingConfig }),
  }, (v, p, c): Config | typeof INVALID => {
    const seen = new Map<string, number>();
    let bad = d === INVALID;
    v.targets.forEach((t, i) => {
      const first = seen.get(t.name);
      if (first !== undefined) {
        c.report([...p, 'targets', i, 'name'], `duplicate target name "${t.name}" (first at targets[${first}])`);
        bad = true;
      } else seen.set(t.name, i);
    });
    // Every attempt the diagnosis window needs is held in memory: refuse what would not fit instead of cutting it.
    const { windowMs, burst } = v.diagnosis;
    const rawTargets = Array.isArray(r.targets) ? (r.targets as Record<string, unknown>[]) : [];
    v.targets.forEach((t, i) => {
      const period = schedulePeriodMs(t);
      const why = ringTooLarge(ringSize(period, windowMs, burst.count), windowMs, period);
      if (!why) return;
      const own = t.schedule ? 'schedule' : rawTargets[i] && 'interval' in rawTargets[i]! ? 'interval' : undefined;
      c.report(own ? [...p, 'targets', i, own] : [...p, 'diagnosis', 'window'], own ? why : `targets[${i}] (${t.name}): ${why}`);
      bad = true;
    });
    // An agent's address comes from the Node objects: no cluster metadata, no {nodeIP}.
    if (v.agents.nodeUrlTemplate?.includes('{nodeIP}') && !v.kubernetes.enabled) {
      c.report([...p, 'agents', 'nodeUrlTemplate'], '{nodeIP} needs the Kubernetes API (the kubernetes section) to find each Node\'s InternalIP');
      bad = true;
    }
    if (v.kubernetes.discovery.enabled) {
      const why = ringTooLarge(ringSize(defaults.intervalMs, windowMs, burst.count), windowMs, defaults.intervalMs);
      if (why) {
        c.report([...p, 'defaults', 'interval'], `discovered targets use this interval: ${why}`);
        bad = true;
      }
    }
    return bad ? INVALID : (v as Config);
  })(raw, path, ctx);
};
