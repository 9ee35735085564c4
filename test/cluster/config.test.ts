import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfigCommand } from '../../src/cli/check-config.js';
import { loadOrReport } from '../../src/cli/run.js';
import { kubernetesFileProblems } from '../../src/cluster/resolve-connection.js';
import { parseConfig } from '../../src/config/load.js';
import { problemsOf } from '../support/config-problems.js';

const dir = mkdtempSync(join(tmpdir(), 'vipwatch-kcfg-'));
writeFileSync(join(dir, 'token'), 'super-secret-token\n');
writeFileSync(join(dir, 'ca.crt'), '-----BEGIN CERTIFICATE-----\n');
writeFileSync(join(dir, 'kubeconfig'), [
  'apiVersion: v1', 'kind: Config', 'current-context: a',
  'clusters:', '- name: k', '  cluster:', '    server: https://192.0.2.10:6443',
  'users:', '- name: u', '  user:', '    token: kubeconfig-secret',
  'contexts:', '- name: a', '  context:', '    cluster: k', '    user: u', '',
].join('\n'));
const FILE = join(dir, 'vipwatch.yaml');

// As the CLI loads it: validated, then the files it names checked (validation itself reads none).
const load = (yaml: string) => parseConfig(yaml, FILE, { env: {}, check: kubernetesFileProblems });
const problems = (yaml: string) => problemsOf(() => load(yaml), FILE);

describe('kubernetes config section', () => {
  it('an absent or empty section decodes to the defaults, disabled', () => {
    const expected = {
      enabled: false, inCluster: false, insecureSkipTlsVerify: false, metallbNamespace: 'metallb-system',
      requestTimeoutMs: 30_000, resyncIntervalMs: 600_000, staleAfterMs: 120_000, watchTimeoutMs: 60_000,
      minWatchDurationMs: 1000, maxResponseBytes: 16 * 1024 * 1024,
      backoff: { initialMs: 1000, maxMs: 30_000 },
      arp: { enabled: false, file: '/proc/net/arp', intervalMs: 5000 },
      discovery: { enabled: false, namespaces: [] },
    };
    expect(load('targets: []\n').kubernetes).toEqual(expected);
    expect(load('kubernetes: {}\n').kubernetes).toEqual(expected);
  });

  it('is enabled by kubeconfig, apiServer or inCluster unless switched off; paths resolve against the config file', () => {
    expect(load('kubernetes:\n  kubeconfig: kubeconfig\n').kubernetes).toMatchObject({ enabled: true, kubeconfig: join(dir, 'kubeconfig') });
    expect(load('kubernetes:\n  kubeconfig: kubeconfig\n  enabled: false\n').kubernetes.enabled).toBe(false);
    expect(load('kubernetes:\n  inCluster: true\n').kubernetes.enabled).toBe(true);
    const k = load([
      'kubernetes:', '  apiServer: https://192.0.2.10:6443/', '  tokenFile: token', '  caFile: ca.crt', '  watchTimeout: 30s', '  staleAfter: 1m',
      '  backoff: {initial: 500ms, max: 10s}', '  arp: {enabled: true, file: arp.txt, interval: 2s}',
      '  discovery: {enabled: true, labelSelector: "vipwatch=on", namespaces: [default, shop]}', '',
    ].join('\n')).kubernetes;
    expect(k).toMatchObject({
      enabled: true, apiServer: 'https://192.0.2.10:6443', tokenFile: join(dir, 'token'), caFile: join(dir, 'ca.crt'),
      watchTimeoutMs: 30_000, staleAfterMs: 60_000, backoff: { initialMs: 500, maxMs: 10_000 },
      arp: { enabled: true, file: join(dir, 'arp.txt'), intervalMs: 2000 },
      discovery: { enabled: true, labelSelector: 'vipwatch=on', namespaces: ['default', 'shop'] },
    });
    expect(load('kubernetes:\n  minWatchDuration: 0s\n  maxResponseBytes: 4194304\n').kubernetes).toMatchObject({ minWatchDurationMs: 0, maxResponseBytes: 4 * 1024 * 1024 });
    // Only paths are kept: no token ever sits in the decoded config.
    expect(JSON.stringify(k)).not.toContain('super-secret-token');
  });

  it.each([
    ['kubeconfig and apiServer', 'kubernetes:\n  kubeconfig: kubeconfig\n  apiServer: https://192.0.2.10\n', ['3:14: kubernetes.apiServer: set either kubeconfig or apiServer, not both']],
    ['tokenFile without apiServer', 'kubernetes:\n  kubeconfig: kubeconfig\n  tokenFile: token\n', ['3:14: kubernetes.tokenFile: only allowed with apiServer (a kubeconfig carries its own credentials)']],
    ['an apiServer that is no URL', 'kubernetes:\n  apiServer: 192.0.2.10:6443\n', ['2:14: kubernetes.apiServer: must be an http(s) URL like "https://192.0.2.10:6443", got "192.0.2.10:6443"']],
    ['an unreadable tokenFile', 'kubernetes:\n  apiServer: https://192.0.2.10\n  tokenFile: nope\n', [`3:14: kubernetes.tokenFile: cannot read ${join(dir, 'nope')}: ENOENT`]],
    ['an unreadable kubeconfig', 'kubernetes:\n  kubeconfig: nope\n', [`2:15: kubernetes.kubeconfig: cannot read ${join(dir, 'nope')}: ENOENT`]],
    ['an unreadable caFile', 'kubernetes:\n  apiServer: https://192.0.2.10\n  caFile: nope.crt\n', [`3:11: kubernetes.caFile: cannot read ${join(dir, 'nope.crt')}: ENOENT`]],
    ['a kubeconfig context that does not exist', 'kubernetes:\n  kubeconfig: kubeconfig\n  context: b\n', [`3:12: kubernetes.context: ${join(dir, 'kubeconfig')}: context "b" not found; known: a`]],
    ['a bad label selector', 'kubernetes:\n  discovery:\n    labelSelector: "app in (a"\n', ['3:20: kubernetes.discovery.labelSelector: invalid label selector "app in (a": cannot parse "app in (a"']],
    ['a bad namespace', 'kubernetes:\n  discovery:\n    namespaces: [Default]\n', ['3:18: kubernetes.discovery.namespaces[0]: must be a Kubernetes namespace name (lowercase letters, digits and "-")']],
    ['staleAfter not above watchTimeout', 'kubernetes:\n  watchTimeout: 2m\n  staleAfter: 2m\n', ['3:15: kubernetes.staleAfter: must be longer than watchTimeout (120000ms): a quiet, healthy watch is only re-confirmed when it ends']],
    ['minWatchDuration not below watchTimeout', 'kubernetes:\n  watchTimeout: 2s\n  minWatchDuration: 2s\n', ['3:21: kubernetes.minWatchDuration: must be shorter than watchTimeout (2000ms): a watch the server ends on time would count as a failure']],
    ['a maxResponseBytes too small to hold a list page', 'kubernetes:\n  maxResponseBytes: 1000\n', ['2:21: kubernetes.maxResponseBytes: must be >= 65536, got 1000']],
    ['backoff initial above max', 'kubernetes:\n  backoff:\n    initial: 1m\n    max: 10s\n', ['3:14: kubernetes.backoff.initial: must not exceed backoff.max (10000ms)']],
    ['a misspelt key', 'kubernetes:\n  kubeconfg: kubeconfig\n', ['2:3: kubernetes.kubeconfg: unknown key; did you mean "kubeconfig"?']],
  ])('rejects %s with file:line:col', (_name, yaml, expected) => {
    expect(problems(yaml)).toEqual(expected);
  });
});

