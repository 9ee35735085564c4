/**
 * Issue 9, item 5: a configuration holding known secret values is run through every output vipwatch has, with
 * every peer failing and echoing the secrets back, and every output is grepped for every value.
 *
 * The real CLI runs as a child process (from the sources, as bin/vipwatch.js runs it): `run` at log level debug
 * with a webhook whose URL path holds a token (plus an HMAC secretFile and a bearer header), an Alertmanager with a
 * bearer header and a token in its query, an SMTP sink with a password, an HTTP target sending
 * `Authorization: Bearer ${X}` and a Kubernetes API server reached with a token file. Every receiver answers with
 * an error that quotes what it was sent; the API server answers 403 with a Status message quoting the token.
 * Then `test-alert` and `check-config` run on the same file.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, httpServer, type TestServer } from '../support/net-servers.js';
import { waitFor } from '../support/wait.js';

const SECRETS = {
  HOOK_TOKEN: 'T0HOOK/B0PATH/hookpathSECRET1111',
  HMAC: 'hmac-key-SECRET-2222',
  OPS_TOKEN: 'webhook-bearer-SECRET-3333',
  SMTP_PASSWORD: 'smtp-pass-SECRET-4444',
  AM_TOKEN: 'am-bearer-SECRET-5555',
  AM_KEY: 'am-query-SECRET-8888',
  TARGET_TOKEN: 'target-bearer-SECRET-6666',
  KUBE_TOKEN: 'kube-token-SECRET-7777',
} as const;

const ROOT = join(import.meta.dirname, '..', '..');
const LOADER = join(ROOT, 'test', 'support', 'net-ts-loader.mjs');
const CLI = join(ROOT, 'test', 'secrets', 'cli-child.ts');
const env = { ...process.env, HOOK_TOKEN: SECRETS.HOOK_TOKEN, OPS_TOKEN: SECRETS.OPS_TOKEN, SMTP_PASSWORD: SECRETS.SMTP_PASSWORD, AM_TOKEN: SECRETS.AM_TOKEN, AM_KEY: SECRETS.AM_KEY, TARGET_TOKEN: SECRETS.TARGET_TOKEN };

interface Child { out: () => string; err: () => string; exited: Promise<number | null>; kill: (sig: NodeJS.Signals) => void }

function cli(args: string[]): Child {
  const child = spawn(process.execPath, ['--import', LOADER, CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return { out: () => out, err: () => err, exited: new Promise((r) => child.on('exit', (code) => r(code))), kill: (sig) => child.kill(sig) };
}

/** Every file under dir, recursively, as text. */
function readTree(dir: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...readTree(p));
    else out.push({ file: p, text: readFileSync(p, 'utf8') });
  }
  return out;
}

/** Every form a value could be printed in. */
function forms(v: string): string[] {
  return [...new Set([v, encodeURIComponent(v), JSON.stringify(v).slice(1, -1), Buffer.from(v).toString('base64')])];
}

