import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The authenticated user, if any. */
  user?: string;
  /** Whether the session was encrypted (implicit TLS or STARTTLS) when the message arrived. */
  secure: boolean;
  raw: string;
  mail: ParsedMail;
}

export interface TestSmtpOptions {
  /** user -> password; when set, AUTH is required and checked. */
  users?: Record<string, string>;
  /** Certificate for implicit TLS (secure) or STARTTLS. Without it the server offers no TLS. */
  tls?: { key: string; cert: string };
  /** Implicit TLS from the first byte (port-465 style). */
  secure?: boolean;
}

/** A real SMTP server (smtp-server) on 127.0.0.1 that checks AUTH and records every message, parsed. */
export class TestSmtpServer {
  readonly messages: ReceivedMail[] = [];
  readonly authFailures: string[] = [];
  port = 0;
  private constructor(private readonly server: SMTPServer) {}

  static async start(opts: TestSmtpOptions = {}): Promise<TestSmtpServer> {
    let self: TestSmtpServer | undefined;
    const server = new SMTPServer({
      secure: opts.secure ?? false,
      key: opts.tls?.key,
      cert: opts.tls?.cert,
      disabledCommands: opts.tls ? [] : ['STARTTLS'],
      authOptional: !opts.users,
      allowInsecureAuth: false,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      onAuth(auth, _session, cb) {
        const want = opts.users?.[auth.username ?? ''];
        if (want !== undefined && auth.password === want) return cb(null, { user: auth.username });
        self!.authFailures.push(auth.username ?? '');
        const err = Object.assign(new Error('Invalid username or password'), { responseCode: 535 });
        cb(err);
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          simpleParser(raw).then((mail) => {
            self!.messages.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              user: session.user as string | undefined,
              secure: session.secure,
              raw, mail,
            });
            cb();
          }, (err: Error) => cb(err));
        });
      },
    });
    server.on('error', () => {});
    self = new TestSmtpServer(server);
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    self.port = (server.server.address() as AddressInfo).port;
    return self;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}
