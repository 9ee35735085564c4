import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { AGENT_PORT, NODE_NAME_ENV } from '../../src/agent/defaults.js';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

const FILE = resolve('deploy/kubernetes/node-agent/daemonset.yaml');
const TEXT = readFileSync(FILE, 'utf8');
/** The optional token, switched on as its header says: the "# token: " prefix removed. */
const WITH_TOKEN = TEXT.replace(/^(\s*)# token: /gm, '$1');

type Doc = Record<string, any>;

function documents(text: string): Doc[] {
  return parseAllDocuments(text).map((d) => {
    if (d.errors.length) throw new Error(`daemonset.yaml: ${d.errors[0]!.message}`);
    return d.toJS() as Doc;
  }).filter(Boolean);
}

const [ds] = documents(TEXT);
const pod = ds!.spec.template.spec as Doc;
const container = pod.containers[0] as Doc;

/** The container's args as the CLI sees them: exit 0 with --help appended means every option is one node-agent takes. */
async function cliAccepts(args: string[]): Promise<boolean> {
  const io: CliIo = { out: () => {}, err: () => {}, env: {} };
  return (await main([...args, '--help'], io)) === 0;
}

describe('deploy/kubernetes/node-agent/daemonset.yaml', () => {
  it('one DaemonSet in the vipwatch namespace, its selector matching its pods, and a comment header', () => {
    expect(documents(TEXT)).toHaveLength(1);
    expect(ds).toMatchObject({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'vipwatch-node-agent', namespace: 'vipwatch' } });
    expect(ds!.spec.template.metadata.labels).toMatchObject(ds!.spec.selector.matchLabels);
    expect(TEXT.startsWith('# ')).toBe(true);
    expect(pod.containers).toHaveLength(1);
  });

  it('host network (the node\'s own sysctls and counters) and nothing else of the host', () => {
    expect(pod.hostNetwork).toBe(true);
    expect(pod.dnsPolicy).toBe('ClusterFirstWithHostNet');
    expect(pod.hostPID).toBeUndefined();
    expect(pod.hostIPC).toBeUndefined();
    expect(pod.volumes).toBeUndefined();
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('no privilege: non-root, every capability dropped, no escalation, read-only root filesystem', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    const sc = container.securityContext as Doc;
    expect(sc).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(sc.privileged ?? false).toBe(false);
    expect(sc.capabilities).toEqual({ drop: ['ALL'] });
    expect(sc.runAsUser ?? pod.securityContext.runAsUser).not.toBe(0);
  });

  it('runs on every node: one toleration with operator Exists and no key (every taint)', () => {
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(pod.nodeSelector).toBeUndefined();
    expect(pod.affinity).toBeUndefined();
  });

  it('NODE_NAME from the downward API (spec.nodeName)', () => {
    expect(container.env).toContainEqual({ name: NODE_NAME_ENV, valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
  });

  it('node-agent on port 9465, with liveness and readiness probes on /-/healthy, args the CLI accepts', async () => {
    expect(container.args[0]).toBe('node-agent');
    expect(container.args).toContain(`--listen=0.0.0.0:${AGENT_PORT}`);
    expect(await cliAccepts(container.args)).toBe(true);
    expect(container.ports).toEqual([{ name: 'agent', containerPort: AGENT_PORT, hostPort: AGENT_PORT, protocol: 'TCP' }]);
    for (const probe of [container.livenessProbe, container.readinessProbe]) {
      expect(probe.httpGet).toEqual({ path: '/-/healthy', port: AGENT_PORT });
    }
  });

  it('requests and limits CPU and memory', () => {
    for (const kind of ['requests', 'limits']) {
      expect(container.resources[kind].cpu, kind).toMatch(/^\d+m$/);
      expect(container.resources[kind].memory, kind).toMatch(/^\d+Mi$/);
    }
  });

  it('the same image as the probe (deploy/docker-compose.yml)', () => {
    const compose = parse(readFileSync(resolve('deploy/docker-compose.yml'), 'utf8')) as Doc;
    expect(container.image).toBe(compose.services.vipwatch.image);
    expect(container.imagePullPolicy).toBe('IfNotPresent');
  });

  it('with the optional token switched on: --token-file points into a read-only mount of the Secret, and the CLI accepts it', async () => {
    const [withToken] = documents(WITH_TOKEN);
    expect(WITH_TOKEN).not.toMatch(/^\s*# token: /m);
    const p = withToken!.spec.template.spec as Doc;
    const c = p.containers[0] as Doc;
    const flag = (c.args as string[]).find((a) => a.startsWith('--token-file='));
    expect(flag).toBeDefined();
    const file = flag!.slice('--token-file='.length);
    expect(c.volumeMounts).toEqual([{ name: 'token', mountPath: file.slice(0, file.lastIndexOf('/')), readOnly: true }]);
    expect(p.volumes).toEqual([{ name: 'token', secret: { secretName: 'vipwatch-node-agent-token', defaultMode: 0o440 } }]);
    expect(file.endsWith('/token')).toBe(true);
    // Group-readable only: the pod's fsGroup owns the Secret's files, so the non-root user reads them.
    expect(p.securityContext.fsGroup).toBe(p.securityContext.runAsGroup);
    expect(await cliAccepts(c.args)).toBe(true);
    // Nothing else changes.
    expect({ ...withToken, spec: { ...withToken!.spec, template: null } }).toEqual({ ...ds, spec: { ...ds!.spec, template: null } });
    expect(TEXT).toContain('kubectl -n vipwatch create secret generic vipwatch-node-agent-token --from-file=token=');
  });
});
