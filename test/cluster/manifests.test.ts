import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveKubeconfig } from '../../src/cluster/kubeconfig.js';
import {
  accessPlan, forbiddenText, GRANTED_VERBS, KUBE_RESOURCES, REQUIRED_VERBS, type KubeAccess,
} from '../../src/cluster/resources.js';
import { rbacAllows, type RbacRule } from '../support/fake-kube-api.js';
import { DEPLOY, grantedRules, loadManifests, SUBJECT, type Manifest } from './rbac-manifests.js';

const KINDS: Record<string, string> = {
  Namespace: 'v1', ServiceAccount: 'v1', Secret: 'v1',
  Role: 'rbac.authorization.k8s.io/v1', RoleBinding: 'rbac.authorization.k8s.io/v1',
  ClusterRole: 'rbac.authorization.k8s.io/v1', ClusterRoleBinding: 'rbac.authorization.k8s.io/v1',
};
const NAMESPACED_KINDS = new Set(['ServiceAccount', 'Secret', 'Role', 'RoleBinding']);
const ROLE_KINDS = new Set(['Role', 'ClusterRole']);

const cluster = loadManifests('cluster');
const namespaced = loadManifests('namespaced');

/** The access plan entries the rules leave out, as "verb resource namespace" lines. */
function missing(rules: RbacRule[], plan: KubeAccess[]): string[] {
  const out: string[] = [];
  for (const a of plan) {
    for (const verb of REQUIRED_VERBS) {
      const request = { group: a.kind.group, resource: a.kind.resource, namespace: a.namespace };
      if (!rules.some((r) => rbacAllows(r, request, verb))) out.push(`${verb} ${a.kind.resource} ${a.namespace ?? '(all)'}`);
    }
  }
  return out;
}

const SHOP = accessPlan({ namespaces: ['shop'], metallbNamespace: 'metallb-system' });
const CLUSTER_WIDE = accessPlan({ metallbNamespace: 'metallb-system' });

describe('the RBAC manifests in deploy/kubernetes/', () => {
  it.each([['cluster', cluster], ['namespaced', namespaced]] as const)('%s/: every document is a known kind with its apiVersion, a name and (when namespaced) a namespace', (_dir, manifests) => {
    expect(manifests.length).toBeGreaterThan(0);
    for (const { file, doc } of manifests) {
      const where = `${file} ${doc.kind} ${doc.metadata?.name}`;
      expect(KINDS[doc.kind], where).toBeDefined();
      expect(doc.apiVersion, where).toBe(KINDS[doc.kind]);
      expect(doc.metadata?.name, where).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
      if (NAMESPACED_KINDS.has(doc.kind)) expect(doc.metadata.namespace, where).toMatch(/^[a-z0-9-]+$/);
      else expect(doc.metadata.namespace, where).toBeUndefined();
    }
  });

  it('both directories create the same ServiceAccount, with a long-lived token Secret and no mounted token', () => {
    expect(readFileSync(join(DEPLOY, 'namespaced/serviceaccount.yaml'), 'utf8')).toBe(readFileSync(join(DEPLOY, 'cluster/serviceaccount.yaml'), 'utf8'));
    const docs = cluster.filter((m) => m.file === 'cluster/serviceaccount.yaml').map((m) => m.doc);
    expect(docs.find((d) => d.kind === 'Namespace')).toMatchObject({ metadata: { name: SUBJECT.namespace } });
    expect(docs.find((d) => d.kind === 'ServiceAccount')).toMatchObject({ metadata: { name: SUBJECT.name, namespace: SUBJECT.namespace }, automountServiceAccountToken: false });
    expect(docs.find((d) => d.kind === 'Secret')).toMatchObject({
      type: 'kubernetes.io/service-account-token',
      metadata: { namespace: SUBJECT.namespace, annotations: { 'kubernetes.io/service-account.name': SUBJECT.name } },
    });
  });

  it.each([['cluster', cluster], ['namespaced', namespaced]] as const)('%s/: read-only rules on exactly the resources the client reads, bound to the ServiceAccount', (_dir, manifests) => {
    const known = new Set(KUBE_RESOURCES.map((k) => `${k.group}/${k.resource}`));
    for (const { file, doc } of manifests.filter((m: Manifest) => ROLE_KINDS.has(m.doc.kind))) {
      for (const rule of doc.rules) {
        expect(rule.verbs, file).toEqual([...GRANTED_VERBS]);
        expect(rule.apiGroups, file).toHaveLength(1);
        for (const resource of rule.resources) expect(known, `${file}: ${rule.apiGroups[0]}/${resource}`).toContain(`${rule.apiGroups[0]}/${resource}`);
      }
    }
    for (const { file, doc } of manifests.filter((m) => m.doc.kind.endsWith('Binding'))) {
      expect(doc.subjects, file).toEqual([SUBJECT]);
      expect(doc.roleRef.apiGroup, file).toBe('rbac.authorization.k8s.io');
    }
    // Every role is bound (grantedRules throws on a binding to a role that is not there).
    const roles = manifests.filter((m) => ROLE_KINDS.has(m.doc.kind)).length;
    const bindings = manifests.filter((m) => m.doc.kind.endsWith('Binding')).length;
    expect(bindings).toBe(roles);
    expect(grantedRules(manifests).length).toBeGreaterThan(0);
  });

  it('cluster/ grants every request vipwatch makes with kubernetes.namespaces unset, and each resource it reads', () => {
    const rules = grantedRules(cluster);
    expect(missing(rules, CLUSTER_WIDE)).toEqual([]);
    expect(missing(rules, SHOP)).toEqual([]);
    const granted = new Set(rules.flatMap((r) => r.resources.map((res) => `${r.apiGroups[0]}/${res}`)));
    expect([...granted].sort()).toEqual(KUBE_RESOURCES.map((k) => `${k.group}/${k.resource}`).sort());
  });

  it('namespaced/ grants every request with kubernetes.namespaces: [shop], and nothing cluster-wide but Nodes', () => {
    const rules = grantedRules(namespaced);
    expect(missing(rules, SHOP)).toEqual([]);
    expect(rules.filter((r) => r.namespace === undefined).flatMap((r) => r.resources)).toEqual(['nodes']);
    // Without the namespaces key the same token cannot list cluster-wide: exactly what the 403 message explains.
    expect(missing(rules, CLUSTER_WIDE)).toEqual([
      'list services (all)', 'watch services (all)', 'list endpointslices (all)', 'watch endpointslices (all)', 'list events (all)', 'watch events (all)',
    ]);
    // Nodes are optional: without nodes.yaml only the Nodes loop is refused.
    const withoutNodes = grantedRules(namespaced.filter((m) => m.file !== 'namespaced/nodes.yaml'));
    expect(missing(withoutNodes, SHOP)).toEqual(['list nodes (all)', 'watch nodes (all)']);
  });

  it('every manifest a 403 message points to exists', () => {
    const plans = [...SHOP, ...CLUSTER_WIDE];
    const paths = new Set(plans.flatMap((a) => forbiddenText(a, 'list').match(/deploy\/kubernetes\/[a-z/.-]+/g) ?? []));
    expect(paths.size).toBeGreaterThanOrEqual(4);
    for (const p of paths) expect(existsSync(join(DEPLOY, '..', '..', p)), p).toBe(true);
  });
});

