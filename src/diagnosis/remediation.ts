/**
 * Remediation text per verdict, following the troubleshooting guide's decision tree: intermittent -> likely rp_filter on
 * an asymmetric return path (loose mode, or externalTrafficPolicy: Local when the source IP must be kept or the network
 * is not trusted); never works -> check other layers first. rp_filter=0 is only ever mentioned with the spoofing warning.
 * Two MACs answering for the VIP (announcement_conflict) is an announcement problem: the guide's "other layers".
 */
import type { Verdict } from './types.js';

export interface RemediationInput {
  verdict: Verdict;
  suspectedNodes: readonly string[];
  candidateNodes: readonly string[];
  announcerNode: string | null;
  service: string | null;
  externalTrafficPolicy: 'Cluster' | 'Local' | null;
  address: string;
  port: number;
  /** Every ready endpoint is on a node other than the announcer. */
  allEndpointsRemote: boolean;
  /** SYN transmissions within the probe timeout (1 = too short to see retransmissions). */
  synTransmissions: number;
  /** Dominant failure reason, if any. */
  topReason?: string;
  /** Successful connects that needed a SYN retransmission, and connect timeouts, in the window. */
  slowConnects?: number;
  timeouts?: number;
  /** kube-proxy's health check port of a Local Service, when the cluster view has it. */
  healthCheckNodePort?: number;
}

const SPOOFING_WARNING =
  'Do not set rp_filter=0 unless the network is isolated and trusted: it removes the protection against spoofed source addresses; loose mode (2) keeps it.';

export function remediation(i: RemediationInput): string[] {
  switch (i.verdict) {
    case 'asymmetric_routing':
      return asymmetric(i);
    case 'vip_unreachable':
      return unreachable(i);
    case 'packet_loss':
      return loss(i);
    case 'backend_refused':
      return refused(i);
    case 'http_errors':
      return httpErrors(i);
    case 'etp_local_no_endpoint':
      return etpLocal(i);
    case 'intermittent_blocks':
      return blocks(i);
    case 'announcement_conflict':
      return conflict(i);
    default:
      return [];
  }
}

function nodesText(nodes: readonly string[], fallback: string): string {
  return nodes.length ? nodes.join(', ') : fallback;
}

function asymmetric(i: RemediationInput): string[] {
  const nodes = nodesText(i.suspectedNodes.length ? i.suspectedNodes : i.candidateNodes, 'the nodes whose pods do not answer');
  const svc = i.service ?? 'the Service';
  const out = [
    `On ${nodes}: check reverse-path filtering: \`sysctl net.ipv4.conf.all.rp_filter net.ipv4.conf.default.rp_filter\` and per interface (\`sysctl -a -r 'net\\.ipv4\\.conf\\..*\\.rp_filter'\`). The effective value is max(all, interface): 1 (strict) on either drops the replies.`,
    `Confirm the drops on ${nodes}: \`nstat -az TcpExtIPReversePathFilter\` rising in step with vipwatch's timeouts, or \`sysctl -w net.ipv4.conf.all.log_martians=1\` and \`dmesg | grep -i martian\` (set it back to 0 afterwards).`,
    `If the client source IP must be preserved, or the network is not trusted: set \`externalTrafficPolicy: Local\` on ${svc}. Only nodes with a ready local endpoint then announce the VIP and replies leave the node the request came in on. Trade-off: nodes without local pods stop announcing and traffic is spread per node, not per pod (uneven).`,
    `Otherwise, on a trusted network: switch to loose mode on ${nodes}: \`sysctl -w net.ipv4.conf.all.rp_filter=2\` and \`sysctl -w net.ipv4.conf.default.rp_filter=2\` (and any interface set to 1), persisted in /etc/sysctl.d/90-metallb.conf with \`net.ipv4.conf.all.rp_filter = 2\` and \`net.ipv4.conf.default.rp_filter = 2\`, then \`sysctl --system\`.`,
    SPOOFING_WARNING,
  ];
  if (i.externalTrafficPolicy === 'Local') {
    out.push(`${svc} already uses externalTrafficPolicy: Local, so the asymmetry is on the node itself: a multi-homed node (VIP on a secondary NIC), policy routing or a VRF sends replies out another interface; check \`ip route get <client address>\` on ${nodes}.`);
  } else {
    out.push('Why it happens here: stock kube-proxy SNATs traffic forwarded between nodes under externalTrafficPolicy: Cluster, so the return path is symmetric there. Look for a direct-server-return / no-SNAT datapath (e.g. Cilium DSR) or a multi-homed node (VIP on a secondary NIC, policy routing, VRF).');
  }
  out.push('After the fix vipwatch keeps probing and resolves the incident once every node with endpoints serves successes again.');
  return out;
}

