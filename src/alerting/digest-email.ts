import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { EmailSinkConfig } from '../config/sections/alerting.js';
import type { Digest } from './digest.js';
import { renderDigestMail } from './digest-render.js';
import type { DigestSender } from './digest-sender.js';
import { EmailSink } from './email.js';

/**
 * Mails the digest through an email sink's SMTP settings. The SMTP dialogue (STARTTLS or implicit TLS, requireTLS,
 * auth, the abort that closes the socket, TLS error codes) is EmailSink's own, not a copy: the digest composes its
 * message and hands it to the sink (EmailSink.sendRaw).
 */
export class DigestMailer implements DigestSender {
  readonly type = 'email';
  readonly name: string;
  readonly endpoint: string;
  readonly timeoutMs: number;
  private readonly sink: EmailSink;
  private readonly domain: string;

  constructor(private readonly config: EmailSinkConfig) {
    this.sink = new EmailSink(config);
    this.name = config.name;
    this.endpoint = this.sink.endpoint;
    this.timeoutMs = config.timeoutMs;
    this.domain = /@([^>\s]+)>?\s*$/.exec(config.from)?.[1] ?? 'vipwatch.invalid';
  }

  /** The same on every retry of one digest: a receiver that got it twice shows one. */
  messageId(d: Digest): string {
    return `<vipwatch.digest.${d.id.replace(/[^A-Za-z0-9._-]/g, '_')}@${this.domain}>`;
  }

  async send(d: Digest, signal: AbortSignal): Promise<void> {
    const mail = renderDigestMail(d);
    const composer = new MailComposer({
      from: this.config.from, to: this.config.to, cc: this.config.cc.length ? this.config.cc : undefined,
      subject: mail.subject, text: mail.text, html: mail.html,
      messageId: this.messageId(d), date: new Date(Date.parse(d.to)),
      headers: { 'X-Vipwatch-Event': 'digest', 'X-Vipwatch-Delivery': d.id, 'X-Vipwatch-Instance': d.instance },
      disableFileAccess: true,
      disableUrlAccess: true,
    }).compile();
    const raw = await new Promise<Buffer>((res, rej) => composer.build((err, buf) => (err ? rej(err) : res(buf))));
    const envelope = composer.getEnvelope() as { from: string; to: string[] };
    await this.sink.sendRaw({ from: envelope.from, to: envelope.to }, raw, signal);
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}
