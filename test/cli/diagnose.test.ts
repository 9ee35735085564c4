import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { diagnoseCommand, DIAGNOSE_HELP } from '../../src/cli/diagnose.js';
import { DIAGNOSE_JSON_SCHEMA } from '../../src/cli/diagnose-json.js';
import type { DiagnoseReport } from '../../src/cli/diagnose-report.js';
import type { CliIo } from '../../src/cli/io.js';
import { ERR } from '../../src/lib/error-codes.js';
import { FakeKubeApi, type KubeObject } from '../support/fake-kube-api.js';
import { closedPort, httpServer, httpsServer, type TestServer } from '../support/net-servers.js';
import { makePki } from '../support/net-tls.js';
import { progressFor } from '../../src/cli/diagnose-progress.js';
import type { Attempt } from '../../src/history/attempt.js';
import type { Diagnosis } from '../../src/diagnosis/types.js';

interface Captured {
  io: CliIo;
  out: string[];
  err: string[];
  progress: string[];
}

function capture(): Captured {
  const out: string[] = [];
  const err: string[] = [];
  const progress: string[] = [];
  return { out, err, progress, io: { out: (l) => out.push(l), err: (l) => err.push(l), env: {} } };
}

async function diagnose(argv: string[], deps: { signal?: AbortSignal } = {}): Promise<Captured & { code: number; text: string }> {
  const c = capture();
  const code = await diagnoseCommand(argv, c.io, { ...deps, progress: { tty: false, write: (t) => c.progress.push(t), line: (l) => c.progress.push(l) } });
  return { ...c, code, text: c.out.join('\n') };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});
