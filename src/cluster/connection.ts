import type { Secret } from '../lib/secret.js';

/** An exec credential plugin from a kubeconfig user. */
export interface ExecConfig {
  apiVersion: string;
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  /** Directory the kubeconfig lives in: relative commands containing "/" resolve against it, like kubectl. */
  baseDir: string;
}

export type KubeAuth =
  | { kind: 'none' }
  | { kind: 'token'; token: Secret }
  /** Re-read on every request: projected ServiceAccount tokens rotate. */
  | { kind: 'tokenFile'; path: string }
  | { kind: 'exec'; exec: ExecConfig };

export interface KubeTls {
  ca?: string;
  cert?: string;
  key?: Secret;
  insecureSkipVerify: boolean;
  serverName?: string;
}

/** Everything needed to reach one API server, however it was configured. */
export interface KubeConnection {
  /** Base URL, no trailing slash. */
  server: string;
  tls: KubeTls;
  auth: KubeAuth;
  /** For logs: where the connection came from (never a secret). */
  describe: string;
}
