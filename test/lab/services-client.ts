import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LabError } from './exec.js';
import type { Lab } from './lab.js';
import type { MailEvent, ReplyEvent, ServicesCommand, ServicesEvent, ServicesReady, WebhookEvent } from './services-protocol.js';

/** A command without its id (the client numbers them). */
type Command = ServicesCommand extends infer C ? (C extends ServicesCommand ? Omit<C, 'id'> : never) : never;

/**
 * The harness's side of lab-services.js: starts it in the client namespace, keeps every webhook request and mail it
 * reports, and runs commands there (fetching vipwatch's API, changing the fake cluster).
 */
export class LabServices {
  readonly webhooks: WebhookEvent[] = [];
  readonly mails: MailEvent[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: ReplyEvent) => void; reject: (e: Error) => void }>();
  private exited = false;
  private stderr = '';

  private constructor(private readonly child: ChildProcess, readonly ready: ServicesReady) {}

  static async start(lab: Lab, opts: { token: string; webhookSecret: string }): Promise<LabServices> {
    const child = lab.spawnIn(lab.names.client, lab.nodeScript('lab-services', ['--token', opts.token, '--webhook-secret', opts.webhookSecret]), {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    const lines = createInterface({ input: child.stdout! });
    let self: LabServices | undefined;
    const early: ServicesEvent[] = [];
    const ready = await new Promise<ServicesReady>((resolve, reject) => {
      const timer = setTimeout(() => reject(new LabError('LAB_SERVICES_NOT_READY', `lab services: no ready line within 20 s${stderr ? `: ${stderr.trim()}` : ''}`)), 20_000);
      lines.on('line', (line) => {
        let e: ServicesEvent;
        try {
          e = JSON.parse(line) as ServicesEvent;
        } catch {
          return;
        }
        if (self) return self.onEvent(e);
        if (e.type === 'ready') {
          clearTimeout(timer);
          resolve(e);
        } else early.push(e);
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        reject(new LabError('LAB_SERVICES_NOT_READY', `lab services exited with ${code}${stderr ? `: ${stderr.trim()}` : ''}`));
      });
    });
    self = new LabServices(child, ready);
    child.stderr!.on('data', (b: Buffer) => (self!.stderr = (self!.stderr + b.toString()).slice(-4000)));
    child.once('close', () => self!.onExit());
    for (const e of early) self.onEvent(e);
    return self;
  }

  /** Runs one command in the client namespace and waits for its reply. */
  request(cmd: Command, timeoutMs = 15_000): Promise<ReplyEvent> {
    if (this.exited) return Promise.reject(new LabError('LAB_SERVICES_GONE', `lab services have exited${this.stderr ? `: ${this.stderr.trim()}` : ''}`));
    const id = this.nextId++;
    return new Promise<ReplyEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new LabError('LAB_SERVICES_TIMEOUT', `lab services: no reply to ${cmd.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.child.stdin!.write(`${JSON.stringify({ ...cmd, id })}\n`);
    });
  }

  /** GET from inside the client namespace (vipwatch's server listens there). */
  async fetch(url: string): Promise<{ status: number; contentType: string; body: string }> {
    const r = await this.request({ op: 'fetch', url, timeoutMs: 10_000 });
    if (!r.ok) throw new LabError('LAB_FETCH_FAILED', `GET ${url} from the client namespace failed: ${r.error ?? 'unknown error'}`);
    return { status: r.status!, contentType: r.contentType ?? '', body: r.body ?? '' };
  }

  async apply(object: Record<string, unknown>): Promise<void> {
    const r = await this.request({ op: 'apply', object });
    if (!r.ok) throw new LabError('LAB_SERVICES_FAILED', `apply failed: ${r.error ?? 'unknown error'}`);
  }

  /** Ends the services process (its servers close); the lab's teardown would kill it anyway. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const closed = new Promise<void>((r) => this.child.once('close', () => r()));
    this.child.stdin!.end();
    const force = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await closed;
    clearTimeout(force);
  }

  private onEvent(e: ServicesEvent): void {
    if (e.type === 'webhook') this.webhooks.push(e);
    else if (e.type === 'mail') this.mails.push(e);
    else if (e.type === 'reply') {
      const p = this.pending.get(e.id);
      this.pending.delete(e.id);
      p?.resolve(e);
    }
  }

  private onExit(): void {
    this.exited = true;
    for (const p of this.pending.values()) p.reject(new LabError('LAB_SERVICES_GONE', `lab services exited${this.stderr ? `: ${this.stderr.trim()}` : ''}`));
    this.pending.clear();
  }
}