const dir = mkdtempSync(join(tmpdir(), 'vipwatch-diagnose-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function serve(handler: Parameters<typeof httpServer>[0]): Promise<TestServer> {
  const s = await httpServer(handler);
  cleanups.push(() => s.close());
  return s;
}

describe('vipwatch diagnose against loopback servers', () => {
  it('a healthy HTTP VIP: exit 0, stopped early once the failure ratio is bounded below the noise floor', async () => {
    const s = await serve((_req, res) => res.writeHead(200, { 'X-Node': 'node-1' }).end('ok'));
    const r = await diagnose([`127.0.0.1:${s.port}`, '--http', '/healthz', '--count', '1000', '--spacing', '0ms', '--concurrency', '8']);
    expect(r.code).toBe(0);
    // (1 - 0.02)^n <= 1e-4 first holds at n = 456: the early stop happens there (later only when attempts made during
    // a stall of this process were left out), not at the count.
    const after = Number(/stopped early after (\d+) of 1000: healthy/.exec(r.text)?.[1]);
    expect(after).toBeGreaterThanOrEqual(456);
    expect(after).toBeLessThan(1000);
    expect(r.text).toMatch(/^Verdict: healthy$/m);
    expect(s.connections).toBeGreaterThanOrEqual(456);
    expect(s.connections).toBeLessThan(1000);
    // Plain progress lines on a non-terminal, every 10 attempts.
    expect(r.progress).toContain('10/1000 attempts, 10 ok, 0 failed; verdict so far: insufficient_data');
  }, 60_000);

  it('a refusing port: exit 1 with backend_refused, certain after the diagnosis minimum of 20 attempts', async () => {
    const port = await closedPort();
    const r = await diagnose([`127.0.0.1:${port}`, '--spacing', '0ms']);
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/^Verdict: backend_refused \(confidence 1\.0000/m);
    // 20 (diagnosis.minAttempts) unless attempts made during a stall of this process were left out.
    const after = Number(/stopped early after (\d+) of 60/.exec(r.text)?.[1]);
    expect(after).toBeGreaterThanOrEqual(20);
    expect(r.text).toMatch(/^ {2}refused +\d+$/m);
    expect(r.text).toContain('A refusal (RST) means something answered: this is not an rp_filter drop.');
    expect(r.text).toMatch(/Works at all\? No: none of \d+ attempts succeeded\./);
  });

  it('--json: one document with the verdict, the run, per-node rows, reasons, the decision path and remediation', async () => {
    const port = await closedPort();
    const r = await diagnose([`127.0.0.1:${port}`, '--json', '--spacing', '0ms', '--timeout', '500ms']);
    expect(r.code).toBe(1);
    expect(r.out).toHaveLength(1);
    const doc = JSON.parse(r.out[0]!) as DiagnoseReport & { schema: string };
    expect(doc).toMatchObject({
      schema: DIAGNOSE_JSON_SCHEMA,
      target: { display: `127.0.0.1:${port}`, address: '127.0.0.1', port, protocol: 'tcp', path: null, service: null, timeoutMs: 500 },
      cluster: null,
      run: { requested: 60, stop: 'problem', concurrency: 4, spacingMs: 0, healthyCertainAfter: 456 },
      exitCode: 1,
      verdict: 'backend_refused',
      successes: 0,
      nodes: [],
      diagnosis: { verdict: 'backend_refused', target: `127.0.0.1:${port}` },
    });
    expect(doc.run.certainAfter).toBe(doc.run.recorded);
    expect(doc.run.recorded).toBeGreaterThanOrEqual(20);
    expect(doc.failures).toBe(doc.attempts);
    expect(doc.reasons).toEqual([{ reason: 'refused', count: doc.failures }]);
    expect(doc.unattributedFailures).toBe(doc.failures);
    expect(doc.p).toBeLessThanOrEqual(1e-8);
    expect(doc.decisionPath.at(-1)).toMatch(/^Verdict: backend_refused/);
    expect(doc.evidence.length).toBeGreaterThan(0);
    expect(doc.remediation.length).toBeGreaterThan(0);
  });

  it('IPv6 is written [::1]:PORT and shown that way', async () => {
    const port = await closedPort('::1');
    const r = await diagnose([`[::1]:${port}`, '--spacing', '0ms', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out[0]!)).toMatchObject({ target: { display: `[::1]:${port}`, address: '::1', port }, verdict: 'backend_refused' });
  });

  it('--https verifies the certificate (a CA nobody trusts: every attempt fails tls, exit 1); --insecure skips the check (exit 0)', async () => {
    const pki = makePki(['IP:127.0.0.1']);
    cleanups.push(() => pki.cleanup());
    const s = await httpsServer({ key: pki.key, cert: pki.cert }, (_req, res) => res.writeHead(200).end('ok'));
    cleanups.push(() => s.close());
    const verified = await diagnose([`127.0.0.1:${s.port}`, '--https', '--count', '20', '--spacing', '0ms', '--json']);
    expect(verified.code).toBe(1);
    expect(JSON.parse(verified.out[0]!)).toMatchObject({ target: { protocol: 'https', path: '/' }, verdict: 'http_errors', reasons: [{ reason: 'tls' }], successes: 0 });
    const insecure = await diagnose([`127.0.0.1:${s.port}`, '--https', '--insecure', '--count', '20', '--spacing', '0ms', '--json']);
    expect(insecure.code).toBe(0);
    expect(JSON.parse(insecure.out[0]!)).toMatchObject({ verdict: 'healthy', failures: 0, run: { recorded: 20, stop: 'count' } });
  });

  it('Ctrl-C (the interrupt signal) stops the run and reports what was recorded', async () => {
    const s = await serve((_req, res) => res.writeHead(200).end('ok'));
    const ac = new AbortController();
    const c = capture();
    const code = await diagnoseCommand([`127.0.0.1:${s.port}`, '--http', '/', '--spacing', '20ms'], c.io, {
      signal: ac.signal,
      progress: { tty: false, write: () => {}, line: (l) => (l.startsWith('10/') ? ac.abort() : undefined) },
    });
    const text = c.out.join('\n');
    expect(text).toMatch(/interrupted after 1\d of 60/);
    // Fewer than the diagnosis minimum: nothing can be judged, and nothing failed.
    expect(text).toMatch(/^Verdict: insufficient_data$/m);
    expect(code).toBe(2);
  });
});

describe('vipwatch diagnose with the cluster view (--service, fake Kubernetes API)', () => {
  const NODES = ['node-1', 'node-2', 'node-3'];

  function clusterObjects(): KubeObject[] {
    const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: 'default', ...extra });
    return [
      {
        apiVersion: 'v1', kind: 'Service', metadata: meta('web'),
        spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ protocol: 'TCP', port: 80, targetPort: 8080 }], clusterIP: '10.96.0.10', externalTrafficPolicy: 'Cluster' },
        status: { loadBalancer: { ingress: [{ ip: '127.0.0.1', ipMode: 'VIP' }] } },
      },
      {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: meta('web-abc', { labels: { 'kubernetes.io/service-name': 'web' } }),
        addressType: 'IPv4', ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
        endpoints: NODES.map((n, i) => ({ addresses: [`10.244.${i + 1}.3`], conditions: { ready: true, serving: true, terminating: false }, nodeName: n, targetRef: { kind: 'Pod', namespace: 'default', name: `web-${i + 1}` } })),
      },
      ...NODES.map((n, i): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: n }, status: { addresses: [{ type: 'InternalIP', address: `192.0.2.${i + 11}` }] } })),
      {
        apiVersion: 'metallb.io/v1beta1', kind: 'ServiceL2Status',
        metadata: { name: 'l2-web', namespace: 'metallb-system', labels: { 'metallb.io/node': 'node-1', 'metallb.io/service-name': 'web', 'metallb.io/service-namespace': 'default' } },
        status: { node: 'node-1', serviceName: 'web', serviceNamespace: 'default' },
      },
    ];
  }

  function kubeconfig(server: string, token: string): string {
    const file = join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, [
      'apiVersion: v1', 'kind: Config', 'current-context: fake',
      'clusters:', '  - name: fake', '    cluster:', `      server: ${server}`,
      'users:', '  - name: reader', '    user:', `      token: ${token}`,
      'contexts:', '  - name: fake', '    context:', '      cluster: fake', '      user: reader',
    ].join('\n'));
    return file;
  }

  async function fakeApi(): Promise<{ api: FakeKubeApi; file: string }> {
    const token = 'diagnose-test-token';
    const api = new FakeKubeApi({ tokens: [token] });
    await api.start();
    cleanups.push(() => api.stop());
    for (const o of clusterObjects()) api.apply(o);
    return { api, file: kubeconfig(api.url, token) };
  }

  it('names the node whose backend never answers (responses name their node), exit 1', async () => {
    const { file } = await fakeApi();
    // kube-proxy-like spreading: each new connection goes to the next node; node-2 accepts and never answers.
    let n = 0;
    const s = await serve((_req, res) => {
      const node = NODES[n++ % NODES.length]!;
      if (node === 'node-2') return;
      res.writeHead(200, { 'X-Node': node }).end('ok');
    });
    const r = await diagnose([`127.0.0.1:${s.port}`, '--http', '/', '--backend-header', 'X-Node', '--service', 'default/web', '--kubeconfig', file,
      '--timeout', '300ms', '--spacing', '0ms', '--concurrency', '6', '--json']);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out[0]!) as DiagnoseReport;
    expect(doc.verdict).toBe('http_errors');
    expect(doc.suspectedNodes).toEqual(['node-2']);
    expect(doc.cluster).toMatchObject({ announcerNode: 'node-1', externalTrafficPolicy: 'Cluster' });
    expect(doc.reasons).toEqual([{ reason: 'response_timeout', count: doc.failures }]);
    const rows = Object.fromEntries(doc.nodes.map((x) => [x.node, x]));
    expect(rows['node-2']).toMatchObject({ endpoints: 1, successes: 0, failures: doc.failures, observed: 0, inferred: doc.failures });
    expect(rows['node-1']!.successes).toBeGreaterThan(0);
    expect(rows['node-1']!.announcer).toBe(true);
    expect(rows['node-3']).toMatchObject({ failures: 0 });
    expect(doc.decisionPath.join('\n')).toContain('Tied to nodes? Yes: node-2');
  }, 60_000);

  it('the text report shows the per-node table with the announcer marked', async () => {
    const { file } = await fakeApi();
    let n = 0;
    const s = await serve((_req, res) => {
      const node = NODES[n++ % NODES.length]!;
      if (node === 'node-3') return;
      res.writeHead(200, { 'X-Node': node }).end('ok');
    });
    const r = await diagnose([`127.0.0.1:${s.port}`, '--http', '/', '--backend-header', 'X-Node', '--service', 'default/web', '--kubeconfig', file,
      '--timeout', '300ms', '--spacing', '0ms', '--concurrency', '6']);
    expect(r.code).toBe(1);
    expect(r.text).toContain(`Service default/web via ${file}`);
    expect(r.text).toMatch(/^ {2}Suspected node: node-3$/m);
    expect(r.text).toMatch(/^ {2}node-1\* +1 +\d+ +0 +0 +0$/m);
    expect(r.text).toMatch(/^ {2}node-3 +1 +0 +(\d+) +0 +\1$/m);
  }, 60_000);

  it('an unreachable API when --service was asked: exit 2 before any attempt, with the stable code in --json', async () => {
    let hits = 0;
    const s = await serve((_req, res) => {
      hits++;
      res.end('ok');
    });
    const file = kubeconfig(`http://127.0.0.1:${await closedPort()}`, 't');
    const r = await diagnose([`127.0.0.1:${s.port}`, '--http', '/', '--service', 'default/web', '--kubeconfig', file, '--json']);
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/^vipwatch diagnose: cannot run: cannot read the cluster view of default\/web: services: /);
    expect(JSON.parse(r.out[0]!)).toMatchObject({ exitCode: 2, error: { code: ERR.DIAGNOSE_NO_CLUSTER_VIEW } });
    expect(hits).toBe(0);
  });

  it('a Service the API does not know: exit 2', async () => {
    const { file } = await fakeApi();
    const r = await diagnose(['127.0.0.1:80', '--service', 'default/nope', '--kubeconfig', file]);
    expect(r.code).toBe(2);
    expect(r.err[0]).toBe('vipwatch diagnose: cannot run: Service default/nope not found by the Kubernetes API');
  });

  it('a kubeconfig that cannot be read: exit 2', async () => {
    const r = await diagnose(['127.0.0.1:80', '--service', 'default/web', '--kubeconfig', join(dir, 'missing')]);
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/^vipwatch diagnose: cannot run: .*missing/);
  });
});

