import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { EmailSinkConfig } from '../config/sections/alerting.js';
import { DeliveryError } from './delivery-error.js';
import { renderMail } from './email-render.js';
import type { Notification } from './notification.js';
import { kindFilter, type Sink } from './sink.js';

/**
 * SMTP with nodemailer's connection class. vipwatch opens the socket itself, so that an abort closes it and
 * an implicit-TLS handshake failure keeps Node's own error code (nodemailer would replace it); STARTTLS is nodemailer's.
 */
export class EmailSink implements Sink {
  readonly type = 'email';
  readonly name: string;
  readonly endpoint: string;
  readonly timeoutMs: number;
  readonly accepts: (n: Notification) => boolean;
  private readonly domain: string;

  constructor(private readonly config: EmailSinkConfig) {
    this.name = config.name;
    const { host, port } = config.smtp;
    this.endpoint = `smtp${config.smtp.secure ? 's' : ''}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.timeoutMs = config.timeoutMs;
    this.accepts = kindFilter(config.kinds);
    this.domain = /@([^>\s]+)>?\s*$/.exec(config.from)?.[1] ?? 'vipwatch.invalid';
  }

  /** Message-IDs derive from the incident and notification ids: a retry of one mail keeps its id, and the open mail's id is known to every later mail. */
  messageId(n: Notification): string {
    const incident = safeId(n.incident.id);
    return n.event === 'open' ? `<vipwatch.${incident}.open@${this.domain}>` : `<vipwatch.${incident}.${n.event}.${safeId(n.id)}@${this.domain}>`;
  }

  async send(n: Notification, signal: AbortSignal): Promise<void> {
    const mail = renderMail(n);
    const threadRoot = n.event === 'open' ? undefined : this.messageId({ ...n, event: 'open' });
    const composer = new MailComposer({
      from: this.config.from, to: this.config.to, cc: this.config.cc.length ? this.config.cc : undefined,
      subject: mail.subject, text: mail.text, html: mail.html,
      messageId: this.messageId(n), inReplyTo: threadRoot, references: threadRoot,
      date: new Date(n.at),
      headers: {
        'X-Vipwatch-Event': n.event,
        'X-Vipwatch-Incident': n.incident.id,
        'X-Vipwatch-Delivery': n.id,
        'X-Vipwatch-Instance': n.instance,
        ...(n.test ? { 'X-Vipwatch-Test': 'true' } : {}),
      },
      disableFileAccess: true,
      disableUrlAccess: true,
    }).compile();
    const raw = await new Promise<Buffer>((res, rej) => composer.build((err, buf) => (err ? rej(err) : res(buf))));
    const envelope = composer.getEnvelope() as { from: string; to: string[] };
    const socket = await this.open(signal);
    await this.transact(socket, { from: envelope.from, to: envelope.to }, raw, signal);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private tlsOptions(): ConnectionOptions {
    const t = this.config.smtp.tls;
    return { ca: t?.ca, servername: t?.serverName, rejectUnauthorized: !(t?.insecureSkipVerify ?? false), minVersion: 'TLSv1.2' };
  }

  /** A connected socket: plain (STARTTLS follows) or already through the TLS handshake (secure). */
  /** Sends an already composed message through this sink's SMTP settings (the daily digest's mail). */
  async sendRaw(envelope: { from: string; to: string[] }, raw: Buffer, signal: AbortSignal): Promise<void> {
    const socket = await this.open(signal);
    await this.transact(socket, envelope, raw, signal);
  }

  private open(signal: AbortSignal): Promise<Socket> {
    const { host, port, secure } = this.config.smtp;
    return new Promise((resolve, reject) => {
      const sock = secure
        ? tlsConnect({ host, port, ...this.tlsOptions(), servername: this.tlsOptions().servername ?? (isIpLiteral(host) ? undefined : host) })
        : netConnect({ host, port });
      const onAbort = () => sock.destroy();
      const fail = (err: Error) => {
        signal.removeEventListener('abort', onAbort);
        sock.destroy();
        reject(err);
      };
      sock.once('error', fail);
      sock.once(secure ? 'secureConnect' : 'connect', () => {
        sock.off('error', fail);
        signal.removeEventListener('abort', onAbort);
        resolve(sock);
      });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private transact(socket: Socket, envelope: { from: string; to: string[] }, raw: Buffer, signal: AbortSignal): Promise<void> {
    const { smtp } = this.config;
    const conn = new SMTPConnection({
      connection: socket, secure: smtp.secure, secured: smtp.secure, host: smtp.host, port: smtp.port,
      requireTLS: smtp.requireTLS, tls: this.tlsOptions(),
      greetingTimeout: this.timeoutMs, socketTimeout: this.timeoutMs, logger: false,
    });
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        if (err) conn.close();
        else conn.quit();
        if (err) reject(err);
        else resolve();
      };
      const onAbort = () => finish(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      conn.once('error', (err) => finish(this.explain(conn, err)));
      conn.connect((err) => {
        if (err) return finish(this.explain(conn, err));
        const deliver = () =>
          conn.send(envelope, raw, (sendErr, info) => {
            if (sendErr) return finish(this.explain(conn, sendErr));
            if (info.rejected.length) return finish(new DeliveryError('smtp_rejected', `SMTP server rejected recipients ${info.rejected.join(', ')}: ${info.response}`));
            finish();
          });
        if (!smtp.user) return deliver();
        conn.login({ user: smtp.user, pass: smtp.password!.reveal() }, (loginErr) => (loginErr ? finish(this.explain(conn, loginErr)) : deliver()));
      });
    });
  }

  /**
   * nodemailer replaces a socket error's code by ESOCKET; while it is upgrading (STARTTLS) that socket error is
   * the TLS handshake's. ETLS is its own code for a STARTTLS the server refused or did not offer (requireTLS).
   */
  private explain(conn: SMTPConnection, err: Error & { code?: string }): Error {
    const upgrading = (conn as unknown as { upgrading?: boolean }).upgrading === true;
    if (err.code === 'ETLS' || (upgrading && err.code === 'ESOCKET')) return new DeliveryError('tls', `STARTTLS failed: ${err.message}`, { cause: err });
    return err;
  }
}

function isIpLiteral(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

function safeId(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}
