import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { FakeKubeApi, type KubeObject } from '../support/fake-kube-api.js';
import { TestSmtpServer } from '../support/smtp-server.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { labClusterObjects } from './cluster-objects.js';
import type { ServicesCommand, ServicesEvent } from './services-protocol.js';

/**
 * Runs in the lab's client namespace, next to vipwatch: the fake Kubernetes API describing the lab cluster, a webhook
 * receiver and an SMTP server, all on 127.0.0.1 of that namespace. Reports what they receive on stdout and runs the
 * harness's commands from stdin (see services-protocol.ts). Exits when stdin closes: the harness is gone.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { token: { type: 'string' }, 'webhook-secret': { type: 'string' } } });
  if (!values.token) throw new Error('usage: lab-services --token TOKEN [--webhook-secret SECRET]');
  const emit = (e: ServicesEvent) => process.stdout.write(`${JSON.stringify(e)}\n`);

  const api = new FakeKubeApi({ tokens: [values.token] });
  await api.start();
  for (const o of labClusterObjects()) api.apply(o);
  const webhook = await WebhookReceiver.start({ secret: values['webhook-secret'] });
  webhook.onRequest((r) => emit({ type: 'webhook', ...r }));
  const smtp = await TestSmtpServer.start();

  // The SMTP server only collects; report each new message once it is parsed.
  let mailsSeen = 0;
  const mailPoll = setInterval(() => {
    while (mailsSeen < smtp.messages.length) {
      const m = smtp.messages[mailsSeen++]!;
      emit({
        type: 'mail', from: m.from, to: m.to, subject: m.mail.subject ?? '', text: m.mail.text ?? '',
        messageId: m.mail.messageId ?? null, inReplyTo: m.mail.inReplyTo ?? null, receivedAt: Date.now(),
      });
    }
  }, 100);

  const stop = async () => {
    clearInterval(mailPoll);
    await Promise.allSettled([api.stop(), webhook.close(), smtp.close()]);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    let cmd: ServicesCommand;
    try {
      cmd = JSON.parse(line) as ServicesCommand;
    } catch {
      process.stderr.write(`lab-services: not a JSON command: ${line.slice(0, 200)}\n`);
      return;
    }
    void run(api, cmd).then(emit, (err: unknown) => emit({ type: 'reply', id: cmd.id, ok: false, error: err instanceof Error ? err.message : String(err) }));
  });
  lines.once('close', () => void stop());

  emit({ type: 'ready', kubeApi: api.url, webhookUrl: webhook.url, smtpPort: smtp.port });
}

async function run(api: FakeKubeApi, cmd: ServicesCommand): Promise<ServicesEvent> {
  switch (cmd.op) {
    case 'fetch': {
      // Only vipwatch's own server in this namespace: nothing else is ever fetched from here.
      const url = new URL(cmd.url);
      if (url.hostname !== '127.0.0.1') throw new Error(`refusing to fetch ${cmd.url}: only 127.0.0.1 in the client namespace`);
      const res = await fetch(url, { signal: AbortSignal.timeout(cmd.timeoutMs ?? 5000) });
      return { type: 'reply', id: cmd.id, ok: true, status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() };
    }
    case 'apply':
      api.apply(cmd.object as KubeObject);
      return { type: 'reply', id: cmd.id, ok: true };
    case 'remove':
      return { type: 'reply', id: cmd.id, ok: api.remove(cmd.kind, cmd.namespace, cmd.name) };
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`lab-services: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
