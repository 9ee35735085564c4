/** Shared test helpers for the cluster tests: PKI via the openssl CLI, kubeconfig fixtures, fake-clock stepping. */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { KubernetesConfig } from '../../src/config/sections/kubernetes.js';
import { Registry } from 'prom-client';
import { createClusterSource } from '../../src/cluster/create.js';
import type { TargetConfig } from '../../src/config/targets.js';
import { createLogger } from '../../src/lib/logger.js';
import { FakeClock } from '../support/fake-clock.js';
import type { FakeKubeApi, KubeObject } from '../support/fake-kube-api.js';

export const FIXTURES = resolve('test/fixtures/kube');

export interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A second CA that signed nothing we serve: verification against it must fail. */
  otherCa: string;
}

/** CA, server certificate for 127.0.0.1 (and kubernetes.default), client certificate CN=vipwatch; P-256, valid one day. */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'vipwatch-pki-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name);
  key('ca.key');
  ssl('req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=fake-kube-ca');
  key('other.key');
  ssl('req', '-x509', '-new', '-key', 'other.key', '-out', 'other.crt', '-days', '1', '-subj', '/CN=other-ca');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:kubernetes.default\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [['server', 'kube-apiserver'], ['client', 'vipwatch']] as const) {
    key(`${name}.key`);
    ssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
  }
  const r = (f: string) => readFileSync(join(dir, f), 'utf8');
  return { dir, ca: r('ca.crt'), serverCert: r('server.crt'), serverKey: r('server.key'), clientCert: r('client.crt'), clientKey: r('client.key'), otherCa: r('other.crt') };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Writes a kubeconfig fixture into a fresh directory with its placeholders filled; returns its path. */
export function writeKubeconfig(fixture: string, pki: Pki, values: Record<string, string>): { file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vipwatch-kubeconfig-'));
  const fill: Record<string, string> = { CA_DATA: b64(pki.ca), CERT_DATA: b64(pki.clientCert), KEY_DATA: b64(pki.clientKey), STATE_DIR: dir, ...values };
  const text = readFileSync(join(FIXTURES, fixture), 'utf8').replace(/__([A-Z_]+)__/g, (m, k: string) => fill[k] ?? m);
  const file = join(dir, 'config');
  writeFileSync(file, text);
  writeFileSync(join(dir, 'ca.crt'), pki.ca);
  writeFileSync(join(dir, 'client.crt'), pki.clientCert);
  writeFileSync(join(dir, 'client.key'), pki.clientKey);
  copyFileSync(join(FIXTURES, 'exec-plugin.mjs'), join(dir, 'exec-plugin.mjs'));
  execFileSync('chmod', ['755', join(dir, 'exec-plugin.mjs')]);
  return { file, dir };
}

export function fixtureObjects(): KubeObject[] {
  return (JSON.parse(readFileSync(join(FIXTURES, 'cluster.json'), 'utf8')) as { items: KubeObject[] }).items;
}

export function loadFixtures(api: FakeKubeApi): void {
  for (const o of fixtureObjects()) api.apply(o);
}

/** A decoded `kubernetes` section with test-friendly timings (override what a test needs). */
export function kubeConfig(over: Partial<KubernetesConfig> = {}): KubernetesConfig {
  return {
    enabled: true,
    inCluster: false,
    insecureSkipTlsVerify: false,
    metallbNamespace: 'metallb-system',
    requestTimeoutMs: 5000,
    resyncIntervalMs: 600_000,
    staleAfterMs: 120_000,
    watchTimeoutMs: 60_000,
    minWatchDurationMs: 1000,
    maxResponseBytes: 16 * 1024 * 1024,
    backoff: { initialMs: 1000, maxMs: 8000 },
    arp: { enabled: false, file: '/proc/net/arp', intervalMs: 5000 },
    discovery: { enabled: false, namespaces: [] },
    ...over,
  };
}

/** Lets real sockets and child processes make progress (this is I/O, not a timed sleep). */
export function ioTurn(ms = 5): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Alternates real I/O turns with fake-clock steps until `cond` holds; returns the fake milliseconds it took.
 * Throws when it does not hold within `maxFakeMs` of fake time (or a generous real-time bound).
 */
export async function stepUntil(clock: FakeClock, cond: () => boolean, opts: { stepMs?: number; maxFakeMs?: number; what?: string } = {}): Promise<number> {
  const step = opts.stepMs ?? 100;
  const max = opts.maxFakeMs ?? 60_000;
  const realDeadline = Date.now() + 20_000;
  let spent = 0;
  for (;;) {
    for (let i = 0; i < 4 && !cond(); i++) await ioTurn(2);
    if (cond()) return spent;
    if (spent >= max || Date.now() > realDeadline) throw new Error(`not reached within ${spent}ms of fake time: ${opts.what ?? 'condition'}`);
    await clock.advance(step);
    spent += step;
  }
}

/** Waits on real I/O only (no fake time moves), e.g. for a request to arrive at the fake server. */
export async function ioUntil(cond: () => boolean, what = 'condition', timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await ioTurn(5);
  }
}

/** A log line of the cluster source, parsed. */
export interface SourceLogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

/**
 * The real cluster source, started against `api` on a fake clock at `start`, logging at debug into `logs`. The
 * returned `stop` ends the source and the API server (register it for cleanup).
 */
export async function startSource(o: { api: FakeKubeApi; config: KubernetesConfig; staticTargets: TargetConfig[]; start: number }) {
  const clock = new FakeClock(o.start);
  const registry = new Registry();
  const logs: SourceLogLine[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => logs.push(JSON.parse(l) as SourceLogLine), now: () => clock.now() });
  const source = createClusterSource({
    config: o.config, defaults: { intervalMs: 2000, timeoutMs: 1000 }, staticTargets: o.staticTargets,
    clock, logger, registry, env: {}, random: () => 1,
  });
  const ac = new AbortController();
  await source.start(ac.signal);
  const stop = async () => {
    ac.abort();
    await source.done();
    await o.api.stop();
  };
  return { clock, source, registry, logs, stop };
}