describe('the files the kubernetes section names', () => {
  it('are not read by validation: the section keeps absolute paths, the check after it reads them', () => {
    const yaml = 'kubernetes:\n  apiServer: https://192.0.2.10\n  tokenFile: nope\n  caFile: nope.crt\n';
    expect(parseConfig(yaml, FILE, { env: {} }).kubernetes).toMatchObject({ tokenFile: join(dir, 'nope'), caFile: join(dir, 'nope.crt') });
    expect(parseConfig('kubernetes:\n  kubeconfig: kubeconfig\n  context: b\n', FILE, { env: {} }).kubernetes.context).toBe('b');
  });

  it('are checked only once the config is otherwise valid, so a broken config is reported by validation alone', () => {
    expect(problems('kubernetes:\n  kubeconfig: nope\n  apiServer: https://192.0.2.10\n')).toEqual(['3:14: kubernetes.apiServer: set either kubeconfig or apiServer, not both']);
  });

  it('check-config reports a missing kubeconfig context with file:line:col and exits 1; run\'s loader (start, reload, test-alert) refuses it too', () => {
    const file = join(dir, 'bad-context.yaml');
    writeFileSync(file, 'kubernetes:\n  kubeconfig: kubeconfig\n  context: b\n');
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env: {} };
    expect(checkConfigCommand(file, io)).toBe(1);
    expect(err).toEqual([`${file}:3:12: kubernetes.context: ${join(dir, 'kubeconfig')}: context "b" not found; known: a`, `${file}: 1 problem`]);
    expect(out).toEqual([]);
    err.length = 0;
    expect(loadOrReport(file, io)).toBeUndefined();
    expect(err).toEqual([`${file}:3:12: kubernetes.context: ${join(dir, 'kubeconfig')}: context "b" not found; known: a`]);
    writeFileSync(file, 'kubernetes:\n  kubeconfig: kubeconfig\n  context: a\n');
    expect(checkConfigCommand(file, io)).toBe(0);
    expect(out).toEqual([`${file}: ok (0 targets)`]);
  });
});
