import type { KubeObject } from '../support/fake-kube-api.js';
import { LAB, NODES } from './addresses.js';

/** The Service the lab's VIP belongs to, as vipwatch's config names it (`service: default/web`). */
export const LAB_SERVICE = { namespace: 'default', name: 'web' } as const;
export const METALLB_NAMESPACE = 'metallb-system';

/**
 * The Kubernetes objects that describe the lab as a real cluster would: the LoadBalancer Service holding the VIP
 * (externalTrafficPolicy Cluster), one EndpointSlice with a ready endpoint per node (the backend "pods"), the three
 * Nodes with their LAN address as InternalIP, and MetalLB's ServiceL2Status naming the announcer. Pure: the fake API
 * serves exactly these.
 */
export function labClusterObjects(createdAt = new Date()): KubeObject[] {
  const { namespace, name } = LAB_SERVICE;
  const creationTimestamp = createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, creationTimestamp, uid: 'lab-svc-web', annotations: { 'metallb.io/ip-allocated-from-pool': 'lab-pool' } },
    spec: {
      type: 'LoadBalancer',
      selector: { app: name },
      ports: [{ name: 'http', protocol: 'TCP', port: LAB.vipPort, targetPort: LAB.vipPort, nodePort: 30080 }],
      clusterIP: '10.96.0.80',
      externalTrafficPolicy: 'Cluster',
    },
    status: { loadBalancer: { ingress: [{ ip: LAB.vip, ipMode: 'VIP' }] } },
  };
  const slice: KubeObject = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-lab`, namespace, creationTimestamp, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: LAB.vipPort }],
    // The lab's pods are host-network style: each listens on its node, so its address is the node's cluster address.
    endpoints: NODES.map((n) => ({
      addresses: [LAB.nodes[n].clusterIp],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: n,
      targetRef: { kind: 'Pod', namespace, name: LAB.nodes[n].pod },
    })),
  };
  const nodes: KubeObject[] = NODES.map((n) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n, creationTimestamp, labels: { 'kubernetes.io/hostname': n } },
    status: { addresses: [{ type: 'InternalIP', address: LAB.nodes[n].lanIp }, { type: 'Hostname', address: n }] },
  }));
  const l2: KubeObject = {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'ServiceL2Status',
    metadata: {
      name: 'l2-lab-web',
      namespace: METALLB_NAMESPACE,
      creationTimestamp,
      labels: { 'metallb.io/node': LAB.announcer, 'metallb.io/service-name': name, 'metallb.io/service-namespace': namespace },
    },
    status: { node: LAB.announcer, serviceName: name, serviceNamespace: namespace },
  };
  return [service, slice, ...nodes, l2];
}
