/**
 * The soak's configuration: every kind of target (interval and cron, tcp/http/https, one always failing, one flapping,
 * and vipwatch probing its own server as config/example.yaml does), and how many attempts each schedule allows.
 */
import type { SoakPeers } from './soak-peers.js';

export interface SoakTarget {
  name: string;
  /** Exactly one of these. */
  intervalMs?: number;
  /** Cron with seconds; only the two forms used here (every second, every 5 seconds). */
  schedule?: '* * * * * *' | '*/5 * * * * *';
  /** The YAML flow mapping of the target, without name and schedule. */
  yaml: string;
  /** What the peer answers: every attempt succeeds, every one fails, or both happen. */
  expect: 'ok' | 'fail' | 'flap';
}

export function soakTargets(peers: SoakPeers, selfPort: number): SoakTarget[] {
  const h = 'address: 127.0.0.1';
  return [
    { name: 'tcp-1s', intervalMs: 1000, yaml: `${h}, port: ${peers.tcp.port}, protocol: tcp, timeout: 800ms, tcp: { send: "PING\\r\\n", expectRegex: "PONG" }`, expect: 'ok' },
    // The cron forms that hung config/example.yaml (a timer firing early asked the cron for the same instant again).
    { name: 'tcp-cron-5s', schedule: '*/5 * * * * *', yaml: `${h}, port: ${peers.tcp.port}, protocol: tcp, timeout: 1s, tcp: { send: "PING\\r\\n", expectRegex: "PONG" }`, expect: 'ok' },
    { name: 'http-cron-1s', schedule: '* * * * * *', yaml: `${h}, port: ${peers.http.port}, protocol: http, timeout: 800ms`, expect: 'ok' },
    { name: 'http-500ms', intervalMs: 500, yaml: `${h}, port: ${peers.http.port}, protocol: http, timeout: 400ms, http: { path: /, bodyRegex: "ok" }`, expect: 'ok' },
    { name: 'https-2s', intervalMs: 2000, yaml: `${h}, port: ${peers.https.port}, protocol: https, timeout: 1s, tls: { caFile: ${JSON.stringify(peers.caFile)} }`, expect: 'ok' },
    { name: 'self-http-1s', intervalMs: 1000, yaml: `${h}, port: ${selfPort}, protocol: http, timeout: 800ms, http: { path: /-/healthy, expectStatus: [200], bodyRegex: "ok" }`, expect: 'ok' },
    { name: 'self-tcp-cron-5s', schedule: '*/5 * * * * *', yaml: `${h}, port: ${selfPort}, protocol: tcp`, expect: 'ok' },
    { name: 'refused-1s', intervalMs: 1000, yaml: `${h}, port: ${peers.refusedPort}, protocol: tcp, timeout: 800ms`, expect: 'fail' },
    { name: 'flapping-1s', intervalMs: 1000, yaml: `${h}, port: ${peers.flapping.port}, protocol: http, timeout: 800ms`, expect: 'flap' },
  ];
}

/**
 * The config file. Log level debug: one line per attempt, each saying whether it was a burst attempt (bursts are the
 * extra attempts a failing target asks for; the schedule check counts only the scheduled ones).
 */
export function soakConfigYaml(targets: readonly SoakTarget[], selfPort: number, stateDir: string): string {
  const lines = targets.map((t) => {
    const when = t.schedule ? `schedule: "${t.schedule}"` : `interval: ${t.intervalMs}ms`;
    return `  - { name: ${t.name}, ${when}, ${t.yaml} }`;
  });
  return [
    `server: { listen: "127.0.0.1:${selfPort}" }`,
    `state: { dir: ${JSON.stringify(stateDir)} }`,
    'log: { level: debug }',
    'targets:',
    ...lines,
    '',
  ].join('\n');
}

/** Scheduled attempts the target's schedule allows in the span (t0, t1], epoch ms. */
export function allowedAttempts(t: SoakTarget, t0: number, t1: number): number {
  const periodMs = t.intervalMs ?? (t.schedule === '*/5 * * * * *' ? 5000 : 1000);
  return (t1 - t0) / periodMs;
}
