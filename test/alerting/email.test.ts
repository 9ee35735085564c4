import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EmailSink } from '../../src/alerting/email.js';
import { toNotification, type Notification } from '../../src/alerting/notification.js';
import { sendOnce } from '../../src/alerting/send-once.js';
import { parseConfig } from '../../src/config/load.js';
import type { EmailSinkConfig } from '../../src/config/sections/alerting.js';
import type { IncidentEventType } from '../../src/incidents/types.js';
import { systemClock } from '../../src/lib/clock.js';
import { FakeClock } from '../support/fake-clock.js';
import { TestSmtpServer } from '../support/smtp-server.js';
import { waitFor } from '../support/wait.js';
import { makeCert, type TestCert } from './certs.js';
import { event } from './incident.js';

const dir = mkdtempSync(join(tmpdir(), 'vipwatch-email-'));
writeFileSync(join(dir, 'smtp-pass'), 'mail-pass-9\n');
writeFileSync(join(dir, 'wrong-pass'), 'guess\n');
let cert: TestCert;
beforeAll(() => {
  cert = makeCert();
});
afterAll(() => {
  cert.cleanup();
  rmSync(dir, { recursive: true, force: true });
});
const servers: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function smtp(opts: Parameters<typeof TestSmtpServer.start>[0]): Promise<TestSmtpServer> {
  const s = await TestSmtpServer.start(opts);
  servers.push(s);
  return s;
}

function sinkFrom(smtpYaml: string, extra = ''): EmailSink {
  const yaml = `alerting:\n  email:\n    - name: oncall\n      smtp: ${smtpYaml}\n      from: "vipwatch <vipwatch@example.com>"\n      to: [oncall@example.com, net@example.com]\n${extra}`;
  return new EmailSink(parseConfig(yaml, join(dir, 'c.yaml')).alerting.email[0] as EmailSinkConfig);
}

function note(type: IncidentEventType, seq = 1): Notification {
  return toNotification(event(type, {}, Date.parse('2026-01-01T00:05:00Z') + seq * 60_000), { seq, queuedAt: Date.now(), instance: 'probe-a' });
}

const USERS = { vipwatch: 'mail-pass-9' };

describe('email sink against a real SMTP server', () => {
  it('sends over STARTTLS with auth: triage subject, text and HTML bodies, per-node table, stable ids', async () => {
    const s = await smtp({ users: USERS, tls: cert });
    const sink = sinkFrom(`{ host: 127.0.0.1, port: ${s.port}, user: vipwatch, passwordFile: smtp-pass, tls: { caFile: ${cert.certFile} } }`);
    const n = note('open');
    const res = await sendOnce(sink, n, systemClock);
    expect(res.ok).toBe(true);
    const [m] = s.messages;
    expect(m).toMatchObject({ from: 'vipwatch@example.com', to: ['oncall@example.com', 'net@example.com'], user: 'vipwatch', secure: true });
    const mail = m!.mail;
    expect(mail.subject).toBe('[vipwatch] OPEN asymmetric_routing web 192.0.2.100:80 — node-2');
    expect(mail.messageId).toBe('<vipwatch.inc-web-asym-1.open@example.com>');
    expect(mail.inReplyTo).toBeUndefined();
    expect(mail.headers.get('x-vipwatch-event')).toBe('open');
    expect(mail.headers.get('x-vipwatch-delivery')).toBe(n.id);
    expect(mail.text).toContain('OPEN: web 192.0.2.100:80: connections through node-2 time out');
    expect(mail.text).toContain('- 15 of 48 attempts timed out in connect');
    expect(mail.text).toContain('1. Check rp_filter on node-2');
    expect(mail.text).toMatch(/node-2\s+1\s+0\s+15\s+suspected/);
    expect(mail.text).toMatch(/node-1\s+1\s+17\s+0\s+announcer/);
    expect(mail.html).toContain('<h3>Remediation</h3><ol>');
    expect(mail.html).toMatch(/<tr style="color:#cf222e;font-weight:bold"><td [^>]*>node-2<\/td>/);
    expect(mail.html).toContain('sysctl -w net.ipv4.conf.all.rp_filter=2');
  });

  it('threads update, reminder and resolve under the open mail (In-Reply-To, References)', async () => {
    const s = await smtp({ users: USERS, tls: cert });
    const sink = sinkFrom(`{ host: 127.0.0.1, port: ${s.port}, user: vipwatch, passwordFile: smtp-pass, tls: { caFile: ${cert.certFile} } }`);
    for (const [i, t] of (['open', 'update', 'reminder', 'resolved'] as const).entries()) expect((await sendOnce(sink, note(t, i + 1), systemClock)).ok).toBe(true);
    const mails = s.messages.map((m) => m.mail);
    expect(mails.map((m) => m.subject)).toEqual([
      '[vipwatch] OPEN asymmetric_routing web 192.0.2.100:80 — node-2',
      '[vipwatch] UPDATE asymmetric_routing web 192.0.2.100:80 — node-2',
      '[vipwatch] REMINDER asymmetric_routing web 192.0.2.100:80 — node-2',
      '[vipwatch] RESOLVED asymmetric_routing web 192.0.2.100:80 — node-2',
    ]);
    const root = mails[0]!.messageId;
    for (const m of mails.slice(1)) {
      expect(m.inReplyTo).toBe(root);
      expect(m.references).toBe(root);
      expect(m.messageId).not.toBe(root);
    }
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(4);
    expect(mails[3]!.text).toContain('all nodes served: yes');
  });

  it('sends over implicit TLS (secure)', async () => {
    const s = await smtp({ users: USERS, tls: cert, secure: true });
    const sink = sinkFrom(`{ host: 127.0.0.1, port: ${s.port}, secure: true, user: vipwatch, passwordFile: smtp-pass, tls: { caFile: ${cert.certFile} } }`);
    expect((await sendOnce(sink, note('open'), systemClock)).ok).toBe(true);
    expect(s.messages[0]).toMatchObject({ secure: true, user: 'vipwatch' });
  });

  it('sends without auth or TLS to a plain relay', async () => {
    const s = await smtp({});
    expect((await sendOnce(sinkFrom(`{ host: 127.0.0.1, port: ${s.port} }`), note('open'), systemClock)).ok).toBe(true);
    expect(s.messages[0]).toMatchObject({ secure: false, user: undefined });
  });
});

