/** A node's agent base URL from agents.nodeUrlTemplate: the one way kernel evidence and the MAC directory build it. */
import { ERR } from '../lib/error-codes.js';
import { VipwatchError } from '../lib/errors.js';

/**
 * `{nodeName}` is replaced by the node's name (URL-encoded), `{nodeIP}` by its first InternalIP (IPv6 bracketed).
 * Throws AGENT_NO_ADDRESS when the template needs an address the cluster view does not have.
 */
export function agentUrl(template: string, node: string, nodeAddresses: (node: string) => string[]): string {
  let url = template.replaceAll('{nodeName}', encodeURIComponent(node));
  if (url.includes('{nodeIP}')) {
    const ip = nodeAddresses(node)[0];
    if (!ip) throw new VipwatchError(ERR.AGENT_NO_ADDRESS, `node ${node} has no InternalIP in the cluster view`);
    url = url.replaceAll('{nodeIP}', ip.includes(':') ? `[${ip}]` : ip);
  }
  return url;
}
