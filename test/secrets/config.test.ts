import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { checkConfigCommand } from '../../src/cli/check-config.js';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/lib/errors.js';
import { REDACTED, resetSecretsForTest, scrub } from '../../src/lib/redact.js';
import { SecretUrl } from '../../src/lib/secret.js';

beforeEach(() => resetSecretsForTest());
const dir = mkdtempSync(join(tmpdir(), 'vipwatch-secret-config-'));

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, join(dir, 'c.yaml'), { env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('URLs with a secret in them', () => {
  it('a Slack-style webhook URL from ${ENV} prints as scheme and host; the token is known to the scrubber', () => {
    const c = parseConfig(`alerting:
  webhooks:
    - url: https://hooks.example.com/services/\${HOOK_TOKEN}?a=1
  alertmanager:
    - url: http://\${AM_HOST}:9093/am/\${AM_PATH_TOKEN}
`, join(dir, 'c.yaml'), { env: { HOOK_TOKEN: 'T000/B000/XXXXSECRET', AM_HOST: 'alertmanager', AM_PATH_TOKEN: 'am-path-token' } });
    const hook = c.alerting.webhooks[0]!.url;
    expect(hook).toBeInstanceOf(SecretUrl);
    expect(String(hook)).toBe(`https://hooks.example.com/${REDACTED}`);
    expect(JSON.stringify(c)).not.toMatch(/XXXXSECRET|am-path-token/);
    expect((hook as SecretUrl).reveal()).toBe('https://hooks.example.com/services/T000/B000/XXXXSECRET?a=1');
    expect(String(c.alerting.alertmanager[0]!.url)).toBe(`http://alertmanager:9093/${REDACTED}`);
    // Path values are secrets; a value that went into the host is shown (and "alertmanager" is not scrubbed from logs).
    expect(scrub('got T000/B000/XXXXSECRET and am-path-token from alertmanager')).toBe(`got ${REDACTED} and ${REDACTED} from alertmanager`);
  });

  it("a value substituted into a target's request path is a secret to the scrubber (a peer may echo the request line)", () => {
    const c = parseConfig('targets: [ { name: t, address: 127.0.0.1, port: 80, protocol: http, http: { path: "/health?token=${T}" } } ]\n', join(dir, 'c.yaml'), { env: { T: 'path-token-123' } });
    expect(c.targets[0]!.http!.path).toBe('/health?token=path-token-123');
    expect(scrub('GET /health?token=path-token-123')).toBe(`GET /health?token=${REDACTED}`);
  });

  it('a URL without ${ENV} stays a plain string (nothing to hide)', () => {
    const c = parseConfig('alerting: { webhooks: [ { url: "https://hooks.example.com/vipwatch" } ] }\n', join(dir, 'c.yaml'), { env: {} });
    expect(c.alerting.webhooks[0]!.url).toBe('https://hooks.example.com/vipwatch');
  });

  it('an invalid URL built from ${ENV} is reported without quoting the secret', () => {
    const p = problems('alerting: { webhooks: [ { url: "https://hooks.example.com/x/${T}#frag" } ] }\n', { T: 'fragment-secret-1' });
    expect(p).toEqual([expect.stringMatching(/c\.yaml:1:\d+: alerting\.webhooks\[0\]\.url: invalid URL "https:\/\/hooks\.example\.com\/\[redacted\]": must not have a #fragment/)]);
    const q = problems('alerting: { webhooks: [ { url: "${T}" } ] }\n', { T: 'not a url secret-2' });
    expect(q.join('\n')).not.toContain('secret-2');
    expect(q).toEqual([expect.stringContaining('invalid URL "[redacted]"')]);
  });
});

describe('SMTP credentials in clear', () => {
  const smtp = (extra: string, host = 'mail.example.com') => `alerting:
  email:
    - smtp: { host: ${host}, port: 587, user: vipwatch, password: "\${SMTP_PASSWORD}"${extra} }
      from: vipwatch@example.com
      to: [oncall@example.com]
`;
  const env = { SMTP_PASSWORD: 'smtp-password-1' };

  it('requireTLS: false with credentials to a non-loopback host is refused, with file, line and key', () => {
    const p = problems(smtp(', requireTLS: false'), env);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/c\.yaml:3:\d+: alerting\.email\[0\]\.smtp\.requireTLS: requireTLS: false with user and password would send the password to mail\.example\.com unencrypted .*allowPlaintextAuth: true/);
    expect(p[0]).not.toContain('smtp-password-1');
  });

  it('check-config exits 1 on it and prints the problem', () => {
    const file = join(dir, 'smtp.yaml');
    writeFileSync(file, smtp(', requireTLS: false'));
    const out: string[] = [];
    const err: string[] = [];
    expect(checkConfigCommand(file, { out: (l) => out.push(l), err: (l) => err.push(l), env })).toBe(1);
    expect(err[0]).toContain('smtp.requireTLS: requireTLS: false with user and password');
  });

  it('is accepted with allowPlaintextAuth: true, to a loopback host, with secure: true, or with the default requireTLS', () => {
    expect(problems(smtp(', requireTLS: false, allowPlaintextAuth: true'), env)).toEqual([]);
    expect(problems(smtp(', requireTLS: false', '127.0.0.1'), env)).toEqual([]);
    expect(problems(smtp(', requireTLS: false', '::1'), env)).toEqual([]);
    expect(problems(smtp(', requireTLS: false', 'localhost'), env)).toEqual([]);
    expect(problems(smtp(', secure: true, requireTLS: false'), env)).toEqual([]);
    const c = parseConfig(smtp(''), join(dir, 'c.yaml'), { env });
    expect(c.alerting.email[0]!.smtp).toMatchObject({ requireTLS: true, allowPlaintextAuth: false });
    // Without credentials there is nothing to leak.
    expect(problems(`alerting: { email: [ { smtp: { host: mail.example.com, requireTLS: false }, from: a@example.com, to: [b@example.com] } ] }\n`)).toEqual([]);
  });
});
