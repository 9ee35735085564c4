import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/lib/errors.js';
import { Secret } from '../../src/lib/secret.js';

const dir = mkdtempSync(join(tmpdir(), 'vipwatch-alert-config-'));
const file = join(dir, 'vipwatch.yaml');
writeFileSync(join(dir, 'hmac'), 'hmac-key-123\n');
writeFileSync(join(dir, 'smtp-pass'), 's3cret-pass\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(yaml, file, { env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.slice(file.length + 1));
    throw err;
  }
  return [];
}

describe('alerting config', () => {
  it('decodes an empty section to the defaults', () => {
    const c = parseConfig('alerting: {}\n', file).alerting;
    expect(c).toMatchObject({
      timeoutMs: 10_000, maxAgeMs: 86_400_000, resendIntervalMs: 60_000,
      backoff: { initialMs: 1000, maxMs: 300_000, multiplier: 2, jitter: 0.2 },
      webhooks: [], email: [], alertmanager: [],
    });
    expect(c.instance.length).toBeGreaterThan(0);
    expect(parseConfig('', file).alerting.webhooks).toEqual([]);
  });

  it('decodes the issue example with secrets kept as Secret and never printed', () => {
    const yaml = `alerting:
  instance: dc1-probe
  webhooks:
    - name: ops
      url: https://hooks.example.com/vipwatch
      secretFile: hmac
      headers: { Authorization: "Bearer \${OPS_TOKEN}", X-Team: net }
      kinds: [asymmetric_routing, vip_unreachable]
  email:
    - name: oncall
      smtp: { host: mail.example.com, port: 587, secure: false, user: vipwatch, passwordFile: smtp-pass }
      from: vipwatch@example.com
      to: [oncall@example.com, "Net Team <net@example.com>"]
  alertmanager:
    - url: http://alertmanager:9093
      resendInterval: 30s
`;
    const c = parseConfig(yaml, file, { env: { OPS_TOKEN: 'tok-abc' } }).alerting;
    const [w] = c.webhooks;
    expect(w).toMatchObject({ type: 'webhook', name: 'ops', url: 'https://hooks.example.com/vipwatch', kinds: ['asymmetric_routing', 'vip_unreachable'], timeoutMs: 10_000 });
    expect(w!.secret).toBeInstanceOf(Secret);
    expect(w!.secret!.reveal()).toBe('hmac-key-123');
    expect(w!.headers.Authorization).toBeInstanceOf(Secret);
    expect((w!.headers.Authorization as Secret).reveal()).toBe('Bearer tok-abc');
    expect(w!.headers['X-Team']).toBe('net');
    const [e] = c.email;
    expect(e).toMatchObject({ name: 'oncall', from: 'vipwatch@example.com', to: ['oncall@example.com', 'Net Team <net@example.com>'] });
    expect(e!.smtp).toMatchObject({ host: 'mail.example.com', port: 587, secure: false, user: 'vipwatch', requireTLS: true });
    expect(e!.smtp.password!.reveal()).toBe('s3cret-pass');
    expect(c.alertmanager[0]).toMatchObject({ name: 'alertmanager', url: 'http://alertmanager:9093/', resendIntervalMs: 30_000 });
    const printed = JSON.stringify(c) + inspect(c, { depth: 10 });
    for (const secret of ['tok-abc', 'hmac-key-123', 's3cret-pass']) expect(printed).not.toContain(secret);
  });

  it('defaults the SMTP port and TLS mode from each other', () => {
    const smtp = (s: string) => parseConfig(`alerting:\n  email:\n    - smtp: ${s}\n      from: a@example.com\n      to: [b@example.com]\n`, file).alerting.email[0]!.smtp;
    expect(smtp('{ host: 127.0.0.1 }')).toMatchObject({ port: 587, secure: false, requireTLS: false });
    expect(smtp('{ host: 127.0.0.1, port: 465 }')).toMatchObject({ port: 465, secure: true, requireTLS: false });
    expect(smtp('{ host: 127.0.0.1, secure: true }')).toMatchObject({ port: 465, secure: true });
    expect(smtp('{ host: 127.0.0.1, user: u, password: p, requireTLS: false }')).toMatchObject({ requireTLS: false });
  });

  it('refuses a sink header value undici would refuse (a CR/LF from \${ENV}), naming the code point, not the value', () => {
    const yaml = `alerting:
  webhooks:
    - name: ops
      url: http://127.0.0.1:9/hook
      headers: { X-Token: "\${HOOK_TOKEN}" }
`;
    const found = problems(yaml, { HOOK_TOKEN: 'abc-secret\r\nX-Injected: 1' });
    expect(found).toEqual([expect.stringMatching(/^5:\d+: alerting\.webhooks\[0\]\.headers\.X-Token: contains U\+000D \(CR\) at character 11/)]);
    expect(found.join('\n')).not.toContain('abc-secret');
  });

  it('reports each bad value at its key with FILE:LINE:COL', () => {
    const yaml = `alerting:
  webhooks:
    - name: ops
      url: "hooks.example.com/x"
    - name: ops2
      url: ftp://example.com/
    - url: https://user:pw@example.com/
      headers: { Content-Type: text/plain }
  email:
    - name: mail
      smtp: { host: 127.0.0.1, user: u }
      from: not-an-address
      to: [ok@example.com, "bad@@example.com"]
  alertmanager:
    - name: ops
      url: http://127.0.0.1:9093
      kinds: [asymmetric, vip_unreachable]
  backoff: { initial: 10s, max: 1s }
  maxAge: forever
`;
    expect(problems(yaml)).toEqual([
      '4:12: alerting.webhooks[0].url: invalid URL "hooks.example.com/x": must be an absolute http:// or https:// URL',
      '6:12: alerting.webhooks[1].url: invalid URL "ftp://example.com/": scheme must be http or https, got ftp',
      '7:12: alerting.webhooks[2].url: URL must not contain credentials: put them in headers (e.g. Authorization: "Bearer ${TOKEN}")',
      '8:18: alerting.webhooks[2].headers.Content-Type: header Content-Type is set by vipwatch and cannot be configured',
      '11:38: alerting.email[0].smtp.user: needs passwordFile (or password)',
      '12:13: alerting.email[0].from: invalid email address "not-an-address": expected user@domain or "Name <user@domain>"',
      '13:28: alerting.email[0].to[1]: invalid email address "bad@@example.com": expected user@domain or "Name <user@domain>"',
      '17:15: alerting.alertmanager[0].kinds[0]: must be one of asymmetric_routing, vip_unreachable, packet_loss, backend_refused, http_errors, etp_local_no_endpoint, intermittent_blocks, announcement_conflict, got "asymmetric"',
      '18:33: alerting.backoff.max: must be at least backoff.initial (10000ms)',
      '19:11: alerting.maxAge: invalid duration "forever": use a number with ms, s, m, h or d, like "500ms" or "2s"',
    ]);
  });

  it('rejects duplicate sink names across kinds, also defaulted ones', () => {
    expect(problems(`alerting:
  webhooks:
    - name: ops
      url: http://127.0.0.1:1/
  alertmanager:
    - name: ops
      url: http://127.0.0.1:9093
    - url: http://127.0.0.1:9094
    - name: alertmanager-2
      url: http://127.0.0.1:9095
`)).toEqual([
      '6:13: alerting.alertmanager[0].name: duplicate sink name "ops" (first at alerting.webhooks[0]); give each sink a unique name',
      '9:13: alerting.alertmanager[2].name: duplicate sink name "alertmanager-2" (first at alerting.alertmanager[1]); give each sink a unique name',
    ]);
    const c = parseConfig(`alerting:
  alertmanager:
    - url: http://127.0.0.1:9093
    - url: http://127.0.0.1:9094/prefix
`, file).alerting;
    expect(c.alertmanager.map((a) => a.name)).toEqual(['alertmanager', 'alertmanager-2']);
  });

  it('names an unknown key with a hint', () => {
    expect(problems(`alerting:
  alertmanager:
    - url: http://127.0.0.1:9093
      resendIntervall: 1m
`)).toEqual(['4:7: alerting.alertmanager[0].resendIntervall: unknown key; did you mean "resendInterval"?']);
  });

  it('names a missing secret file and an unset variable at their keys', () => {
    expect(problems(`alerting:
  webhooks:
    - url: http://127.0.0.1:1/
      secretFile: nope
      headers: { Authorization: "Bearer \${VIPWATCH_UNSET_X}" }
`)).toEqual([
      `4:19: alerting.webhooks[0].secretFile: cannot read ${join(dir, 'nope')}: ENOENT`,
      '5:33: alerting.webhooks[0].headers.Authorization: environment variable VIPWATCH_UNSET_X is not set',
    ]);
  });
});
