/** Reads the RBAC manifests of deploy/kubernetes/ and works out what they grant vipwatch's ServiceAccount. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { RbacRule } from '../support/fake-kube-api.js';

export const DEPLOY = resolve('deploy/kubernetes');
export const SUBJECT = { kind: 'ServiceAccount', name: 'vipwatch', namespace: 'vipwatch' };

/** A parsed manifest document: its shape is what the test checks, so it is read loosely. */
export type Doc = Record<string, any>;

export interface Manifest {
  /** Relative to deploy/kubernetes, e.g. "namespaced/nodes.yaml". */
  file: string;
  doc: Doc;
}

/** Every document of every .yaml file in the directories (relative to deploy/kubernetes); YAML errors throw. */
export function loadManifests(...dirs: string[]): Manifest[] {
  const out: Manifest[] = [];
  for (const dir of dirs) {
    for (const name of readdirSync(join(DEPLOY, dir)).filter((f) => f.endsWith('.yaml')).sort()) {
      const file = `${dir}/${name}`;
      for (const d of parseAllDocuments(readFileSync(join(DEPLOY, file), 'utf8'))) {
        if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
        const doc = d.toJS() as Doc | null;
        if (doc) out.push({ file, doc });
      }
    }
  }
  return out;
}

/**
 * The rules the manifests grant the subject, as RBAC evaluates them: a ClusterRoleBinding grants its ClusterRole
 * everywhere; a RoleBinding grants its Role (or a ClusterRole) in the binding's namespace only.
 */
export function grantedRules(manifests: Manifest[], subject = SUBJECT): RbacRule[] {
  const docs = manifests.map((m) => m.doc);
  const find = (kind: string, name: string, namespace?: string) =>
    docs.find((d) => d.kind === kind && d.metadata?.name === name && (namespace === undefined || d.metadata?.namespace === namespace));
  const out: RbacRule[] = [];
  for (const b of docs) {
    if (b.kind !== 'RoleBinding' && b.kind !== 'ClusterRoleBinding') continue;
    const bound = (b.subjects as Doc[] | undefined)?.some((s) => s.kind === subject.kind && s.name === subject.name && s.namespace === subject.namespace);
    if (!bound) continue;
    const namespace = b.kind === 'RoleBinding' ? (b.metadata.namespace as string) : undefined;
    const role = find(b.roleRef.kind as string, b.roleRef.name as string, b.roleRef.kind === 'Role' ? namespace : undefined);
    if (!role) throw new Error(`${b.kind} ${b.metadata.name}: ${b.roleRef.kind} ${b.roleRef.name} is not in the manifests`);
    for (const r of role.rules as Doc[]) out.push({ apiGroups: r.apiGroups, resources: r.resources, verbs: r.verbs, namespace });
  }
  return out;
}
