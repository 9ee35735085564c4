import { stringify } from 'yaml';
import { LAB } from './addresses.js';
import { LAB_SERVICE, METALLB_NAMESPACE } from './cluster-objects.js';

/** vipwatch's server inside the client namespace: private to that namespace, so a fixed port cannot collide. */
export const LAB_LISTEN = { host: '127.0.0.1', port: 9464 } as const;
export const LAB_TARGET = 'web';
export const LAB_MAIL_FROM = 'vipwatch@example.com';
export const LAB_MAIL_TO = 'oncall@example.com';

/**
 * Diagnosis timing tuned for the lab only where the defaults would make a run take minutes: a 30 s window (the default
 * 5 m keeps the failures of a fixed fault in view for 5 minutes, delaying the resolve), an incident opens after 5 s of a
 * steady verdict (openAfter 5 s, and a marginal verdict's hold 5 s instead of 30 s) and resolves after 10 s below the
 * threshold (default 2 m). Every statistical bound
 * (pValue, minAttempts, minConfidence, ...) keeps its default: the lab must pass with what users run.
 */
export const LAB_DIAGNOSIS = { window: '30s', openAfter: '5s', marginalHold: '5s', resolveAfter: '10s' } as const;

export interface LabConfigInput {
  stateDir: string;
  kubeApi: string;
  tokenFile: string;
  webhookUrl: string;
  webhookSecretFile: string;
  smtpPort: number;
  /** Default 500 ms. */
  intervalMs?: number;
  /**
   * Default 400 ms. The config requires timeout <= interval (attempts never overlap), and a timeout equal to the
   * interval would make every timed-out attempt collide with the next tick (skipped); 400 ms stays clear of it while
   * a healthy lab answers in a few ms.
   */
  timeoutMs?: number;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Merged over LAB_DIAGNOSIS (over nothing with defaultDiagnosis). */
  diagnosis?: Record<string, unknown>;
  /** Leave out LAB_DIAGNOSIS: every diagnosis setting at the default a user runs (README). */
  defaultDiagnosis?: boolean;
  /** agents.nodeUrlTemplate: the node evidence agents (none when absent). */
  agentUrlTemplate?: string;
  /** kubernetes.arp: read the client namespace's /proc/net/arp every `intervalMs` (off when absent). */
  arp?: { intervalMs: number };
}

/** The vipwatch config a user would write for the lab cluster: one HTTP target on the VIP, the cluster API, both alert channels. */
export function labConfig(o: LabConfigInput): Record<string, unknown> {
  return {
    server: { listen: `${LAB_LISTEN.host}:${LAB_LISTEN.port}` },
    state: { dir: o.stateDir },
    log: { level: o.logLevel ?? 'info' },
    targets: [{
      name: LAB_TARGET,
      address: LAB.vip,
      port: LAB.vipPort,
      protocol: 'http',
      interval: `${o.intervalMs ?? 500}ms`,
      timeout: `${o.timeoutMs ?? 400}ms`,
      service: `${LAB_SERVICE.namespace}/${LAB_SERVICE.name}`,
      http: { path: '/', backendHeader: 'X-Node' },
    }],
    kubernetes: {
      apiServer: o.kubeApi,
      tokenFile: o.tokenFile,
      metallbNamespace: METALLB_NAMESPACE,
      ...(o.arp ? { arp: { enabled: true, interval: `${o.arp.intervalMs}ms` } } : {}),
    },
    ...(o.agentUrlTemplate ? { agents: { nodeUrlTemplate: o.agentUrlTemplate } } : {}),
    diagnosis: o.defaultDiagnosis ? { ...o.diagnosis } : { ...LAB_DIAGNOSIS, ...o.diagnosis },
    alerting: {
      instance: 'vipwatch-lab',
      backoff: { initial: '500ms', max: '5s' },
      webhooks: [{ name: 'lab-webhook', url: o.webhookUrl, secretFile: o.webhookSecretFile }],
      email: [{ name: 'lab-email', smtp: { host: '127.0.0.1', port: o.smtpPort, secure: false }, from: LAB_MAIL_FROM, to: [LAB_MAIL_TO] }],
    },
  };
}

export function renderLabConfig(o: LabConfigInput): string {
  return `# vipwatch config for the network-namespace lab (written by test/lab/scenario.ts)\n${stringify(labConfig(o))}`;
}