function unreachable(i: RemediationInput): string[] {
  const svc = i.service ?? 'the Service';
  const out = [
    'It never works, so check the other layers first:',
    `Announcement: which node announces ${i.address}? \`kubectl get servicel2statuses -A -l metallb.io/service-name=<name>\`, the Service's \`nodeAssigned\` events, and the MetalLB speaker pods and logs${i.announcerNode ? ` on ${i.announcerNode}` : ''}.`,
    `ARP/NDP: from a host on the VIP's subnet, \`ip neigh show ${i.address}\` (or arping) must show the announcing node's NIC MAC; no entry means nothing answers ARP, several MACs mean split brain (or IPVS without strictARP).`,
    `Firewalls and security groups between vipwatch and the nodes (port ${i.port}), and anti-spoofing filters on routers.`,
    'Routed vs same-subnet clients: if it works from the VIP\'s subnet but not from routed clients, the VIP is likely announced on a secondary NIC and strict rp_filter on the announcer (or an upstream anti-spoofing filter) drops the return path: check rp_filter there too.',
    `Endpoints: \`kubectl get endpointslices -l kubernetes.io/service-name=<name>\` for ${svc}: are there ready endpoints and do kube-proxy's rules exist?`,
  ];
  if (i.allEndpointsRemote && i.externalTrafficPolicy !== 'Local') {
    out.push('Every ready endpoint is on a node other than the announcer: on a direct-server-return / no-SNAT datapath an asymmetric return path fails 100% too, so check rp_filter on those nodes.');
  }
  return out;
}

function loss(i: RemediationInput): string[] {
  const out = [
    'Loss is not tied to a node: check the path between vipwatch and the cluster: interface errors and drops (`ip -s link`), congestion, duplex and MTU mismatches, and the probe host itself.',
  ];
  // Only say so when the window shows it.
  if ((i.slowConnects ?? 0) > (i.timeouts ?? 0)) {
    out.push('Most lost SYNs were recovered by the retransmission after ~1 s (slow connects): typical of random loss, not of rp_filter drops, which repeat on every retransmission.');
  }
  if (i.synTransmissions < 2) {
    out.push('The probe timeout is at most ~1.2 s, so a retransmitted SYN never gets an answer in time and loss cannot be told from a path drop: raise the target\'s timeout (e.g. 2s).');
    if (i.candidateNodes.length) out.push(`The failure ratio also matches the share of endpoints on ${i.candidateNodes.join(', ')}: if that holds, check rp_filter there as for asymmetric routing.`);
  }
  return out;
}

function refused(i: RemediationInput): string[] {
  const nodes = nodesText(i.suspectedNodes, 'the nodes with endpoints');
  const svc = i.service ?? 'the Service';
  return [
    'A refusal (RST) means something answered: this is not an rp_filter drop.',
    `Check the pods of ${svc} on ${nodes}: is the container listening on the Service's targetPort? \`kubectl get endpointslices -l kubernetes.io/service-name=<name> -o wide\` (ready, serving, terminating), readiness probes, \`kubectl describe pod\`.`,
    'With no ready endpoint at all, kube-proxy rejects connections: check the selector and the Deployment.',
  ];
}

function httpErrors(i: RemediationInput): string[] {
  const nodes = nodesText(i.suspectedNodes, 'all nodes');
  const out = [
    `Connections succeed but the check fails: look at the application's logs and status codes on ${nodes}, and at the expected status / body check.`,
  ];
  if (i.topReason === 'response_timeout') {
    out.push('Connected, then no response: an application hang, or a stateful firewall that sees only half of the flow (an asymmetric path through a firewall drops the rest).');
  }
  if (i.topReason === 'tls') out.push('TLS handshakes fail: check the certificate, its chain and the server name.');
  return out;
}

