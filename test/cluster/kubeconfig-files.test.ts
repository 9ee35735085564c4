import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KubeconfigError, resolveKubeconfig } from '../../src/cluster/kubeconfig.js';
import { kubernetesFileProblems, resolveConnection } from '../../src/cluster/resolve-connection.js';
import { parseConfig } from '../../src/config/load.js';
import { kubeConfig } from './helpers.js';

/** A kubeconfig text: clusters name -> server, users name -> token (or {tokenFile}), contexts name -> [cluster, user]. */
function kubeconfig(o: { current?: string; clusters?: Record<string, string>; users?: Record<string, string | { tokenFile: string }>; contexts?: Record<string, [string, string]> }): string {
  const lines = ['apiVersion: v1', 'kind: Config'];
  if (o.current) lines.push(`current-context: ${o.current}`);
  lines.push('clusters:', ...Object.entries(o.clusters ?? {}).flatMap(([n, s]) => [`- name: ${n}`, '  cluster:', `    server: ${s}`]));
  lines.push('users:', ...Object.entries(o.users ?? {}).flatMap(([n, t]) => [`- name: ${n}`, '  user:', typeof t === 'string' ? `    token: ${t}` : `    tokenFile: ${t.tokenFile}`]));
  lines.push('contexts:', ...Object.entries(o.contexts ?? {}).flatMap(([n, [c, u]]) => [`- name: ${n}`, '  context:', `    cluster: ${c}`, `    user: ${u}`]));
  return lines.join('\n') + '\n';
}

const token = (c: ReturnType<typeof resolveKubeconfig>) => (c.auth.kind === 'token' ? c.auth.token.reveal() : c.auth.kind === 'tokenFile' ? `file:${c.auth.path}` : c.auth.kind);

function errorOf(fn: () => unknown): KubeconfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof KubeconfigError) return err;
    throw err;
  }
  throw new Error('expected a KubeconfigError');
}

describe('"~" in kubernetes.kubeconfig and $KUBECONFIG', () => {
  const home = mkdtempSync(join(tmpdir(), 'vipwatch-home-'));
  mkdirSync(join(home, '.kube'));
  writeFileSync(join(home, '.kube', 'vipwatch'), kubeconfig({ current: 'a', clusters: { k: 'https://192.0.2.10:6443' }, users: { u: 'home-token' }, contexts: { a: ['k', 'u'] } }));
  const configDir = mkdtempSync(join(tmpdir(), 'vipwatch-cfg-'));
  const load = (yaml: string) => parseConfig(yaml, join(configDir, 'vipwatch.yaml'), { env: {} });

  it('validation keeps "~/…" as written (it reads neither files nor HOME); the connection expands it from HOME', () => {
    const config = load('kubernetes:\n  kubeconfig: ~/.kube/vipwatch\n');
    expect(config.kubernetes.kubeconfig).toBe('~/.kube/vipwatch');
    // A relative path still resolves against the config file, and "~user" is no home directory.
    expect(load('kubernetes:\n  kubeconfig: kube/config\n').kubernetes.kubeconfig).toBe(join(configDir, 'kube/config'));
    expect(load('kubernetes:\n  kubeconfig: ~bob/config\n').kubernetes.kubeconfig).toBe(join(configDir, '~bob/config'));

    expect(kubernetesFileProblems(config, { HOME: home })).toEqual([]);
    const conn = resolveConnection(config.kubernetes, { env: { HOME: home } });
    expect(conn.describe).toBe(`kubeconfig ${join(home, '.kube', 'vipwatch')} context a (https://192.0.2.10:6443)`);
    expect(token(conn)).toBe('home-token');
  });

  it('a "~" path with HOME unset, or a missing file under HOME, is a problem naming the key and the expanded path', () => {
    const config = load('kubernetes:\n  kubeconfig: ~/.kube/vipwatch\n');
    expect(kubernetesFileProblems(config, {})).toEqual([
      { path: ['kubernetes', 'kubeconfig'], message: '~/.kube/vipwatch starts with "~" but HOME is not set' },
    ]);
    expect(() => resolveConnection(config.kubernetes, { env: {} })).toThrow(expect.objectContaining({ code: 'VIPWATCH_KUBECONFIG_INVALID', message: 'kubernetes.kubeconfig: ~/.kube/vipwatch starts with "~" but HOME is not set' }));
    const other = mkdtempSync(join(tmpdir(), 'vipwatch-home-'));
    expect(kubernetesFileProblems(config, { HOME: other })).toEqual([
      { path: ['kubernetes', 'kubeconfig'], message: `cannot read ${join(other, '.kube', 'vipwatch')}: ENOENT` },
    ]);
  });

  it('$KUBECONFIG entries are expanded too', () => {
    const conn = resolveConnection(kubeConfig(), { env: { HOME: home, KUBECONFIG: '~/.kube/vipwatch' } });
    expect(token(conn)).toBe('home-token');
  });
});