describe('diagnose progress (stderr)', () => {
  const d = { verdict: 'insufficient_data' } as Diagnosis;
  const ok = { ok: true } as Attempt;
  const timeout = { ok: false, reason: 'connect_timeout' } as Attempt;

  it('on a terminal: one bar redrawn in place, ended with a newline before the report', () => {
    const writes: string[] = [];
    const p = progressFor({ tty: true, write: (t) => writes.push(t), line: () => expect.fail('no plain lines on a terminal') }, 4);
    p.attempt(ok, d, 1);
    p.attempt(timeout, d, 2);
    p.done();
    expect(writes).toEqual([
      `\r\x1b[2K[${'#'.repeat(8)}${'.'.repeat(22)}] 1/4 attempts, 1 ok, 0 failed; verdict so far: insufficient_data`,
      `\r\x1b[2K[${'#'.repeat(15)}${'.'.repeat(15)}] 2/4 attempts, 1 ok, 1 failed (connect_timeout x1); verdict so far: insufficient_data`,
      '\n',
    ]);
  });

  it('elsewhere: a plain line every 10 attempts, and the last count when it is not a multiple of 10', () => {
    const lines: string[] = [];
    const p = progressFor({ tty: false, write: () => expect.fail('no bar off a terminal'), line: (l) => lines.push(l) }, 60);
    for (let i = 1; i <= 23; i++) p.attempt(i === 5 ? timeout : ok, d, i);
    p.done();
    expect(lines.map((l) => l.split(' attempts')[0])).toEqual(['10/60', '20/60', '23/60']);
    expect(lines[2]).toBe('23/60 attempts, 22 ok, 1 failed (connect_timeout x1); verdict so far: insufficient_data');
  });
});