function etpLocal(i: RemediationInput): string[] {
  const node = nodesText(i.suspectedNodes, 'the announcing node');
  const svc = i.service ?? 'the Service';
  return [
    `${svc} has externalTrafficPolicy: Local and ${node} announces ${i.address} without a ready local endpoint: kube-proxy on ${node} forwards only to local endpoints, so it drops every connection to the VIP. This is not rp_filter.`,
    `Why the announcement did not move: MetalLB's speakers announce a Local Service only from nodes with a ready local endpoint. Check which node announces (\`kubectl get servicel2statuses -A -l metallb.io/service-name=<name>\`, the Service's nodeAssigned events), whether the speaker on ${node} is running and healthy (its logs should show the endpoint change), and whether speakers run on the nodes that have endpoints (the L2Advertisement's nodeSelectors, taints and tolerations).`,
    `kube-proxy's health check for ${svc}: \`curl -s http://<${node} InternalIP>:${i.healthCheckNodePort ?? '<healthCheckNodePort>'}/\` answers 503 with "localEndpoints": 0 on ${node} and 200 on nodes with endpoints${i.healthCheckNodePort ? '' : ' (\`kubectl get svc <name> -o jsonpath={.spec.healthCheckNodePort}\`)'}.`,
    `Where the pods are: \`kubectl get endpointslices -l kubernetes.io/service-name=<name> -o wide\` (ready endpoints and their nodeName): after a rolling update a pod may have left ${node}.`,
    `To restore service: let the announcement move to a node with a ready pod (restart the speaker on ${node}), or run a pod on ${node}. Last resort: externalTrafficPolicy: Cluster (kube-proxy forwards to other nodes with SNAT: the client source IP is lost).`,
  ];
}

function blocks(i: RemediationInput): string[] {
  const svc = i.service ?? 'the Service';
  return [
    'Failures come in blocks with working stretches between: something switches on and off. Not random loss (independent per attempt) and not rp_filter (a per-connection drop interleaves failures with successes). vipwatch names candidate causes, not a node.',
    `Candidate: the announcer flapping. Watch the announcement of ${i.address} over time: \`kubectl get servicel2statuses -A -l metallb.io/service-name=<name> -w\`, ${svc}'s nodeAssigned events, the speakers' logs and memberlist (\`kubectl logs -n metallb-system -l component=speaker\`); from a host on the VIP's subnet, \`ip monitor neigh\` shows the VIP's MAC changing. Several MACs: split brain, or IPVS kube-proxy without strictARP: true.`,
    'Candidate: the path flapping. Check the routers and links between vipwatch and the cluster: route or BGP session flaps, ECMP changes, interface errors and link flaps in their logs.',
    'A vipwatch on the VIP\'s L2 segment with kubernetes.arp.enabled sees which MAC each attempt went to: that tells an announcer flap from a path flap.',
  ];
}

function conflict(i: RemediationInput): string[] {
  const rogue = i.suspectedNodes.length ? i.suspectedNodes.join(', ') : 'the host whose MAC the evidence names (no node owns it)';
  const legit = i.announcerNode ?? 'the node MetalLB chose';
  return [
    `More than one MAC answers ARP for ${i.address} and connections fail through ${rogue}: a split brain (two announcers), not rp_filter and not random loss. Clients follow whichever MAC answered last, so the VIP works while the entry points at ${legit} and fails while it points at ${rogue}.`,
    `Who MetalLB thinks announces: \`kubectl get servicel2statuses -A -l metallb.io/service-name=<name>\` (and the Service's nodeAssigned events): one node, ${legit}; any other MAC answering is not MetalLB's choice.`,
    'The speakers\' memberlist: `kubectl -n metallb-system logs ds/speaker` (each pod: `kubectl -n metallb-system logs -l component=speaker --prefix`): memberlist join/leave and "node event" lines show a partition, after which each side announces; the speakers must reach each other on the memberlist port (7946, TCP and UDP).',
    'kube-proxy in IPVS mode answers ARP for every Service address on every node unless `strictARP: true` is set: `kubectl -n kube-system get configmap kube-proxy -o yaml | grep -A2 -i strictARP` (set it under `ipvs:`, then restart kube-proxy).',
    `The L2Advertisement's nodeSelectors and interfaces: \`kubectl -n metallb-system get l2advertisements -o yaml\`: should ${rogue} announce ${i.address} at all, and on which interface (two NICs on one subnet answer with two MACs)?`,
    `A duplicate of ${i.address} outside the cluster: from a host on the VIP's segment, \`arping -D -I <interface> -c 3 ${i.address}\` lists every MAC that answers, and \`ip monitor neigh\` shows the VIP's entry flipping; a MAC that belongs to no node is another host configured with the address.`,
    'After the fix vipwatch sees one MAC again and resolves the incident once the attempts through it keep succeeding.',
  ];
}