describe('no configured secret leaves vipwatch, through any output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vipwatch-secrets-'));
  const stateDir = join(dir, 'state');
  const file = join(dir, 'vipwatch.yaml');
  /** What each peer was sent, to prove the secrets did reach them (so their echo carried them). */
  const seen: string[] = [];
  let echo: TestServer;
  let target: TestServer;
  let kube: TestServer;
  let smtp: SMTPServer;
  let smtpPort = 0;
  let port = 0;
  const outputs: { what: string; text: string }[] = [];

  beforeAll(async () => {
    // Webhook and Alertmanager receiver: 500, quoting the URL, the Authorization header and the signature header.
    echo = await httpServer((req, res) => {
      req.resume();
      const said = `rejected ${req.method} ${req.url} auth=${req.headers.authorization} sig=${req.headers['x-vipwatch-signature']}`;
      seen.push(said);
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`${said}\n${'padding '.repeat(200)}`);
    });
    // The probed target: 200 with a body quoting its Authorization header (bodyRegex does not match: the excerpt is kept).
    target = await httpServer((req, res) => {
      req.resume();
      seen.push(`target ${req.headers.authorization}`);
      res.writeHead(200, { 'x-node': `node-${req.headers.authorization}` }).end(`no: ${req.headers.authorization}`);
    });
    // A Kubernetes API server that forbids everything, quoting the token.
    kube = await httpServer((req, res) => {
      req.resume();
      seen.push(`kube ${req.headers.authorization}`);
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({
        kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403,
        message: `token "${req.headers.authorization}" cannot list ${req.url}`,
      }));
    });
    // SMTP that accepts AUTH without TLS (loopback) and rejects it, quoting the password.
    smtp = new SMTPServer({
      disabledCommands: ['STARTTLS'], allowInsecureAuth: true, authMethods: ['PLAIN', 'LOGIN'], logger: false,
      onAuth(auth, _s, cb) {
        seen.push(`smtp ${auth.password}`);
        cb(Object.assign(new Error(`bad password ${auth.password} for ${auth.username}`), { responseCode: 535 }));
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    smtpPort = (smtp.server.address() as AddressInfo).port;

    writeFileSync(join(dir, 'hmac'), `${SECRETS.HMAC}\n`);
    writeFileSync(join(dir, 'kube-token'), `${SECRETS.KUBE_TOKEN}\n`);
    port = await freePort();
    writeFileSync(file, `server: { listen: "127.0.0.1:${port}" }
state: { dir: ${JSON.stringify(stateDir)} }
log: { level: debug }
targets:
  - name: app
    address: 127.0.0.1
    port: ${target.port}
    protocol: http
    interval: 100ms
    timeout: 100ms
    http: { headers: { Authorization: "Bearer \${TARGET_TOKEN}" }, bodyRegex: "^ok$", backendHeader: X-Node }
diagnosis: { window: 30s, minAttempts: 10, openAfter: 300ms, marginalHold: 300ms, burst: { count: 3, spacing: 50ms } }
kubernetes:
  apiServer: http://127.0.0.1:${kube.port}
  tokenFile: ./kube-token
  backoff: { initial: 200ms, max: 1s }
alerting:
  backoff: { initial: 100ms, max: 300ms }
  webhooks:
    - name: ops
      url: "http://127.0.0.1:${echo.port}/services/\${HOOK_TOKEN}"
      secretFile: ./hmac
      headers: { Authorization: "Bearer \${OPS_TOKEN}" }
  alertmanager:
    - name: am
      url: "http://127.0.0.1:${echo.port}/am?key=\${AM_KEY}"
      headers: { Authorization: "Bearer \${AM_TOKEN}" }
  email:
    - name: mail
      smtp: { host: 127.0.0.1, port: ${smtpPort}, user: vipwatch, password: "\${SMTP_PASSWORD}", requireTLS: false }
      from: vipwatch@example.com
      to: [oncall@example.com]
`);
  });

  afterAll(async () => {
    await Promise.all([echo?.close(), target?.close(), kube?.close(), new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()))]);
  });

  it('run: logs at debug, /metrics, every API route, the status page, state files', async () => {
    const run = cli(['run', '--config', file]);
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, text: await res.text() };
    };
    try {
      const what = () => `stdout: ${run.out().slice(-3000)} stderr: ${run.err()}`;
      await waitFor(async () => JSON.parse((await get('/api/v1/incidents')).text).incidents.length > 0, { timeoutMs: 60_000, what: `an open incident; ${what()}` });
      // Each sink failed at least twice (a retry was logged), the API server refused, the target was probed.
      await waitFor(() => ['"sink":"ops"', '"sink":"am"', '"sink":"mail"'].every((s) => run.out().split('\n').filter((l) => l.includes('notification delivery failed') && l.includes(s)).length >= 2), { timeoutMs: 60_000, what: `failed deliveries on every sink; ${what()}` });
      await waitFor(() => seen.some((s) => s.startsWith('kube ')) && /kube|Forbidden|403/i.test(run.out()), { what: `the API server's refusal logged; ${what()}` });
      await waitFor(async () => JSON.parse((await get('/api/v1/targets')).text).targets[0].attempts.length >= 5, { what: 'attempts' });
      for (const path of ['/metrics', '/-/healthy', '/-/ready', '/api/v1/targets', '/api/v1/incidents', '/api/v1/incidents?status=open', '/',
        `/no/such/route/${SECRETS.HOOK_TOKEN}`, `/no/such/${encodeURIComponent(SECRETS.AM_TOKEN)}`]) {
        const r = await get(path);
        outputs.push({ what: `GET ${path.slice(0, 20)} (${r.status})`, text: r.text });
      }
    } finally {
      run.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
    outputs.push({ what: 'run stdout (debug logs)', text: run.out() }, { what: 'run stderr', text: run.err() });
    for (const f of readTree(stateDir)) outputs.push({ what: `state file ${f.file.slice(stateDir.length)}`, text: f.text });

    // The peers did get the secrets (so their echoes carried them), and vipwatch did say things about each failure.
    for (const s of [SECRETS.HOOK_TOKEN, SECRETS.OPS_TOKEN, SECRETS.AM_TOKEN, SECRETS.AM_KEY, SECRETS.TARGET_TOKEN, SECRETS.KUBE_TOKEN, SECRETS.SMTP_PASSWORD])
      expect(seen.some((x) => x.includes(s)), s).toBe(true);
    const log = run.out();
    expect(log).toContain(`"endpoint":"http://127.0.0.1:${echo.port}/[redacted]"`);
    expect(log).toMatch(/HTTP 500: rejected POST \/\[redacted\] auth=\[redacted\]/);
    expect(log).toMatch(/bad password \[redacted\]/);
    expect(log).toMatch(/token \\"Bearer \[redacted\]\\" cannot list/);
    expect(log).toContain('"level":"debug"');
    const targets = outputs.find((o) => o.what.startsWith('GET /api/v1/targets'))!.text;
    expect(targets).toContain('no: [redacted]');
    expect(targets).toContain('"backend":"node-[redacted]"');
    expect(outputs.filter((o) => o.what.startsWith('state file')).length).toBeGreaterThan(0);
    // Its waits allow 60 s each on a loaded machine (alone it takes about 15 s).
  }, 180_000);

  it('test-alert and check-config', async () => {
    const t = cli(['test-alert', '--config', file]);
    expect(await t.exited).toBe(1);
    outputs.push({ what: 'test-alert stdout', text: t.out() }, { what: 'test-alert stderr', text: t.err() });
    const lines = t.out().trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`^FAIL  webhook ops -> http://127\\.0\\.0\\.1:${echo.port}/\\[redacted\\]: http_status: HTTP 500: rejected POST /\\[redacted\\] auth=\\[redacted\\]`));
    expect(lines[1]).toMatch(/^FAIL {2}email mail -> smtp:\/\/127\.0\.0\.1:\d+: smtp_auth: .*bad password \[redacted\]/);
    // The echo shows what is not secret in the request line (the API path), never the query's token.
    expect(lines[2]).toMatch(new RegExp(`^FAIL  alertmanager am -> http://127\\.0\\.0\\.1:${echo.port}/\\[redacted\\]: http_status: HTTP 500: rejected POST /am/api/v2/alerts\\?key=\\[redacted\\] auth=\\[redacted\\]`));
    // Peer text is bounded: the receiver's 1,600 bytes of padding are cut.
    for (const l of lines) expect(Buffer.byteLength(l)).toBeLessThan(1200);

    const c = cli(['check-config', '--config', file]);
    expect(await c.exited).toBe(0);
    outputs.push({ what: 'check-config', text: c.out() + c.err() });
  });

  it('none of the outputs holds any secret value, in any form', () => {
    expect(outputs.length).toBeGreaterThanOrEqual(15);
    const leaks: string[] = [];
    for (const [name, value] of Object.entries(SECRETS))
      for (const form of forms(value))
        for (const o of outputs) if (o.text.includes(form)) leaks.push(`${name} (${form}) in ${o.what}`);
    expect(leaks).toEqual([]);
  });
});