describe('vipwatch diagnose usage errors (exit 2)', () => {
  it.each([
    [[], 'ADDRESS[:PORT] is required'],
    [['192.0.2.1:80', '192.0.2.2:80'], 'unexpected argument "192.0.2.2:80"'],
    [['300.1.1.1:80'], 'invalid address "300.1.1.1:80"'],
    [['::1:80:x'], 'invalid address "::1:80:x"'],
    [['[::1]:99999'], 'invalid port "99999"'],
    [['[192.0.2.1]:80'], 'invalid IPv6 address "192.0.2.1"'],
    [['192.0.2.1', '--count', '5'], '--count must be at least 20'],
    [['192.0.2.1', '--count', 'x'], '--count must be a whole number'],
    [['192.0.2.1', '--timeout', '2 sec'], '--timeout must be a duration like 2s or 500ms'],
    [['192.0.2.1', '--kubeconfig', '/k'], '--kubeconfig needs --service NAMESPACE/NAME'],
    [['192.0.2.1', '--service', 'web'], '--service must be NAMESPACE/NAME'],
    [['192.0.2.1', '--backend-header', 'X-Node'], '--backend-header and --backend-json-field need --http PATH or --https'],
    [['192.0.2.1', '--http', '/', '--backend-header', 'X-Node', '--backend-json-field', 'node'], 'set either --backend-header or --backend-json-field'],
    [['192.0.2.1', '--http', 'x'], '--http PATH must start with "/"'],
    [['192.0.2.1', '--bogus'], 'unknown option --bogus'],
    [['192.0.2.1', '--insecure'], '--insecure only applies with --https'],
    [['192.0.2.1', '--concurrency', '0'], '--concurrency must be at least 1'],
  ])('%j', async (argv, message) => {
    const r = await diagnose(argv);
    expect(r.code).toBe(2);
    expect(r.err[0]).toContain(message);
    expect(r.err[1]).toBe('Run "vipwatch diagnose --help" for usage.');
    expect(r.out).toEqual([]);
  });

  it('--help prints the usage with the options and exit codes', async () => {
    const r = await diagnose(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([DIAGNOSE_HELP]);
    expect(DIAGNOSE_HELP).toContain('Exit codes: 0 healthy, 1 a problem found, 2 could not run');
    expect(DIAGNOSE_HELP).toContain('456 attempts without a failure');
  });
});
