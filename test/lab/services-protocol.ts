/**
 * The JSON-lines protocol between the harness (host namespace) and lab-services.js (client namespace). The harness
 * cannot reach 127.0.0.1 of the client namespace, so everything a user would read there (webhook bodies, mails,
 * vipwatch's HTTP API) travels over the child's stdio: events and replies on stdout, commands on stdin.
 */
import type { ReceivedRequest } from '../support/webhook-receiver.js';

export interface ServicesReady {
  type: 'ready';
  kubeApi: string;
  webhookUrl: string;
  smtpPort: number;
}

/** One webhook request as the receiver saw it, tagged for the stdio stream. */
export interface WebhookEvent extends ReceivedRequest {
  type: 'webhook';
}

/** One mail as the SMTP server received and parsed it. */
export interface MailEvent {
  type: 'mail';
  from: string;
  to: string[];
  subject: string;
  text: string;
  messageId: string | null;
  inReplyTo: string | null;
  receivedAt: number;
}

export interface ReplyEvent {
  type: 'reply';
  id: number;
  ok: boolean;
  status?: number;
  contentType?: string;
  body?: string;
  error?: string;
}

export type ServicesEvent = ServicesReady | WebhookEvent | MailEvent | ReplyEvent;

export type ServicesCommand =
  | { id: number; op: 'fetch'; url: string; timeoutMs?: number }
  | { id: number; op: 'apply'; object: Record<string, unknown> }
  | { id: number; op: 'remove'; kind: string; namespace?: string; name: string };
