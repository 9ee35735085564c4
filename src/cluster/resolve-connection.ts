import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Problem } from '../config/schema-dsl.js';
import type { KubernetesConfig } from '../config/sections/kubernetes.js';
import { errorMessage, VipwatchError } from '../lib/errors.js';
import { expandHome } from '../lib/home-path.js';
import { normalizeServer } from '../lib/server-url.js';
import type { KubeConnection } from './connection.js';
import { KUBECONFIG_INVALID } from './kube-errors.js';
import { KubeconfigError, resolveKubeconfig } from './kubeconfig.js';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface ResolveOptions {
  env: NodeJS.ProcessEnv;
  /** Where the ServiceAccount token and CA are mounted in a pod. */
  serviceAccountDir?: string;
}

/** A path from the config or $KUBECONFIG with "~" expanded from HOME (VIPWATCH_KUBECONFIG_INVALID when HOME is unset). */
function home(path: string, env: NodeJS.ProcessEnv, what: string): string {
  try {
    return expandHome(path, env);
  } catch (err) {
    throw new VipwatchError(KUBECONFIG_INVALID, `${what}: ${errorMessage(err)}`);
  }
}

/** The files of $KUBECONFIG (':'-separated, empty entries skipped, "~" expanded), or undefined when it names none. */
export function kubeconfigFromEnv(env: NodeJS.ProcessEnv): string[] | undefined {
  const files = (env.KUBECONFIG ?? '').split(':').filter((p) => p !== '').map((p) => home(p, env, 'KUBECONFIG'));
  return files.length ? files : undefined;
}

/**
 * Picks the connection: kubeconfig (+context), explicit apiServer (+tokenFile, caFile), in-cluster, or with only
 * `enabled: true`, in-cluster when KUBERNETES_SERVICE_HOST is set, else $KUBECONFIG (several files merged as kubectl
 * merges them), else ~/.kube/config. "~" in the paths is expanded from HOME.
 * Throws VipwatchError VIPWATCH_KUBECONFIG_INVALID naming what is missing or broken.
 */
export function resolveConnection(config: KubernetesConfig, opts: ResolveOptions): KubeConnection {
  const env = opts.env;
  if (config.kubeconfig) return resolveKubeconfig(home(config.kubeconfig, env, 'kubernetes.kubeconfig'), config.context);
  if (config.apiServer) {
    const caFile = config.caFile && home(config.caFile, env, 'kubernetes.caFile');
    const tokenFile = config.tokenFile && home(config.tokenFile, env, 'kubernetes.tokenFile');
    return {
      server: config.apiServer,
      tls: { ca: caFile ? readText(caFile, 'kubernetes.caFile') : undefined, insecureSkipVerify: config.insecureSkipTlsVerify },
      auth: tokenFile ? { kind: 'tokenFile', path: tokenFile } : { kind: 'none' },
      describe: `apiServer ${config.apiServer}`,
    };
  }
  if (config.inCluster || env.KUBERNETES_SERVICE_HOST) return inCluster(env, opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR);
  const files = kubeconfigFromEnv(env) ?? (env.HOME ? [join(env.HOME, '.kube', 'config')] : undefined);
  if (!files) throw new VipwatchError(KUBECONFIG_INVALID, 'kubernetes is enabled but no kubeconfig, apiServer or in-cluster environment was found');
  return resolveKubeconfig(files, config.context);
}

/**
 * The files the kubernetes section names, checked after validation (a ConfigCheck for the loader: check-config, start
 * and reload refuse the config when any is found): kubeconfig, tokenFile and caFile must be readable, and the kubeconfig
 * must resolve (its context, cluster, user and the files they name). Each problem names the key to blame. Checked
 * whether or not kubernetes is enabled; the environment-driven choices (in-cluster, $KUBECONFIG) are resolved at start.
 * "~" in a path is expanded from `env`'s HOME (the process environment unless given).
 */
export function kubernetesFileProblems(config: Config, env: NodeJS.ProcessEnv = process.env): Problem[] {
  const k = config.kubernetes;
  const problems: Problem[] = [];
  const report = (key: string, message: string) => problems.push({ path: ['kubernetes', key], message });
  const files: Partial<Record<'kubeconfig' | 'tokenFile' | 'caFile', string>> = {};
  for (const key of ['kubeconfig', 'tokenFile', 'caFile'] as const) {
    const given = k[key];
    if (given === undefined) continue;
    let file: string;
    try {
      file = files[key] = expandHome(given, env);
    } catch (err) {
      report(key, errorMessage(err));
      continue;
    }
    try {
      accessSync(file, constants.R_OK);
    } catch (err) {
      report(key, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
    }
  }
  if (!problems.length && files.kubeconfig !== undefined) {
    try {
      resolveKubeconfig(files.kubeconfig, k.context);
    } catch (err) {
      report(err instanceof KubeconfigError && err.key === 'context' && k.context !== undefined ? 'context' : 'kubeconfig', errorMessage(err));
    }
  }
  return problems;
}

function inCluster(env: NodeJS.ProcessEnv, dir: string): KubeConnection {
  const host = env.KUBERNETES_SERVICE_HOST;
  if (!host) throw new VipwatchError(KUBECONFIG_INVALID, 'kubernetes.inCluster is set but KUBERNETES_SERVICE_HOST is not');
  const port = env.KUBERNETES_SERVICE_PORT || '443';
  const server = normalizeServer(`https://${host.includes(':') ? `[${host}]` : host}:${port}`);
  if (!server) throw new VipwatchError(KUBECONFIG_INVALID, `invalid in-cluster address ${host}:${port}`);
  return {
    server,
    tls: { ca: readText(join(dir, 'ca.crt'), 'in-cluster CA'), insecureSkipVerify: false },
    auth: { kind: 'tokenFile', path: join(dir, 'token') },
    describe: `in-cluster ${server}`,
  };
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new VipwatchError(KUBECONFIG_INVALID, `${what}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
