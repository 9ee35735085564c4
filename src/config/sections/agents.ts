/**
 * The `agents` section: where vipwatch finds the node evidence agents (`vipwatch node-agent`, a DaemonSet) that read
 * each node's rp_filter settings and reverse-path drop counter. Off unless nodeUrlTemplate is set.
 */
import type { Secret } from '../../lib/secret.js';
import { duration, field, object, str, type Validator } from '../schema-dsl.js';
import { secretFile } from '../secrets.js';

export interface AgentsConfig {
  /**
   * The agent's base URL for a node: `{nodeIP}` (the Node's first InternalIP from the Kubernetes API, IPv6 bracketed)
   * and `{nodeName}` are replaced, e.g. `http://{nodeIP}:9465`. Undefined: no agents (kernel evidence off).
   */
  nodeUrlTemplate?: string;
  /** Bearer token the agents require (their --token-file), read at load. */
  token?: Secret;
  /** Deadline of one request to an agent. Default 2s. */
  timeoutMs: number;
  /** How often the agents of the nodes a verdict or an open incident names are read. Default 5s. */
  intervalMs: number;
}

export const AGENTS_DEFAULTS: AgentsConfig = Object.freeze({ timeoutMs: 2000, intervalMs: 5000 });

const template = str({
  nonEmpty: true,
  pattern: /^https?:\/\/[^\s]*\{(nodeIP|nodeName)\}[^\s]*$/,
  patternHint: 'an http:// or https:// URL containing {nodeIP} or {nodeName}, e.g. http://{nodeIP}:9465',
});

export const agentsSection: Validator<AgentsConfig> = object({
  nodeUrlTemplate: field(template),
  tokenFile: field(secretFile()),
  timeout: field(duration({ min: 100, max: 60_000 }), { default: AGENTS_DEFAULTS.timeoutMs }),
  interval: field(duration({ min: 1000, max: 3_600_000 }), { default: AGENTS_DEFAULTS.intervalMs }),
}, (v): AgentsConfig => {
  const out: AgentsConfig = { timeoutMs: v.timeout, intervalMs: v.interval };
  if (v.nodeUrlTemplate !== undefined) out.nodeUrlTemplate = v.nodeUrlTemplate;
  if (v.tokenFile !== undefined) out.token = v.tokenFile;
  return out;
});
