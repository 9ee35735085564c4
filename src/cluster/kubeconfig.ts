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

/** A named entry (cluster, user or context) and the file it came from: relative paths in it resolve against that file. */
interface Entry {
  body: Json;
  file: string;
}

/** Several kubeconfig files merged as kubectl merges $KUBECONFIG. */
interface Merged {
  /** What error messages name: the file, or the list as given ("a:b"). */
  label: string;
  currentContext?: string;
  clusters: Map<string, Entry>;
  users: Map<string, Entry>;
  contexts: Map<string, Entry>;
}

/**
 * Reads and merges kubeconfig files as kubectl does with a $KUBECONFIG list: the first file that sets current-context
 * wins; clusters, users and contexts are merged by name, the first occurrence winning; of several files, those that
 * do not exist are skipped (one alone, or all of them, is an error). Any other read or parse error is an error.
 */
function loadMerged(files: readonly string[]): Merged {
  const label = files.join(':');
  const merged: Merged = { label, clusters: new Map(), users: new Map(), contexts: new Map() };
  let found = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && files.length > 1) continue;
      throw new KubeconfigError('kubeconfig', `${file}: cannot read: ${code ?? (err as Error).message}`);
    }
    found++;
    let doc: Json;
    try {
      doc = obj(parse(text));
    } catch (err) {
      throw new KubeconfigError('kubeconfig', `${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    if (merged.currentContext === undefined && typeof doc['current-context'] === 'string' && doc['current-context'] !== '')
      merged.currentContext = doc['current-context'];
    for (const list of ['clusters', 'users', 'contexts'] as const) {
      const entries = Array.isArray(doc[list]) ? (doc[list] as unknown[]) : [];
      for (const e of entries.map(obj)) {
        if (typeof e.name !== 'string' || merged[list].has(e.name)) continue;
        merged[list].set(e.name, { body: e, file });
      }
    }
  }
  if (!found) throw new KubeconfigError('kubeconfig', `${label}: none of these kubeconfig files exists`);
  return merged;
}

/**
 * Resolves one context of a kubeconfig file (or of several, merged as kubectl merges $KUBECONFIG) into a connection:
 * server, TLS material (files read now, paths relative to the kubeconfig that names them) and credentials. Throws
 * KubeconfigError naming the file and the offending entry; an unknown context lists the known ones.
 */
export function resolveKubeconfig(files: string | readonly string[], context?: string): KubeConnection {
  const m = loadMerged(typeof files === 'string' ? [files] : files);
  const known = () => (m.contexts.size ? [...m.contexts.keys()].join(', ') : 'none');
  const failAt = (file: string, msg: string, key: 'kubeconfig' | 'context' = 'kubeconfig') => new KubeconfigError(key, `${file}: ${msg}`);

  const ctxName = context ?? m.currentContext;
  if (!ctxName) throw failAt(m.label, `no context given and no current-context set; known contexts: ${known()}`, 'context');
  const ctxEntry = m.contexts.get(ctxName);
  if (!ctxEntry) throw failAt(m.label, `context "${ctxName}" not found; known: ${known()}`, context ? 'context' : 'kubeconfig');
  const ctx = obj(ctxEntry.body.context);
  const clusterName = String(ctx.cluster ?? '');
  const userName = ctx.user === undefined ? undefined : String(ctx.user);
  const clusterEntry = m.clusters.get(clusterName);
  if (!clusterEntry) throw failAt(ctxEntry.file, `cluster "${clusterName}" of context "${ctxName}" not found`);
  const cluster = obj(clusterEntry.body.cluster);
  const clusterFile = clusterEntry.file;
  let user: Json = {};
  let userFile = ctxEntry.file;
  if (userName !== undefined) {
    const u = m.users.get(userName);
    if (!u) throw failAt(ctxEntry.file, `user "${userName}" of context "${ctxName}" not found`);
    user = obj(u.body.user);
    userFile = u.file;
  }
  const userDir = dirname(resolve(userFile));
  const fail = (msg: string, file = clusterFile) => failAt(file, msg);

  const server = typeof cluster.server === 'string' ? normalizeServer(cluster.server) : undefined;
  if (!server) throw fail(`cluster "${clusterName}": server must be an http(s) URL, got ${JSON.stringify(cluster.server)}`);

  const material = (dataKey: string, fileKey: string, from: Json, where: string, file: string): string | undefined => {
    const data = from[dataKey];
    if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64').toString('utf8');
    const f = from[fileKey];
    if (typeof f !== 'string' || f === '') return undefined;
    const p = resolve(dirname(resolve(file)), f);
    try {
      return readFileSync(p, 'utf8');
    } catch (err) {
      throw fail(`${where}: ${fileKey} ${p}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file);
    }
  };

  const userWhere = `user "${userName}"`;
  const key = material('client-key-data', 'client-key', user, userWhere, userFile);
  const tls: KubeTls = {
    ca: material('certificate-authority-data', 'certificate-authority', cluster, `cluster "${clusterName}"`, clusterFile),
    cert: material('client-certificate-data', 'client-certificate', user, userWhere, userFile),
    key: key === undefined ? undefined : new Secret(key),
    insecureSkipVerify: cluster['insecure-skip-tls-verify'] === true,
    serverName: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
  };
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw fail(`${userWhere}: client certificate and client key must be given together`, userFile);
  if (user.username !== undefined || user.password !== undefined) throw fail(`${userWhere}: basic auth (username/password) is not supported; use a token`, userFile);
  if (user['auth-provider'] !== undefined) throw fail(`${userWhere}: auth-provider plugins are not supported; use an exec plugin`, userFile);

  let auth: KubeAuth = { kind: 'none' };
  if (typeof user.token === 'string' && user.token !== '') auth = { kind: 'token', token: new Secret(user.token) };
  else if (typeof user.tokenFile === 'string' && user.tokenFile !== '') auth = { kind: 'tokenFile', path: resolve(userDir, user.tokenFile) };
  else if (user.exec !== undefined) auth = { kind: 'exec', exec: parseExec(obj(user.exec), userDir, (msg) => fail(`${userWhere}: exec: ${msg}`, userFile)) };

  return { server, tls, auth, describe: `kubeconfig ${m.label} context ${ctxName} (${server})` };
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
