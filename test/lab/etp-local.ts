/**
 * The lab's externalTrafficPolicy: Local fault (issue 15, part 4): the Service turns Local while its announcer (node-1)
 * has no ready endpoint, and node-1 drops the VIP's traffic as kube-proxy does there (it forwards Local traffic only to
 * local endpoints, and has none). MetalLB would move the announcement to a node with an endpoint; here it does not:
 * the ServiceL2Status keeps naming node-1, the case of metallb/metallb#2561.
 */
import type { KubeObject } from '../support/fake-kube-api.js';
import { IFACE, LAB, type NodeName } from './addresses.js';
import { labClusterObjects } from './cluster-objects.js';
import { LabError, run } from './exec.js';
import { iptablesArgv } from './iptables.js';
import type { Lab } from './lab.js';

/** kube-proxy's health check port of the Local Service (the fake API has no allocator: a fixed port in the range). */
export const LAB_HEALTH_CHECK_NODE_PORT = 32080;

/** Every packet to VIP:port arriving on the node's LAN interface is dropped, before routing: served locally or forwarded. */
export function etpLocalDropRule(op: '-I' | '-D' | '-C'): string[] {
  return ['-t', 'raw', op, 'PREROUTING', '-i', IFACE.lan, '-d', `${LAB.vip}/32`, '-p', 'tcp', '--dport', String(LAB.vipPort), '-j', 'DROP'];
}

/** The Service with externalTrafficPolicy Local (and its healthCheckNodePort), and the EndpointSlice without `node`'s endpoint. */
export function etpLocalObjects(without: NodeName): KubeObject[] {
  const objs = labClusterObjects();
  const service = objs.find((o) => o.kind === 'Service')!;
  const slice = objs.find((o) => o.kind === 'EndpointSlice')!;
  const spec = service.spec as Record<string, unknown>;
  const endpoints = slice.endpoints as Array<{ nodeName: string }>;
  return [
    { ...service, spec: { ...spec, externalTrafficPolicy: 'Local', healthCheckNodePort: LAB_HEALTH_CHECK_NODE_PORT } },
    { ...slice, endpoints: endpoints.filter((e) => e.nodeName !== without) },
  ];
}

/** The lab's original Service and EndpointSlice (externalTrafficPolicy Cluster, an endpoint on every node). */
export function clusterPolicyObjects(): KubeObject[] {
  return labClusterObjects().filter((o) => o.kind === 'Service' || o.kind === 'EndpointSlice');
}

/** Adds (`on`) or removes the drop on `node`, checking with -C first so repeated calls change nothing. */
export async function setEtpLocalDrop(lab: Lab, node: NodeName, on: boolean): Promise<void> {
  const b = lab.iptables;
  if (!b) throw new LabError('LAB_NOT_READY', 'the lab is not set up');
  const ns = lab.nodeNs(node);
  const exists = (await run(iptablesArgv(ns, b, etpLocalDropRule('-C')), { allowFail: true })).code === 0;
  if (on && !exists) await run(iptablesArgv(ns, b, etpLocalDropRule('-I')));
  if (!on && exists) await run(iptablesArgv(ns, b, etpLocalDropRule('-D')));
}