describe('email failures, each with its exact reason', () => {
  it('a wrong password is smtp_auth', async () => {
    const s = await smtp({ users: USERS, tls: cert });
    const sink = sinkFrom(`{ host: 127.0.0.1, port: ${s.port}, user: vipwatch, passwordFile: wrong-pass, tls: { caFile: ${cert.certFile} } }`);
    const res = await sendOnce(sink, note('open'), systemClock);
    expect(res).toMatchObject({ ok: false, error: { reason: 'smtp_auth', code: 'VIPWATCH_ALERT_SMTP_AUTH' } });
    expect(s.authFailures).toEqual(['vipwatch']);
    expect(s.messages).toHaveLength(0);
  });

  it('an untrusted certificate on STARTTLS is tls, and the password is never sent', async () => {
    const s = await smtp({ users: USERS, tls: cert });
    const sink = sinkFrom(`{ host: 127.0.0.1, port: ${s.port}, user: vipwatch, passwordFile: smtp-pass }`);
    const res = await sendOnce(sink, note('open'), systemClock);
    expect(res).toMatchObject({ ok: false, error: { reason: 'tls', code: 'VIPWATCH_ALERT_TLS' } });
    expect(s.authFailures).toHaveLength(0);
    expect(s.messages).toHaveLength(0);
  });

  it('an untrusted certificate on implicit TLS is tls', async () => {
    const s = await smtp({ users: USERS, tls: cert, secure: true });
    const res = await sendOnce(sinkFrom(`{ host: 127.0.0.1, port: ${s.port}, secure: true, user: vipwatch, passwordFile: smtp-pass }`), note('open'), systemClock);
    expect(res).toMatchObject({ ok: false, error: { reason: 'tls' } });
  });

  it('credentials without STARTTLS on offer are refused (requireTLS), not sent in clear', async () => {
    const s = await smtp({ users: USERS });
    const res = await sendOnce(sinkFrom(`{ host: 127.0.0.1, port: ${s.port}, user: vipwatch, passwordFile: smtp-pass }`), note('open'), systemClock);
    expect(res).toMatchObject({ ok: false, error: { reason: 'tls' } });
    expect(s.authFailures).toHaveLength(0);
  });

  it('a closed port is connection_refused', async () => {
    const s = await smtp({});
    const port = s.port;
    await s.close();
    servers.pop();
    const res = await sendOnce(sinkFrom(`{ host: 127.0.0.1, port: ${port} }`), note('open'), systemClock);
    expect(res).toMatchObject({ ok: false, error: { reason: 'connection_refused' } });
  });

  it('a server that accepts and never greets is a timeout after the sink timeout (injected clock)', async () => {
    const sockets = new Set<Socket>();
    const mute: Server = createServer((c) => sockets.add(c));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    servers.push({ close: () => new Promise<void>((r) => { for (const c of sockets) c.destroy(); mute.close(() => r()); }) });
    const clock = new FakeClock(Date.now());
    const sink = sinkFrom(`{ host: 127.0.0.1, port: ${(mute.address() as AddressInfo).port} }`, '      timeout: 4s\n');
    const pending = sendOnce(sink, note('open'), clock);
    await waitFor(() => sockets.size === 1, { what: 'the SMTP connection' });
    await clock.advance(4000);
    expect(await pending).toMatchObject({ ok: false, ms: 4000, error: { reason: 'timeout', message: 'no answer within 4000ms' } });
    await waitFor(() => [...sockets].every((c) => c.destroyed || c.readableEnded), { what: 'the client to close its socket' });
  });
});
