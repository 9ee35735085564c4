/**
 * The agent's /metrics: Prometheus text exposition 0.0.4 of one NodeReport, rendered by hand. Four rp_filter series per
 * interface (a node with hundreds of pod veths has hundreds of interfaces), so log_martians stays in the JSON only.
 */
import type { ConfScopes, NodeReport } from './types.js';
import { REVERSE_PATH_COUNTER } from './netstat.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const SCOPES: readonly (keyof ConfScopes)[] = ['all', 'default', 'interface', 'effective'];

/** `readErrors`: failed reads of a kernel file since the agent started. */
export function renderNodeMetrics(report: NodeReport, readErrors: number): string {
  const out: string[] = [];
  const family = (name: string, type: 'gauge' | 'counter', help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const sample = (name: string, labels: Record<string, string>, value: number) => out.push(`${name}${labelText(labels)} ${value}`);

  family('vipwatch_node_agent_info', 'gauge', 'The node evidence agent: the node it reports for and its version (always 1).');
  sample('vipwatch_node_agent_info', { node: report.node, version: report.agentVersion }, 1);

  family('vipwatch_node_rp_filter', 'gauge',
    'net.ipv4.conf rp_filter of an interface by scope (all, default, interface) and the value the kernel uses, effective = max(all, interface): 0 off, 1 strict, 2 loose.');
  for (const [iface, ev] of Object.entries(report.interfaces)) for (const scope of SCOPES) sample('vipwatch_node_rp_filter', { interface: iface, scope }, ev.rpFilter[scope]);

  family('vipwatch_node_reverse_path_drops_total', 'counter', 'Packets the kernel dropped for failing the reverse-path check (TcpExt IPReversePathFilter in /proc/net/netstat).');
  if (report.reversePathDrops !== null) sample('vipwatch_node_reverse_path_drops_total', {}, report.reversePathDrops);

  family('vipwatch_node_netstat_total', 'counter', 'Other drop counters of /proc/net/netstat by group and counter name (absent when the kernel has no such counter).');
  for (const [group, counters] of Object.entries(report.counters) as [string, Record<string, number>][]) {
    for (const [counter, value] of Object.entries(counters)) {
      if (group === 'TcpExt' && counter === REVERSE_PATH_COUNTER) continue;
      sample('vipwatch_node_netstat_total', { group, counter }, value);
    }
  }

  family('vipwatch_node_agent_read_errors_total', 'counter', 'Kernel files the agent could not read or parse, since it started (each is named in /v1/node errors and the log).');
  sample('vipwatch_node_agent_read_errors_total', {}, readErrors);
  return out.join('\n') + '\n';
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** Backslash, double quote and newline are escaped in label values (exposition format). */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