describe('deploy/kubernetes/make-kubeconfig.sh', () => {
  const script = join(DEPLOY, 'make-kubeconfig.sh');
  const dir = mkdtempSync(join(tmpdir(), 'vipwatch-mkkc-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-days', '1', '-subj', '/CN=test-ca'], { stdio: 'pipe' });
  const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ2aXB3YXRjaCJ9.c2ln-_x';
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  const run = (args: string[], input?: string) => spawnSync('sh', [script, ...args], { input, encoding: 'utf8' });

  it('writes a kubeconfig (mode 600) that vipwatch resolves to the server, the CA and the token', () => {
    const out = join(dir, 'vipwatch.kubeconfig');
    const r = run(['-s', 'https://192.0.2.10:6443', '-c', join(dir, 'ca.crt'), '-t', join(dir, 'token'), '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const conn = resolveKubeconfig(out);
    expect(conn.server).toBe('https://192.0.2.10:6443');
    expect(conn.tls.ca).toBe(readFileSync(join(dir, 'ca.crt'), 'utf8'));
    expect(conn.auth.kind).toBe('token');
    expect(conn.auth.kind === 'token' && conn.auth.token.reveal()).toBe(TOKEN);
    expect(conn.describe).toBe(`kubeconfig ${out} context vipwatch (https://192.0.2.10:6443)`);
  });

  it('reads the token from stdin, names the context with -n, prints to stdout without -o', () => {
    const r = run(['-s', 'https://[2001:db8::1]:6443', '-c', join(dir, 'ca.crt'), '-t', '-', '-n', 'prod-1'], `${TOKEN}\n`);
    expect(r.status, r.stderr).toBe(0);
    const file = join(dir, 'stdout.kubeconfig');
    writeFileSync(file, r.stdout);
    const conn = resolveKubeconfig(file, 'prod-1');
    expect(conn.server).toBe('https://[2001:db8::1]:6443');
    expect(conn.auth.kind === 'token' && conn.auth.token.reveal()).toBe(TOKEN);
  });

  it.each([
    ['no arguments', [], undefined, /-s URL/],
    ['a server that is no URL', ['-s', '192.0.2.10:6443', '-c', 'CA', '-t', '-'], TOKEN, /-s must be an http\(s\) URL/],
    ['a CA that is no certificate', ['-s', 'https://192.0.2.10', '-c', 'TOKEN', '-t', '-'], TOKEN, /is not a PEM certificate/],
    ['a token with a quote', ['-s', 'https://192.0.2.10', '-c', 'CA', '-t', '-'], 'abc"def', /characters a bearer token does not/],
    ['an empty token', ['-s', 'https://192.0.2.10', '-c', 'CA', '-t', '-'], '\n', /the token is empty/],
  ])('refuses %s', (_name, args, input, message) => {
    const r = run(args.map((a) => (a === 'CA' ? join(dir, 'ca.crt') : a === 'TOKEN' ? join(dir, 'token') : a)), input);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });
});
