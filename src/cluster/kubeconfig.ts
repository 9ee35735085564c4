import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { VipwatchError } from '../lib/errors.js';
import { Secret } from '../lib/secret.js';
import { normalizeServer } from '../lib/server-url.js';
import type { ExecConfig, KubeAuth, KubeConnection, KubeTls } from './connection.js';
import { KUBECONFIG_INVALID } from './kube-errors.js';

/** A kubeconfig that cannot be used; `key` says which config key to blame (the file or the context). */
export class KubeconfigError extends VipwatchError {
  constructor(readonly key: 'kubeconfig' | 'context', message: string) {
    super(KUBECONFIG_INVALID, message);
    this.name = 'KubeconfigError';
  }
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});

/**
 * Resolves one context of a kubeconfig file into a connection: server, TLS material (files read now, paths relative
 * to the kubeconfig) and credentials. Throws KubeconfigError naming the file and the offending entry.
 */
export function resolveKubeconfig(file: string, context?: string): KubeConnection {
  const fail = (msg: string, key: 'kubeconfig' | 'context' = 'kubeconfig') => new KubeconfigError(key, `${file}: ${msg}`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw fail(`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: Json;
  try {
    doc = obj(parse(text));
  } catch (err) {
    throw fail(`not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const dir = dirname(resolve(file));
  const named = (list: string, name: string): Json | undefined => {
    const entries = Array.isArray(doc[list]) ? (doc[list] as unknown[]) : [];
    return entries.map(obj).find((e) => e.name === name);
  };

  const ctxName = context ?? (typeof doc['current-context'] === 'string' ? doc['current-context'] : undefined);
  if (!ctxName) throw fail('no context given and no current-context set', 'context');
  const ctxEntry = named('contexts', ctxName);
  if (!ctxEntry) throw fail(`context "${ctxName}" not found`, context ? 'context' : 'kubeconfig');
  const ctx = obj(ctxEntry.context);
  const clusterName = String(ctx.cluster ?? '');
  const userName = ctx.user === undefined ? undefined : String(ctx.user);
  const clusterEntry = named('clusters', clusterName);
  if (!clusterEntry) throw fail(`cluster "${clusterName}" of context "${ctxName}" not found`);
  const cluster = obj(clusterEntry.cluster);
  let user: Json = {};
  if (userName !== undefined) {
    const u = named('users', userName);
    if (!u) throw fail(`user "${userName}" of context "${ctxName}" not found`);
    user = obj(u.user);
  }

  const server = typeof cluster.server === 'string' ? normalizeServer(cluster.server) : undefined;
  if (!server) throw fail(`cluster "${clusterName}": server must be an http(s) URL, got ${JSON.stringify(cluster.server)}`);

  const material = (dataKey: string, fileKey: string, from: Json, where: string): string | undefined => {
    const data = from[dataKey];
    if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64').toString('utf8');
    const f = from[fileKey];
    if (typeof f !== 'string' || f === '') return undefined;
    const p = resolve(dir, f);
    try {
      return readFileSync(p, 'utf8');
    } catch (err) {
      throw fail(`${where}: ${fileKey} ${p}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };

  const userWhere = `user "${userName}"`;
  const key = material('client-key-data', 'client-key', user, userWhere);
  const tls: KubeTls = {
    ca: material('certificate-authority-data', 'certificate-authority', cluster, `cluster "${clusterName}"`),
    cert: material('client-certificate-data', 'client-certificate', user, userWhere),
    key: key === undefined ? undefined : new Secret(key),
    insecureSkipVerify: cluster['insecure-skip-tls-verify'] === true,
    serverName: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
  };
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw fail(`${userWhere}: client certificate and client key must be given together`);
  if (user.username !== undefined || user.password !== undefined) throw fail(`${userWhere}: basic auth (username/password) is not supported; use a token`);
  if (user['auth-provider'] !== undefined) throw fail(`${userWhere}: auth-provider plugins are not supported; use an exec plugin`);

  let auth: KubeAuth = { kind: 'none' };
  if (typeof user.token === 'string' && user.token !== '') auth = { kind: 'token', token: new Secret(user.token) };
  else if (typeof user.tokenFile === 'string' && user.tokenFile !== '') auth = { kind: 'tokenFile', path: resolve(dir, user.tokenFile) };
  else if (user.exec !== undefined) auth = { kind: 'exec', exec: parseExec(obj(user.exec), dir, (m) => fail(`${userWhere}: exec: ${m}`)) };

  return { server, tls, auth, describe: `kubeconfig ${file} context ${ctxName} (${server})` };
}

function parseExec(e: Json, baseDir: string, fail: (m: string) => Error): ExecConfig {
  const apiVersion = e.apiVersion;
  if (apiVersion !== 'client.authentication.k8s.io/v1' && apiVersion !== 'client.authentication.k8s.io/v1beta1')
    throw fail(`apiVersion must be client.authentication.k8s.io/v1 or v1beta1, got ${JSON.stringify(apiVersion)}`);
  if (typeof e.command !== 'string' || e.command === '') throw fail('command is required');
  const args = Array.isArray(e.args) ? e.args.map(String) : [];
  const env = (Array.isArray(e.env) ? e.env : []).map(obj).map((x) => ({ name: String(x.name ?? ''), value: String(x.value ?? '') }));
  return { apiVersion, command: e.command, args, env, baseDir };
}