describe('$KUBECONFIG with several files, merged as kubectl merges them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vipwatch-merge-'));
  mkdirSync(join(dir, 'b'));
  const A = join(dir, 'a.yaml');
  const B = join(dir, 'b', 'b.yaml');
  // a.yaml: current-context a; b.yaml also defines a context, cluster and user named like a.yaml's (ignored: the
  // first file wins) and its own context b, whose user reads a token file relative to b.yaml.
  writeFileSync(A, kubeconfig({ current: 'a', clusters: { shared: 'https://192.0.2.1:6443' }, users: { ua: 'token-a' }, contexts: { a: ['shared', 'ua'] } }));
  writeFileSync(B, kubeconfig({
    current: 'b',
    clusters: { shared: 'https://198.51.100.1:6443', kb: 'https://198.51.100.2:6443' },
    users: { ua: 'token-from-b', ub: { tokenFile: 'token' } },
    contexts: { a: ['kb', 'ub'], b: ['kb', 'ub'], c: ['shared', 'ua'] },
  }));
  const NONE = join(dir, 'missing.yaml');
  const conn = (KUBECONFIG: string, context?: string) => resolveConnection(kubeConfig(context ? { context } : {}), { env: { KUBECONFIG } });

  it('the first file that sets current-context wins; a name defined twice is taken from the first file', () => {
    const a = conn(`${A}:${B}`);
    expect(a.server).toBe('https://192.0.2.1:6443');
    expect(token(a)).toBe('token-a');
    expect(a.describe).toBe(`kubeconfig ${A}:${B} context a (https://192.0.2.1:6443)`);
    // b.yaml's context c uses the cluster and user names a.yaml defined first.
    const c = conn(`${A}:${B}`, 'c');
    expect([c.server, token(c)]).toEqual(['https://192.0.2.1:6443', 'token-a']);
    // Reversed, b.yaml's current-context and entries win.
    const b = conn(`${B}:${A}`);
    expect(b.server).toBe('https://198.51.100.2:6443');
    expect(token(b)).toBe(`file:${join(dir, 'b', 'token')}`); // relative to b.yaml, not to a.yaml or the cwd
    expect(token(conn(`${B}:${A}`, 'c'))).toBe('token-from-b');
  });

  it('empty entries and files that do not exist are skipped; none existing is an error listing them', () => {
    expect(conn(`:${NONE}:${A}::${B}:`).server).toBe('https://192.0.2.1:6443');
    const err = errorOf(() => conn(`${NONE}:${join(dir, 'nope.yaml')}`));
    expect(err.message).toBe(`${NONE}:${join(dir, 'nope.yaml')}: none of these kubeconfig files exists`);
    // One file alone is read or refused as before.
    expect(errorOf(() => conn(NONE)).message).toBe(`${NONE}: cannot read: ENOENT`);
  });

  it('an unknown context lists the known ones (of every file, in order)', () => {
    const err = errorOf(() => conn(`${A}:${B}`, 'x'));
    expect(err.message).toBe(`${A}:${B}: context "x" not found; known: a, b, c`);
    expect(err.key).toBe('context');
    expect(err.code).toBe('VIPWATCH_KUBECONFIG_INVALID');
    // A current-context that names nothing is the file's fault, not the context key's.
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, kubeconfig({ current: 'gone', clusters: { k: 'https://192.0.2.1' }, users: { u: 't' }, contexts: { one: ['k', 'u'], two: ['k', 'u'] } }));
    const e2 = errorOf(() => resolveKubeconfig(bad));
    expect([e2.message, e2.key]).toEqual([`${bad}: context "gone" not found; known: one, two`, 'kubeconfig']);
  });
});
