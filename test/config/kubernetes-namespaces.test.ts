import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { problemsOf } from '../support/config-problems.js';

const FILE = '/etc/vipwatch/vipwatch.yaml';
const load = (yaml: string) => parseConfig(yaml, FILE, { env: {} });
const problems = (yaml: string) => problemsOf(() => load(yaml), FILE);

describe('kubernetes.namespaces', () => {
  it('is unset by default (cluster-wide, as before) and decodes a list of namespaces, duplicates dropped', () => {
    expect(load('kubernetes: {}\n').kubernetes).not.toHaveProperty('namespaces');
    expect(load('kubernetes:\n  namespaces: [shop, web, shop]\n').kubernetes.namespaces).toEqual(['shop', 'web']);
  });

  it('discovery.namespaces within it are accepted (discovery sees the intersection)', () => {
    const k = load('kubernetes:\n  namespaces: [shop, web]\n  discovery: {enabled: true, namespaces: [web]}\n').kubernetes;
    expect(k).toMatchObject({ namespaces: ['shop', 'web'], discovery: { enabled: true, namespaces: ['web'] } });
  });

  it.each([
    ['an empty list', 'kubernetes:\n  namespaces: []\n', ['2:15: kubernetes.namespaces: must name at least one namespace; leave kubernetes.namespaces out to watch every namespace']],
    ['a name that is no namespace', 'kubernetes:\n  namespaces: [Shop]\n', ['2:16: kubernetes.namespaces[0]: must be a Kubernetes namespace name (lowercase letters, digits and "-")']],
    ['not a list', 'kubernetes:\n  namespaces: shop\n', ['2:15: kubernetes.namespaces: must be a list, got a string']],
    ['a discovery namespace it leaves out', 'kubernetes:\n  namespaces: [shop]\n  discovery: {namespaces: [shop, web]}\n',
      ['3:34: kubernetes.discovery.namespaces[1]: "web" is not in kubernetes.namespaces: vipwatch does not watch it, so nothing would be discovered there']],
  ])('rejects %s with file:line:col', (_name, yaml, expected) => {
    expect(problems(yaml).filter((p) => !/\d+ problems?$/.test(p))).toEqual(expected);
  });
});
